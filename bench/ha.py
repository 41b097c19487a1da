#!/usr/bin/python3
"""Failover under load (`make bench-ha`, issue 12).

A Redis primary, its replica and three sentinels (down-after-milliseconds
1000), two gateways (2 workers each) on clientauth_redis sentinel=...
master=... replicas=1, all on loopback, built from the integration tests'
fixtures (tests/integration/sentinel_helpers.py).  While clients validate
sessions on both gateways without pause, the primary is killed (kill -9)
several times; after each failover the dead server comes back, the
sentinels make it a replica, and the next round kills whichever server is
primary then.  Per failover:

- served again: from the kill to the first request (sent after the kill)
  validated and served, on any gateway; "all workers": until every worker
  of both gateways has served one;
- failed: valid-session requests answered otherwise (503) in between;
- wrongly served: requests without a valid session (a forged token, a
  session logged out before the failover) answered 200 at any time: must
  be 0;
- sessions lost: sessions made (and replicated) before the failover that
  no longer validate after it: must be 0.

    bench/ha.py [--failovers N] [--sessions N] [--out FILE]

Writes bench/results/<date>-ha.md (or --out) and prints the summary.
"""

import argparse
import datetime
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

TOP = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP / "tests" / "integration"))

from helpers import (COOKIE, HOST, Backend, Nginx, _RespReader,  # noqa
                     add_user, forged_token, wait_until)
from sentinel_helpers import (DOWN_AFTER_MS, PrimaryView,  # noqa: E402
                              SentinelCluster, served_by,
                              start_sentinel_gateway)

PASSWORD = "Sup3r-secret!pw"
WORKERS = 2
CLIENTS = 4                 # threads validating good sessions
LOGIN_CONF = ("clientauth_login_limit account 100000 1h;\n"
              "clientauth_login_limit address 100000 1h;\n")


class Load:
    """Threads that send GET / without pause and log (start, status,
    worker pid) per request, good sessions and bad ones apart."""

    def __init__(self, gateways, good, bad):
        self.gateways = gateways
        self.good = good
        self.bad = bad
        self.log = []               # (started, status, pid, good)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i, good),
                                         daemon=True)
                        for i in range(CLIENTS)]
        self.threads.append(threading.Thread(target=self.run,
                                             args=(0, bad), daemon=True))

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(10)

    def run(self, n, tokens):
        i = n
        while not self.stopping.is_set():
            g = self.gateways[i % len(self.gateways)]
            token = tokens[i % len(tokens)]
            i += 1
            started = time.monotonic()
            try:
                # a connection each: every worker of a gateway gets some
                r = requests.get(g.url("/"), timeout=5,
                                 headers={"Accept": "application/json",
                                          "Connection": "close",
                                          "Cookie": "%s=%s" % (COOKIE,
                                                               token)})
                status = r.status_code
                pid = served_by(r) if status == 200 else None
            except requests.RequestException:
                status, pid = 0, None
            with self.lock:
                self.log.append((started, status, pid, tokens is self.good))

    def since(self, t):
        with self.lock:
            return [e for e in self.log if e[0] >= t]


class SwitchWatcher:
    """When a sentinel announced each +switch-master (monotonic time): the
    part of the failover that is Sentinel's, not the gateway's."""

    def __init__(self, sentinel):
        self.times = []
        self.sock = socket.create_connection((HOST, sentinel.port))
        self.sock.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$14\r\n"
                          b"+switch-master\r\n")
        self.reader = _RespReader(self.sock)
        self.reader.read()                      # subscribe confirmation
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        try:
            while True:
                self.reader.read()
                self.times.append(time.monotonic())
        except (OSError, ConnectionError, TypeError, IndexError):
            pass

    def since(self, t):
        later = [x for x in self.times if x >= t]
        return later[0] if later else None


def still_valid(gateway, token):
    r = requests.get(gateway.url("/"), timeout=5,
                     headers={"Accept": "application/json",
                              "Cookie": "%s=%s" % (COOKIE, token)})
    return r.status_code == 200


def failover(cluster, load, gateways, tokens, pids, switches):
    """One kill -9 of the primary; its figures."""
    primary = cluster.primary
    cluster.wait_replicated()           # sessions older than the lag
    killed_at = time.monotonic()
    primary.kill()

    def served_by_all():
        seen = {e[2] for e in load.since(killed_at) if e[1] == 200 and e[3]}
        return pids <= seen
    wait_until(served_by_all, 30, "every worker to serve again",
               interval=0.02)
    named = cluster.named_port()

    after = load.since(killed_at)
    good = [e for e in after if e[3]]
    first = min(e[0] for e in good if e[1] == 200)
    by_worker = {}
    for e in good:
        if e[1] == 200 and e[2] not in by_worker:
            by_worker[e[2]] = e[0]
    all_workers = max(by_worker.values())
    failed = sum(1 for e in good if e[1] != 200 and e[0] < all_workers)
    lost = sum(1 for i, t in enumerate(tokens)
               if not still_valid(gateways[i % len(gateways)], t))

    # the dead server comes back; the sentinels make it a replica
    primary.start()
    wait_until(lambda: cluster.replica_in_sync(primary), 30,
               "the old primary to rejoin as a replica")
    cluster.wait_watching(30)

    switched = switches.since(killed_at)

    return {"old": primary.port, "new": named,
            "switch": (switched - killed_at) * 1000 if switched else None,
            "first": (first - killed_at) * 1000,
            "all": (all_workers - killed_at) * 1000,
            "failed": failed, "lost": lost}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--failovers", type=int, default=5)
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--out", type=Path,
                    default=TOP / "bench" / "results" / (
                        datetime.date.today().isoformat() + "-ha.md"))
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-ha-"))
    backend = Backend().start()
    cluster = SentinelCluster(work).start()
    gateways = []
    try:
        for name in ("a", "b"):
            gateways.append(start_sentinel_gateway(
                work / ("gateway-" + name), cluster.sentinel_list, backend,
                workers=WORKERS, redis=PrimaryView(cluster),
                redis_opts="replicas=1", server=LOGIN_CONF))
        pids = set()
        for g in gateways:
            pids |= set(g.nginx.worker_pids())
        assert len(pids) == 2 * WORKERS, pids

        store = PrimaryView(cluster)
        users = [add_user(store, "user%d@example.com" % i, PASSWORD)
                 for i in range(4)]
        tokens = []
        for i in range(args.sessions):
            u = users[i % len(users)]
            tokens.append(gateways[i % 2].login_token(u.email, PASSWORD))
        # logged out before any failover: must never be served again
        revoked = [gateways[i % 2].login_token(users[0].email, PASSWORD)
                   for i in range(4)]
        for i, t in enumerate(revoked):
            r = gateways[i % 2].post("/auth/logout", t)
            assert r.status_code == 200, r.text
        bad = revoked + [forged_token() for _ in range(4)]

        switches = SwitchWatcher(cluster.sentinels[0])
        load = Load(gateways, tokens, bad).start()
        rounds = []
        try:
            time.sleep(1)               # the load runs before the first
            for n in range(args.failovers):
                rounds.append(failover(cluster, load, gateways, tokens,
                                       pids, switches))
                backend.reset()
                print("failover %d: :%d -> :%s, +switch-master %s ms, first "
                      "served %.0f ms, all workers %.0f ms, failed %d, lost "
                      "%d" % (
                          n + 1, rounds[-1]["old"], rounds[-1]["new"],
                          ms(rounds[-1]["switch"]),
                          rounds[-1]["first"], rounds[-1]["all"],
                          rounds[-1]["failed"], rounds[-1]["lost"]),
                      flush=True)
        finally:
            load.stop()

        wrong = sum(1 for e in load.log if not e[3] and e[1] == 200)
        total = len(load.log)
        report(args.out, rounds, wrong, total, len(tokens), len(bad))
    finally:
        for g in gateways:
            g.nginx.stop()
            Nginx.registry.remove(g.nginx)
        cluster.stop()
        backend.stop()


def report(out, rounds, wrong, total, nsessions, nbad):
    firsts = [r["first"] for r in rounds]
    alls = [r["all"] for r in rounds]
    lines = [
        "# Failover under load (make bench-ha), %s" %
        datetime.date.today().isoformat(),
        "",
        "Loopback, %s; Redis primary + replica + 3 sentinels "
        "(down-after-milliseconds %d, failover-timeout 3000), two gateways "
        "of %d workers on `clientauth_redis sentinel=... master=... "
        "replicas=1`; %d threads validating %d sessions on both gateways "
        "without pause, one thread sending %d tokens that must be refused "
        "(4 logged out before the first failover, 4 forged).  Each round: "
        "`kill -9` of the primary, then the dead server restarts and the "
        "sentinels make it a replica.  Commit %s." % (
            "%d cores" % os.cpu_count(), DOWN_AFTER_MS, WORKERS, CLIENTS,
            nsessions, nbad, git_head()),
        "",
        "Times are from the `kill -9`. \"+switch-master\" is when a "
        "sentinel announced the new primary (Sentinel's part: "
        "down-after-milliseconds, the vote, the promotion); the gateway's "
        "part is from there to the first request served.",
        "",
        "| failover | primary | +switch-master (ms) | first validated "
        "request served again (ms) | every worker of both gateways (ms) | "
        "valid requests failed (503) | sessions lost |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(rounds):
        lines.append("| %d | :%d → :%s | %s | %.0f | %.0f | %d | %d |" % (
            i + 1, r["old"], r["new"], ms(r["switch"]), r["first"],
            r["all"], r["failed"], r["lost"]))
    reaction = [r["first"] - r["switch"] for r in rounds
                if r["switch"] is not None]
    lines += [
        "",
        "- served again, p50: **%.0f ms** (first request), %.0f ms (every "
        "worker); max %.0f / %.0f ms; target ≤ 2000 ms" % (
            statistics.median(firsts), statistics.median(alls),
            max(firsts), max(alls)),
        "- of which Sentinel's, p50: %s ms (+switch-master); the "
        "gateways' reaction from +switch-master to the first request "
        "served, p50: %s ms (below 0: the request was sent before the "
        "bench's own subscriber heard the announcement, which the "
        "gateways had heard already)" % (
            ms(statistics.median([r["switch"] for r in rounds
                                  if r["switch"] is not None])
               if reaction else None),
            ms(statistics.median(reaction) if reaction else None)),
        "- requests wrongly served (no valid session, answered 200): "
        "**%d** of %d requests in all" % (wrong, total),
        "- sessions lost (made and replicated before the failover): "
        "**%d**" % sum(r["lost"] for r in rounds),
        "",
    ]
    text = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)


def ms(value):
    return "-" if value is None else "%.0f" % value


def git_head():
    try:
        return subprocess.run(["git", "-C", str(TOP), "rev-parse", "--short",
                               "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except Exception:
        return "?"


if __name__ == "__main__":
    main()
