"""A Redis primary and its replica on loopback, for the durable-write tests
(issue 12): clientauth_redis replicas=N makes the gateway WAIT for them.

    pair = ReplicatedRedis(tmp_path).start()
    pair.primary, pair.replica         # helpers.RedisServer
    pair.waits()                       # WAIT calls the primary has run
    with pair.replica_stopped(): ...   # SIGSTOP: the replica acks nothing
    pair.stop()
"""

import contextlib

from helpers import HOST, RedisServer, wait_until


def replication(redis):
    """INFO replication as {field: value}."""
    info = {}
    for line in redis.call("INFO", "replication").splitlines():
        if ":" in line:
            name, value = line.split(":", 1)
            info[name] = value.strip()
    return info


class ReplicatedRedis:
    def __init__(self, workdir):
        self.primary = RedisServer(workdir / "primary")
        self.replica = RedisServer(
            workdir / "replica",
            extra_args=["--replicaof", HOST, str(self.primary.port)])

    def start(self, timeout=10):
        self.primary.start()
        try:
            self.replica.start()
            wait_until(self.linked, timeout, "the replica's link to the "
                       "primary")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        self.replica.stop()
        self.primary.stop()

    def linked(self):
        return (replication(self.replica).get("master_link_status") == "up"
                and replication(self.primary).get("connected_slaves") == "1")

    def flush(self):
        """FLUSHALL on the primary, once the replica has it too."""
        self.primary.flush()
        wait_until(lambda: self.replica.call("DBSIZE") == 0, 5,
                   "the replica to flush")

    def waits(self):
        return self.primary.commandstats().get("wait", 0)

    @contextlib.contextmanager
    def replica_stopped(self):
        """The replica holds its connection but acknowledges nothing."""
        self.replica.pause()
        try:
            yield
        finally:
            self.replica.resume()
            wait_until(self.linked, 10, "the replica to come back")
