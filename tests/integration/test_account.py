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

ACCOUNT = "/auth/account/"


def account_json(gw, token):
    r = gw.get(ACCOUNT, token)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


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
