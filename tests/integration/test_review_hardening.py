"""Hardening from the security review (issue 13): each test fails against
the behaviour the review found and passes with its fix.

1. The session cookie is parsed strictly: pairs split on ';' only, names
   compared exactly, and a request carrying it more than once (on one
   Cookie line or across several) has no session.
4. IPv4 clients seen as v4-mapped IPv6 (::ffff:a.b.c.d: a dual-stack
   listener, realip) are counted by their IPv4 address, not all in ::/64.
7. Every client-sent X-Client-* header (and X_Client_* when nginx accepts
   underscores) is removed, not only the four the gateway sets.
8. clientauth_require where clientauth is off is a configuration error,
   not a location open to everyone.
9. Client-controlled text is escaped in the error log: an identifier with
   a line break cannot forge a line.
10. When the request pool has no memory for a Redis key, logout and reset
    answer 500 and send nothing to Redis (they passed NULL to strlen()).
11. A user locked by support is told so, only with the right password:
    403 account_locked (no Retry-After, the same for every locked user);
    a wrong password gets the 401 of any wrong password, byte for byte.
"""

import html
import subprocess

import pytest

from helpers import (BRAND, COOKIE, HOST, HTML, JSON, add_user, ctl,
                     free_port, identity_of, raw_get)
from gdb_helpers import failing
from login_helpers import avoid_bucket_edge, form_login, limit_keys
from reset_helpers import (RESET_LOCATIONS, ROOMY_LOGIN, ask_link, confirm,
                           reset_conf)
from review_helpers import nginx_t

VICTIM_PASSWORD = "V1ctim-secret!pw"
ATTACKER_PASSWORD = "Att4cker-secret!pw"
SECURE_COOKIE = "__Host-" + COOKIE
WRONG_PASSWORD = "Wr0ng-password!"


@pytest.fixture
def victim(redis_store):
    return add_user(redis_store, "victim@example.com", VICTIM_PASSWORD)


@pytest.fixture
def attacker(redis_store):
    return add_user(redis_store, "attacker@example.com", ATTACKER_PASSWORD)


def account_seen(gw, path):
    """The X-Client-Account the portal got for path, or None."""
    seen = gw.backend.seen(path)
    assert len(seen) == 1, seen
    users = identity_of(seen[0]["headers"]).get("x-client-account")
    return users[0] if users else None


def secure_token(gw, account):
    """Logs in on a gateway whose cookie is __Host-: the token."""
    r = gw.login(account.email, account.password)
    assert r.status_code == 200, r.text
    value = r.headers["Set-Cookie"].split(";", 1)[0]
    name, _, token = value.partition("=")
    assert name == SECURE_COOKIE, value
    return token


def get_with_cookie_lines(gw, path, lines):
    return gw.raw(raw_get(path, ["Accept: application/json"]
                          + ["Cookie: " + line for line in lines]))


# ------------------------------------------------------------ 1. cookie

def test_cookie_behind_a_comma_is_not_the_session(make_gateway, victim,
                                                  attacker):
    """The issue's header: a sibling subdomain planted x=a, NAME=ATTACKER
    before the victim's own cookie; ',' separates nothing."""
    g = make_gateway(cookie_secure=True)
    mine = secure_token(g, victim)
    theirs = secure_token(g, attacker)

    r = get_with_cookie_lines(g, "/comma", [
        "x=a, %s=%s; %s=%s" % (SECURE_COOKIE, theirs, SECURE_COOKIE, mine)])

    assert r.status == 200, r.body[:300]
    assert account_seen(g, "/comma") == victim.account


def test_cookie_name_in_another_case_is_not_the_session(make_gateway,
                                                        victim, attacker):
    g = make_gateway(cookie_secure=True)
    mine = secure_token(g, victim)
    theirs = secure_token(g, attacker)

    alone = get_with_cookie_lines(g, "/lower-alone", [
        "__host-%s=%s" % (COOKIE, theirs)])
    first = get_with_cookie_lines(g, "/lower-first", [
        "__host-%s=%s; %s=%s" % (COOKIE, theirs, SECURE_COOKIE, mine)])

    assert alone.status == 401, alone.body[:300]
    assert g.backend.seen("/lower-alone") == []
    assert first.status == 200, first.body[:300]
    assert account_seen(g, "/lower-first") == victim.account


@pytest.mark.parametrize("lines", [
    ["%(c)s=%(a)s", "%(c)s=%(v)s"],
    ["%(c)s=%(a)s; %(c)s=%(v)s"],
    ["theme=dark", "%(c)s=%(a)s; lang=es", "%(c)s=%(v)s"],
], ids=["two-lines", "one-line", "among-others"])
def test_session_cookie_sent_twice_is_no_session(gw, victim, attacker,
                                                 lines):
    mine = gw.login_token(victim.email, victim.password)
    theirs = gw.login_token(attacker.email, attacker.password)
    start = gw.nginx.log_size()

    r = get_with_cookie_lines(gw, "/twice", [
        line % {"c": COOKIE, "a": theirs, "v": mine} for line in lines])

    assert r.status == 401, r.body[:300]
    assert gw.backend.seen("/twice") == []
    log = gw.nginx.read_log(start)
    assert "session cookie sent 2 times" in log, log
    assert theirs not in log and mine not in log


def h2_get(port, path, cookies):
    """GET over cleartext HTTP/2 (curl, prior knowledge), each cookie in a
    header field of its own as browsers send them; (status, body)."""
    args = ["curl", "-s", "--http2-prior-knowledge", "-o", "-",
            "-w", "\n%{http_code} %{http_version}",
            "-H", "Accept: application/json"]
    for c in cookies:
        args += ["-H", "Cookie: " + c]
    out = subprocess.run(args + ["http://%s:%d%s" % (HOST, port, path)],
                         capture_output=True, text=True, timeout=30).stdout
    body, _, last = out.rpartition("\n")
    status, version = last.split()
    assert version == "2", out
    return int(status), body


def test_session_cookie_twice_over_http2_is_no_session(make_gateway, victim,
                                                        attacker):
    h2 = free_port()
    g = make_gateway(server="listen %s:%d http2;" % (HOST, h2))
    mine = g.login_token(victim.email, victim.password)
    theirs = g.login_token(attacker.email, attacker.password)

    alone = h2_get(h2, "/h2-alone", ["theme=dark", "%s=%s" % (COOKIE, mine)])
    twice = h2_get(h2, "/h2-twice", ["%s=%s" % (COOKIE, theirs), "lang=es",
                                     "%s=%s" % (COOKIE, mine)])

    assert alone[0] == 200, alone
    assert account_seen(g, "/h2-alone") == victim.account
    assert twice[0] == 401, twice
    assert g.backend.seen("/h2-twice") == []


def test_logout_with_the_session_cookie_twice_ends_nothing(gw, victim,
                                                           attacker):
    mine = gw.login_token(victim.email, victim.password)
    theirs = gw.login_token(attacker.email, attacker.password)

    r = gw.raw(("POST /auth/logout HTTP/1.1\r\nHost: gateway.test\r\n"
                "Accept: application/json\r\nCookie: %s=%s\r\n"
                "Cookie: %s=%s\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n"
                % (COOKIE, theirs, COOKIE, mine)).encode())

    assert r.status == 200, r.body[:300]
    assert gw.get("/still-mine", mine).status_code == 200
    assert gw.get("/still-theirs", theirs).status_code == 200


# ------------------------------------------------------------ 4. v4-mapped

def test_v4_mapped_clients_each_have_their_own_address_budget(make_gateway):
    g = make_gateway(server="set_real_ip_from 127.0.0.1;\n"
                            "real_ip_header X-Real-IP;\n"
                            "clientauth_login_limit address 2 1h;\n")
    avoid_bucket_edge(3600)
    first = {"X-Real-IP": "::ffff:198.51.100.1"}
    second = {"X-Real-IP": "::ffff:198.51.100.2"}

    spent = [form_login(g, "nobody@example.com", WRONG_PASSWORD,
                        headers=first).status_code for _ in range(3)]
    other = form_login(g, "nobody@example.com", WRONG_PASSWORD,
                       headers=second)
    # the same client, written as plain IPv4
    same = form_login(g, "nobody@example.com", WRONG_PASSWORD,
                      headers={"X-Real-IP": "198.51.100.1"})

    assert spent == [401, 401, 429], spent
    assert other.status_code == 401, (other.status_code, other.text)
    assert same.status_code == 429, (same.status_code, same.text)
    subjects = sorted(k.split(":")[4] for k in limit_keys(g.redis,
                                                           "address"))
    assert subjects == ["198.51.100.1", "198.51.100.2"], subjects


# ------------------------------------------------------------ 7. X-Client-*

SPOOFED_EXTRA = ["X-Client-Email: boss@example.com", "x-client-role: admin",
                 "X-CLIENT-IMPERSONATE: 1", "X-Client-: bare",
                 "X-Client-Account: 999"]


def test_every_x_client_header_is_removed_before_the_portal(gw, victim):
    token = gw.login_token(victim.email, victim.password)

    protected = gw.raw(raw_get("/prefix", SPOOFED_EXTRA + [
        "Accept: application/json", "Cookie: %s=%s" % (COOKIE, token),
        "X-Clientele: kept", "X-Other: kept"] + SPOOFED_EXTRA))
    public = gw.raw(raw_get("/public/prefix", SPOOFED_EXTRA + [
        "X-Clientele: kept"]))

    assert protected.status == 200, protected.body[:300]
    seen = gw.backend.seen("/prefix")[0]["headers"]
    assert sorted(identity_of(seen)) == ["x-client-account",
                                         "x-client-brand",
                                         "x-client-permissions",
                                         "x-client-user"], seen
    assert identity_of(seen)["x-client-account"] == [victim.account]
    assert ["X-Clientele", "kept"] in seen and ["X-Other", "kept"] in seen
    assert ["Accept", "application/json"] in seen

    assert public.status == 200
    seen = gw.backend.seen("/public/prefix")[0]["headers"]
    assert identity_of(seen) == {}, seen
    assert ["X-Clientele", "kept"] in seen


def test_every_x_client_underscore_header_is_removed(make_gateway, victim):
    g = make_gateway(server="underscores_in_headers on;")
    token = g.login_token(victim.email, victim.password)

    r = g.raw(raw_get("/underscore-prefix", [
        "X_Client_Email: boss@example.com", "x_client_role: admin",
        "Accept: application/json", "Cookie: %s=%s" % (COOKIE, token),
        "X_Client-Mixed: 1", "X_Other: kept"]))

    assert r.status == 200, r.body[:300]
    seen = g.backend.seen("/underscore-prefix")[0]["headers"]
    assert sorted(identity_of(seen)) == ["x-client-account",
                                         "x-client-brand",
                                         "x-client-permissions",
                                         "x-client-user"], seen
    assert ["X_Other", "kept"] in seen


# ------------------------------------------------------------ 8. require

BRAND_SERVER = ("clientauth_brand magic;\n"
                "location = /auth/login { clientauth_login; }\n")
REDIS_HTTP = "    clientauth_redis %s:6379;\n" % HOST
REQUIRE_OFF = '"clientauth_require" needs "clientauth on"'


@pytest.mark.parametrize("server", [
    "location /billing/ { clientauth_require billing; return 204; }",
    "location /billing/ { clientauth off; clientauth_require billing;"
    " return 204; }",
    "clientauth off;\n"
    "location /billing/ { clientauth_require billing; return 204; }",
    "location /a/ { clientauth on;"
    " location /a/b/ { clientauth off; clientauth_require billing;"
    " return 204; } }",
], ids=["unset", "off-here", "off-in-server", "nested-off"])
def test_require_where_clientauth_is_off_is_a_config_error(tmp_path,
                                                           server):
    proc = nginx_t(tmp_path, http=REDIS_HTTP, server=BRAND_SERVER + server)

    assert proc.returncode != 0, proc.stdout
    assert "[emerg]" in proc.stdout, proc.stdout
    assert REQUIRE_OFF in proc.stdout, proc.stdout


@pytest.mark.parametrize("server", [
    "location /billing/ { clientauth on; clientauth_require billing;"
    " return 204; }",
    "clientauth on;\n"
    "location /billing/ { clientauth_require billing; return 204; }",
    # a public corner of a protected tree: inherited, explicitly off
    "location /billing/ { clientauth on; clientauth_require billing;"
    " location /billing/help/ { clientauth off; return 204; }"
    " location = /billing/logout { clientauth off; clientauth_logout; } }",
    # the metrics page behind a session and a permission
    "location = /status { clientauth on; clientauth_require ops;"
    " clientauth_status; }",
], ids=["on-here", "on-in-server", "inherited-carve-out", "status"])
def test_require_where_clientauth_is_on_is_accepted(tmp_path, server):
    proc = nginx_t(tmp_path, http=REDIS_HTTP, server=BRAND_SERVER + server)

    assert proc.returncode == 0, proc.stdout
    assert "test is successful" in proc.stdout, proc.stdout


# ------------------------------------------------------------ 9. log lines

FORGERIES = [
    "nobody@example.com\r\nFORGED-LINE from the client",
    "nobody@example.com\nFORGED-LINE\x01\x1b[31m\x7f",
    "\nFORGED-LINE \"quoted\" \\x0a",
]


def forged_lines(log):
    return [line for line in log.splitlines() if "FORGED" in line
            and not line.startswith("20")]


@pytest.mark.parametrize("identifier", FORGERIES,
                         ids=["crlf", "lf-controls", "quotes-backslash"])
def test_identifier_cannot_forge_error_log_lines(make_gateway, identifier):
    g = make_gateway(locations=RESET_LOCATIONS)
    start = g.nginx.log_size()

    form = g.post("/auth/login", data={"identifier": identifier,
                                       "password": "Wrong-passw0rd!"})
    json = g.post("/auth/login", json={"identifier": identifier,
                                       "password": "Wrong-passw0rd!"})
    reset = g.post("/auth/reset", data={"identifier": identifier})

    assert form.status_code == 401, form.text
    assert json.status_code == 401, json.text
    assert reset.status_code == 202, reset.text
    log = g.nginx.read_log(start)
    assert forged_lines(log) == [], log
    assert "\\x0aFORGED-LINE" in log, log
    assert "\x1b" not in log and "\x01" not in log and "\r" not in log


# ------------------------------------------------------------ 10. no memory

NEW_PASSWORD = "N3w-Secret!pass"


def only_worker(g):
    pids = g.nginx.worker_pids()
    assert len(pids) == 1, pids
    return pids.pop()


def test_logout_everywhere_without_memory_answers_500_and_ends_nothing(
        make_gateway, victim, tmp_path):
    g = make_gateway()
    tokens = [g.login_token(victim.email, victim.password) for _ in range(2)]
    before = g.redis.dump()

    with failing(only_worker(g), "ngx_http_clientauth_pool_cstr", tmp_path):
        r = g.post("/auth/logout", tokens[0], json={"everywhere": "1"})

    assert r.status_code == 500, (r.status_code, r.text)
    assert g.redis.dump() == before
    for token in tokens:
        assert g.get("/still-here", token).status_code == 200


def test_reset_confirm_without_memory_answers_500_and_changes_nothing(
        make_gateway, victim, tmp_path):
    g = make_gateway(**reset_conf(ROOMY_LOGIN))
    session = g.login_token(victim.email, victim.password)
    token = ask_link(g, victim.email)

    with failing(only_worker(g), "ngx_http_clientauth_pool_cstr", tmp_path):
        r = confirm(g, token, NEW_PASSWORD)

    assert r.status_code == 500, (r.status_code, r.text)
    assert g.get("/still-here", session).status_code == 200
    assert g.login(victim.email, NEW_PASSWORD).status_code == 401
    assert g.login(victim.email, victim.password).status_code == 200


# ------------------------------------------------------------ 11. locked


def headers_but_date(response):
    return [(k, v) for k, v in response.raw.headers.items()
            if k.lower() not in ("date", "content-length")]


def without(response, identifier):
    """The body with the identifier the customer typed (the login page keeps
    it in its field) taken out: nothing else may tell the accounts apart."""
    return response.text.replace(html.escape(identifier), "IDENTIFIER")


@pytest.mark.parametrize("accept", [JSON, HTML])
def test_locked_user_with_a_wrong_password_gets_any_wrong_passwords_401(
        gw, victim, attacker, accept):
    ctl(gw.redis, "user", "lock", BRAND, victim.email)

    locked = gw.login(victim.email, WRONG_PASSWORD, accept=accept)
    active = gw.login(attacker.email, WRONG_PASSWORD, accept=accept)
    unknown = gw.login("nobody@example.com", WRONG_PASSWORD, accept=accept)

    assert locked.status_code == 401, (locked.status_code, locked.text)
    for other, typed in ((active, attacker.email),
                         (unknown, "nobody@example.com")):
        assert other.status_code == 401
        assert without(other, typed) == without(locked, victim.email)
        assert headers_but_date(other) == headers_but_date(locked)


@pytest.mark.parametrize("accept", [JSON, HTML])
def test_locked_user_with_the_right_password_is_told_to_call_support(
        gw, victim, attacker, accept):
    ctl(gw.redis, "user", "lock", BRAND, victim.email)
    ctl(gw.redis, "user", "lock", BRAND, attacker.email)

    one = gw.login(victim.email, victim.password, accept=accept)
    other = gw.login(attacker.email, attacker.password, accept=accept)

    for r in (one, other):
        assert r.status_code == 403, (r.status_code, r.text)
        assert "Retry-After" not in r.headers
        assert "Set-Cookie" not in r.headers
        assert "support" in r.text
    assert one.content == other.content
    assert headers_but_date(one) == headers_but_date(other)
    if accept == JSON:
        body = one.json()
        assert body["ok"] is False and body["error"] == "account_locked"
        assert "contact" in body["message"]
    assert [k for k in gw.redis.keys() if ":sess:" in k] == []
