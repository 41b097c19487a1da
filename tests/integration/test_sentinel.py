"""Redis Sentinel (issue 12): clientauth_redis sentinel=... master=...

A real primary, a replica and three redis-sentinel processes on loopback
(sentinel_helpers.SentinelCluster, down-after-milliseconds 1000), and fake
sentinels that name whatever a test wants.  Gateways run 2 workers with
reuseport, and say which worker served (X-Worker-Pid), so that "every
worker serves again" is checked worker by worker.
"""

import re
import subprocess
import threading
import time

import pytest

from helpers import (CTL, CTL_COST, HOST, SESSION_CACHE_ON, RedisServer,
                     add_user, ctl, cookie_token, forged_token, wait_until)
from login_helpers import WRONG
from review_helpers import nginx_t
from sentinel_helpers import (MASTER, FakeSentinel, PrimaryView,
                              SentinelCluster, refused_port, served_by,
                              start_sentinel_gateway)
from test_redis_failure import assert_unavailable

# A login cut by the failover keeps the failure it counted before checking
# the password (limit.c): room for a few of those in the load's account.
LOCKOUT = ("clientauth_lockout 10 1m 1m;\n"
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
    done = []

    def login():
        r = g.login(account.email, account.password)
        assert r.status_code in (200, 503), (r.status_code, r.text)
        if r.status_code == 200:
            done.append(cookie_token(r))
        return done
    wait_until(login, timeout, "the gateway to find the primary",
               interval=0.05)
    return done[0]


def through_tilt(cluster, wait, timeout):
    """wait(timeout), once more for 60 s if the sentinels went into TILT
    mode meanwhile (the shared machine stalled): no failover for 30 s."""
    try:
        return wait(timeout)
    except AssertionError:
        if not cluster.tilted():
            raise
        print("\nthe sentinels went into TILT mode: waiting longer")
        return wait(60)


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
    # nine failures of ten toward victim's lockout, before the failover
    assert [g1.login(victim.email, WRONG).status_code
            for _ in range(9)] == [401] * 9
    cluster.wait_replicated()
    old = cluster.primary
    windows = {k: int(old.call("GET", k)) for k in old.keys() if ":rl:" in k}
    assert windows
    pids = {0: g1.nginx.worker_pids(), 1: g2.nginx.worker_pids()}

    with Load([g1, g2], token, owner) as load:
        time.sleep(0.5)
        old.kill()
        died = time.monotonic()
        died_at = time.time()

        def recovered():
            after = [r for r in load.snapshot()
                     if r[0] > died and r[3] == "valid" and r[4] == 200]
            return all({r[5] for r in after if r[2] == i} >= pids[i]
                       for i in pids)
        through_tilt(cluster, lambda timeout: wait_until(
            recovered, timeout, "every worker to serve again",
            interval=0.05), 30)
        time.sleep(1)

    results = load.snapshot()
    firsts = {}
    for start, end, i, kind, status, pid in results:
        if start > died and kind == "valid" and status == 200:
            firsts.setdefault((i, pid), end - died)
    print("\nfailover: primary death -> first validated request served, "
          "per gateway/worker: %s" % ", ".join(
              "g%d/%d %.2fs" % (i + 1, pid, s)
              for (i, pid), s in sorted(firsts.items())))
    print("+switch-master announced by each sentinel after the death: %s"
          % ", ".join("%.2fs" % (t - died_at) if t else "-"
                      for t in cluster.switched_at()))
    assert max(firsts.values()) < 15 or cluster.tilted(), firsts

    # never a request through without a valid session (a client timeout on
    # a loaded machine is no answer at all: not counted)
    answered = [r for r in results if isinstance(r[4], int)]
    wrong = [r for r in answered if r[3] in ("none", "forged")
             and r[4] not in (401, 503)]
    assert wrong == [], wrong[:5]
    # a good session: served, or refused for want of Redis, nothing else
    odd = [r for r in answered if r[3] == "valid" and r[4] not in (200, 503)]
    assert odd == [], odd[:5]
    assert len(answered) > len(results) * 0.95, len(results) - len(answered)
    # logins: in, or refused for want of Redis; and in again on both
    # gateways under load once the new primary serves
    logins = [r for r in answered if r[3] == "login"]
    assert {r[4] for r in logins} <= {200, 503}, logins[:5]
    assert {r[2] for r in logins if r[0] > died and r[4] == 200} == {0, 1}

    # the new primary holds what the old one had
    assert cluster.named_port() != old.port
    assert g1.metric("clientauth_redis_failovers_total") == 2
    for g in (g1, g2):
        assert g.get("/after", token).status_code == 200
        assert g.login(owner.email, owner.password).status_code == 200
    # the rate-limit windows went on from where they were
    new = cluster.primary
    assert all(int(new.call("GET", k) or 0) >= n for k, n in windows.items()), \
        (windows, {k: new.call("GET", k) for k in windows})
    # the lockout count went on: the tenth failure locks, the next is 429
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

    # clientauthctl finds the new primary through the sentinels too
    p = sentinel_ctl(cluster.sentinel_list, "user", "add", "magic", "--email",
                     "late@example.com", "--password-stdin",
                     password="L4te-secret!pw")
    assert p.returncode == 0, p.stderr
    assert g2.login_token("late@example.com", "L4te-secret!pw")


def sentinel_ctl(sentinels, *args, master=MASTER, password=None,
                 sentinel_password=None):
    """clientauthctl --sentinel ... --master ...: the CompletedProcess."""
    cmd = [str(CTL), "--sentinel", sentinels, "--master", master,
           "--hash-cost", CTL_COST]
    if sentinel_password:
        cmd += ["--sentinel-password", sentinel_password]
    return subprocess.run(cmd + list(args),
                          input=(password + "\n") if password else "",
                          capture_output=True, text=True, timeout=60)


def subscribers(sentinel):
    """The gateways' connections subscribed on a sentinel."""
    return [line for line in sentinel.call("CLIENT", "LIST").splitlines()
            if "cmd=subscribe" in line]


def test_a_sentinel_down_the_workers_follow_through_the_others(
        cluster, gateways):
    view = PrimaryView(cluster)
    g = gateways(cluster.sentinel_list, redis=view)
    owner = add_user(view, "owner@example.com", "Sup3r-secret!pw")
    token = login_when_up(g, owner)
    all_workers_serve(g, token)

    # each worker is subscribed on every sentinel; the first one goes
    for s in cluster.sentinels:
        wait_until(lambda: len(subscribers(s)) == 2, 10,
                   "both workers to subscribe on every sentinel")
    first = cluster.sentinels[0]
    first.kill()
    all_workers_serve(g, token)

    # and a failover is still followed at once
    cluster.wait_replicated()
    old = cluster.primary
    old.kill()
    died = time.monotonic()
    firsts = through_tilt(cluster, lambda timeout: all_workers_serve(
        g, token, timeout=timeout), 20)
    print("\nfailover with a sentinel down: %s" % ", ".join(
        "%d %.2fs" % (pid, s) for pid, s in sorted(firsts.items())))
    assert cluster.named_port() != old.port
    assert time.monotonic() - died < 20 or cluster.tilted()

    # the sentinel back, the workers subscribe on it again
    first.start()
    wait_until(lambda: len(subscribers(first)) == 2, 15,
               "both workers to subscribe again on the first sentinel")
    assert "lost the connection to sentinel %s:%d" % (HOST, first.port) in \
        g.nginx.read_log()


def test_all_sentinels_down_means_503_until_one_returns(cluster, gateways):
    view = PrimaryView(cluster)
    owner = add_user(view, "owner@example.com", "Sup3r-secret!pw")
    for s in cluster.sentinels:
        s.stop()

    # no sentinel to ask: the gateway knows no primary and fails closed
    g = gateways(cluster.sentinel_list, redis=cluster.servers[0])
    time.sleep(0.3)
    for r in (g.login(owner.email, owner.password),
              g.get("/private", forged_token())):
        assert_unavailable(r)
    assert g.get("/private").status_code == 401

    for s in cluster.sentinels:
        s.start()
    token = login_when_up(g, owner)
    all_workers_serve(g, token)

    # a gateway that knows the primary goes on without the sentinels
    for s in cluster.sentinels:
        s.stop()
    all_workers_serve(g, token)
    assert g.login(owner.email, owner.password).status_code == 200
    assert "no sentinel told where the primary" in g.nginx.read_log()


@pytest.fixture
def pair(tmp_path):
    """Two redis-servers: a primary and its replica."""
    a = RedisServer(tmp_path / "a").start()
    b = RedisServer(tmp_path / "b",
                    extra_args=["--replicaof", HOST, str(a.port)]).start()
    wait_until(lambda: "master_link_status:up"
               in b.call("INFO", "replication"), 10, "the replica to sync")
    yield a, b
    b.stop()
    a.stop()


@pytest.fixture
def fakes():
    started = []

    def make(addr, password=None):
        f = FakeSentinel(addr, password).start()
        started.append(f)
        return f

    yield make
    for f in started:
        f.stop()


def test_a_sentinel_naming_a_refusing_address_is_passed_over(
        pair, fakes, gateways):
    a, _ = pair
    liar = fakes((HOST, refused_port()))
    honest = fakes((HOST, a.port))
    owner = add_user(a, "owner@example.com", "Sup3r-secret!pw")
    g = gateways("%s,%s" % (liar.address, honest.address), redis=a)

    token = login_when_up(g, owner, timeout=10)
    all_workers_serve(g, token, timeout=10)
    assert liar.asked >= 2 and honest.asked >= 2
    assert "%s:%d (sentinel %s)" % (HOST, a.port, honest.address) in \
        g.nginx.read_log()


def test_a_sentinel_naming_a_replica_is_passed_over(pair, fakes, gateways):
    a, b = pair
    stale = fakes((HOST, b.port))
    honest = fakes((HOST, a.port))
    owner = add_user(a, "owner@example.com", "Sup3r-secret!pw")
    g = gateways("%s,%s" % (stale.address, honest.address), redis=a)

    token = login_when_up(g, owner, timeout=10)
    all_workers_serve(g, token, timeout=10)
    assert "%s:%d is not a master (ROLE)" % (HOST, b.port) in \
        g.nginx.read_log()


def test_a_primary_demoted_under_the_gateway_is_left_on_readonly(
        pair, fakes, gateways):
    a, b = pair
    sentinel = fakes((HOST, a.port))
    owner = add_user(a, "owner@example.com", "Sup3r-secret!pw")
    g = gateways(sentinel.address, redis=a)
    token = login_when_up(g, owner)
    all_workers_serve(g, token)

    # b takes over, a follows it: nobody announces it
    b.call("REPLICAOF", "NO", "ONE")
    a.call("REPLICAOF", HOST, b.port)
    wait_until(lambda: "master_link_status:up"
               in a.call("INFO", "replication"), 10, "a to follow b")
    sentinel.addr = (HOST, b.port)

    # each worker's first write meets READONLY (a login fails there, 503),
    # it asks the sentinel and goes to b; reads alone would not notice
    def moved():
        r = g.login(owner.email, owner.password)
        assert r.status_code in (200, 503), (r.status_code, r.text)
        return _clients(a) == 0
    wait_until(moved, 10, "every worker to leave a at its first write",
               interval=0.05)
    assert "%s:%d answered READONLY" % (HOST, a.port) in g.nginx.read_log()
    for _ in range(4):
        assert g.login(owner.email, owner.password).status_code == 200
    all_workers_serve(g, token)
    assert _clients(a) == 0


def test_a_reload_finds_the_primary_again(pair, fakes, gateways):
    a, _ = pair
    sentinel = fakes((HOST, a.port))
    owner = add_user(a, "owner@example.com", "Sup3r-secret!pw")
    g = gateways(sentinel.address, redis=a)
    token = login_when_up(g, owner)
    asked = sentinel.asked

    old, _ = g.nginx.reload()
    wait_until(lambda: not (g.nginx.worker_pids() & old), 10,
               "the old workers to exit")
    all_workers_serve(g, token)
    assert sentinel.asked > asked
    wait_until(lambda: sentinel.subscribed() == 2, 10,
               "only the new workers to stay subscribed")


def test_a_failover_announced_by_a_sentinel_moves_every_connection(
        pair, fakes, gateways):
    a, b = pair
    sentinel = fakes((HOST, a.port))
    owner = add_user(a, "owner@example.com", "Sup3r-secret!pw")
    g = gateways(sentinel.address, redis=a)
    token = login_when_up(g, owner)
    all_workers_serve(g, token)
    wait_until(lambda: sentinel.subscribed() == 2, 10,
               "both workers to subscribe")

    b.call("REPLICAOF", "NO", "ONE")
    sentinel.addr = (HOST, b.port)
    sentinel.publish((HOST, a.port), (HOST, b.port))
    # a still answers, as a stale primary would: only the message moves
    # the gateway, and every connection of every worker goes to b
    # per worker: the shared connection, the 2 dedicated ones, and the
    # session cache's subscriber when the cache is on
    moved = 2 * (4 if SESSION_CACHE_ON else 3)
    wait_until(lambda: _clients(a) == 0 and _clients(b) == moved, 10,
               "every connection to move to b")
    for _ in range(3):
        assert g.login(owner.email, owner.password).status_code == 200
    all_workers_serve(g, token)
    assert _clients(a) == 0


def _clients(server):
    """Client connections other than this call and replication: plain (N),
    tracked (t) and subscribed (P)."""
    return len([line for line in server.call("CLIENT", "LIST").splitlines()
                if re.search(r" flags=[NtP]+ ", line)
                and "cmd=client|list" not in line])


def test_sentinel_password_is_sent(pair, fakes, gateways):
    a, _ = pair
    sentinel = fakes((HOST, a.port), password="s3ntinel-pw")
    owner = add_user(a, "owner@example.com", "Sup3r-secret!pw")
    g = gateways(sentinel.address, redis=a,
                 redis_opts="sentinel_password=s3ntinel-pw")
    token = login_when_up(g, owner)
    all_workers_serve(g, token)

    wrong = gateways(sentinel.address, redis=a,
                     redis_opts="sentinel_password=nope")
    wait_until(lambda: "refused AUTH" in wrong.nginx.read_log(), 10,
               "the sentinel to refuse the password")
    assert_unavailable(wrong.get("/private", token))


# ------------------------------------------------------------ clientauthctl

def test_clientauthctl_finds_the_primary_through_the_sentinels(pair, fakes):
    a, b = pair
    dead = refused_port()
    stale = fakes((HOST, b.port), password="s3ntinel-pw")
    honest = fakes((HOST, a.port), password="s3ntinel-pw")
    sentinels = "%s:%d,%s,%s" % (HOST, dead, stale.address, honest.address)

    p = sentinel_ctl(sentinels, "user", "add", "magic", "--email",
                     "owner@example.com", "--password-stdin",
                     password="Sup3r-secret!pw",
                     sentinel_password="s3ntinel-pw")
    assert p.returncode == 0, p.stderr
    assert "is not a master" in p.stderr
    ctl(a, "user", "show", "magic", "owner@example.com")

    p = sentinel_ctl(stale.address, "user", "show", "magic",
                     "owner@example.com", sentinel_password="s3ntinel-pw")
    assert p.returncode == 1
    assert "no sentinel of" in p.stderr


@pytest.mark.parametrize("args, message", [
    (["--sentinel", "127.0.0.1:1"], "--sentinel needs --master NAME"),
    (["--master", "m"], "--master needs --sentinel"),
    (["--redis", "127.0.0.1:1", "--sentinel", "127.0.0.1:2", "--master",
      "m"], "--redis and --sentinel exclude each other"),
    (["--sentinel", "127.0.0.1:x", "--master", "m"], "invalid --sentinel"),
])
def test_clientauthctl_sentinel_usage_errors(args, message):
    p = subprocess.run([str(CTL)] + args + ["user", "show", "magic", "a@b.c"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert message in p.stderr
