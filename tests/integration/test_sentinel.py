"""Redis Sentinel (issue 12): clientauth_redis sentinel=... master=...

A real primary, a replica and three redis-sentinel processes on loopback
(sentinel_helpers.SentinelCluster, down-after-milliseconds 1000), and fake
sentinels that name whatever a test wants.  Gateways run 2 workers with
reuseport, and say which worker served (X-Worker-Pid), so that "every
worker serves again" is checked worker by worker.
"""

import threading
import time

import pytest

from helpers import (BRAND, HOST, JSON, RedisServer, add_user, ctl,
                     forged_token, wait_until)
from login_helpers import WRONG
from review_helpers import nginx_t
from sentinel_helpers import (MASTER, FakeSentinel, PrimaryView,
                              SentinelCluster, refused_port, served_by,
                              start_sentinel_gateway)

LOCKOUT = ("clientauth_lockout 3 1m 1m;\n"
           "clientauth_login_limit account 1000 1h;\n"
           "clientauth_login_limit address 1000 1h;\n")


# ------------------------------------------------------------ fixtures

@pytest.fixture
def cluster(tmp_path):
    c = SentinelCluster(tmp_path / "ha").start()
    yield c
    c.stop()


@pytest.fixture
def gateways(tmp_path, backend, request):
    """sentinel_gateway(sentinels, redis=None, **conf): gateways stopped
    and their logs checked at the end of the test."""
    from conftest import _stop_and_check
    started = []

    def make(sentinels, redis=None, **conf):
        g = start_sentinel_gateway(tmp_path / ("nginx%d" % len(started)),
                                   sentinels, backend, redis=redis, **conf)
        started.append(g)
        return g

    yield make
    errors = []
    for g in started:
        try:
            _stop_and_check(g.nginx)
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n".join(errors)


def serving(g, token, timeout=15):
    """Until a validated request is served; the seconds it took."""
    t = time.monotonic()
    wait_until(lambda: g.get("/ready", token, timeout=5).status_code == 200,
               timeout, "the gateway to serve", interval=0.05)
    return time.monotonic() - t


def login_when_up(g, account, timeout=15):
    """Logs in once the gateway found its primary; the token."""
    wait_until(lambda: g.get("/up").status_code != 503, timeout,
               "the gateway to find the primary", interval=0.05)
    return g.login_token(account.email, account.password)


def all_workers_serve(g, token, timeout=15):
    """Until every worker served a validated request (new connections,
    spread by reuseport); {pid: seconds from the call to its first 200}."""
    t = time.monotonic()
    first = {}
    pids = g.nginx.worker_pids()

    def each():
        r = g.get("/each", token, timeout=5)
        if r.status_code == 200:
            first.setdefault(served_by(r), time.monotonic() - t)
        return set(first) >= pids
    wait_until(each, timeout, "every worker to serve", interval=0.02)
    return first


# ------------------------------------------------------------ configuration

SENTINELS = "%s:26379,%s:26380" % (HOST, HOST)


@pytest.mark.parametrize("directive, message", [
    ("clientauth_redis sentinel=%s;" % SENTINELS,
     '"sentinel=" needs "master=NAME"'),
    ("clientauth_redis %s:6379 sentinel=%s master=m;" % (HOST, SENTINELS),
     'takes an address or "sentinel=", not both'),
    ("clientauth_redis %s:6379 master=m;" % HOST,
     '"master=" and "sentinel_password=" need "sentinel="'),
    ("clientauth_redis %s:6379 sentinel_password=x;" % HOST,
     '"master=" and "sentinel_password=" need "sentinel="'),
    ("clientauth_redis master=m password=x;",
     '"master=" and "sentinel_password=" need "sentinel="'),
    ("clientauth_redis password=x;",
     'needs an address, or "sentinel=" and "master="'),
    ("clientauth_redis sentinel=%s, master=m;" % HOST,
     'invalid clientauth_redis sentinel ""'),
    ("clientauth_redis sentinel=%s:0 master=m;" % HOST,
     'invalid clientauth_redis sentinel "%s:0"' % HOST),
    ("clientauth_redis sentinel=%s sentinel=%s master=m;" % (HOST, HOST),
     'invalid clientauth_redis parameter "sentinel=%s"' % HOST),
    ("clientauth_redis sentinel=%s master=;" % HOST,
     'invalid clientauth_redis parameter "master="'),
])
def test_bad_sentinel_directives_fail_nginx_t(tmp_path, directive, message):
    p = nginx_t(tmp_path, http="    %s\n" % directive,
                server="        clientauth_brand magic;\n")
    assert p.returncode != 0, p.stdout
    assert message in p.stdout, p.stdout


def test_sentinel_directive_is_accepted(tmp_path):
    p = nginx_t(tmp_path, http="    clientauth_redis sentinel=%s,localhost "
                "master=mymaster password=a sentinel_password=b db=2 "
                "timeout=200ms;\n" % SENTINELS,
                server="        clientauth_brand magic;\n")
    assert p.returncode == 0, p.stdout


# ------------------------------------------------------------ failover

class Load:
    """Validations with a good session, with none and with a forged one,
    and logins, against several gateways from threads, until stopped;
    every response recorded as (start, end, gateway, kind, status, pid)."""

    def __init__(self, gws, token, account):
        self.gws = gws
        self.token = token
        self.account = account
        self.results = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i, kind))
                        for i in range(len(gws))
                        for kind in ("valid", "none", "forged", "login")]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=30)

    def _run(self, i, kind):
        g = self.gws[i]
        forged = forged_token()
        while not self.stopping.is_set():
            start = time.monotonic()
            try:
                if kind == "login":
                    r = g.login(self.account.email, self.account.password,
                                timeout=5)
                else:
                    token = {"valid": self.token, "none": None,
                             "forged": forged}[kind]
                    r = g.get("/load/%s" % kind, token, timeout=5)
            except Exception as e:          # a timeout: recorded, not fatal
                self._record(start, i, kind, repr(e), None)
                continue
            pid = served_by(r) if r.status_code == 200 and kind != "login" \
                else None
            self._record(start, i, kind, r.status_code, pid)
            if kind == "login":
                time.sleep(0.05)

    def _record(self, start, i, kind, status, pid):
        with self.lock:
            self.results.append((start, time.monotonic(), i, kind, status,
                                 pid))

    def snapshot(self):
        with self.lock:
            return list(self.results)


def test_primary_killed_under_load_every_worker_of_two_gateways_recovers(
        cluster, gateways):
    view = PrimaryView(cluster)
    g1 = gateways(cluster.sentinel_list, redis=view, server=LOCKOUT)
    g2 = gateways(cluster.sentinel_list, redis=view, server=LOCKOUT)
    owner = add_user(view, "owner@example.com", "Sup3r-secret!pw")
    victim = add_user(view, "victim@example.com", "V1ctim-secret!pw")

    token = login_when_up(g1, owner)
    for g in (g1, g2):
        all_workers_serve(g, token)
    # two failures of three toward victim's lockout, before the failover
    assert [g1.login(victim.email, WRONG).status_code
            for _ in range(2)] == [401, 401]
    cluster.wait_replicated()
    old = cluster.primary
    pids = {0: g1.nginx.worker_pids(), 1: g2.nginx.worker_pids()}

    with Load([g1, g2], token, owner) as load:
        time.sleep(0.5)
        old.kill()
        died = time.monotonic()

        def recovered():
            after = [r for r in load.snapshot()
                     if r[0] > died and r[3] == "valid" and r[4] == 200]
            return all({r[5] for r in after if r[2] == i} >= pids[i]
                       for i in pids)
        wait_until(recovered, 30, "every worker to serve again",
                   interval=0.05)
        time.sleep(0.5)

    results = load.snapshot()
    firsts = {}
    for start, end, i, kind, status, pid in results:
        if start > died and kind == "valid" and status == 200:
            firsts.setdefault((i, pid), end - died)
    print("\nfailover: primary death -> first validated request served, "
          "per gateway/worker: %s" % ", ".join(
              "g%d/%d %.2fs" % (i + 1, pid, s)
              for (i, pid), s in sorted(firsts.items())))
    assert max(firsts.values()) < 15, firsts

    # never a request through without a valid session
    wrong = [r for r in results if r[3] in ("none", "forged")
             and r[4] not in (401, 503)]
    assert wrong == [], wrong[:5]
    # a good session: served, or refused for want of Redis, nothing else
    odd = [r for r in results if r[3] == "valid" and r[4] not in (200, 503)]
    assert odd == [], odd[:5]
    assert [r for r in results if r[3] == "login" and r[0] > died + 15
            and r[4] != 200] == []

    # the new primary holds what the old one had
    assert cluster.named_port() != old.port
    for g in (g1, g2):
        assert g.get("/after", token).status_code == 200
        assert g.login(owner.email, owner.password).status_code == 200
    # the lockout count went on: the third failure locks, the fourth is 429
    assert g2.login(victim.email, WRONG).status_code == 401
    assert g1.login(victim.email, WRONG).status_code == 429

    # the old primary comes back as a replica and nobody writes to it
    old.start()
    wait_until(lambda: "role:slave" in old.call("INFO", "replication"), 30,
               "the old primary to be made a replica", interval=0.2)
    for g in (g1, g2):
        all_workers_serve(g, token)
        assert g.login(owner.email, owner.password).status_code == 200
    clients = [line for line in old.call("CLIENT", "LIST").splitlines()
               if "name=sentinel-" not in line and "flags=M" not in line
               and "cmd=client" not in line]
    assert clients == [], clients
