"""The per-worker session cache (clientauth_session_cache, issue 11).

Two gateways of two workers each on one Redis, every response naming the
worker that made it (X-Worker).  A session is first cached by every worker
(the entries gauge counts it once per worker); then each way of ending it,
or of changing what it may do, is made, and every worker of both gateways
must refuse it within DEADLINE, measured from the moment the revoking
command returned.  Then the cache's own failures: its connections killed,
Redis stopped or restarted, FLUSHALL, a burst of distinct sessions against
the bound, the read/invalidate race forced with the fault proxy, and the
Redis commands a session in use costs (none).
"""

import base64
import http.client
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import _stop_and_check, start_gateway
from account_helpers import user_key
from faultproxy import FaultProxy
from helpers import (BRAND, COOKIE, HOST, Gateway, Nginx, add_user,
                     check_logs, ctl, free_port, gateway_conf, nginx_check,
                     session_key, wait_until)
from reset_helpers import (NO_RESET_LIMITS, RESET_LOCATIONS, ROOMY_LOGIN,
                           change_password)

WORKERS = 2
DEADLINE = 1.0                  # s from the revocation to every refusal
SILENCE = 0.25                  # s without a word from Redis: cache off
CACHE_ON = "session cache on, kept exact"
WORKER_HEADER = "add_header X-Worker $pid always;\n"
SERVER = WORKER_HEADER + ROOMY_LOGIN + NO_RESET_LIMITS
PASSWORD = "Sup3r-secret!pw"
# the cache on whatever CA_SESSION_CACHE says: these tests run in the
# sanitized run (cache off for the rest of the suite) too
CACHE = "    clientauth_session_cache 10000;\n"

HITS = "clientauth_session_cache_hits_total"
MISSES = "clientauth_session_cache_misses_total"
INVALIDATIONS = "clientauth_session_cache_invalidations_total"
FLUSHES = "clientauth_session_cache_flushes_total"
ENTRIES = "clientauth_session_cache_entries"

# measured revocation delays (s), printed at the end of the module
DELAYS = {}
SERVED_AFTER = {}           # requests still served after the revocation


def tracked(g, since=0):
    """How many times a worker of g had tracking confirmed since the log
    offset."""
    return g.nginx.read_log(since).count(CACHE_ON)


def wait_tracked(g, since=0, workers=WORKERS, timeout=10):
    wait_until(lambda: tracked(g, since) >= workers, timeout,
               "tracking on every worker of %s" % g.nginx.dir)


def spread(g, path, token, n=8):
    """n requests at once, so that both workers take some."""
    with ThreadPoolExecutor(4) as ex:
        return list(ex.map(lambda i: g.get(path, token), range(n)))


def warm(g, token, path="/", workers=WORKERS):
    """Until every worker of g has the session in its cache and serves it
    from there."""
    pids = set()

    def cached_everywhere():
        for r in spread(g, path, token):
            assert r.status_code == 200, (r.status_code, r.text)
            pids.add(r.headers["X-Worker"])
        return (len(pids) >= workers
                and g.metric(ENTRIES) >= workers)
    wait_until(cached_everywhere, 10, "the session cached by every worker")
    hits = g.metric(HITS)
    spread(g, path, token)
    assert g.metric(HITS) > hits


def assert_refused_everywhere(gws, path, token, refused, since, kind):
    """Every worker of every gateway refuses the session, the first
    refusal within DEADLINE of since (time.monotonic()).  The delay
    recorded is each gateway's first refusal (single requests, the
    gateways in turn), from since."""
    first = {}
    served = []

    def first_refusals():
        for g in gws:
            if g in first:
                continue
            r = g.get(path, token)
            now = time.monotonic()
            if r.status_code == refused:
                first[g] = now - since
                continue
            assert r.status_code == 200, (r.status_code, r.text)
            served.append(now - since)
            assert now - since < DEADLINE, \
                "%s: still served %.3fs after" % (kind, now - since)
        return len(first) == len(gws)
    wait_until(first_refusals, 5, "%s refused by each gateway" % kind,
               interval=0)
    DELAYS.setdefault(kind, []).extend(first[g] for g in gws)
    SERVED_AFTER.setdefault(kind, []).extend(served)

    for g in gws:
        pids = set()

        def all_refuse():
            for r in spread(g, path, token):
                assert r.status_code == refused, (kind, r.status_code)
                pids.add(r.headers["X-Worker"])
            return len(pids) >= WORKERS
        wait_until(all_refuse, 5, "%s refused by every worker" % kind)


@pytest.fixture(scope="module")
def pair(tmp_path_factory, shared_redis, backend):
    """Two gateways of two workers on one Redis."""
    gws = []
    for name in ("a", "b"):
        gws.append(start_gateway(tmp_path_factory.mktemp("nginx-" + name),
                                 shared_redis, backend, workers=WORKERS,
                                 server=SERVER, locations=RESET_LOCATIONS,
                                 http=CACHE))
    for g in gws:
        wait_tracked(g)
    yield gws
    for g in gws:
        _stop_and_check(g.nginx)
    if DELAYS:
        print("\nrevocation delay, first refusal after the revoking "
              "command (ms):")
        for kind, values in sorted(DELAYS.items()):
            print("  %-22s %s  (served after it: %d)" % (
                kind, " ".join("%.1f" % (v * 1000) for v in values),
                len(SERVED_AFTER.get(kind, []))))


@pytest.fixture
def users(pair, redis_store):
    """The pair's Redis flushed (which empties every cache: FLUSHALL is a
    nil invalidation), and an owner with a billing sub-user."""
    owner = add_user(redis_store, "owner@example.com", PASSWORD)
    biller = add_user(redis_store, "bill@example.com", PASSWORD,
                      perms=["billing"], parent=owner.email)
    return owner, biller


# ------------------------------------------------------------ revocations

def logout(gws, redis, who, token):
    r = gws[0].post("/auth/logout", token)
    assert r.status_code == 200, r.text


def logout_everywhere(gws, redis, who, token):
    r = gws[1].post("/auth/logout", token, data={"everywhere": "1"})
    assert r.status_code == 200, r.text


def user_lock(gws, redis, who, token):
    ctl(redis, "user", "lock", BRAND, who.email)


def user_passwd(gws, redis, who, token):
    ctl(redis, "user", "passwd", BRAND, who.email, "--password-stdin",
        password="An0ther-secret!pw")


def password_reset(gws, redis, who, token):
    change_password(gws[0], who.email, "Res3t-secret!pw")


def sessions_revoke(gws, redis, who, token):
    ctl(redis, "sessions", "revoke", BRAND, who.email)


def key_deleted(gws, redis, who, token):
    assert redis.call("DEL", session_key(token)) == 1


REVOCATIONS = [logout, logout_everywhere, user_lock, user_passwd,
               password_reset, sessions_revoke, key_deleted]


@pytest.mark.parametrize("revoke", REVOCATIONS,
                         ids=[f.__name__ for f in REVOCATIONS])
def test_revocation_is_refused_by_every_worker_of_every_gateway(
        pair, users, redis_store, revoke):
    owner, _ = users
    token = pair[0].login_token(owner.email, owner.password)
    for g in pair:
        warm(g, token)

    revoke(pair, redis_store, owner, token)
    assert_refused_everywhere(pair, "/", token, 401, time.monotonic(),
                              revoke.__name__)


def test_new_permissions_apply_on_every_worker(pair, users, redis_store):
    _, biller = users
    token = pair[0].login_token(biller.email, biller.password)
    for g in pair:
        warm(g, token, "/billing/")

    ctl(redis_store, "user", "perms", BRAND, biller.email, "--perm",
        "orders")
    assert_refused_everywhere(pair, "/billing/", token, 403,
                              time.monotonic(), "perms")
    for g in pair:
        r = g.get("/", token)
        assert r.status_code == 200
        assert r.json()["headers"] and "orders" in str(r.json()["headers"])


def test_ttl_running_out_ends_the_session_on_time(pair, users, redis_store):
    """A TTL cut short by hand: refused from its end on, on every worker,
    even before Redis's expiry cycle deletes the key (the cached PTTL)."""
    owner, _ = users
    token = pair[0].login_token(owner.email, owner.password)
    for g in pair:
        warm(g, token)

    assert redis_store.call("PEXPIRE", session_key(token), 1500) == 1
    end = time.monotonic() + 1.5
    for g in pair:
        warm(g, token)              # read again, with the new deadline
    assert time.monotonic() < end, "too slow a machine for this test"
    while time.monotonic() < end:
        time.sleep(0.01)
    assert_refused_everywhere(pair, "/", token, 401, end, "ttl")


def test_flushall_empties_every_cache(pair, users, redis_store):
    owner, _ = users
    token = pair[0].login_token(owner.email, owner.password)
    for g in pair:
        warm(g, token)
    flushes = [g.metric(FLUSHES) for g in pair]

    redis_store.call("FLUSHALL")
    assert_refused_everywhere(pair, "/", token, 401, time.monotonic(),
                              "flushall")
    for g, before in zip(pair, flushes):
        assert g.metric(FLUSHES) >= before + WORKERS
        assert g.metric(ENTRIES) == 0


# ------------------------------------------------------------ connections

def tracking_clients(redis):
    """Ids of the clients with tracking on: the workers' data
    connections."""
    ids = []
    for line in redis.call("CLIENT", "LIST").splitlines():
        fields = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
        if "t" in fields.get("flags", "") and fields.get("redir") not in (
                None, "-1", "0"):
            ids.append(fields["id"])
    return ids


@pytest.mark.parametrize("kill", ["pubsub", "data"])
def test_killed_connection_flushes_and_caching_resumes(pair, users,
                                                       redis_store, kill):
    owner, _ = users
    token = pair[0].login_token(owner.email, owner.password)
    for g in pair:
        warm(g, token)
    flushes = [g.metric(FLUSHES) for g in pair]
    logs = [g.nginx.log_size() for g in pair]

    if kill == "pubsub":
        killed = redis_store.call("CLIENT", "KILL", "TYPE", "pubsub")
    else:
        ids = tracking_clients(redis_store)
        assert len(ids) == 2 * WORKERS, redis_store.call("CLIENT", "LIST")
        killed = sum(redis_store.call("CLIENT", "KILL", "ID", i)
                     for i in ids)
    assert killed == 2 * WORKERS

    for g, before, log in zip(pair, flushes, logs):
        wait_until(lambda: g.metric(FLUSHES) >= before + WORKERS, 5,
                   "every worker's cache emptied")
        wait_tracked(g, since=log)
        warm(g, token)

    # tracking is redirected to the new subscribers: still exact
    ctl(redis_store, "user", "lock", BRAND, owner.email)
    assert_refused_everywhere(pair, "/", token, 401, time.monotonic(),
                              "lock after " + kill + " kill")


def test_a_session_in_use_costs_no_redis_command(pair, users, redis_store):
    owner, _ = users
    token = pair[0].login_token(owner.email, owner.password)
    for g in pair:
        warm(g, token)
    hits = sum(g.metric(HITS) for g in pair)

    before = redis_store.commandstats()
    for g in pair:
        for _ in range(5):
            spread(g, "/", token)
    after = redis_store.commandstats()

    delta = {cmd: calls - before.get(cmd, 0)
             for cmd, calls in after.items()
             if calls != before.get(cmd, 0)}
    # the metric reads are the tests', the SUBSCRIBEs the heartbeat
    delta.pop("info", None)
    heartbeat = delta.pop("subscribe", 0)
    assert delta == {}, delta
    assert sum(g.metric(HITS) for g in pair) >= hits + 80
    print("\n80 validated requests: 0 commands besides %d heartbeat "
          "SUBSCRIBEs" % heartbeat)


# ------------------------------------------------------------ Redis down

def test_redis_stopped_gets_503_not_the_cache(make_gateway, own_redis):
    owner = add_user(own_redis, "owner@example.com", PASSWORD)
    # a timeout well beyond SILENCE: the bound does not grow with it
    g = make_gateway(redis=own_redis, workers=WORKERS, server=SERVER,
                     redis_opts="timeout=1s", http=CACHE)
    wait_tracked(g)
    token = g.login_token(owner.email, owner.password)
    warm(g, token)

    own_redis.pause()
    stopped = time.monotonic()
    try:
        seen = []
        while time.monotonic() - stopped < 2.5:
            start = time.monotonic() - stopped
            seen.append((start, g.get("/", token, timeout=5).status_code))
        # the cache serves no longer than SILENCE after the last word
        # from Redis (a heartbeat every 100 ms); a request then waits for
        # its own timeout: 503, never 200.  0.1 s of slack: the worker may
        # have read a confirmation Redis sent just before it stopped.
        assert all(s == 503 for t, s in seen if t > SILENCE + 0.1), seen
        assert all(s in (200, 503) for _, s in seen), seen
        served = [t for t, s in seen if s == 200]
        print("\nRedis stopped: cached sessions served until %.3f s after"
              % (served[-1] if served else 0))
    finally:
        own_redis.resume()

    wait_until(lambda: g.get("/", token).status_code == 200, 10,
               "the gateway back with Redis")


def test_redis_restarted_gets_503_then_reads_again(make_gateway, own_redis):
    owner = add_user(own_redis, "owner@example.com", PASSWORD)
    g = make_gateway(redis=own_redis, workers=WORKERS, server=SERVER,
                     redis_opts="timeout=300ms", http=CACHE)
    wait_tracked(g)
    token = g.login_token(owner.email, owner.password)
    warm(g, token)
    log = g.nginx.log_size()

    own_redis.kill()
    for r in spread(g, "/", token, 12):
        assert r.status_code == 503, r.status_code
    own_redis.start()

    # a Redis without persistence comes back empty: the session is gone
    wait_until(lambda: g.get("/", token).status_code == 401, 15,
               "the gateway reading the restarted Redis")
    owner = add_user(own_redis, "owner@example.com", PASSWORD)
    wait_tracked(g, since=log)
    token = g.login_token(owner.email, owner.password)
    warm(g, token)


# ------------------------------------------------------------ reload

def test_reload_gives_the_caches_back_and_the_new_workers_stay_exact(
        make_gateway, redis_store):
    """nginx -s reload with two workers: the old workers' caches go with
    them (the entries gauge drops to what the new workers hold; under
    valgrind, no leak at their exit), and the new workers cache and
    invalidate as the old ones did."""
    owner = add_user(redis_store, "owner@example.com", PASSWORD)
    g = make_gateway(workers=WORKERS, server=SERVER, http=CACHE)
    wait_tracked(g)
    token = g.login_token(owner.email, owner.password)
    warm(g, token)
    assert g.metric(ENTRIES) == WORKERS
    log = g.nginx.log_size()

    old, new = g.nginx.reload()
    wait_until(lambda: not (g.nginx.worker_pids() & old), 15,
               "the old workers to exit")
    assert g.metric(ENTRIES) == 0
    wait_tracked(g, since=log)
    warm(g, token)
    assert g.metric(ENTRIES) == WORKERS

    assert redis_store.call("DEL", session_key(token)) == 1
    wait_until(lambda: g.get("/", token).status_code == 401, DEADLINE,
               "the deleted session refused")
    for r in spread(g, "/", token):
        assert r.status_code == 401, r.status_code
    assert g.metric(ENTRIES) == 0


# ------------------------------------------------------------ the bound

def forge_sessions(redis, owner, n):
    """n sessions of owner written straight into Redis as a login writes
    them; their tokens."""
    now = int(time.time() * 1000)
    sgen = redis.call("HGET", user_key(owner.account, owner.user), "sgen")
    tokens = []
    out = []
    for _ in range(n):
        raw = (int(owner.account).to_bytes(4, "big")
               + int(owner.user).to_bytes(4, "big") + secrets.token_bytes(24))
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        key = session_key(token)
        args = ["HSET", key, "a", owner.account, "u", owner.user, "p", "all",
                "x", str(now + 3600000), "s", str(now), "g", sgen or "0"]
        out.append(b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args))
        tokens.append(token)
    with socket.create_connection((HOST, redis.port)) as s:
        s.sendall(b"".join(out))
        got = b""
        while got.count(b"\r\n") < n:
            got += s.recv(65536)
    return tokens


def test_ten_thousand_sessions_stay_inside_the_bound(make_gateway,
                                                     redis_store):
    bound = 100
    owner = add_user(redis_store, "owner@example.com", PASSWORD)
    g = make_gateway(workers=1, server=SERVER,
                     http="    clientauth_session_cache %d;\n" % bound)
    wait_tracked(g, workers=1)
    tokens = forge_sessions(redis_store, owner, 10000)
    peak = [0]
    lock = threading.Lock()

    def browse(part):
        conn = http.client.HTTPConnection(HOST, g.port, timeout=10)
        for i, token in enumerate(part):
            conn.request("GET", "/", headers={
                "Accept": "application/json",
                "Cookie": "%s=%s" % (COOKIE, token)})
            r = conn.getresponse()
            r.read()
            assert r.status == 200, r.status
            if i % 500 == 0:
                with lock:
                    peak[0] = max(peak[0], g.metric(ENTRIES))
        conn.close()

    with ThreadPoolExecutor(4) as ex:
        list(ex.map(browse, [tokens[i::4] for i in range(4)]))

    assert peak[0] <= bound
    assert g.metric(ENTRIES) == bound
    assert g.metric(MISSES) >= 10000
    # the most recent ones are still there
    hits = g.metric(HITS)
    for token in tokens[-20:]:
        assert g.get("/", token).status_code == 200
    assert g.metric(HITS) > hits


# ------------------------------------------------------------ the race

def test_a_reply_older_than_its_invalidation_is_not_cached(tmp_path,
                                                           redis_store,
                                                           backend):
    """The session's HMGET answered by Redis, its reply held by the proxy;
    the key deleted meanwhile, the invalidation heard first: the held
    reply serves its own request, but is not cached."""
    owner = add_user(redis_store, "owner@example.com", PASSWORD)
    proxy = FaultProxy(redis_store.port).start()
    port = free_port()
    nginx = Nginx(tmp_path / "nginx", gateway_conf(
        tmp_path / "nginx", port, proxy.port, backend.port,
        redis_opts="timeout=3s", server=SERVER, http=CACHE),
        port).start(workers=1)
    g = Gateway(nginx, redis_store, backend)
    try:
        wait_tracked(g, workers=1)
        token = g.login_token(owner.email, owner.password)
        key = session_key(token)
        hold = proxy.hold("HMGET", key=key)
        invalidations = g.metric(INVALIDATIONS)

        with ThreadPoolExecutor(1) as ex:
            pending = ex.submit(g.get, "/", token)
            assert hold.held.wait(5), "the lookup never reached Redis"
            assert redis_store.call("DEL", key) == 1
            wait_until(lambda: g.metric(INVALIDATIONS) > invalidations, 5,
                       "the invalidation heard while the read is held")
            hold.release()
            assert pending.result().status_code == 200

        hits = g.metric(HITS)
        assert g.get("/", token).status_code == 401
        assert g.metric(HITS) == hits
    finally:
        proxy.clear()
        try:
            nginx.stop()
        finally:
            Nginx.registry.remove(nginx)
            proxy.stop()
        check_logs([nginx])


def test_a_tracking_reply_older_than_the_subscriber_is_not_trusted(
        tmp_path, redis_store, backend):
    """CLIENT TRACKING ... REDIRECT <old subscriber> answered +OK, but only
    after the subscriber was killed, its successor subscribed and a second
    CLIENT TRACKING (REDIRECT <new subscriber>) was sent, which Redis
    refuses: the data connection still redirects to a subscriber that is
    gone, and Redis sends its invalidations nowhere.  The late +OK must
    not turn the cache on: a deleted session is refused."""
    owner = add_user(redis_store, "owner@example.com", PASSWORD)
    proxy = FaultProxy(redis_store.port).start()
    first = proxy.hold("CLIENT", key="TRACKING")
    port = free_port()
    nginx = Nginx(tmp_path / "nginx", gateway_conf(
        tmp_path / "nginx", port, proxy.port, backend.port,
        redis_opts="timeout=3s", server=SERVER, http=CACHE),
        port).start(workers=1)
    g = Gateway(nginx, redis_store, backend)
    try:
        assert first.held.wait(5), "CLIENT TRACKING never reached Redis"
        second = proxy.fail("CLIENT", "err", key="TRACKING")
        proxy.drop_clients(subscribers=True)
        wait_until(lambda: second.hits >= 1, 5,
                   "the new subscriber's CLIENT TRACKING")
        first.release()

        token = g.login_token(owner.email, owner.password)
        for _ in range(3):
            assert g.get("/", token).status_code == 200
        assert redis_store.call("DEL", session_key(token)) == 1
        time.sleep(0.1)
        for _ in range(3):
            assert g.get("/", token).status_code == 401
        assert g.metric(HITS) == 0
    finally:
        proxy.clear()
        try:
            nginx.stop()
        finally:
            Nginx.registry.remove(nginx)
            proxy.stop()
        check_logs([nginx])


def test_tracking_refused_leaves_the_cache_off(tmp_path, redis_store,
                                               backend):
    """A Redis that refuses CLIENT TRACKING (as Redis 5 would): a warning,
    and every lookup reads Redis, as with the cache off."""
    owner = add_user(redis_store, "owner@example.com", PASSWORD)
    proxy = FaultProxy(redis_store.port).start()
    refuse = proxy.fail("CLIENT", "err", key="TRACKING")
    port = free_port()
    nginx = Nginx(tmp_path / "nginx", gateway_conf(
        tmp_path / "nginx", port, proxy.port, backend.port, http=CACHE),
        port).start(workers=1)
    g = Gateway(nginx, redis_store, backend)
    try:
        wait_until(lambda: "refused client tracking" in nginx.read_log(), 5,
                   "the refusal logged")
        assert refuse.hits >= 1
        token = g.login_token(owner.email, owner.password)
        before = redis_store.commandstats()
        for _ in range(5):
            assert g.get("/", token).status_code == 200
        after = redis_store.commandstats()
        assert after["hmget"] - before.get("hmget", 0) == 10
        assert g.metric(HITS) == 0 and g.metric(MISSES) == 0
        assert CACHE_ON not in nginx.read_log()
    finally:
        proxy.clear()
        try:
            nginx.stop()
        finally:
            Nginx.registry.remove(nginx)
            proxy.stop()
        check_logs([nginx])


@pytest.mark.parametrize("value, error", [
    ("off", None), ("1", None), ("1048576", None),
    ("0", "is invalid"), ("many", "is invalid"), ("1048577", "is invalid"),
])
def test_the_directive_takes_a_number_of_sessions_or_off(tmp_path, value,
                                                         error):
    conf = tmp_path / "nginx.conf"
    conf.write_text(gateway_conf(tmp_path, free_port(), free_port(),
                                 free_port(), http="    clientauth_session_"
                                 "cache %s;\n" % value))
    p = nginx_check(tmp_path, conf)
    if error is None:
        assert p.returncode == 0, p.stdout
    else:
        assert p.returncode != 0
        assert "clientauth_session_cache \"%s\" %s" % (value, error) \
            in p.stdout, p.stdout
