"""Session validation: each test is one visitor's story at a protected URI.

The module's gateway (gw) has DESIGN.md's minimal shape plus /public/
(clientauth off), /billing/ (clientauth_require billing), /custom/ (its own
clientauth_login_url) and /status.  Tests that need other session policies
start their own gateway with make_gateway.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import (BRAND, COOKIE, HTML, IDENTITY_HEADERS, JSON, add_user,
                     SESSION_CACHE_ON, cache_serving,
                     ctl, forged_token, identity_of, next_param, raw_get,
                     session_key, token_hash, wait_until)


def expected_identity(account, perms):
    return {"x-client-account": [account.account],
            "x-client-user": [account.user],
            "x-client-brand": [BRAND],
            "x-client-permissions": [perms]}


def assert_unauthenticated_json(r):
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["ok"] is False
    assert body["error"] == "unauthenticated"
    assert set(body) == {"ok", "error", "message"}


def hmget_delta(redis, before):
    return redis.commandstats().get("hmget", 0) - before.get("hmget", 0)


# ------------------------------------------------------------ valid session

def test_valid_session_reaches_the_portal_with_the_owners_identity(gw,
                                                                   owner):
    token = gw.login_token(owner.email, owner.password)

    r = gw.get("/orders/42?page=2", token)

    assert r.status_code == 200
    seen = r.json()
    assert seen["path"] == "/orders/42?page=2"
    assert identity_of(seen["headers"]) == expected_identity(owner, "all")
    names = [n for n, _ in seen["headers"] if n.lower().startswith("x-cl")]
    assert sorted(names) == sorted(IDENTITY_HEADERS)


def test_sub_user_is_identified_with_its_own_user_and_permissions(
        gw, owner, redis_store):
    clerk = add_user(redis_store, "clerk@example.com", "Cl3rk-secret!pw",
                     perms=["billing", "domains"], parent=owner.email)
    assert clerk.account == owner.account and clerk.user != owner.user
    token = gw.login_token(clerk.email, clerk.password)

    r = gw.get("/dashboard", token)

    assert r.status_code == 200
    assert identity_of(r.json()["headers"]) == \
        expected_identity(clerk, "billing,domains")


def test_session_cookie_is_found_among_other_cookies(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = gw.get("/dashboard", headers={
        "Cookie": "theme=dark; %s=%s; lang=es" % (COOKIE, token)})

    assert r.status_code == 200
    assert identity_of(r.json()["headers"]) == expected_identity(owner, "all")


def test_identity_variables_hold_the_same_values(make_gateway, backend,
                                                 biller):
    g = make_gateway(locations="""
        location /vars/ {
            clientauth on;
            proxy_set_header X-Ids "$clientauth_account|$clientauth_user";
            proxy_set_header X-Rest
                "$clientauth_brand|$clientauth_permissions";
            proxy_pass http://127.0.0.1:%d;
        }
""" % backend.port)
    token = g.login_token(biller.email, biller.password)

    r = g.get("/vars/x", token)

    assert r.status_code == 200
    seen = r.json()["headers"]
    assert ["X-Ids", "%s|%s" % (biller.account, biller.user)] in seen
    assert ["X-Rest", "magic|billing"] in seen


# ------------------------------------------------------------ anti-spoofing

SPOOFED = [
    "X-Client-Account: 999",
    "x-client-user: 999",
    "X-CLIENT-BRAND: evil",
    "X-Client-Permissions: all",
    "x-CLIENT-account: 998",
]


def test_identity_headers_sent_after_the_cookie_are_replaced(gw, owner):
    token = gw.login_token(owner.email, owner.password)
    req = raw_get("/spoof-after", [
        "Accept: application/json",
        "Cookie: %s=%s" % (COOKIE, token),
        "X-Other: kept",
    ] + SPOOFED)

    r = gw.raw(req)

    assert r.status == 200, r.body[:300]
    seen = gw.backend.seen("/spoof-after")[0]["headers"]
    assert identity_of(seen) == expected_identity(owner, "all")
    assert ["X-Other", "kept"] in seen


def test_identity_headers_sent_before_the_cookie_are_replaced(gw, owner):
    """Header order is the client's: spoofed headers first must neither
    survive nor disturb the headers that follow them (Cookie, Accept)."""
    token = gw.login_token(owner.email, owner.password)
    req = raw_get("/spoof-before", SPOOFED + [
        "Accept: application/json",
        "Cookie: %s=%s" % (COOKIE, token),
        "X-Other: kept",
    ])

    r = gw.raw(req)

    assert r.status == 200, (r.status, r.body[:300])
    seen = gw.backend.seen("/spoof-before")[0]["headers"]
    assert identity_of(seen) == expected_identity(owner, "all")
    assert ["X-Other", "kept"] in seen
    assert ["Accept", "application/json"] in seen
    assert ["Cookie", "%s=%s" % (COOKIE, token)] in seen


def test_identity_headers_are_removed_where_clientauth_is_off(gw):
    req = raw_get("/public/page", SPOOFED + ["X-Other: kept"])

    r = gw.raw(req)

    assert r.status == 200
    seen = gw.backend.seen("/public/page")[0]["headers"]
    assert identity_of(seen) == {}
    assert ["X-Other", "kept"] in seen


def test_underscore_variants_are_removed_when_nginx_accepts_them(
        make_gateway, owner):
    g = make_gateway(server="underscores_in_headers on;")
    token = g.login_token(owner.email, owner.password)

    protected = g.raw(raw_get("/underscore", [
        "Accept: application/json", "Cookie: %s=%s" % (COOKIE, token),
        "X_Client_User: 999", "x_client_account: 999", "X_Other: kept"]))
    public = g.raw(raw_get("/public/underscore", [
        "X_Client_User: 999", "X_Client_Permissions: all",
        "X_Other: kept"]))

    assert protected.status == 200, protected.body[:300]
    seen = g.backend.seen("/underscore")[0]["headers"]
    assert identity_of(seen) == expected_identity(owner, "all")
    assert ["X_Other", "kept"] in seen

    assert public.status == 200
    seen = g.backend.seen("/public/underscore")[0]["headers"]
    assert identity_of(seen) == {}
    assert ["X_Other", "kept"] in seen


# ------------------------------------------------------------ no session

def test_api_client_without_cookie_gets_401(gw):
    r = gw.get("/orders/42")

    assert_unauthenticated_json(r)
    assert r.headers["Cache-Control"] == "no-store"
    assert "Location" not in r.headers
    assert gw.backend.seen("/orders/42") == []


def test_client_without_accept_header_gets_401(gw):
    r = gw.get("/orders/42", accept=None)

    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("text/html")
    assert "Location" not in r.headers
    assert gw.backend.seen("/orders/42") == []


def test_browser_without_cookie_is_sent_to_login_with_the_way_back(gw):
    uri = "/orders/42?page=2&sort=date"

    r = gw.get(uri, accept=HTML)

    assert r.status_code == 302
    assert r.headers["Location"] == "/auth/login?next=" + next_param(uri)
    assert r.headers["Location"] == \
        "/auth/login?next=%2Forders%2F42%3Fpage%3D2%26sort%3Ddate"
    assert "Set-Cookie" not in r.headers
    assert gw.backend.seen("/orders") == []


def test_browser_is_sent_to_the_configured_login_url(gw):
    r = gw.get("/custom/area?x=1", accept=HTML)

    assert r.status_code == 302
    assert r.headers["Location"] == "/sso/login?next=%2Fcustom%2Farea%3Fx%3D1"


@pytest.mark.parametrize("accept,status", [
    (JSON, 401), (None, 401), (HTML, 302)])
def test_forged_token_is_refused(gw, owner, accept, status):
    gw.login_token(owner.email, owner.password)    # a real session exists
    before = gw.redis.commandstats()

    r = gw.get("/forged", forged_token(), accept=accept)

    assert r.status_code == status
    if status == 302:
        assert r.headers["Location"] == "/auth/login?next=%2Fforged"
    if accept == JSON:
        assert_unauthenticated_json(r)
    # looked up with its user, in one round trip; not found
    assert hmget_delta(gw.redis, before) == 2
    assert gw.backend.seen("/forged") == []


MALFORMED = {
    "empty": b"",
    "too short": forged_token()[:42].encode(),
    "too long": (forged_token() + "A").encode(),
    "padded": (forged_token() + "=").encode(),
    "standard base64": ("+/" + forged_token()[2:]).encode(),
    "dot": ("." + forged_token()[1:]).encode(),
    "latin-1 byte": b"\xe9" + forged_token()[1:].encode(),
    "utf-8 bytes": "\u00e9".encode() + forged_token()[2:].encode(),
    "high bytes": b"\xff" * 43,
    "two tokens": (forged_token() + "," + forged_token()).encode(),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_cookie_is_refused_without_asking_redis(gw, name):
    before = gw.redis.commandstats()
    req = raw_get("/malformed", [
        b"Accept: application/json",
        b"Cookie: " + COOKIE.encode() + b"=" + MALFORMED[name]])

    r = gw.raw(req)

    assert r.status == 401
    assert r.header("Content-Type") == "application/json"
    assert b'"error":"unauthenticated"' in r.body
    assert hmget_delta(gw.redis, before) == 0
    assert gw.backend.seen("/malformed") == []


def test_browser_with_malformed_cookie_is_sent_to_login(gw):
    r = gw.get("/deep/page", accept=HTML,
               headers={"Cookie": "%s=not-a-token" % COOKIE})

    assert r.status_code == 302
    assert r.headers["Location"] == "/auth/login?next=%2Fdeep%2Fpage"


def test_revoked_session_is_refused(gw, owner):
    token = gw.login_token(owner.email, owner.password)
    assert gw.get("/before-revoke", token).status_code == 200

    ctl(gw.redis, "sessions", "revoke", BRAND, owner.email)

    assert_unauthenticated_json(gw.get("/after-revoke", token))
    assert gw.backend.seen("/after-revoke") == []


# ------------------------------------------------------------ expiry

IDLE_1S = "clientauth_session_idle 1s; clientauth_session_refresh 200ms;"


def test_a_page_of_requests_refreshes_its_session_once(make_gateway, owner):
    """The requests of a page arrive together and all find the refresh due
    (held here by pausing Redis until all of them asked): one of them
    pushes the idle deadline back, not every one."""
    g = make_gateway(http=IDLE_1S, redis_opts="timeout=5s")
    token = g.login_token(owner.email, owner.password)
    time.sleep(0.3)                             # the refresh falls due
    before = g.redis.commandstats()

    with ThreadPoolExecutor(max_workers=20) as pool:
        g.redis.pause()
        try:
            pending = [pool.submit(lambda i=i: g.get("/asset/%d" % i, token,
                                                     timeout=10).status_code)
                       for i in range(20)]
            time.sleep(0.5)                     # all 20 HMGETs are queued
        finally:
            g.redis.resume()
        codes = [f.result() for f in pending]

    after = g.redis.commandstats()
    assert codes == [200] * 20
    # each: the session and its user
    assert after.get("hmget", 0) - before.get("hmget", 0) == 2 * 20
    assert after.get("hset", 0) - before.get("hset", 0) == 1
    assert after.get("pexpire", 0) - before.get("pexpire", 0) == 1


def test_unused_session_ends_after_the_idle_time(make_gateway, owner):
    g = make_gateway(http=IDLE_1S)
    token = g.login_token(owner.email, owner.password)
    assert g.get("/idle", token).status_code == 200

    time.sleep(1.3)

    assert_unauthenticated_json(g.get("/idle", token))
    assert g.redis.call("EXISTS", session_key(token)) == 0


def test_session_in_use_outlives_the_idle_time(make_gateway, owner):
    g = make_gateway(http=IDLE_1S)
    token = g.login_token(owner.email, owner.password)
    refreshes = g.metric("clientauth_session_refreshes_total")

    start = time.monotonic()
    n = 0
    while time.monotonic() - start < 2.5:
        r = g.get("/busy/%d" % n, token)
        assert r.status_code == 200, (n, time.monotonic() - start)
        n += 1
        time.sleep(0.4)

    assert n >= 5
    # every request came more than 200ms after the previous push
    assert g.metric("clientauth_session_refreshes_total") - refreshes >= n - 1
    assert 0 < g.redis.call("PTTL", session_key(token)) <= 1000


def test_session_ends_at_its_absolute_lifetime_even_in_use(make_gateway,
                                                           owner):
    g = make_gateway(http=IDLE_1S + " clientauth_session_lifetime 2s;")
    t0 = time.monotonic()
    token = g.login_token(owner.email, owner.password)
    t1 = time.monotonic()

    seen = []                           # (start, end, status) after t0
    while True:
        start = time.monotonic() - t0
        status = g.get("/lifetime", token).status_code
        seen.append((start, time.monotonic() - t0, status))
        if start > (t1 - t0) + 2.2 or start > 5:
            break
        time.sleep(0.25)

    for start, end, status in seen:
        if end < 1.95:
            assert status == 200, seen       # well inside the lifetime
        if start > (t1 - t0) + 2.05:
            assert status == 401, seen       # past it, however busy
    assert [s for _, _, s in seen].count(401) >= 1
    statuses = [s for _, _, s in seen]
    assert statuses == sorted(statuses), seen   # never valid again


def test_validated_requests_read_once_and_write_nothing(gw, owner):
    """Default refresh (60s): without the session cache each request costs
    one round trip (HMGET of the session and of its user) and no write;
    with it (the default), the first one reads (tracked: CLIENT CACHING
    yes before each HMGET, and the key's PTTL) and the others cost
    nothing."""
    token = gw.login_token(owner.email, owner.password)
    n = 25
    if SESSION_CACHE_ON:
        wait_until(lambda: cache_serving(gw), 5, "the session cache")
    before = gw.redis.commandstats()

    for i in range(n):
        assert gw.get("/cheap/%d" % i, token).status_code == 200

    after = gw.redis.commandstats()
    delta = {cmd: calls - before.get(cmd, 0)
             for cmd, calls in after.items()
             if calls != before.get(cmd, 0) and cmd != "info"}
    if SESSION_CACHE_ON:
        # the cache's subscriber re-subscribes every half timeout: its
        # heartbeat, whatever the requests
        delta.pop("subscribe", None)
        assert delta == {"client|caching": 2, "hmget": 2, "pttl": 1}
    else:
        assert delta == {"hmget": 2 * n}


# ------------------------------------------------------------ logout

def test_logout_deletes_the_session_and_clears_the_cookie(gw, owner):
    token = gw.login_token(owner.email, owner.password)
    key = session_key(token)
    assert gw.redis.call("EXISTS", key) == 1

    r = gw.post("/auth/logout", token)

    assert r.status_code == 200
    assert r.content == b'{"ok":true}'
    assert r.headers["Set-Cookie"] == \
        "%s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" % COOKIE
    assert gw.redis.call("EXISTS", key) == 0
    assert_unauthenticated_json(gw.get("/after-logout", token))
    assert gw.backend.seen("/after-logout") == []


def test_browser_logout_goes_back_to_the_login_page(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = gw.post("/auth/logout", token, accept=HTML)

    assert r.status_code == 303
    assert r.headers["Location"] == "/auth/login?done=logout"
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    assert gw.redis.call("EXISTS", session_key(token)) == 0


def test_logout_by_get_is_refused_and_keeps_the_session(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = gw.get("/auth/logout", token)

    assert r.status_code == 405
    assert r.headers["Allow"] == "POST"
    assert "Set-Cookie" not in r.headers
    assert gw.redis.call("EXISTS", session_key(token)) == 1
    assert gw.get("/still-in", token).status_code == 200


# ------------------------------------------------------------ permissions

def test_user_with_the_permission_reaches_a_restricted_location(gw, biller):
    token = gw.login_token(biller.email, biller.password)

    r = gw.get("/billing/invoices", token)

    assert r.status_code == 200
    assert identity_of(r.json()["headers"]) == \
        expected_identity(biller, "billing")


def test_user_without_the_permission_gets_403(gw, orders_clerk):
    token = gw.login_token(orders_clerk.email, orders_clerk.password)

    r = gw.get("/billing/invoices", token)

    assert r.status_code == 403
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"] == "forbidden"
    assert gw.backend.seen("/billing/") == []
    # the rest of the customer area stays open to them
    assert gw.get("/orders/1", token).status_code == 200


def test_owner_with_all_permissions_reaches_a_restricted_location(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    assert gw.get("/billing/invoices", token).status_code == 200


# ------------------------------------------------------------ status

def test_status_page_counts_session_checks(gw, owner):
    token = gw.login_token(owner.email, owner.password)
    valid = 'clientauth_session_checks_total{result="valid"}'
    invalid = 'clientauth_session_checks_total{result="invalid"}'
    v0, i0 = gw.metric(valid), gw.metric(invalid)

    assert gw.get("/counted", token).status_code == 200
    assert gw.get("/counted", forged_token()).status_code == 401

    r = gw.get("/status", accept=None)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4"
    assert "# TYPE clientauth_session_checks_total counter\n" in r.text
    assert gw.metric(valid) == v0 + 1
    assert gw.metric(invalid) == i0 + 1


# ------------------------------------------------------------ satisfy any

def test_satisfy_any_lets_another_access_module_decide(make_gateway, backend,
                                                       owner):
    """Under "satisfy any" the session check is one voice among others: an
    allowed address gets in without a session, a denied one without a
    session gets nginx's 401, and a valid session is enough alone; the
    spoofed identity headers are gone in every case."""
    g = make_gateway(locations="""
        location /office/ {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            clientauth on;
            proxy_pass http://127.0.0.1:%d;
        }
        location /strict/ {
            satisfy any;
            deny all;
            clientauth on;
            proxy_pass http://127.0.0.1:%d;
        }
""" % (backend.port, backend.port))

    r = g.get("/office/x", headers={"X-Client-User": "999"})
    assert r.status_code == 200
    assert identity_of(r.json()["headers"]) == {}

    assert g.get("/strict/x").status_code == 401
    assert g.get("/strict/x", accept=HTML).status_code == 401

    token = g.login_token(owner.email, owner.password)
    r = g.get("/strict/x", token)
    assert r.status_code == 200
    assert identity_of(r.json()["headers"])["x-client-user"] == [owner.user]


# Sessions in their account's Redis Cluster slot (issue 12)

def test_a_session_where_sessions_used_to_be_is_nobodys(gw, owner):
    """ca:<brand>:sess:<hash>, outside the account's slot, is no longer
    read: a session made before the move is refused once."""
    token = gw.login_token(owner.email, owner.password)
    assert session_key(token).startswith("ca:{%s:%s}:sess:"
                                         % (BRAND, owner.account))
    gw.redis.call("RENAME", session_key(token),
                  "ca:%s:sess:%s" % (BRAND, token_hash(token)))

    assert gw.get("/", token).status_code == 401
    assert gw.login_token(owner.email, owner.password)
