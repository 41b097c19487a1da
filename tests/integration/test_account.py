"""The self-service area, /auth/account/ (issue 10): the customer's own page
and what it takes to change anything there (a session, the same origin,
the session's CSRF token).
"""

import html
import re

import pytest

from helpers import (BRAND, HTML, free_port, gateway_conf, nginx_check,
                     session_key)
from reset_helpers import TOKEN_RE
from self_service_helpers import ACCOUNT, area as account_json, post

NEW = "N3w-secret!pw"


# ------------------------------------------------------------ the session

def test_browser_without_session_goes_to_login_with_the_way_back(gw):
    r = gw.get(ACCOUNT, accept=HTML)

    assert r.status_code == 302
    assert r.headers["Location"] == "/auth/login?next=%2Fauth%2Faccount%2F"


def test_api_without_session_gets_401(gw):
    r = gw.get(ACCOUNT + "sessions")

    assert r.status_code == 401
    assert r.json()["error"] == "unauthenticated"


def test_revoked_session_has_no_area(gw, owner):
    token = gw.login_token(owner.email, owner.password)
    gw.redis.call("DEL", session_key(token))

    assert gw.get(ACCOUNT, token).status_code == 401


# ------------------------------------------------------------ GET, JSON

def test_json_client_learns_who_it_is_and_its_csrf_token(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    body = account_json(gw, token)

    assert body["ok"] is True
    assert TOKEN_RE.match(body["csrf"])
    assert body["csrf"] != token
    assert body["account"] == owner.account
    assert body["user"] == owner.user
    assert body["email"] == owner.email
    assert body["permissions"] == ["all"]
    assert body["role"] == "owner"
    assert body["brand"] == BRAND
    assert re.match(r"^[0-9a-f]{32}$", body["session"])


def test_sub_user_sees_its_own_permissions(gw, biller):
    token = gw.login_token(biller.email, biller.password)

    body = account_json(gw, token)

    assert body["permissions"] == ["billing"]
    assert body["role"] == "subuser"
    assert body["email"] == biller.email


def test_each_session_has_its_own_csrf_token_and_id(gw, owner):
    one = account_json(gw, gw.login_token(owner.email, owner.password))
    two = account_json(gw, gw.login_token(owner.email, owner.password))

    assert one["csrf"] != two["csrf"]
    assert one["session"] != two["session"]


def test_session_record_holds_token_id_time_and_address(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    record = gw.redis.hgetall(session_key(token))
    body = account_json(gw, token)

    assert record["k"] == body["csrf"]
    assert record["i"] == body["session"]
    assert record["c"] == record["s"]
    assert record["ip"] == "127.0.0.1"


def test_protected_requests_do_not_read_the_csrf_token(gw, owner):
    """The hot path's HMGET stays what it was: a u x s g."""
    token = gw.login_token(owner.email, owner.password)
    gw.redis.call("CONFIG", "RESETSTAT")
    gw.redis.call("HSET", session_key(token), "k", "x")

    assert gw.get("/portal", token).status_code == 200
    assert gw.redis.commandstats().get("hmget") == 2


# ------------------------------------------------------------ GET, page

@pytest.mark.parametrize("lang, title", [
    ("es", "Mi cuenta"), ("fr", "Mon compte"), ("en", "My account")])
def test_page_in_the_customers_language_with_the_token(gw, owner, lang,
                                                      title):
    token = gw.login_token(owner.email, owner.password)
    csrf = account_json(gw, token)["csrf"]

    r = gw.get(ACCOUNT + "?lang=" + lang, token, accept=HTML)

    assert r.status_code == 200
    assert '<html lang="%s">' % lang in r.text
    assert "<h1>%s</h1>" % title in r.text
    assert html.escape(owner.email) in r.text
    forms = re.findall(r'<form method="post" action="/auth/account/[^"]*">'
                       r'\s*<input type="hidden" name="csrf" value="([^"]+)"',
                       r.text)
    assert forms and set(forms) == {csrf}
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-store"


def test_page_has_the_password_fields_with_eyes_and_rules(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = gw.get(ACCOUNT, token, accept=HTML)

    for field in ("current_password", "password", "password_confirm"):
        assert 'name="%s" type="password"' % field in r.text
        assert 'aria-controls="%s"' % field in r.text
    assert 'id="rules"' in r.text
    assert 'autocomplete="current-password"' in r.text


# ------------------------------------------------------------ routing

def test_unknown_path_is_404(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = gw.get(ACCOUNT + "nothing-here", token)

    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_post_to_the_page_is_405(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = gw.post(ACCOUNT, token)

    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, HEAD"


def test_clientauth_off_in_the_area_fails_nginx_t(tmp_path, redis_store,
                                                 backend):
    conf = tmp_path / "nginx.conf"
    conf.write_text(gateway_conf(tmp_path, free_port(), redis_store.port,
                                 backend.port, locations="""
        location /other-account/ { clientauth off; clientauth_account; }
"""))
    proc = nginx_check(tmp_path, conf)

    assert proc.returncode != 0
    assert "needs a session" in proc.stdout


# ------------------------------------------------------------ CSRF

def change_fields(owner):
    return {"current_password": owner.password, "password": NEW,
            "password_confirm": NEW}


@pytest.mark.parametrize("csrf", ["", "x" * 43, "short"])
def test_change_without_the_sessions_csrf_token_is_403(gw, owner, csrf):
    token = gw.login_token(owner.email, owner.password)
    before = gw.redis.dump()

    r = post(gw, token, "password", change_fields(owner), csrf=csrf)

    assert r.status_code == 403
    assert r.json()["error"] == "csrf"
    assert gw.redis.dump() == before
    assert gw.login(owner.email, NEW).status_code == 401


def test_another_sessions_csrf_token_is_403(gw, owner):
    mine = gw.login_token(owner.email, owner.password)
    other = account_json(gw, gw.login_token(owner.email, owner.password))
    before = gw.redis.dump()

    r = post(gw, mine, "password", change_fields(owner), csrf=other["csrf"])

    assert r.status_code == 403
    assert gw.redis.dump() == before


def test_csrf_token_as_header_with_a_json_body(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = post(gw, token, "password", change_fields(owner), as_header=True)

    assert r.status_code == 200, r.text
    assert gw.login(owner.email, NEW).status_code == 200


def test_session_without_a_csrf_token_cannot_change_anything(gw, owner):
    """A session made before sessions had a token: log in again."""
    token = gw.login_token(owner.email, owner.password)
    gw.redis.call("HDEL", session_key(token), "k")
    before = gw.redis.dump()

    r = post(gw, token, "password", change_fields(owner), csrf="")

    assert r.status_code == 403
    assert gw.redis.dump() == before


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example"},
])
def test_cross_site_post_is_refused_and_changes_nothing(gw, owner, headers):
    token = gw.login_token(owner.email, owner.password)
    csrf = account_json(gw, token)["csrf"]
    before = gw.redis.dump()

    r = post(gw, token, "password", change_fields(owner), csrf=csrf,
             headers=headers)

    assert r.status_code == 403
    assert r.json()["error"] == "cross_site"
    assert gw.redis.dump() == before


def test_same_origin_browser_post_with_the_token_is_accepted(gw, owner):
    token = gw.login_token(owner.email, owner.password)
    host = "127.0.0.1:%d" % gw.port

    r = post(gw, token, "password", change_fields(owner),
             headers={"Origin": "http://" + host,
                      "Sec-Fetch-Site": "same-origin"})

    assert r.status_code == 200, r.text
