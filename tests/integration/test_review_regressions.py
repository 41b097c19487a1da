"""Regressions from the code review: each test fails against the behaviour
the review found and passes with its fix.

1. A protected location (or a login endpoint) in a server without
   clientauth_brand / clientauth_redis is a configuration error, not an open
   location.
2. A debug-level error log does not crash the worker on logins (the hash
   holder's timer was logged through a NULL pointer).
3. A wrong password for an account with a cheap legacy hash (sha512-crypt)
   takes as long as an unknown account (the dummy argon2id).
4. Logout and login answer when their body arrives after the headers, and
   on a keep-alive connection.
5. The login throttle fails closed when Redis refuses writes (OOM).
6. A logout-everywhere racing a login leaves no working session.
7. A reset link of a user locked after it was mailed is gone (410).
"""

import re
import socket
import statistics
import threading
import time
import urllib.parse

import pytest
import requests

from account_helpers import SLOW_COST, login_in_flight, sha512_crypt_hash
from helpers import HOST, JSON, add_user, cookie_token, wait_until
from login_helpers import (WRONG, add_customer, login_bytes, raw_exchange,
                           status_of)
from reset_helpers import (RESET_LOCATIONS, ROOMY_LOGIN, ask_link,
                           check_link, confirm, sessions_key)
from review_helpers import (HoldingProxy, live_sessions, nginx_t,
                            recv_response, slow_request,
                            start_review_gateway)
from txn_helpers import stopped

PASSWORD = "Sup3r-secret!pw"
NEW_PASSWORD = "N3w-Secret!pass"
FORM = "application/x-www-form-urlencoded"
NO_THROTTLE = ("clientauth_lockout off;\n"
               "clientauth_login_limit account off;\n"
               "clientauth_login_limit address off;\n")


@pytest.fixture
def review_gateway(tmp_path, backend, request):
    """review_gateway(redis=None, **conf): review_helpers'
    start_review_gateway() for this test only, stopped and its error log
    checked at the end; redis defaults to the module's (flushed)."""
    started = []

    def make(redis=None, **conf):
        if redis is None:
            redis = request.getfixturevalue("redis_store")
        g = start_review_gateway(tmp_path / ("gw%d" % len(started)), redis,
                                 backend, **conf)
        started.append(g)
        return g

    yield make
    stopped(started)


def user_key(account):
    return "ca:{magic:%s}:user:%s" % (account.account, account.user)


def log_problems(nginx):
    """Crash and alert lines of the whole error log (not only the unchecked
    part: asserted by the test itself, besides the harness's check)."""
    return [line for line in nginx.read_log().splitlines()
            if re.search(r"exited on signal|core dumped"
                         r"|\[(alert|crit|emerg)\]",
                         line)]


# ------------------------------------------------------------ 1. config

REDIS_HTTP = "    clientauth_redis %s:6379;\n" % HOST
NEEDS = 'clientauth needs "clientauth_brand" and "clientauth_redis"'


@pytest.mark.parametrize("http,server", [
    # clientauth on; in a location, Redis configured, no brand
    (REDIS_HTTP,
     "location / { clientauth on; return 204; }"),
    # clientauth on; for the whole server, no brand
    (REDIS_HTTP,
     "clientauth on;\nlocation / { return 204; }"),
    # a brand but no Redis anywhere
    ("",
     "clientauth_brand magic;\n"
     "location / { clientauth on; return 204; }"),
    # a login endpoint without a brand
    (REDIS_HTTP,
     "location = /auth/login { clientauth_login; }"),
], ids=["location-no-brand", "server-no-brand", "no-redis",
        "login-no-brand"])
def test_protection_without_brand_or_redis_is_a_config_error(tmp_path, http,
                                                             server):
    proc = nginx_t(tmp_path, http=http, server=server)

    assert proc.returncode != 0, proc.stdout
    assert NEEDS in proc.stdout, proc.stdout
    assert "[emerg]" in proc.stdout, proc.stdout


@pytest.mark.parametrize("http", ["", REDIS_HTTP], ids=["no-redis", "redis"])
def test_status_alone_in_a_brandless_server_is_accepted(tmp_path, http):
    proc = nginx_t(tmp_path, http=http, server=(
        "location = /status { clientauth_status; }\n"
        "location / { clientauth off; return 204; }"))

    assert proc.returncode == 0, proc.stdout
    assert "test is successful" in proc.stdout, proc.stdout


def test_full_server_passes_the_check(tmp_path):
    """The control: the refused configurations differ from this one only by
    what they lack."""
    proc = nginx_t(tmp_path, http=REDIS_HTTP, server=(
        "clientauth_brand magic;\n"
        "location = /auth/login { clientauth_login; }\n"
        "location / { clientauth on; return 204; }"))

    assert proc.returncode == 0, proc.stdout


# ------------------------------------------------------------ 2. debug log

def test_debug_error_log_survives_login_reset_and_logout(review_gateway):
    g = review_gateway(debug_log=True,
                       locations=RESET_LOCATIONS, server=ROOMY_LOGIN)
    workers = g.nginx.worker_pids()
    ana = add_user(g.redis, "ana@example.com", PASSWORD)

    r = g.login(ana.email, PASSWORD)
    assert r.status_code == 200, (r.status_code, r.text)
    token = cookie_token(r)
    assert g.get("/debug/protected", token).status_code == 200
    assert g.login(ana.email, WRONG).status_code == 401
    assert g.login("nobody@example.com", WRONG).status_code == 401

    link = ask_link(g, ana.email)
    assert check_link(g, link).status_code == 200
    r = confirm(g, link, NEW_PASSWORD)
    assert r.status_code == 200, (r.status_code, r.text)

    token = g.login_token(ana.email, NEW_PASSWORD)
    r = g.post("/auth/logout", token)
    assert r.status_code == 200, (r.status_code, r.text)
    assert g.get("/debug/after-logout", token).status_code == 401

    text = g.nginx.read_log()
    assert "[debug]" in text, "the error log is not at debug level"
    assert log_problems(g.nginx) == []
    assert g.nginx.worker_pids() == workers


# ------------------------------------------------------------ 3. timing

def test_legacy_sha512_hash_takes_as_long_as_an_unknown_account(
        review_gateway):
    """Default cost (no clientauth_hash_cost: the dummy hash is argon2id
    t=2 m=19m): a wrong password on a $6$ account must cost about the
    dummy's time, not sha512-crypt's few milliseconds."""
    g = review_gateway(default_hash_cost=True, server=NO_THROTTLE,
                       failure_floor="auto")
    ana = add_customer(g.redis, "ana@example.com", PASSWORD)
    legacy = sha512_crypt_hash(PASSWORD)
    g.redis.call("HSET", ana.key, "hash", legacy)

    def timed(identifier):
        data = login_bytes(g.port, identifier, WRONG)
        t = time.perf_counter()
        raw = raw_exchange(g.port, data)
        elapsed = time.perf_counter() - t
        assert status_of(raw) == 401, raw[:200]
        return elapsed

    timed(ana.email)                                  # warm-up
    timed("warmup@example.com")
    known, unknown = [], []
    for i in range(15):                 # interleaved, alternating order
        if i % 2:
            unknown.append(timed("nobody%d@example.com" % i))
            known.append(timed(ana.email))
        else:
            known.append(timed(ana.email))
            unknown.append(timed("nobody%d@example.com" % i))

    k, u = statistics.median(known), statistics.median(unknown)
    assert 0.5 < u / k < 2, ("legacy %.1f ms, unknown %.1f ms"
                             % (k * 1000, u * 1000))
    # the legacy hash is left alone by wrong passwords
    assert g.redis.call("HGET", ana.key, "hash") == legacy


# ------------------------------------------------------------ 4. late body

def logout_head(port, token, accept):
    lines = ["POST /auth/logout HTTP/1.1",
             "Host: %s:%d" % (HOST, port),
             "Cookie: clientauth_magic=%s" % token,
             "Content-Type: " + FORM]
    if accept:
        lines.append("Accept: " + accept)
    return lines


@pytest.mark.parametrize("accept,status", [(JSON, 200), (None, 303)],
                         ids=["json", "browser"])
def test_logout_everywhere_with_a_late_body_answers(gw, accept, status):
    ana = add_user(gw.redis, "ana@example.com", PASSWORD)
    tokens = [gw.login_token(ana.email, PASSWORD) for _ in range(3)]
    assert live_sessions(gw.redis, ana.email) == 3

    got, headers, _, took = slow_request(
        gw.port, logout_head(gw.port, tokens[0], accept), b"everywhere=1",
        delay=0.3, timeout=5)

    assert got == status, (got, headers)
    assert took < 3, took
    if status == 303:
        assert headers["location"].startswith("/auth/login"), headers
    assert "clientauth_magic=;" in headers.get("set-cookie", ""), headers
    for t in tokens:
        assert gw.get("/after-late-logout", t).status_code == 401
    assert live_sessions(gw.redis, ana.email) == 0
    assert gw.redis.call("SCARD", sessions_key(ana.account, ana.user)) == 0


def test_login_with_a_late_body_answers(gw):
    ana = add_user(gw.redis, "ana@example.com", PASSWORD)
    body = urllib.parse.urlencode({"identifier": ana.email,
                                   "password": PASSWORD}).encode()

    got, headers, answer, took = slow_request(gw.port, [
        "POST /auth/login HTTP/1.1", "Host: %s:%d" % (HOST, gw.port),
        "Accept: " + JSON, "Content-Type: " + FORM], body, delay=0.3,
        timeout=5)

    assert got == 200, (got, headers, answer)
    assert took < 3, took
    m = re.match(r"clientauth_magic=([A-Za-z0-9_-]{43});",
                 headers.get("set-cookie", ""))
    assert m, headers
    assert gw.get("/after-late-login", m.group(1)).status_code == 200


def test_login_body_in_two_pieces_answers(gw):
    """The body itself split: half with the headers, half 0.3 s later."""
    ana = add_user(gw.redis, "ana@example.com", PASSWORD)
    data = login_bytes(gw.port, ana.email, PASSWORD)
    cut = len(data) - 10
    with socket.create_connection((HOST, gw.port), timeout=5) as s:
        s.sendall(data[:cut])
        time.sleep(0.3)
        s.sendall(data[cut:])
        got, headers, answer = recv_response(s, 5)
    assert got == 200, (got, headers, answer)


def test_two_logins_and_a_logout_on_one_keepalive_connection(gw):
    ana = add_user(gw.redis, "ana@example.com", PASSWORD)
    url = gw.url("/auth/login")
    with requests.Session() as s:
        answers = [s.post(url, headers={"Accept": JSON},
                          data={"identifier": ana.email,
                                "password": PASSWORD},
                          allow_redirects=False, timeout=5)
                   for _ in range(2)]
        assert [r.status_code for r in answers] == [200, 200]
        assert all(r.headers.get("Connection", "").lower() != "close"
                   for r in answers), [r.headers for r in answers]
        tokens = [cookie_token(r) for r in answers]
        assert tokens[0] != tokens[1]
        r = s.post(gw.url("/auth/logout"), headers={"Accept": JSON},
                   data={"everywhere": "1"}, allow_redirects=False,
                   timeout=5)
        assert r.status_code == 200, (r.status_code, r.text)
    for t in tokens:
        assert gw.get("/after-keepalive", t).status_code == 401
    assert live_sessions(gw.redis, ana.email) == 0


def test_two_logins_on_one_raw_keepalive_socket(gw):
    """The same on a socket the test holds: provably one connection."""
    ana = add_user(gw.redis, "ana@example.com", PASSWORD)
    data = login_bytes(gw.port, ana.email, PASSWORD, close=False)
    with socket.create_connection((HOST, gw.port), timeout=5) as s:
        for i in range(2):
            s.sendall(data)
            got, headers, answer = recv_response(s, 5)
            assert got == 200, (i, got, headers, answer)
            assert headers.get("connection", "").lower() == "keep-alive", \
                headers
    assert live_sessions(gw.redis, ana.email) == 2


# ------------------------------------------------------------ 5. Redis OOM

THROTTLES = {
    # every window and the lockout, as shipped
    "defaults": "",
    # no write in the first round trip (only the identifier's index is
    # read): the account window and the lockout counters are the only
    # writes, in the second round trip
    "account-and-lockout": ("clientauth_login_limit address off;\n"
                            "clientauth_login_limit brand off;\n"),
    # the lockout's failure count alone
    "lockout-only": ("clientauth_login_limit address off;\n"
                     "clientauth_login_limit brand off;\n"
                     "clientauth_login_limit account off;\n"),
}


@pytest.mark.parametrize("throttle", sorted(THROTTLES))
def test_throttle_fails_closed_when_redis_refuses_writes(own_redis,
                                                         review_gateway,
                                                         throttle):
    g = review_gateway(redis=own_redis,
                       server="clientauth_session_refresh 1s;\n"
                       + THROTTLES[throttle])
    workers = g.nginx.worker_pids()
    ana = add_user(own_redis, "ana@example.com", PASSWORD)
    token = g.login_token(ana.email, PASSWORD)
    assert g.get("/before-oom", token).status_code == 200
    before = own_redis.dump()

    own_redis.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
    own_redis.call("CONFIG", "SET", "maxmemory", "1")
    try:
        # reads work, writes do not
        assert own_redis.call("HGET", user_key(ana), "email") == ana.email
        with pytest.raises(Exception, match="OOM"):
            own_redis.call("INCR", "ca:magic:probe")

        # an attacker's guesses are refused, not answered uncounted
        for who, password in ((ana.email, WRONG),
                              ("nobody@example.com", WRONG),
                              (ana.email, PASSWORD)):
            r = g.login(who, password)
            assert r.status_code == 503, (who, password, r.status_code,
                                          r.text)
            assert "Set-Cookie" not in r.headers or \
                "clientauth_magic=;" in r.headers["Set-Cookie"]

        # a session made before: its read works, its refresh write fails;
        # the answer must come, and not from a crashed worker
        time.sleep(1.1)
        r = g.get("/during-oom", token)
        assert r.status_code in (200, 503), (r.status_code, r.text)
        assert g.get("/during-oom-again", token).status_code in (200, 503)
        assert own_redis.dump() == before       # nothing got written
    finally:
        own_redis.call("CONFIG", "SET", "maxmemory", "0")

    # back without a reload
    def logged_in():
        r = g.login(ana.email, PASSWORD)
        assert r.status_code in (200, 503), (r.status_code, r.text)
        return r if r.status_code == 200 else None
    r = wait_until(logged_in, 5, "a login after the OOM", interval=0.1)
    assert g.get("/after-oom", cookie_token(r)).status_code == 200
    assert g.login(ana.email, WRONG).status_code == 401
    assert g.nginx.worker_pids() == workers
    assert log_problems(g.nginx) == []


# ------------------------------------------------------------ 6. race

def test_logout_everywhere_racing_a_login_leaves_no_session(gw):
    ana = add_user(gw.redis, "ana@example.com", PASSWORD, cost=SLOW_COST)
    key = user_key(ana)
    slow = gw.redis.call("HGET", key, "hash")
    assert slow.startswith("$argon2id$v=19$m=65536,t=4,"), slow
    other = gw.login_token(ana.email, PASSWORD)       # upgrades the hash
    gw.redis.call("HSET", key, "hash", slow)      # slow again

    wait, running = login_in_flight(gw, ana.email, PASSWORD)
    r = gw.post("/auth/logout", other, data={"everywhere": "1"})
    assert r.status_code == 200, (r.status_code, r.text)
    assert running(), "the login finished before the logout: hash too fast"
    late = wait()

    assert late.status_code in (200, 401), (late.status_code, late.text)
    if late.status_code == 200:
        token = cookie_token(late)
        assert gw.get("/after-race", token).status_code == 401
    assert gw.get("/after-race-other", other).status_code == 401
    assert live_sessions(gw.redis, ana.email) == 0
    assert [k for k in gw.redis.keys() if ":sess:" in k] == []


@pytest.fixture
def proxy(redis_store):
    p = HoldingProxy(redis_store.port).start()
    yield p
    p.stop()


@pytest.mark.parametrize("revoker", ["logout-everywhere", "reset-confirm"])
def test_revocation_reads_the_session_list_inside_its_multi(
        review_gateway, proxy, revoker):
    """The exact interleaving on the gateway's one Redis connection: the
    revocation's SMEMBERS of the user's sessions, then the racing login's
    session MULTI, then the revocation's deletes.  The session the login
    wrote after the list was read must be revoked too."""
    g = review_gateway(redis_port=proxy.port, redis_opts="timeout=5s",
                       locations=RESET_LOCATIONS, server=ROOMY_LOGIN)
    ana = add_user(g.redis, "ana@example.com", PASSWORD, cost=SLOW_COST)
    key = user_key(ana)
    slow = g.redis.call("HGET", key, "hash")
    other = g.login_token(ana.email, PASSWORD)        # upgrades the hash
    g.redis.call("HSET", key, "hash", slow)            # slow again
    if revoker == "reset-confirm":
        link = ask_link(g, ana.email)

    def revoke():
        if revoker == "logout-everywhere":
            return g.post("/auth/logout", other, data={"everywhere": "1"},
                          timeout=15)
        return confirm(g, link, NEW_PASSWORD, timeout=15)

    wait, running = login_in_flight(g, ana.email, PASSWORD)
    proxy.arm(sessions_key(ana.account, ana.user))
    done = {}
    t = threading.Thread(target=lambda: done.setdefault("r", revoke()),
                         daemon=True)
    t.start()
    late = wait()
    t.join(15)
    assert not t.is_alive(), "the revocation hung"

    assert proxy.released_by == "MULTI", \
        "the interleaving was not forced (%r)" % proxy.released_by
    r = done["r"]
    assert r.status_code == 200, (r.status_code, r.text)
    assert late.status_code in (200, 401), (late.status_code, late.text)
    if late.status_code == 200:
        assert g.get("/after-interleaving", cookie_token(late)) \
            .status_code == 401, "the racing login's session survived"
    assert g.get("/after-interleaving-other", other).status_code == 401
    assert live_sessions(g.redis, ana.email) == 0
    assert [k for k in g.redis.keys() if ":sess:" in k] == []


# ------------------------------------------------------------ 7. locked

def test_reset_link_of_a_user_locked_after_it_was_sent_is_gone(
        review_gateway):
    g = review_gateway(locations=RESET_LOCATIONS, server=ROOMY_LOGIN)
    ana = add_user(g.redis, "ana@example.com", PASSWORD)
    key = user_key(ana)
    link = ask_link(g, ana.email)
    assert check_link(g, link).status_code == 200
    stored = g.redis.call("HGET", key, "hash")

    g.redis.call("HSET", key, "status", "locked")   # support, by hand
    assert g.redis.call("HGET", key, "reset")        # link still named

    assert check_link(g, link).status_code == 410
    r = confirm(g, link, NEW_PASSWORD)
    assert r.status_code == 410, (r.status_code, r.text)

    assert g.redis.call("HGET", key, "hash") == stored
    assert g.redis.call("HGET", key, "status") == "locked"
    # unlocked by hand: the old password is still the one that works
    g.redis.call("HSET", key, "status", "active")
    assert g.login(ana.email, NEW_PASSWORD).status_code == 401
    assert g.login(ana.email, PASSWORD).status_code == 200
