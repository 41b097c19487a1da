"""Redis Sentinel on loopback for the failover tests (issue 12).

- SentinelCluster: a primary, a replica and three redis-sentinel processes
  on free ports in a temporary directory, down-after-milliseconds 1000;
  `primary` is whichever server the sentinels name now.
- FakeSentinel: a RESP server that names whatever address a test tells it
  (SENTINEL get-master-addr-by-name, SUBSCRIBE +switch-master, AUTH), to
  make a sentinel lie, name a dead address or a replica.
- PrimaryView: a RedisServer-like handle on the current primary, as the
  Gateway's .redis (clientauthctl, key checks).
- start_sentinel_gateway(): a gateway with clientauth_redis sentinel=...
"""

import re
import shutil
import socket
import socketserver
import subprocess
import threading
import time
from datetime import datetime

from helpers import (HOST, Gateway, Nginx, RedisError, RedisServer,
                     _RespReader, free_port, gateway_conf, wait_until)

MASTER = "mymaster"
DOWN_AFTER_MS = 1000
SENTINEL_BIN = shutil.which("redis-sentinel") or "redis-sentinel"


class Sentinel(RedisServer):
    """One redis-sentinel watching MASTER; .call() talks to it."""

    def __init__(self, workdir, primary_port, port=None, password=None):
        super().__init__(workdir, port)
        self.primary_port = primary_port
        self.password = password

    def start(self, timeout=10):
        conf = self.dir / "sentinel.conf"
        lines = [
            "port %d" % self.port,
            "bind %s" % HOST,
            "daemonize no",
            "dir %s" % self.dir,
            'logfile ""',
            "sentinel monitor %s %s %d 2" % (MASTER, HOST, self.primary_port),
            "sentinel down-after-milliseconds %s %d" % (MASTER,
                                                         DOWN_AFTER_MS),
            "sentinel failover-timeout %s 3000" % MASTER,
            "sentinel parallel-syncs %s 1" % MASTER,
        ]
        if self.password:
            lines.append("requirepass %s" % self.password)
        if not conf.exists():           # a restart keeps what it learnt
            conf.write_text("\n".join(lines) + "\n")
        log = open(self.dir / "sentinel.log", "ab")
        self.proc = subprocess.Popen([SENTINEL_BIN, str(conf)], stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("redis-sentinel exited (%s)"
                                     % self.proc.returncode)
            try:
                return self.call("PING") == "PONG"
            except (OSError, RedisError):
                return False
        wait_until(up, timeout, "redis-sentinel on port %d" % self.port)
        return self

    def call(self, *args, timeout=5):
        if self.password and args[:1] != ("AUTH",):
            with socket.create_connection((HOST, self.port),
                                          timeout=timeout) as s:
                s.sendall(_command("AUTH", self.password)
                          + _command(*args))
                reader = _RespReader(s)
                auth, reply = reader.read(), reader.read()
            if isinstance(auth, RedisError):
                raise auth
            if isinstance(reply, RedisError):
                raise reply
            return reply
        return super().call(*args, timeout=timeout)

    def master_addr(self):
        reply = self.call("SENTINEL", "get-master-addr-by-name", MASTER)
        return None if reply is None else (reply[0], int(reply[1]))


def _command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class SentinelCluster:
    """A primary, a replica, three sentinels; stop() ends them all."""

    def __init__(self, workdir, sentinel_password=None):
        self.dir = workdir
        first = RedisServer(workdir / "redis-a")
        second = RedisServer(workdir / "redis-b",
                             extra_args=["--replicaof", HOST,
                                         str(first.port)])
        self.servers = [first, second]
        self.sentinels = [Sentinel(workdir / ("sentinel%d" % i), first.port,
                                   password=sentinel_password)
                          for i in range(3)]

    @property
    def sentinel_list(self):
        return ",".join("%s:%d" % (HOST, s.port) for s in self.sentinels)

    def start(self):
        try:
            for server in self.servers:
                server.start()
            wait_until(lambda: self.replica_in_sync(self.servers[1]), 10,
                       "the replica to sync")
            for s in self.sentinels:
                s.start()
            self.wait_watching()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        for p in self.sentinels + self.servers:
            try:
                p.stop()
            except Exception:
                pass

    def live_sentinels(self):
        return [s for s in self.sentinels
                if s.proc is not None and s.proc.poll() is None]

    def wait_watching(self, timeout=20):
        """Until every sentinel knows the others and a replica in sync:
        then a failover can be voted and done."""
        def ready():
            for s in self.live_sentinels():
                try:
                    if len(s.call("SENTINEL", "sentinels", MASTER)) < 2:
                        return False
                    replicas = s.call("SENTINEL", "replicas", MASTER)
                except (OSError, RedisError):
                    return False
                up = [r for r in replicas
                      if "s_down" not in dict(zip(r[0::2], r[1::2]))["flags"]]
                if not up:
                    return False
            return True
        wait_until(ready, timeout, "the sentinels to know each other",
                   interval=0.1)

    def named_port(self):
        """The primary's port as the live sentinels agree on it, or None."""
        ports = set()
        for s in self.live_sentinels():
            try:
                addr = s.master_addr()
            except (OSError, RedisError):
                continue
            ports.add(addr and addr[1])
        return ports.pop() if len(ports) == 1 else None

    def server(self, port):
        return next(s for s in self.servers if s.port == port)

    @property
    def primary(self):
        return self.server(self.named_port())

    def replica_in_sync(self, server):
        try:
            info = server.call("INFO", "replication")
        except (OSError, RedisError):
            return False
        return "master_link_status:up" in info

    def switched_at(self):
        """When each sentinel announced +switch-master (epoch seconds, None
        for one that did not), from their logs."""
        times = []
        for s in self.sentinels:
            times.append(None)
            for line in (s.dir / "sentinel.log").read_text().splitlines():
                m = re.search(r"(\d+ \w+ \d+ [\d:]+\.\d+) # "
                              r"\+switch-master", line)
                if m:
                    times[-1] = datetime.strptime(
                        m.group(1), "%d %b %Y %H:%M:%S.%f").timestamp()
        return times

    def wait_replicated(self):
        """The primary's writes are on the replica (WAIT 1)."""
        assert self.primary.call("WAIT", 1, 2000) == 1


class PrimaryView(RedisServer):
    """Whichever server the sentinels name: for clientauthctl and checks."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.paused = False
        self.proc = None

    @property
    def port(self):
        return self.cluster.named_port()


def start_sentinel_gateway(workdir, sentinels, backend, *, workers=2,
                           redis=None, redis_opts="", server="", **conf):
    """A gateway on clientauth_redis sentinel=... master=..., its workers
    telling who served a request (X-Worker-Pid) and sharing connections
    by reuseport."""
    port = free_port()
    text = gateway_conf(workdir, port, 0, backend.port, workers=workers,
                        redis_addr="sentinel=%s master=%s" % (sentinels,
                                                               MASTER),
                        redis_opts=redis_opts, listen_opts="reuseport",
                        server="proxy_set_header X-Worker-Pid $pid;\n"
                        + server, **conf)
    nginx = Nginx(workdir, text, port).start(workers=workers)
    return Gateway(nginx, redis, backend)


def served_by(response):
    """The pid of the worker that proxied a response."""
    headers = response.json()["headers"]
    return int([v for k, v in headers if k == "X-Worker-Pid"][0])


class FakeSentinel:
    """Names self.addr ((host, port) or None) for MASTER; publish()
    announces a +switch-master to its subscribers."""

    def __init__(self, addr=None, password=None):
        self.addr = addr
        self.password = password
        self.asked = 0
        self.subscribers = []
        self.lock = threading.Lock()
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                fake._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((HOST, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    @property
    def address(self):
        return "%s:%d" % (HOST, self.port)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            for s in self.subscribers:
                s.close()

    def _serve(self, sock):
        reader = _RespReader(sock)
        authed = self.password is None
        try:
            while True:
                cmd = reader.read()
                name = cmd[0].upper()
                if name == "AUTH":
                    authed = cmd[1] == self.password
                    sock.sendall(b"+OK\r\n" if authed
                                 else b"-WRONGPASS invalid password\r\n")
                elif not authed:
                    sock.sendall(b"-NOAUTH Authentication required.\r\n")
                elif name == "PING":
                    sock.sendall(b"+PONG\r\n")
                elif name == "SENTINEL":
                    self.asked += 1
                    if self.addr is None:
                        sock.sendall(b"*-1\r\n")
                    else:
                        sock.sendall(_command(*[str(a) for a in self.addr]))
                elif name == "SUBSCRIBE":
                    with self.lock:
                        self.subscribers.append(sock)
                    sock.sendall(b"*3\r\n$9\r\nsubscribe\r\n"
                                 + _bulk(cmd[1]) + b":1\r\n")
                else:
                    sock.sendall(b"-ERR unknown command\r\n")
        except (OSError, ConnectionError, IndexError):
            pass
        finally:
            with self.lock:
                if sock in self.subscribers:
                    self.subscribers.remove(sock)

    def publish(self, old, new):
        message = "%s %s %d %s %d" % (MASTER, old[0], old[1], new[0], new[1])
        with self.lock:
            for s in self.subscribers:
                s.sendall(b"*3\r\n" + _bulk("message")
                          + _bulk("+switch-master") + _bulk(message))

    def subscribed(self):
        with self.lock:
            return len(self.subscribers)


def _bulk(s):
    s = s.encode()
    return b"$%d\r\n%s\r\n" % (len(s), s)


def refused_port():
    """A loopback port nobody listens on."""
    return free_port()


def now():
    return time.monotonic()
