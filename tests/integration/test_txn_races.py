"""Review findings 3, 5 and 6 of issue 13: revocation that a shorter session
lifetime or a lost session index cannot escape, and the two writes that
must re-check the user inside their transaction (reset confirm, hash
upgrade).  Each race is forced: a slow stored hash holds the flow in the
thread pool while the test acts, and txn_helpers.GateProxy holds or cuts
the gateway's commands at a chosen one.

3. A session survives neither a login under a shorter
   clientauth_session_lifetime nor the loss of the user's session index:
   reset, logout everywhere, lock, passwd and perms all reach it.
5. A reset link superseded, cancelled or locked while the new password is
   being hashed does not apply, and leaves the newer link alone.
6. A legacy-hash upgrade never overwrites a password support set meanwhile.
"""

import socket
import time

import pytest

from account_helpers import SLOW_COST, login_in_flight
from helpers import BRAND, HOST, add_user, ctl, free_port, wait_until
from reset_helpers import (RESET_LOCATIONS, ROOMY_LOGIN, ask_link,
                           check_link, confirm, sessions_key)
from review_helpers import start_review_gateway
from txn_helpers import (GateProxy, bulk, hash_of, login, reset_in_flight,
                         stopped, user_key)

PASSWORD = "Sup3r-secret!pw"
NEW_PASSWORD = "N3w-Secret!pass"
SUPPORT_PASSWORD = "Supp0rt-Set!pw"

# a second server of the brand, its sessions much shorter
SHORT_LIFETIME = """
    server {{
        listen {host}:{port};
        clientauth_brand magic;
        clientauth_identifiers email;
        clientauth_session_lifetime 1500ms;
        clientauth_session_idle 1500ms;
        clientauth_lockout 100 1h 1s;
        clientauth_login_limit account 1000 1h;
        clientauth_login_limit address 1000 1h;
        location = /auth/login {{ clientauth_login; }}
        location / {{ return 204; }}
    }}
"""


@pytest.fixture
def proxy(redis_store):
    p = GateProxy(redis_store.port).start()
    yield p
    p.stop()


@pytest.fixture
def gateways(tmp_path, backend, redis_store):
    started = []

    def make(**conf):
        g = start_review_gateway(tmp_path / ("gw%d" % len(started)),
                                 redis_store, backend, **conf)
        started.append(g)
        return g

    yield make
    stopped(started)


# ------------------------------------------------------------ 3.

def short_login(port, email, password):
    r = login(port, email, password)
    assert r.status_code == 200, (r.status_code, r.text)


def revoke(g, how, ana, other):
    if how == "reset":
        link = ask_link(g, ana.email)
        r = confirm(g, link, NEW_PASSWORD)
        assert r.status_code == 200, (r.status_code, r.text)
    elif how == "logout-everywhere":
        r = g.post("/auth/logout", other, data={"everywhere": "1"})
        assert r.status_code == 200, (r.status_code, r.text)
    elif how == "lock":
        ctl(g.redis, "user", "lock", BRAND, ana.email)
    elif how == "passwd":
        ctl(g.redis, "user", "passwd", BRAND, ana.email, "--password-stdin",
            password=SUPPORT_PASSWORD)
    elif how == "perms":
        ctl(g.redis, "user", "perms", BRAND, ana.email, "--perm", "support")


@pytest.mark.parametrize("lost", ["shorter-login", "index-deleted"])
@pytest.mark.parametrize("how", ["reset", "logout-everywhere", "lock",
                                 "passwd", "perms"])
def test_long_session_is_revoked_whatever_happened_to_the_index(
        gateways, how, lost):
    alias = free_port()
    g = gateways(locations=RESET_LOCATIONS, server=ROOMY_LOGIN,
                 http=SHORT_LIFETIME.format(host=HOST, port=alias))
    ana = add_user(g.redis, "ana@example.com", PASSWORD,
                   perms=("billing",))
    long_lived = g.login_token(ana.email, PASSWORD)
    other = g.login_token(ana.email, PASSWORD)
    index = sessions_key(ana.account, ana.user)

    if lost == "shorter-login":
        short_login(alias, ana.email, PASSWORD)
        ttl = g.redis.call("PTTL", index)
        time.sleep(1.7)         # the short session's lifetime, and more
    else:
        g.redis.call("DEL", index)

    assert g.get("/billing/x", long_lived).status_code == 200
    revoke(g, how, ana, other)

    expect = 403 if how == "perms" else 401
    r = g.get("/billing/after", long_lived)
    assert r.status_code == expect, \
        "the long session escaped %s (%d)" % (how, r.status_code)
    if lost == "shorter-login":
        assert ttl > 3600 * 1000, "a shorter login shortened the index"


# ------------------------------------------------------------ 5.

def change_user(g, change, ana):
    """What support (or the customer) does while a confirm is under way;
    returns the newer link, if any."""
    if change == "superseded":
        return ask_link(g, ana.email)
    if change == "user-email":
        ctl(g.redis, "user", "email", BRAND, ana.email,
            "--email", "ana.new@example.com")
    elif change == "user-passwd":
        ctl(g.redis, "user", "passwd", BRAND, ana.email, "--password-stdin",
            password=SUPPORT_PASSWORD)
    elif change == "user-lock":
        ctl(g.redis, "user", "lock", BRAND, ana.email)
    elif change == "locked-by-hand":
        g.redis.call("HSET", user_key(ana), "status", "locked")
    return None


def assert_not_applied(g, change, ana, before, newer, email):
    after = hash_of(g.redis, ana)
    if change == "user-passwd":
        assert after != before
        assert login(g.port, email, SUPPORT_PASSWORD).status_code == 200
    else:
        assert after == before, "the superseded link set the password"
    if change in ("user-lock", "locked-by-hand"):
        assert g.redis.call("HGET", user_key(ana), "status") == "locked"
        g.redis.call("HSET", user_key(ana), "status", "active")
    assert login(g.port, email, NEW_PASSWORD).status_code == 401
    if change == "superseded":
        # the newer link was left alone, and works
        assert g.redis.call("HGET", user_key(ana), "reset")
        assert check_link(g, newer).status_code == 200
        r = confirm(g, newer, NEW_PASSWORD)
        assert r.status_code == 200, (r.status_code, r.text)
        assert login(g.port, email, NEW_PASSWORD).status_code == 200


CHANGES = ["superseded", "user-email", "user-passwd", "user-lock",
           "locked-by-hand"]


@pytest.mark.parametrize("change", CHANGES)
def test_reset_link_changed_while_the_password_is_hashed_does_not_apply(
        gateways, change):
    g = gateways(locations=RESET_LOCATIONS, server=ROOMY_LOGIN)
    ana = add_user(g.redis, "ana@example.com", PASSWORD, cost=SLOW_COST)
    link = ask_link(g, ana.email)
    before = hash_of(g.redis, ana)

    wait, running = reset_in_flight(g, link, NEW_PASSWORD)
    newer = change_user(g, change, ana)
    assert running(), "the confirm answered before the change: hash too fast"
    r = wait()

    assert r.status_code == 410, (r.status_code, r.text)
    email = "ana.new@example.com" if change == "user-email" else ana.email
    assert_not_applied(g, change, ana, before, newer, email)


@pytest.mark.parametrize("change", ["superseded", "user-lock",
                                    "user-passwd"])
def test_reset_rechecks_the_user_between_its_watch_and_exec(
        gateways, proxy, change):
    """The change lands after the confirm read the user again, before its
    MULTI reaches Redis: held at the proxy, which releases it after."""
    g = gateways(locations=RESET_LOCATIONS, server=ROOMY_LOGIN,
                 redis_port=proxy.port, redis_opts="timeout=10s")
    ana = add_user(g.redis, "ana@example.com", PASSWORD)
    link = ask_link(g, ana.email)
    before = hash_of(g.redis, ana)

    proxy.hold(bulk("HDEL", user_key(ana), "reset"))
    wait, running = reset_in_flight(g, link, NEW_PASSWORD)
    wait_until(proxy.is_holding, 10, "the confirm's MULTI to be held")
    newer = change_user(g, change, ana)
    proxy.release()
    r = wait()

    assert r.status_code == 410, (r.status_code, r.text)
    assert_not_applied(g, change, ana, before, newer, ana.email)


# ------------------------------------------------------------ 6.

def login_when_up(g, email, password):
    """A login once the gateway's Redis connection is back (after a cut)."""
    deadline = time.monotonic() + 10
    while True:
        r = login(g.port, email, password)
        if r.status_code != 503 or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


def test_upgrade_never_overwrites_a_password_support_set_during_the_login(
        gateways, proxy):
    """A login with an outdated hash (another argon2id cost) while support
    sets a new password.  The gateway must never write the upgrade over
    it: the connection is cut at a second `HSET <user> hash`, so a design
    that overwrites and then repairs loses its repair."""
    g = gateways(server=ROOMY_LOGIN, redis_port=proxy.port)
    ana = add_user(g.redis, "ana@example.com", PASSWORD, cost=SLOW_COST)
    slow = hash_of(g.redis, ana)
    upgrade = bulk("HSET", user_key(ana), "hash")
    proxy.cut(upgrade, nth=2)

    wait, running = login_in_flight(g, ana.email, PASSWORD)
    ctl(g.redis, "user", "passwd", BRAND, ana.email, "--password-stdin",
        password=SUPPORT_PASSWORD)
    supports = hash_of(g.redis, ana)
    assert running(), "the login answered before passwd: hash too fast"
    r = wait()

    assert r.status_code in (401, 503), (r.status_code, r.text)
    assert hash_of(g.redis, ana) == supports != slow
    assert proxy.seen(upgrade) == 0, "the upgrade was written over it"
    assert login_when_up(g, ana.email, SUPPORT_PASSWORD).status_code == 200
    assert login(g.port, ana.email, PASSWORD).status_code == 401


def test_upgrade_gives_way_to_a_password_set_between_its_watch_and_exec(
        gateways, proxy):
    g = gateways(server=ROOMY_LOGIN, redis_port=proxy.port,
                 redis_opts="timeout=10s")
    ana = add_user(g.redis, "ana@example.com", PASSWORD, cost=SLOW_COST)
    proxy.hold(bulk("HSET", user_key(ana), "hash"))

    wait, running = login_in_flight(g, ana.email, PASSWORD)
    wait_until(proxy.is_holding, 15, "the upgrade to be held")
    ctl(g.redis, "user", "passwd", BRAND, ana.email, "--password-stdin",
        password=SUPPORT_PASSWORD)
    supports = hash_of(g.redis, ana)
    proxy.release()
    r = wait()

    assert r.status_code == 401, (r.status_code, r.text)
    assert hash_of(g.redis, ana) == supports
    assert login(g.port, ana.email, SUPPORT_PASSWORD).status_code == 200
    assert login(g.port, ana.email, PASSWORD).status_code == 401


def test_upgrade_still_happens_when_nobody_races(gateways, proxy):
    g = gateways(server=ROOMY_LOGIN, redis_port=proxy.port)
    ana = add_user(g.redis, "ana@example.com", PASSWORD, cost=SLOW_COST)
    slow = hash_of(g.redis, ana)
    assert login(g.port, ana.email, PASSWORD).status_code == 200
    upgraded = hash_of(g.redis, ana)
    assert upgraded != slow and upgraded.startswith("$argon2id$v=19$m=8192")
    assert proxy.seen(bulk("WATCH", user_key(ana))) == 1
    assert login(g.port, ana.email, PASSWORD).status_code == 200


# ------------------------------------------------------------ the pool

WAITING = "waiting for a transaction connection"


def test_a_third_check_and_set_waits_for_a_dedicated_connection(
        gateways, proxy):
    """Two upgrades hold the worker's two dedicated connections (held at the
    proxy between WATCH and EXEC); a third waits for one, a fourth's client
    leaves while it waits, and all that stay are upgraded once released."""
    g = gateways(server=ROOMY_LOGIN, redis_port=proxy.port,
                 redis_opts="timeout=10s", debug_log=True)
    users = [add_user(g.redis, "u%d@example.com" % i, PASSWORD,
                      cost=SLOW_COST) for i in range(4)]
    slow = [hash_of(g.redis, u) for u in users]
    proxy.hold(*[bulk("HSET", user_key(u), "hash") for u in users[:2]])

    waits = [login_in_flight(g, u.email, PASSWORD)[0] for u in users[:2]]
    wait_until(lambda: proxy.is_holding(2), 15, "two upgrades to be held")

    third, third_running = login_in_flight(g, users[2].email, PASSWORD)
    wait_until(lambda: g.nginx.read_log().count(WAITING) == 1, 15,
               "the third login to wait for a connection")

    # a client that leaves while waiting: its place is given up
    body = "identifier=%s&password=%s" % (users[3].email.replace("@", "%40"),
                                          PASSWORD.replace("!", "%21"))
    leaver = socket.create_connection((HOST, g.port))
    leaver.sendall(("POST /auth/login HTTP/1.1\r\nHost: x\r\n"
                    "Accept: application/json\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    "Content-Length: %d\r\n\r\n%s"
                    % (len(body), body)).encode())
    wait_until(lambda: g.nginx.read_log().count(WAITING) == 2, 15,
               "the fourth login to wait for a connection")
    leaver.close()
    time.sleep(0.3)

    assert third_running(), "the third check-and-set did not wait"
    assert proxy.seen(bulk("WATCH", user_key(users[2]))) == 0
    proxy.release()
    for w in waits + [third]:
        r = w()
        assert r.status_code == 200, (r.status_code, r.text)
    for u, before in zip(users[:3], slow):
        assert hash_of(g.redis, u) != before, u.email
    assert proxy.seen(bulk("WATCH", user_key(users[3]))) == 0
    assert hash_of(g.redis, users[3]) == slow[3]
    # the worker goes on, and the one that left may log in again
    assert login(g.port, users[3].email, PASSWORD).status_code == 200
    assert hash_of(g.redis, users[3]) != slow[3]


def test_a_stuck_dedicated_connection_fails_closed_and_recovers(
        gateways, proxy):
    """Redis does not answer an upgrade's WATCH within the timeout: the
    login answers 503 and the session it wrote goes; the worker reconnects,
    and the next login is upgraded."""
    g = gateways(server=ROOMY_LOGIN, redis_port=proxy.port,
                 redis_opts="timeout=500ms")
    ana = add_user(g.redis, "ana@example.com", PASSWORD, cost=SLOW_COST)
    slow = hash_of(g.redis, ana)
    proxy.hold(bulk("WATCH", user_key(ana)))

    r = login(g.port, ana.email, PASSWORD)
    assert r.status_code == 503, (r.status_code, r.text)
    assert "Set-Cookie" not in r.headers
    assert proxy.is_holding()
    proxy.release()

    wait_until(lambda: [k for k in g.redis.keys() if ":sess:" in k] == [],
               5, "the abandoned session to go")
    assert hash_of(g.redis, ana) == slow
    assert "did not answer within 500 ms" in g.nginx.read_log()
    assert login_when_up(g, ana.email, PASSWORD).status_code == 200
    assert hash_of(g.redis, ana) != slow


def test_a_reset_that_redis_fails_leaves_its_link_for_another_try(
        gateways, proxy):
    """Redis does not answer the confirm's WATCH in time: 503, nothing
    changed, and the claim is given back, so the same link works once the
    worker has reconnected."""
    g = gateways(locations=RESET_LOCATIONS, server=ROOMY_LOGIN,
                 redis_port=proxy.port, redis_opts="timeout=500ms")
    ana = add_user(g.redis, "ana@example.com", PASSWORD)
    link = ask_link(g, ana.email)
    before = hash_of(g.redis, ana)
    proxy.hold(bulk("WATCH", user_key(ana)))

    r = confirm(g, link, NEW_PASSWORD)
    assert r.status_code == 503, (r.status_code, r.text)
    proxy.release()
    assert hash_of(g.redis, ana) == before

    deadline = time.monotonic() + 10
    while True:
        r = confirm(g, link, NEW_PASSWORD)
        if r.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.status_code == 200, (r.status_code, r.text)
    assert login(g.port, ana.email, NEW_PASSWORD).status_code == 200
