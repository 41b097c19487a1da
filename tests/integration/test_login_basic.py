"""Logging in: each test is one customer's (or attacker's) story at
/auth/login, with accounts made by clientauthctl."""

import json
import re

import html

import pytest

from helpers import (BRAND, COOKIE, HTML, JSON, ctl, forged_token,
                     session_key, token_hash)

COOKIE_RE = re.compile(r"^%s=([A-Za-z0-9_-]{43})((?:; [^;]+)*)$" % COOKIE)
WRONG = "Wr0ng-passw0rd!"


def cookie_parts(response):
    """(token, [attributes]) of the one Set-Cookie of a response."""
    m = COOKIE_RE.match(response.headers["Set-Cookie"])
    assert m, response.headers["Set-Cookie"]
    return m.group(1), m.group(2).split("; ")[1:]


def headers_but_date(response):
    return [(k, v) for k, v in response.raw.headers.items()
            if k.lower() not in ("date", "content-length")]


def without(response, identifier):
    """The body with the identifier the customer typed (the page keeps it
    in its field) taken out: nothing else may tell the accounts apart."""
    return response.text.replace(html.escape(identifier), "IDENTIFIER")


# ------------------------------------------------------------ success

def test_api_client_logs_in_with_a_form(gw, owner):
    r = gw.login(owner.email, owner.password)

    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.content == b'{"ok":true}'
    assert r.headers["Cache-Control"] == "no-store"
    token, attrs = cookie_parts(r)
    assert sorted(attrs) == ["HttpOnly", "Path=/", "SameSite=Lax"]
    assert gw.get("/after-login", token).status_code == 200


def test_api_client_logs_in_with_a_json_body(gw, owner):
    body = json.dumps({"identifier": owner.email,
                       "password": owner.password})

    r = gw.post("/auth/login", data=body,
                headers={"Content-Type": "application/json"})

    assert r.status_code == 200
    assert r.content == b'{"ok":true}'
    token, _ = cookie_parts(r)
    assert gw.get("/after-json-login", token).status_code == 200


def test_session_cookie_is_secure_by_default(make_gateway, owner):
    """Secure by default, and then named __Host-: browsers accept it only
    from this host, over HTTPS, for Path=/, so a sibling subdomain cannot
    plant one (cookie tossing)."""
    g = make_gateway(cookie_secure=True)

    r = g.login(owner.email, owner.password)

    assert r.status_code == 200
    setc = r.headers["Set-Cookie"]
    assert setc.startswith("__Host-%s=" % COOKIE), setc
    attrs = setc.split("; ")[1:]
    assert sorted(attrs) == ["HttpOnly", "Path=/", "SameSite=Lax", "Secure"]


def test_login_page_is_served_to_browsers(gw):
    r = gw.get("/auth/login?next=%2Fbilling%2F", accept=HTML)

    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<form method="post" action="/auth/login">' in r.text
    assert 'name="identifier"' in r.text and 'name="password"' in r.text
    assert '<input type="hidden" name="next" value="/billing/">' in r.text


def test_login_page_escapes_next(gw):
    r = gw.get('/auth/login?next=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E',
               accept=HTML)

    assert r.status_code == 200
    assert "<script>alert" not in r.text
    assert "&quot;&gt;&lt;script&gt;" in r.text


# ------------------------------------------------------------ next

@pytest.mark.parametrize("next_uri", [
    "/billing/invoices?year=2024&page=2",
    "/",
    "/domains/example.com#dns",
])
def test_browser_login_goes_to_a_same_site_next(gw, owner, next_uri):
    r = gw.post("/auth/login", accept=HTML, data={
        "identifier": owner.email, "password": owner.password,
        "next": next_uri})

    assert r.status_code == 303
    assert r.headers["Location"] == next_uri
    token, _ = cookie_parts(r)
    assert gw.get("/after-browser-login", token).status_code == 200


@pytest.mark.parametrize("next_uri", [
    "//evil.example",
    "//evil.example/path",
    "https://evil.example/",
    "/\\evil",
    "/\\/evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "",
])
def test_browser_login_never_goes_off_site(gw, owner, next_uri):
    r = gw.post("/auth/login", accept=HTML, data={
        "identifier": owner.email, "password": owner.password,
        "next": next_uri})

    assert r.status_code == 303
    assert r.headers["Location"] == "/"
    cookie_parts(r)


def test_browser_login_without_next_goes_home(gw, owner):
    r = gw.login(owner.email, owner.password, accept=HTML)

    assert r.status_code == 303
    assert r.headers["Location"] == "/"


# ------------------------------------------------------------ failure

@pytest.mark.parametrize("accept", [JSON, HTML])
def test_wrong_password_and_unknown_account_get_the_same_answer(gw, owner,
                                                                accept):
    wrong = gw.login(owner.email, WRONG, accept=accept)
    unknown = gw.login("nobody@example.com", WRONG, accept=accept)
    not_an_id = gw.login("not an identifier", WRONG, accept=accept)

    assert wrong.status_code == 401
    assert "Set-Cookie" not in wrong.headers
    for other, typed in ((unknown, "nobody@example.com"),
                         (not_an_id, "not an identifier")):
        assert other.status_code == 401
        assert without(other, typed) == without(wrong, owner.email)
        assert headers_but_date(other) == headers_but_date(wrong)
    if accept == JSON:
        body = wrong.json()
        assert body["ok"] is False and body["error"] == "invalid_credentials"
    assert [k for k in gw.redis.keys() if ":sess:" in k] == []


def test_locked_user_is_refused_without_retry_after(gw, owner):
    ctl(gw.redis, "user", "lock", BRAND, owner.email)

    r = gw.login(owner.email, owner.password)

    assert r.status_code == 403
    assert r.json()["error"] == "account_locked"
    assert "Retry-After" not in r.headers
    assert "Set-Cookie" not in r.headers
    assert [k for k in gw.redis.keys() if ":sess:" in k] == []


# ------------------------------------------------------------ tokens

def test_redis_holds_only_the_hash_of_the_session_token(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    state = gw.redis.dump()

    sessions = [k for k in state if ":sess:" in k]
    assert sessions == [session_key(token)]
    kind, fields = state[session_key(token)]
    assert kind == "hash"
    assert fields["a"] == owner.account and fields["u"] == owner.user
    assert fields["p"] == "all"
    everything = repr(state)
    assert token not in everything
    assert token_hash(token) in everything      # only as the key's name


def test_each_login_gets_a_new_token(gw, owner):
    first = gw.login_token(owner.email, owner.password)

    r = gw.login(owner.email, owner.password,
                 headers={"Cookie": "%s=%s" % (COOKIE, first)})

    assert r.status_code == 200
    second, _ = cookie_parts(r)
    assert second != first
    assert gw.get("/first", first).status_code == 200
    assert gw.get("/second", second).status_code == 200


def test_login_never_adopts_a_token_the_client_chose(gw, owner):
    chosen = forged_token()

    r = gw.login(owner.email, owner.password,
                 headers={"Cookie": "%s=%s" % (COOKIE, chosen)})

    assert r.status_code == 200
    token, _ = cookie_parts(r)
    assert token != chosen
    assert gw.redis.call("EXISTS", session_key(chosen)) == 0
    assert gw.get("/fixated", chosen).status_code == 401


# ------------------------------------------------------------ bad requests

FORM = "application/x-www-form-urlencoded"

MALFORMED_BODIES = {
    "bad percent escape": (FORM, "identifier=owner%zz&password=x"),
    "field twice": (FORM, "identifier=owner@example.com&identifier=x"
                          "&password=Sup3r-secret!pw"),
    "decoded NUL": (FORM, "identifier=owner@example.com%00&password=x"),
    "empty field name": (FORM, "=x&identifier=owner@example.com"
                               "&password=x"),
    "invalid UTF-8": (FORM, "identifier=%ff%fe&password=x"),
    "too many fields": (FORM, "&".join("f%d=1" % i for i in range(17))),
    "missing password": (FORM, "identifier=owner@example.com"),
    "empty password": (FORM, "identifier=owner@example.com&password="),
    "password too long": (FORM, "identifier=owner@example.com&password="
                                + "A1!a" * 33),
    "truncated JSON": (JSON, '{"identifier":"owner@example.com",'
                             '"password":'),
    "nested JSON": (JSON, '{"identifier":{"a":1},"password":"x"}'),
    "JSON array": (JSON, '["owner@example.com","Sup3r-secret!pw"]'),
    "JSON trailing garbage": (JSON, '{"identifier":"owner@example.com",'
                                    '"password":"x"} x'),
    "empty JSON body": (JSON, ""),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_BODIES))
def test_malformed_login_gets_400_and_changes_nothing(gw, owner, name):
    ctype, body = MALFORMED_BODIES[name]
    before = gw.redis.dump()
    writes = gw.redis.commandstats()

    r = gw.post("/auth/login", data=body.encode(),
                headers={"Content-Type": ctype})

    assert r.status_code == 400
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["ok"] is False
    assert "Set-Cookie" not in r.headers
    assert gw.redis.dump() == before
    after = gw.redis.commandstats()
    for cmd in ("hset", "set", "sadd", "pexpire", "del", "exec"):
        assert after.get(cmd, 0) == writes.get(cmd, 0), cmd


@pytest.mark.parametrize("ctype", ["text/plain", "multipart/form-data; "
                                   "boundary=x", None])
def test_login_with_an_unsupported_content_type_gets_400(gw, owner, ctype):
    before = gw.redis.dump()
    headers = {"Content-Type": ctype} if ctype else {}

    r = gw.post("/auth/login", headers=headers,
                data=("identifier=%s&password=%s"
                      % (owner.email, owner.password)).encode())

    assert r.status_code == 400
    assert "Set-Cookie" not in r.headers
    assert gw.redis.dump() == before


def test_login_body_over_the_limit_gets_413(gw, owner):
    before = gw.redis.dump()
    body = ("identifier=%s&password=%s&pad=%s"
            % (owner.email, owner.password, "x" * 5000)).encode()

    r = gw.post("/auth/login", data=body, headers={"Content-Type": FORM})

    assert r.status_code == 413
    assert "Set-Cookie" not in r.headers
    assert gw.redis.dump() == before


def test_chunked_login_body_over_the_limit_gets_413(gw, owner):
    before = gw.redis.dump()
    parts = [("identifier=%s&password=%s&pad="
              % (owner.email, owner.password)).encode()] + [b"x" * 1000] * 5

    r = gw.post("/auth/login", data=iter(parts),
                headers={"Content-Type": FORM})

    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert r.status_code == 413
    assert "Set-Cookie" not in r.headers
    assert gw.redis.dump() == before


def test_configured_body_limit_is_honoured(make_gateway, owner):
    g = make_gateway(http="clientauth_max_body_size 100;")
    ok = ("identifier=%s&password=%s" % (owner.email, owner.password))
    big = ok + "&pad=" + "x" * (101 - len(ok) - 5)
    assert len(big) == 101

    assert g.post("/auth/login", data=big.encode(),
                  headers={"Content-Type": FORM}).status_code == 413
    assert g.post("/auth/login", data=ok.encode(),
                  headers={"Content-Type": FORM}).status_code == 200
