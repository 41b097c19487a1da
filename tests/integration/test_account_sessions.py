"""The customer's sessions in the self-service area (issue 10):
GET /auth/account/sessions and POST /auth/account/sessions/revoke (id=ID,
or all=1: every session but the one asking).
"""

import re
import time

import pytest

from account_helpers import user_key
from helpers import HTML, session_key, token_hash
from self_service_helpers import (ACCOUNT, area, on_every_worker, post,
                                  workers_gateway)

FIREFOX = ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 "
           "Firefox/120.0")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
          "Mobile/15E148 Safari/604.1")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def login_as(gw, u, agent):
    r = gw.login(u.email, u.password, headers={"User-Agent": agent})
    assert r.status_code == 200, r.text
    from helpers import cookie_token
    return cookie_token(r)


def sessions(gw, token):
    r = gw.get(ACCOUNT + "sessions", token)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()["sessions"]


def revoke(gw, token, **fields):
    return post(gw, token, "sessions/revoke", fields)


# ------------------------------------------------------------ the list

def test_list_names_each_session_without_its_token(gw, owner):
    phone = login_as(gw, owner, IPHONE)
    token = login_as(gw, owner, FIREFOX)

    listed = sessions(gw, token)

    assert len(listed) == 2
    mine = [s for s in listed if s["current"]]
    other = [s for s in listed if not s["current"]]
    assert len(mine) == 1 and len(other) == 1
    assert mine[0]["user_agent"] == "Firefox (Linux)"
    assert other[0]["user_agent"] == "Safari (iOS)"
    assert mine[0]["id"] == area(gw, token)["session"]
    for s in listed:
        assert set(s) == {"id", "created", "last_seen", "address",
                          "user_agent", "current"}
        assert re.match(r"^[0-9a-f]{32}$", s["id"])
        assert s["address"] == "127.0.0.1"
        assert ISO.match(s["created"]) and ISO.match(s["last_seen"])
        for secret in (token, phone, token_hash(token), token_hash(phone)):
            assert secret not in s["id"]


def test_another_users_sessions_are_not_listed(gw, owner, biller):
    login_as(gw, biller, FIREFOX)
    token = login_as(gw, owner, FIREFOX)

    assert len(sessions(gw, token)) == 1


def test_last_seen_follows_the_idle_refresh(gw, owner):
    token = login_as(gw, owner, FIREFOX)
    # within the idle time, past the refresh interval (60s)
    long_ago = int(time.time() * 1000) - 90 * 1000
    gw.redis.call("HSET", session_key(token), "s", long_ago, "c", long_ago)

    # the session is due for a refresh: the gateway writes "s"
    assert gw.get("/portal", token).status_code == 200

    listed = sessions(gw, token)[0]
    assert listed["created"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(long_ago // 1000))
    assert listed["last_seen"] > listed["created"]


def test_page_lists_the_sessions_with_sign_out_buttons(gw, owner):
    login_as(gw, owner, IPHONE)
    token = login_as(gw, owner, FIREFOX)
    csrf = area(gw, token)["csrf"]
    other = [s for s in sessions(gw, token) if not s["current"]][0]

    r = gw.get(ACCOUNT + "?lang=en", token, accept=HTML)

    assert r.status_code == 200
    assert "Safari (iOS)" in r.text and "Firefox (Linux)" in r.text
    assert "This device" in r.text
    assert ('action="/auth/account/sessions/revoke"><input type="hidden" '
            'name="csrf" value="%s"><input type="hidden" name="id" '
            'value="%s">' % (csrf, other["id"])) in r.text
    assert 'name="all" value="1"' in r.text


# ------------------------------------------------------------ revoke one

def test_revoke_by_id_ends_that_session_on_every_worker(make_gateway, owner):
    g = workers_gateway(make_gateway)
    other = login_as(g, owner, IPHONE)
    token = login_as(g, owner, FIREFOX)
    pids = g.nginx.worker_pids()
    assert on_every_worker(g, other) == {p: {200} for p in pids}
    victim = [s for s in sessions(g, token) if not s["current"]][0]

    r = revoke(g, token, id=victim["id"])

    assert r.status_code == 200, r.text
    assert on_every_worker(g, other) == {p: {401} for p in pids}
    assert on_every_worker(g, token) == {p: {200} for p in pids}
    assert [s["id"] for s in sessions(g, token)] == [
        area(g, token)["session"]]


def test_revoking_another_users_session_is_404_and_changes_nothing(
        gw, owner, biller):
    theirs = login_as(gw, biller, FIREFOX)
    their_id = area(gw, theirs)["session"]
    token = login_as(gw, owner, FIREFOX)
    csrf = area(gw, token)["csrf"]
    before = gw.redis.dump()

    r = post(gw, token, "sessions/revoke", {"id": their_id}, csrf=csrf)

    assert r.status_code == 404
    assert r.json()["error"] == "session_not_found"
    assert gw.redis.dump() == before
    assert gw.get("/theirs", theirs).status_code == 200


def test_unknown_id_is_404(gw, owner):
    token = login_as(gw, owner, FIREFOX)

    assert revoke(gw, token, id="0" * 32).status_code == 404


@pytest.mark.parametrize("fields", [{}, {"id": "zz"}, {"id": "A" * 32},
                                    {"all": "yes"}])
def test_malformed_or_missing_id_is_400(gw, owner, fields):
    token = login_as(gw, owner, FIREFOX)
    csrf = area(gw, token)["csrf"]
    before = gw.redis.dump()

    r = post(gw, token, "sessions/revoke", fields, csrf=csrf)

    assert r.status_code == 400
    assert gw.redis.dump() == before


def test_revoking_this_session_logs_it_out(gw, owner):
    token = login_as(gw, owner, FIREFOX)

    r = revoke(gw, token, id=area(gw, token)["session"])

    assert r.status_code == 200
    assert gw.get("/after", token).status_code == 401


def test_browser_revoke_goes_back_to_the_page_which_says_so(gw, owner):
    login_as(gw, owner, IPHONE)
    token = login_as(gw, owner, FIREFOX)
    victim = [s for s in sessions(gw, token) if not s["current"]][0]

    r = post(gw, token, "sessions/revoke", {"id": victim["id"]},
             accept=HTML)

    assert r.status_code == 303
    assert r.headers["Location"] == ACCOUNT + "?done=revoked"
    page = gw.get(ACCOUNT + "?done=revoked&lang=en", token, accept=HTML)
    assert "The session has been closed." in page.text


# ------------------------------------------------------------ revoke all

def test_all_ends_every_other_session_and_keeps_this_one(make_gateway,
                                                         owner):
    g = workers_gateway(make_gateway)
    others = [login_as(g, owner, IPHONE) for _ in range(3)]
    token = login_as(g, owner, FIREFOX)
    pids = g.nginx.worker_pids()
    sgen = g.redis.call("HGET", user_key(owner.account, owner.user), "sgen")

    r = revoke(g, token, all="1")

    assert r.status_code == 200, r.text
    for other in others:
        assert on_every_worker(g, other) == {p: {401} for p in pids}
        assert g.redis.call("EXISTS", session_key(other)) == 0
    assert on_every_worker(g, token) == {p: {200} for p in pids}
    assert [s["current"] for s in sessions(g, token)] == [True]
    assert g.redis.call("HGET", user_key(owner.account, owner.user),
                        "sgen") != sgen


def test_all_ends_even_a_session_the_index_does_not_list(gw, owner):
    hidden = login_as(gw, owner, IPHONE)
    token = login_as(gw, owner, FIREFOX)
    gw.redis.call("SREM", user_key(owner.account, owner.user) + ":sessions",
                  token_hash(hidden))

    assert revoke(gw, token, all="1").status_code == 200

    assert gw.get("/hidden", hidden).status_code == 401
    assert gw.get("/mine", token).status_code == 200


# ------------------------------------------------------------ refusals

def test_revoke_without_the_csrf_token_is_403(gw, owner):
    other = login_as(gw, owner, IPHONE)
    token = login_as(gw, owner, FIREFOX)
    before = gw.redis.dump()

    r = post(gw, token, "sessions/revoke", {"all": "1"}, csrf="")

    assert r.status_code == 403
    assert gw.redis.dump() == before
    assert gw.get("/other", other).status_code == 200


def test_cross_site_revoke_is_refused(gw, owner):
    other = login_as(gw, owner, IPHONE)
    token = login_as(gw, owner, FIREFOX)
    before = gw.redis.dump()

    r = post(gw, token, "sessions/revoke", {"all": "1"},
             headers={"Sec-Fetch-Site": "cross-site"})

    assert r.status_code == 403
    assert r.json()["error"] == "cross_site"
    assert gw.redis.dump() == before


def test_sessions_without_a_session_is_401(gw):
    assert gw.get(ACCOUNT + "sessions").status_code == 401


# ------------------------------------------------------------ support

def test_clientauthctl_lists_what_the_customer_sees(gw, owner):
    from helpers import BRAND, ctl
    phone = login_as(gw, owner, IPHONE)
    token = login_as(gw, owner, FIREFOX)
    listed = {s["id"]: s for s in sessions(gw, token)}

    out = ctl(gw.redis, "sessions", "list", BRAND, owner.email).stdout

    lines = out.splitlines()
    assert len(lines) == 2
    for line in lines:
        sid = line.split()[0]
        s = listed[sid]
        assert "created=%s" % s["created"] in line
        assert "address=127.0.0.1" in line
        assert 'device="%s"' % s["user_agent"] in line
    for secret in (token, phone, token_hash(token), token_hash(phone)):
        assert secret not in out
