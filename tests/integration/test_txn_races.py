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

import time

import pytest

from account_helpers import SLOW_COST, login_in_flight
from helpers import BRAND, HOST, JSON, add_user, cookie_token, ctl, free_port
from reset_helpers import (RESET_LOCATIONS, ROOMY_LOGIN, ask_link,
                           check_link, confirm, sessions_key)
from review_helpers import start_review_gateway
from txn_helpers import (GateProxy, hash_of, login, reset_in_flight,
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
