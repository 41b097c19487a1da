"""The Redis fault matrix: every Redis step of every flow, answered with
every fault the fake Redis (faultproxy.py) knows.

One gateway for the whole matrix, pointed at the fault proxy in front of a
real redis-server (timeout=300ms); the tests read and check Redis itself
directly.  For each cell (a row of STEPS x a fault of FAULTS):

1. the flow's state is made (accounts, sessions, links), with no fault;
2. a rule makes the proxy answer the row's command with the fault;
3. the request fails closed: 503 with Retry-After, no Location, no cookie,
   nothing proxied -- unless the row says the fault is an answer Redis may
   legitimately give (a nil GET is an unknown key) or a write nobody waits
   for (the idle refresh), then the flow's own outcome;
4. the rule was hit, and nothing is half-applied (the flow's invariant,
   checked in Redis directly);
5. with the rule cleared, the same request succeeds within the reconnect
   backoff, and the invariant still holds;
6. the harness fails the cell on any [alert], [crit] or crash in the log.

A new flow is covered by a Flow subclass and its rows in STEPS.
"""

import fnmatch
import os
import socket
import time

import pytest

from faultproxy import FAULTS, FaultProxy
from helpers import (BRAND, COOKIE, SESSION_CACHE_ON, Gateway, Nginx,
                     _RespReader, add_user, forged_token, free_port,
                     gateway_conf, session_key, token_hash, wait_until)
from reset_helpers import (RESET_LOCATIONS, ROOMY_LOGIN, check_link, confirm,
                           outbox, sessions_key)

TIMEOUT = 0.3
PASSWORD = "Sup3r-secret!pw"
NEW_PASSWORD = "N3w-Passw0rd!x"
EMAIL = "owner@example.com"
SESSIONS = "ca:{%s:*}:sess:*" % BRAND
USER = "ca:{%s:*}:user:*" % BRAND

# limits that the retries of a cell never reach, but that are counted
ROOMY_RESET = ("clientauth_reset_limit address 1000 1h;\n"
               "clientauth_reset_limit account 1000 1h;\n")


class _ProxyAddress:
    """What start_gateway needs of a Redis: its port."""

    def __init__(self, port):
        self.port = port


@pytest.fixture(scope="module")
def env(tmp_path_factory, shared_redis, backend):
    proxy = FaultProxy(shared_redis.port).start()
    workdir = tmp_path_factory.mktemp("nginx")
    port = free_port()
    text = gateway_conf(workdir, port, proxy.port, backend.port,
                        redis_opts="timeout=%dms" % (TIMEOUT * 1000),
                        server=ROOMY_LOGIN + ROOMY_RESET
                        + "clientauth_login_notice new_device;\n",
                        locations=RESET_LOCATIONS)
    nginx = Nginx(workdir, text, port).start(workers=1)
    g = Gateway(nginx, shared_redis, backend)
    g.proxy = proxy
    g.workers = nginx.worker_pids()
    g.fds = {pid: worker_fds(pid) for pid in g.workers}
    yield g
    proxy.clear()
    try:
        nginx.stop()
    finally:
        Nginx.registry.remove(nginx)
        proxy.stop()


def worker_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def redis_usable(g):
    """A session lookup gets an answer: the worker's connection works."""
    return g.get("/fault/probe", forged_token(), timeout=5).status_code == 401


@pytest.fixture
def gw(env, redis_store):
    env.proxy.clear()
    # a cell starts on a working connection
    wait_until(lambda: redis_usable(env), 6.5, "the gateway to use Redis")
    return env


def user_key(u):
    return "ca:{%s:%s}:user:%s" % (BRAND, u.account, u.user)


def session_keys(redis):
    return [k for k in redis.keys() if fnmatch.fnmatchcase(k, SESSIONS)]


# what a request checks, and what only the self-service area reads
SESSION_FIELDS = {"a", "u", "p", "x", "s", "g"}
AREA_FIELDS = {"k", "i", "c", "ip", "ua"}


def assert_sessions_indexed(redis, u):
    """No session without its index entry, its fields and a deadline."""
    listed = set(redis.call("SMEMBERS", sessions_key(u.account, u.user)))
    for key in session_keys(redis):
        fields = redis.hgetall(key)
        assert SESSION_FIELDS <= set(fields) <= SESSION_FIELDS | AREA_FIELDS, \
            (key, fields)
        assert key.rsplit(":", 1)[1] in listed, (key, listed)
        assert redis.call("PTTL", key) > 0, key


# ------------------------------------------------------------------ flows

class Flow:
    """A request whose Redis steps the matrix breaks.  setup() makes what it
    needs and returns a state; act() sends the request; ok() says whether a
    response is the flow's success; check() asserts that Redis is whole
    after the response (None when the request never got one)."""

    def setup(self, g):
        return {}

    def armed(self, g, st, rule):
        """Called once the fault is set, before act()."""

    def act(self, g, st):
        raise NotImplementedError

    def ok(self, g, st, r):
        return r.status_code == 200

    def check(self, g, st, r):
        pass


class Session(Flow):
    """A protected request (session lookup; refresh: an idle refresh is due,
    so the gateway also sends its HSET + PEXPIRE)."""

    def __init__(self, refresh=False):
        self.refresh = refresh

    def setup(self, g):
        u = add_user(g.redis, EMAIL, PASSWORD)
        token = g.login_token(EMAIL, PASSWORD)
        if self.refresh:
            due = int(time.time() * 1000) - 120000
            g.redis.call("HSET", session_key(token), "s", due)
        return {"user": u, "token": token, "n": 0}

    def act(self, g, st):
        st["n"] += 1
        st["path"] = "/fault/%s/%d" % (st["token"][:8], st["n"])
        return g.get(st["path"], st["token"], timeout=5)

    def ok(self, g, st, r):
        return r.status_code == 200 and len(g.backend.seen(st["path"])) == 1

    def check(self, g, st, r):
        if r is not None and r.status_code != 200:
            assert g.backend.seen(st["path"]) == []
        # the session is still whole: a refresh lost only shortens it
        assert g.redis.call("EXISTS", session_key(st["token"])) == 1
        assert_sessions_indexed(g.redis, st["user"])


class Reconnect(Session):
    """A protected request while the connection set-up (PING, or AUTH and
    SELECT) fails: the proxy drops the worker's connection, and every new
    one meets the fault."""

    def armed(self, g, st, rule):
        g.proxy.drop_clients()
        wait_until(lambda: rule.hits, 2, "the worker to reconnect")


HITS = "clientauth_session_cache_hits_total"


class Cached(Session):
    """A protected request whose session the cache may keep (issue 11).
    Once Redis behaves again (st["recovered"]), the session is served from
    the cache, and a DEL of its key by hand is refused at once: whatever
    the fault did, no read the cache kept was left untracked."""

    def check(self, g, st, r):
        super().check(g, st, r)
        if not st.get("recovered"):
            return
        hits = g.metric(HITS)
        wait_until(lambda: self.ok(g, st, self.act(g, st))
                   and g.metric(HITS) > hits, 6.5, "the cache to serve")
        assert g.redis.call("DEL", session_key(st["token"])) == 1
        wait_until(lambda: self.act(g, st).status_code == 401, 1,
                   "the deleted session refused")
        for _ in range(3):
            assert self.act(g, st).status_code == 401


class Tracking(Cached):
    """The cache's set-up on new connections (CLIENT ID and SUBSCRIBE on
    the subscriber, CLIENT TRACKING on the data connection) meets the
    fault: the proxy drops the worker's connections, every new one meets
    it.  The cache stays off: requests read Redis (200), or fail closed
    when the fault stalls the data connection (503); no hit while the fault
    holds."""

    def armed(self, g, st, rule):
        st["hits"] = g.metric(HITS)
        g.proxy.drop_clients()
        wait_until(lambda: rule.hits, 2, "the cache's set-up to meet it")

    def check(self, g, st, r):
        super().check(g, st, r)
        if not st.get("recovered"):
            for _ in range(3):
                r2 = self.act(g, st)
                assert r2.status_code in (200, 503), r2.status_code
            assert g.metric(HITS) == st["hits"]


class Login(Flow):
    """POST /auth/login; upgrade: the stored hash has another cost, so the
    session MULTI also rewrites it; counted: the step comes after the
    attempt was counted (failure count, brand window)."""

    def __init__(self, upgrade=False, counted=False):
        self.upgrade = upgrade
        self.counted = counted

    def setup(self, g):
        u = add_user(g.redis, EMAIL, PASSWORD,
                     cost="1:9" if self.upgrade else "1:8")
        return {"user": u, "hash": g.redis.call("HGET", user_key(u), "hash")}

    def act(self, g, st):
        if self.upgrade:
            # every try upgrades, so that a recovery is one of the
            # dedicated connections too
            g.redis.call("HSET", user_key(st["user"]), "hash", st["hash"])
        return g.login(EMAIL, PASSWORD, timeout=5)

    def ok(self, g, st, r):
        return r.status_code == 200 and COOKIE in r.headers.get(
            "Set-Cookie", "")

    def check(self, g, st, r):
        redis, u = g.redis, st["user"]
        stored = redis.call("HGET", user_key(u), "hash")
        if r is not None and r.status_code == 200:
            assert_sessions_indexed(redis, u)
            token = r.headers["Set-Cookie"].split("=", 1)[1].split(";")[0]
            assert redis.call("EXISTS", session_key(token)) == 1
            assert redis.call("EXISTS", "ca:%s:fails:account:%s"
                              % (BRAND, u.account)) == 0
            if self.upgrade and st.get("legit"):
                # every EXEC of the check-and-set said the user changed:
                # the session stands, the hash is left for the next login
                assert stored == st["hash"], stored
            elif self.upgrade:
                assert "m=8192," in stored, stored
        else:
            # no session (one the upgrade wrote is deleted by a write
            # nobody waits for), and the password as it was
            wait_until(lambda: session_keys(redis) == [], 1,
                       "the session written to be deleted")
            assert_sessions_indexed(redis, u)
            assert stored == st["hash"]
            if self.counted and st.get("fault") in REFUSED:
                # a login Redis failed was no wrong password: it gives its
                # failure and its place in the brand's window back
                self.assert_uncounted(redis, u)

    @staticmethod
    def assert_uncounted(redis, u):
        def counts():
            keys = ["ca:%s:fails:account:%s" % (BRAND, u.account)] + \
                [k for k in redis.keys()
                 if k.startswith("ca:%s:rl:brand:" % BRAND)]
            return {k: int(redis.call("GET", k) or 0) for k in keys}
        # the give-back is a write nobody waits for
        deadline = time.monotonic() + 1
        while any(counts().values()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(counts().values()), counts()


class Lockout(Flow):
    """POST /auth/login by the attempt that finds one failure too many: it
    sets the lockout (SET NX) and counts the ban (INCR)."""

    RETRIES = 100                   # ROOMY_LOGIN's clientauth_lockout

    def setup(self, g):
        u = add_user(g.redis, EMAIL, PASSWORD)
        g.redis.call("SET", self.key(u, "fails"), self.RETRIES)
        return {"user": u}

    def key(self, u, what):
        return "ca:%s:%s:account:%s" % (BRAND, what, u.account)

    def act(self, g, st):
        return g.login(EMAIL, PASSWORD, timeout=5)

    def ok(self, g, st, r):
        return r.status_code == 429 and r.headers.get("Retry-After")

    def check(self, g, st, r):
        """No lockout, ban count or failure count without a deadline."""
        redis, u = g.redis, st["user"]
        for what in ("lock", "bans"):
            assert redis.call("PTTL", self.key(u, what)) != -1, what
        assert session_keys(redis) == []


class Logout(Flow):
    """POST /auth/logout [everywhere=1], with two sessions of one user."""

    def __init__(self, everywhere=False):
        self.everywhere = everywhere

    def setup(self, g):
        u = add_user(g.redis, EMAIL, PASSWORD)
        tokens = [g.login_token(EMAIL, PASSWORD) for _ in range(2)]
        return {"user": u, "tokens": tokens,
                "sgen": g.redis.call("HGET", user_key(u), "sgen")}

    def act(self, g, st):
        data = {"everywhere": "1"} if self.everywhere else None
        return g.post("/auth/logout", st["tokens"][0], data=data, timeout=5)

    def check(self, g, st, r):
        redis, u = g.redis, st["user"]
        assert_sessions_indexed(redis, u)
        alive = [redis.call("EXISTS", session_key(t)) for t in st["tokens"]]
        sgen = redis.call("HGET", user_key(u), "sgen")
        if r is not None and r.status_code == 200:
            # never "logged out" while Redis still holds the session
            assert alive == ([0, 0] if self.everywhere else [0, 1]), alive
            if self.everywhere:
                assert sgen != st["sgen"]
                assert redis.call("EXISTS",
                                  sessions_key(u.account, u.user)) == 0
        else:
            assert alive == [1, 1], alive
            assert sgen == st["sgen"]


class ResetRequest(Flow):
    """POST /auth/reset for an existing account."""

    def setup(self, g):
        return {"user": add_user(g.redis, EMAIL, PASSWORD)}

    def act(self, g, st):
        return g.post("/auth/reset", data={"identifier": EMAIL}, timeout=5)

    def ok(self, g, st, r):
        return r.status_code == 202 and \
            len(outbox(g.redis, type="password_reset")) >= 1

    def check(self, g, st, r):
        """A link is all there (token, user.reset naming it, one message
        with it) or not at all."""
        redis = g.redis
        current = redis.call("HGET", user_key(st["user"]), "reset")
        tokens = [k for k in redis.keys()
                  if k.startswith("ca:%s:reset:" % BRAND)]
        sent = outbox(redis, type="password_reset")
        if current is None:
            assert tokens == [] and sent == [], (tokens, sent)
        else:
            assert "ca:%s:reset:%s" % (BRAND, current) in tokens
            urls = [token_hash(m["url"].split("token=")[1]) for m in sent]
            assert current in urls
            assert len(sent) == len(tokens)


def _link(g, st):
    """A reset link for the flow's user, asked for without faults."""
    before = len(outbox(g.redis, type="password_reset"))
    r = g.post("/auth/reset", data={"identifier": EMAIL})
    assert r.status_code == 202
    sent = outbox(g.redis, type="password_reset")
    assert len(sent) == before + 1
    return sent[-1]["url"].split("token=")[1]


class ResetCheck(Flow):
    """GET /auth/reset/confirm?token=: reads only."""

    def setup(self, g):
        st = {"user": add_user(g.redis, EMAIL, PASSWORD)}
        st["token"] = _link(g, st)
        st["before"] = g.redis.dump()
        return st

    def act(self, g, st):
        return check_link(g, st["token"])

    def check(self, g, st, r):
        assert g.redis.dump() == st["before"]


class ResetConfirm(Flow):
    """POST /auth/reset/confirm with a valid link and a good password."""

    def setup(self, g):
        u = add_user(g.redis, EMAIL, PASSWORD)
        st = {"user": u, "token": None}
        g.login_token(EMAIL, PASSWORD)
        st["token"] = _link(g, st)
        st["hash"] = g.redis.call("HGET", user_key(u), "hash")
        return st

    def act(self, g, st):
        return confirm(g, st["token"], NEW_PASSWORD, timeout=5)

    def check(self, g, st, r):
        """The password, the link, the sessions, the lockout and the
        message: all changed, or none."""
        redis, u = g.redis, st["user"]
        changed = redis.call("HGET", user_key(u), "hash") != st["hash"]
        state = {
            "token spent": redis.call("EXISTS", "ca:%s:reset:%s" % (
                BRAND, token_hash(st["token"]))) == 0,
            "link cleared": redis.call("HEXISTS", user_key(u), "reset") == 0,
            "sessions revoked": session_keys(redis) == [],
            "message": len(outbox(redis, type="password_changed")) == 1,
        }
        assert all(v == changed for v in state.values()), (changed, state)
        if r is not None and r.status_code == 200:
            assert changed
        if r is not None and r.status_code == 503:
            # no claim is left to spend the link: none was made, or it was
            # given back (a write nobody waits for), so it works again
            claim = "ca:%s:reset-claim:%s" % (BRAND, token_hash(st["token"]))
            wait_until(lambda: redis.call("EXISTS", claim) == 0, 1,
                       "the claim to be given back")
        assert_sessions_indexed(redis, u)


class Status(Flow):
    """GET /status while every command fails: it needs no Redis.  A
    protected request first, so that the fault is met."""

    def setup(self, g):
        u = add_user(g.redis, EMAIL, PASSWORD)
        return {"token": g.login_token(EMAIL, PASSWORD)}

    def act(self, g, st):
        g.get("/fault/status", st["token"], timeout=5)
        return g.get("/status", timeout=5)

    def ok(self, g, st, r):
        return r.status_code == 200 and \
            "clientauth_session_checks_total" in r.text


class AccountPassword(Flow):
    """POST /auth/account/password (issue 10), with a second session of the
    user: the change, the other session's end, the history, the new
    generation and the message all happen, or none; this session lives."""

    def setup(self, g):
        u = add_user(g.redis, EMAIL, PASSWORD)
        other = g.login_token(EMAIL, PASSWORD)
        token = g.login_token(EMAIL, PASSWORD)
        csrf = g.redis.call("HGET", session_key(token), "k")
        return {"user": u, "token": token, "other": other, "csrf": csrf,
                "current": PASSWORD, "n": 0}

    def act(self, g, st):
        st["n"] += 1
        new = "%s%d" % (NEW_PASSWORD, st["n"])
        st["before"] = self.state(g, st)
        r = g.post("/auth/account/password", st["token"], timeout=5,
                   data={"csrf": st["csrf"], "current_password": st["current"],
                         "password": new, "password_confirm": new})
        if r.status_code == 200:
            st["current"] = new
        return r

    @staticmethod
    def state(g, st):
        redis, u = g.redis, st["user"]
        return {"user": redis.hgetall(user_key(u)),
                "history": redis.call("LRANGE", user_key(u) + ":history",
                                      0, -1),
                "other": redis.call("EXISTS", session_key(st["other"])),
                "messages": len(outbox(redis, type="password_changed"))}

    def check(self, g, st, r):
        before, now = st["before"], self.state(g, st)
        changed = now["user"].get("hash") != before["user"].get("hash")
        assert g.redis.call("EXISTS", session_key(st["token"])) == 1
        if changed:
            sgen = int(before["user"].get("sgen") or 0) + 1
            assert now["user"]["sgen"] == str(sgen)
            assert g.redis.call("HGET", session_key(st["token"]),
                                "g") == str(sgen)
            # deleted, or (not listed: a short SMEMBERS) of the old
            # generation, which no request accepts
            assert now["other"] == 0 or g.redis.call(
                "HGET", session_key(st["other"]), "g") != str(sgen)
            assert now["history"][0] == before["user"]["hash"]
            assert now["messages"] == before["messages"] + 1
        else:
            assert now == before, (before, now)
        if r is not None:
            assert changed == (r.status_code == 200), r.status_code
        assert_sessions_indexed(g.redis, st["user"])


class AccountRevoke(Flow):
    """POST /auth/account/sessions/revoke (issue 10) with id= of the user's
    other session, or all=1: the other session ends (deleted and out of
    the index; all: the user's generation moves on, this session with it)
    or nothing changes; this session lives."""

    def __init__(self, all=False):
        self.all = all

    def setup(self, g):
        u = add_user(g.redis, EMAIL, PASSWORD)
        other = g.login_token(EMAIL, PASSWORD)
        token = g.login_token(EMAIL, PASSWORD)
        return {"user": u, "token": token, "other": other,
                "csrf": g.redis.call("HGET", session_key(token), "k"),
                "id": g.redis.call("HGET", session_key(other), "i")}

    def act(self, g, st):
        st["before"] = self.state(g, st)
        fields = {"all": "1"} if self.all else {"id": st["id"]}
        fields["csrf"] = st["csrf"]
        return g.post("/auth/account/sessions/revoke", st["token"],
                      data=fields, timeout=5)

    def ok(self, g, st, r):
        # once ended, a second revoke of the same id is a 404
        return r.status_code == 200 or (
            not self.all and r.status_code == 404
            and self.state(g, st)["other"] == 0)

    @staticmethod
    def state(g, st):
        redis, u = g.redis, st["user"]
        return {"other": redis.call("EXISTS", session_key(st["other"])),
                "listed": sorted(redis.call(
                    "SMEMBERS", sessions_key(u.account, u.user))),
                "sgen": redis.call("HGET", user_key(u), "sgen")}

    def check(self, g, st, r):
        before, now = st["before"], self.state(g, st)
        assert g.redis.call("EXISTS", session_key(st["token"])) == 1
        gone = now["other"] == 0
        # all: one the index did not list (a short SMEMBERS) stays, of an
        # old generation, which no request accepts
        dead = gone or (self.all and g.redis.call(
            "HGET", session_key(st["other"]), "g") != (now["sgen"] or "0"))
        if r is not None and r.status_code == 200:
            assert dead
        if gone:
            assert token_hash(st["other"]) not in now["listed"]
        if self.all and now["sgen"] != before["sgen"]:
            assert g.redis.call("HGET", session_key(st["token"]),
                                "g") == now["sgen"]
        elif r is not None and r.status_code != 200:
            assert now == before, (before, now)
        assert_sessions_indexed(g.redis, st["user"])


# ------------------------------------------------------------------ rows

class Step:
    """A row: the flow, which command of it fails (name, key glob), and
    legit: {fault: status} for faults that are a reply Redis may give (a
    nil GET: no such key; an empty list), with the status the flow then
    answers; unwaited: the command is a write nobody waits for, the request
    gets its usual answer; nth: the occurrence of the command (name and
    key) that fails first, counted over all the worker's connections."""

    def __init__(self, flow, label, command, key=None, legit=None,
                 unwaited=False, nth=1, cache=False, faults=FAULTS,
                 either=False):
        self.flow = flow
        self.cache = cache          # a step of the session cache only
        self.faults = faults
        self.either = either        # 200 (read from Redis) or 503
        self.label = label
        self.command = command
        self.key = key
        self.nth = nth
        self.legit = legit or {}
        self.unwaited = unwaited


# Redis refused the command: the gateway knows nothing was applied.
REFUSED = ("err", "loading", "readonly", "oom")


STEPS = [
    # one round trip: the session's HMGET and its user's, pipelined
    Step(Session(), "session/lookup", "HMGET", SESSIONS),
    Step(Session(), "session/user", "HMGET", USER),
    Step(Session(refresh=True), "session/refresh-hset", "HSET", SESSIONS,
         unwaited=True),
    Step(Session(refresh=True), "session/refresh-pexpire", "PEXPIRE",
         SESSIONS, unwaited=True),
    Step(Reconnect(), "connection/set-up", "PING"),

    Step(Login(), "login/identifier", "GET", "ca:%s:id:*" % BRAND, legit={"nil": 401}),
    Step(Login(), "login/address-window", "INCR",
         "ca:%s:rl:address:*" % BRAND),
    Step(Login(), "login/lockout-ttl", "PTTL", "ca:%s:lock:*" % BRAND),
    Step(Login(), "login/failure-count", "INCR", "ca:%s:fails:*" % BRAND),
    Step(Login(), "login/brand-window", "INCR", "ca:%s:rl:brand:*" % BRAND),
    Step(Login(counted=True), "login/user", "HMGET", USER),
    # clientauth_login_notice new_device (issue 10): when this device and
    # network last logged in, read with the user (nil: never, a notice)
    Step(Login(counted=True), "login/device-seen", "ZSCORE",
         legit={"nil": 200}),
    Step(Login(counted=True), "login/device-remembered", "ZADD"),
    Step(Login(counted=True), "login/session-multi", "HSET", SESSIONS),
    # the index's TTL in the same MULTI: PEXPIRE ... NX, then ... GT
    Step(Login(counted=True), "login/index-ttl-nx", "PEXPIRE",
         "ca:{%s:*}:user:*:sessions" % BRAND),
    Step(Login(counted=True), "login/index-ttl-gt", "PEXPIRE",
         "ca:{%s:*}:user:*:sessions" % BRAND, nth=2),
    Step(Login(counted=True), "login/failures-cleared", "DEL",
         "ca:%s:fails:*" % BRAND),
    # the upgrade's check-and-set, on a dedicated connection, after the
    # session was written: a 503 deletes the session and gives the brand's
    # window place back (the session MULTI already cleared the failures)
    Step(Login(upgrade=True, counted=True), "login/upgrade-watch", "WATCH",
         USER),
    # nil: the user has no hash now; the one checked is not the one stored
    Step(Login(upgrade=True, counted=True), "login/upgrade-hget", "HGET",
         USER, legit={"nil": 401}),
    # MULTI HSET EXEC: an error lands on the HSET, every other fault on the
    # EXEC.  nil EXEC: the user changed after the WATCH, every time it is
    # tried again: the login stands without the upgrade (the next upgrades)
    Step(Login(upgrade=True, counted=True), "login/hash-upgrade", "HSET",
         USER, legit={"nil": 200}),
    # the same EXEC, found by its name: the second EXEC of the login
    Step(Login(upgrade=True, counted=True), "login/upgrade-exec", "EXEC",
         nth=2, legit={"nil": 200}),
    # the connection given back forgets what it watched: a write nobody
    # waits for; lost, the next holder of that connection meets the fault
    Step(Login(upgrade=True), "login/upgrade-unwatch", "UNWATCH",
         unwaited=True),
    # nil: another attempt set the lockout first, this one says how long
    Step(Lockout(), "login/lockout-set", "SET", "ca:%s:lock:*" % BRAND,
         legit={"nil": 429}),
    Step(Lockout(), "login/lockout-ban-count", "INCR",
         "ca:%s:bans:*" % BRAND),

    Step(Logout(), "logout/delete", "DEL", SESSIONS),
    Step(Logout(everywhere=True), "logout-all/owner", "HMGET", SESSIONS),
    Step(Logout(everywhere=True), "logout-all/members", "SMEMBERS",
         "ca:{%s:*}:user:*:sessions" % BRAND),
    Step(Logout(everywhere=True), "logout-all/multi", "HINCRBY", USER),
    # after EXEC, the sessions it listed are deleted again (a login racing
    # the MULTI): a write nobody waits for, the third DEL of sessions
    Step(Logout(everywhere=True), "logout-all/late-revoke", "DEL", SESSIONS,
         nth=3, unwaited=True),

    Step(ResetRequest(), "reset/identifier", "GET", "ca:%s:id:*" % BRAND,
         legit={"nil": 202}),
    Step(ResetRequest(), "reset/address-window", "INCR",
         "ca:%s:rl:reset-address:*" % BRAND),
    Step(ResetRequest(), "reset/account-window", "INCR",
         "ca:%s:rl:reset-account:*" % BRAND),
    Step(ResetRequest(), "reset/user", "HMGET", USER),
    Step(ResetRequest(), "reset/link-multi", "XADD"),

    Step(ResetCheck(), "reset-check/token", "GET",
         "ca:%s:reset:*" % BRAND, legit={"nil": 410}),
    Step(ResetCheck(), "reset-check/user", "HMGET", USER),
    Step(ResetCheck(), "reset-check/history", "LRANGE",
         legit={"short_array": 200}),
    Step(ResetCheck(), "reset-check/account", "HMGET",
         "ca:{%s:*}:account" % BRAND),
    Step(ResetCheck(), "reset-check/sessions", "SMEMBERS",
         legit={"short_array": 200}),

    Step(ResetConfirm(), "reset-confirm/token", "GET",
         "ca:%s:reset:*" % BRAND, legit={"nil": 410}),
    Step(ResetConfirm(), "reset-confirm/user", "HMGET", USER),
    Step(ResetConfirm(), "reset-confirm/claim", "SET",
         "ca:%s:reset-claim:*" % BRAND, legit={"nil": 410}),
    # After the claim, on a dedicated connection: WATCH of the user, the
    # user read again (the second HMGET of it), then MULTI ... EXEC.  A 503
    # gives the claim back, and the proxy never lets a faulted unit reach
    # Redis, so nothing was applied: the strict expectation is that the
    # same link, not a new one, works once Redis behaves (it used to be
    # spent, 410, whenever the EXEC's fate was unknown).  nil EXEC: the
    # user changed after the WATCH, every time: 503 after the last try.
    Step(ResetConfirm(), "reset-confirm/watch", "WATCH", USER),
    Step(ResetConfirm(), "reset-confirm/recheck", "HMGET", USER, nth=2),
    Step(ResetConfirm(), "reset-confirm/multi", "LPUSH"),
    Step(ResetConfirm(), "reset-confirm/message", "XADD"),
    Step(ResetConfirm(), "reset-confirm/exec", "EXEC"),

    Step(Status(), "status", "*", unwaited=True),

    # self-service password change (issue 10): after the access phase's
    # HMGETs, the area reads the session and its user (the second HMGET
    # of each), the change reads the user a third time, counts the attempt,
    # and the check-and-set reads user and session again
    Step(AccountPassword(), "account/session", "HMGET", SESSIONS, nth=2),
    Step(AccountPassword(), "account/user", "HMGET", USER, nth=2),
    Step(AccountPassword(), "password/user", "HMGET", USER, nth=3),
    Step(AccountPassword(), "password/history", "LRANGE",
         legit={"short_array": 200}),
    Step(AccountPassword(), "password/sessions", "SMEMBERS",
         legit={"short_array": 200}),
    Step(AccountPassword(), "password/failure-count", "INCR",
         "ca:%s:fails:*" % BRAND),
    Step(AccountPassword(), "password/watch", "WATCH", USER),
    Step(AccountPassword(), "password/recheck", "HMGET", USER, nth=4),
    # nil: this session ended meanwhile, it changes nothing
    Step(AccountPassword(), "password/session-recheck", "HGET", SESSIONS,
         legit={"nil": 401}),
    Step(AccountPassword(), "password/multi", "LPUSH"),
    Step(AccountPassword(), "password/message", "XADD"),
    Step(AccountPassword(), "password/exec", "EXEC"),

    # sessions (issue 10): the index, each session read back (the third
    # HMGET of a session, after the access phase's and the area's), then
    # MULTI DEL SREM EXEC of one, or all's check-and-set
    Step(AccountRevoke(), "revoke/index", "SMEMBERS",
         "ca:{%s:*}:user:*:sessions" % BRAND, legit={"short_array": 404}),
    Step(AccountRevoke(), "revoke/records", "HMGET", SESSIONS, nth=3),
    Step(AccountRevoke(), "revoke/delete", "DEL", SESSIONS),
    Step(AccountRevoke(), "revoke/unindex", "SREM"),
    Step(AccountRevoke(), "revoke/exec", "EXEC"),
    Step(AccountRevoke(all=True), "revoke-all/index", "SMEMBERS",
         "ca:{%s:*}:user:*:sessions" % BRAND, legit={"short_array": 200}),
    Step(AccountRevoke(all=True), "revoke-all/watch", "WATCH", USER),
    Step(AccountRevoke(all=True), "revoke-all/generation", "HGET", USER,
         legit={"nil": 200}),
    Step(AccountRevoke(all=True), "revoke-all/session", "HGET", SESSIONS,
         legit={"nil": 401}),
    Step(AccountRevoke(all=True), "revoke-all/multi", "DEL", SESSIONS),
    Step(AccountRevoke(all=True), "revoke-all/exec", "EXEC"),

    # the session cache (issue 11): a miss sends CLIENT CACHING yes before
    # each HMGET (tracking is OPTIN) and PTTL of the session last
    Step(Cached(), "cache/caching-session", "CLIENT", "CACHING", cache=True),
    Step(Cached(), "cache/caching-user", "CLIENT", "CACHING", nth=2,
         cache=True),
    Step(Cached(), "cache/session-pttl", "PTTL", SESSIONS, cache=True),
    # the set-up of a worker's cache, on new connections
    Step(Tracking(), "cache/tracking", "CLIENT", "TRACKING", cache=True,
         either=True),
    Step(Tracking(), "cache/subscriber-id", "CLIENT", "ID", cache=True,
         either=True),
    # the subscriber's SUBSCRIBE (its first, then each heartbeat's), without
    # short_array: an array shorter than 2 as a Pub/Sub reply makes hiredis
    # 0.14 abort() (assert in __redisGetSubscribeCallback), a reply Redis
    # never sends, which no module code can catch
    Step(Tracking(), "cache/subscribe", "SUBSCRIBE", cache=True, either=True,
         faults=tuple(f for f in FAULTS if f != "short_array")),
]

CELLS = [(s, f) for s in STEPS for f in s.faults]


def test_the_proxy_keeps_each_connections_watch(gw):
    """The check-and-set connections go through the proxy as Redis would
    serve them: each client its own upstream (a WATCH is its own, UNWATCH
    forgets it), WATCH and the MULTI block separate units, and a watched
    key changed by another client makes EXEC answer nil through it."""
    key = "ca:%s:proxy-watch" % BRAND

    def send(reader, *args):
        reader.sock.sendall(b"".join(
            b"*%d\r\n" % len(a) + b"".join(
                b"$%d\r\n%s\r\n" % (len(x), x.encode()) for x in a)
            for a in args))
        return [reader.read() for _ in args]

    with socket.create_connection(("127.0.0.1", gw.proxy.port), 5) as a, \
            socket.create_connection(("127.0.0.1", gw.proxy.port), 5) as b:
        a, b = _RespReader(a), _RespReader(b)
        assert send(a, ["WATCH", key]) == ["OK"]
        assert send(b, ["SET", key, "1"]) == ["OK"]
        assert send(a, ["MULTI"], ["SET", key, "2"], ["EXEC"]) == \
            ["OK", "QUEUED", None]
        assert send(a, ["WATCH", key], ["UNWATCH"]) == ["OK", "OK"]
        assert send(b, ["SET", key, "3"]) == ["OK"]
        assert send(a, ["MULTI"], ["SET", key, "4"], ["EXEC"]) == \
            ["OK", "QUEUED", ["OK"]]
        # a rule on a watched client's EXEC leaves the block unapplied
        rule = gw.proxy.fail("EXEC", "nil")
        assert send(a, ["WATCH", key], ["MULTI"], ["SET", key, "5"],
                    ["EXEC"]) == ["OK", "OK", "QUEUED", None]
        assert rule.hits == 1
        gw.proxy.clear()
        assert send(a, ["UNWATCH"]) == ["OK"]
    assert gw.redis.call("GET", key) == "4"


def assert_fails_closed(r):
    assert r.status_code == 503, (r.status_code, r.text[:300])
    assert r.headers.get("Retry-After"), dict(r.headers)
    assert "Location" not in r.headers, dict(r.headers)
    assert "Set-Cookie" not in r.headers, dict(r.headers)


@pytest.mark.parametrize("step, fault", CELLS,
                         ids=["%s-%s" % (s.label, f) for s, f in CELLS])
def test_fault(gw, step, fault):
    if step.cache and not SESSION_CACHE_ON:
        pytest.skip("the session cache is off (CA_SESSION_CACHE)")
    flow = step.flow
    st = flow.setup(gw)
    st["fault"] = fault
    st["legit"] = fault in step.legit
    rule = gw.proxy.fail(step.command, fault, key=step.key, nth=step.nth)
    flow.armed(gw, st, rule)

    t = time.monotonic()
    r = flow.act(gw, st)
    took = time.monotonic() - t

    # a write nobody waits for may reach the proxy after the answer
    wait_until(lambda: rule.hits, 1, "the fault to be met: %r" % rule)
    if step.unwaited:
        assert flow.ok(gw, st, r), (r.status_code, r.text[:300])
    elif step.either and r.status_code == 200:
        assert flow.ok(gw, st, r), r.text[:300]
    elif fault in step.legit:
        assert r.status_code == step.legit[fault], (r.status_code,
                                                    r.text[:300])
    else:
        assert_fails_closed(r)
    assert took < TIMEOUT + 1.0, took
    flow.check(gw, st, r)
    st["legit"] = False

    gw.proxy.clear()
    last = []

    def recovered():
        last[:] = [flow.act(gw, st)]
        return flow.ok(gw, st, last[0])
    wait_until(recovered, 6.5, "%s to work again" % step.label, interval=0.05)
    st["recovered"] = True
    flow.check(gw, st, last[0])
    wait_until(lambda: redis_usable(gw), 6.5, "sessions to work again")


def test_the_worker_survived_the_matrix(gw):
    """After every cell: the same worker (no crash), and no descriptor left
    behind by the connections dropped."""
    assert gw.nginx.worker_pids() == gw.workers
    for pid, before in gw.fds.items():
        assert worker_fds(pid) <= before + 2, (worker_fds(pid), before)
