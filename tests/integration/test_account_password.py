"""Password change from the self-service area (issue 10): POST
/auth/account/password current_password password password_confirm.

The current password is checked like a login (the lockout counts a wrong
one), then the rules and the history; every other session of the user ends
at once, on every worker, and this one stays logged in.
"""

import re

import pytest

from account_helpers import user_key
from helpers import HTML, session_key
from login_helpers import login_key, WRONG
from reset_helpers import outbox
from self_service_helpers import (ACCOUNT, area, on_every_worker, post,
                                  workers_gateway)

NEW = "N3w-secret!pw"


def change(gw, token, current, new=NEW, confirm=None, **kw):
    return post(gw, token, "password",
                {"current_password": current, "password": new,
                 "password_confirm": new if confirm is None else confirm},
                **kw)


def fails(gw, u):
    return gw.redis.call("GET", login_key("fails", "account", u.account))


def user_record(gw, u):
    return gw.redis.hgetall(user_key(u.account, u.user))


# ------------------------------------------------------------ success

def test_password_changed_this_session_stays_the_others_end(gw, owner):
    other = gw.login_token(owner.email, owner.password)
    token = gw.login_token(owner.email, owner.password)
    assert gw.get("/before", other).status_code == 200
    old_hash = user_record(gw, owner)["hash"]

    r = change(gw, token, owner.password)

    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True
    assert gw.get("/after", token).status_code == 200
    assert area(gw, token)["email"] == owner.email
    assert gw.get("/after", other).status_code == 401
    assert gw.redis.call("EXISTS", session_key(other)) == 0
    assert gw.login(owner.email, owner.password).status_code == 401
    assert gw.login(owner.email, NEW).status_code == 200
    history = gw.redis.call("LRANGE",
                            user_key(owner.account, owner.user) + ":history",
                            0, -1)
    assert history[0] == old_hash


def test_password_changed_is_queued_for_the_mailer(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    assert change(gw, token, owner.password).status_code == 200

    sent = outbox(gw.redis, type="password_changed")
    assert len(sent) == 1
    assert sent[0]["to"] == owner.email
    assert sent[0]["account"] == owner.account
    assert sent[0]["user"] == owner.user


def test_the_session_can_change_it_again(gw, owner):
    """After the change, the session is in the new generation and its
    token still works for the next change."""
    token = gw.login_token(owner.email, owner.password)
    assert change(gw, token, owner.password).status_code == 200

    r = change(gw, token, NEW, new="An0ther-secret!pw")

    assert r.status_code == 200, r.text
    assert gw.login(owner.email, "An0ther-secret!pw").status_code == 200


def test_a_pending_reset_link_dies_with_the_change(gw, owner):
    token = gw.login_token(owner.email, owner.password)
    gw.redis.call("HSET", user_key(owner.account, owner.user), "reset",
                  "a" * 64)

    assert change(gw, token, owner.password).status_code == 200

    assert "reset" not in user_record(gw, owner)


def test_browser_form_goes_back_to_the_page_which_says_so(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = change(gw, token, owner.password, accept=HTML)

    assert r.status_code == 303
    assert r.headers["Location"] == ACCOUNT + "?done=password"
    page = gw.get(r.headers["Location"] + "&lang=en", token, accept=HTML)
    assert "Your password has been changed" in page.text


def test_other_sessions_end_on_every_worker(make_gateway, owner):
    g = workers_gateway(make_gateway)
    other = g.login_token(owner.email, owner.password)
    token = g.login_token(owner.email, owner.password)
    assert on_every_worker(g, other) == {p: {200}
                                         for p in g.nginx.worker_pids()}

    assert change(g, token, owner.password).status_code == 200

    assert on_every_worker(g, other) == {p: {401}
                                         for p in g.nginx.worker_pids()}
    assert on_every_worker(g, token) == {p: {200}
                                         for p in g.nginx.worker_pids()}


# ------------------------------------------------------------ refusals

def test_wrong_current_password_is_403_and_counted(gw, owner):
    token = gw.login_token(owner.email, owner.password)
    before = user_record(gw, owner)

    r = change(gw, token, WRONG)

    assert r.status_code == 403
    assert r.json()["error"] == "wrong_password"
    assert user_record(gw, owner) == before
    assert fails(gw, owner) == "1"
    assert gw.get("/still", token).status_code == 200


def test_wrong_current_passwords_lock_the_account_out(make_gateway, owner):
    g = make_gateway(server="clientauth_lockout 3 15m 5m;")
    token = g.login_token(owner.email, owner.password)

    for _ in range(3):
        assert change(g, token, WRONG).status_code == 403

    r = change(g, token, owner.password)

    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert g.login(owner.email, owner.password).status_code == 429
    assert g.login(owner.email, NEW).status_code == 429


def test_right_current_password_clears_the_failures(gw, owner):
    token = gw.login_token(owner.email, owner.password)
    assert change(gw, token, WRONG).status_code == 403
    assert fails(gw, owner) == "1"

    assert change(gw, token, owner.password).status_code == 200

    assert fails(gw, owner) is None


@pytest.mark.parametrize("new, rule", [
    ("short1!A", None),
    ("alllowercase1!", "no_upper"),
    ("N0-special-but-space here", "whitespace"),
    ("owner@example.com", "identifier"),
])
def test_broken_rules_are_422_and_nothing_is_counted(gw, owner, new, rule):
    token = gw.login_token(owner.email, owner.password)
    before = gw.redis.dump()

    r = change(gw, token, owner.password, new=new)

    if rule is None:
        assert r.status_code == 200, r.text
        return
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "password_policy"
    assert rule in body["rules"]
    assert gw.redis.dump() == before


def test_confirmation_mismatch_is_422(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = change(gw, token, owner.password, confirm=NEW + "x")

    assert r.status_code == 422
    assert r.json()["rules"] == ["mismatch"]


def test_the_current_password_again_is_reused(gw, owner):
    token = gw.login_token(owner.email, owner.password)
    before = user_record(gw, owner)

    r = change(gw, token, owner.password, new=owner.password)

    assert r.status_code == 422
    assert r.json()["rules"] == ["reused"]
    assert user_record(gw, owner) == before
    assert fails(gw, owner) is None


def test_a_former_password_is_reused(gw, owner):
    token = gw.login_token(owner.email, owner.password)
    assert change(gw, token, owner.password).status_code == 200

    r = change(gw, token, NEW, new=owner.password)

    assert r.status_code == 422
    assert r.json()["rules"] == ["reused"]


@pytest.mark.parametrize("fields", [
    {"password": NEW, "password_confirm": NEW},
    {"current_password": "x", "password_confirm": NEW},
])
def test_missing_fields_are_400(gw, owner, fields):
    token = gw.login_token(owner.email, owner.password)
    before = gw.redis.dump()

    r = post(gw, token, "password", fields)

    assert r.status_code == 400
    assert r.json()["error"] == "missing_field"
    assert gw.redis.dump() == before


def test_page_shows_the_broken_rules(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = change(gw, token, owner.password, new="weak", accept=HTML)

    assert r.status_code == 422
    assert 'role="alert"' in r.text
    assert re.search(r'<li[^>]*class="broken"[^>]*data-rule="too_short"',
                     r.text) or 'data-rule="too_short"' in r.text


def test_page_says_the_current_password_is_wrong(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = change(gw, token, WRONG, accept=HTML)

    assert r.status_code == 403
    assert "The current password is not correct." in r.text
    assert 'name="csrf" value="%s"' % area(gw, token)["csrf"] in r.text


def test_get_is_405(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = gw.get(ACCOUNT + "password", token)

    assert r.status_code == 405
    assert r.headers["Allow"] == "POST"


def test_many_other_sessions_all_end(make_gateway, owner):
    """More sessions than one command's arguments hold."""
    from reset_helpers import ROOMY_LOGIN
    g = make_gateway(server=ROOMY_LOGIN)
    others = [g.login_token(owner.email, owner.password) for _ in range(40)]
    token = g.login_token(owner.email, owner.password)

    assert change(g, token, owner.password).status_code == 200

    assert [t for t in others
            if g.redis.call("EXISTS", session_key(t))] == []
    assert g.redis.call("SMEMBERS", user_key(owner.account, owner.user)
                        + ":sessions") == [session_key(token).rsplit(":")[-1]]


def test_password_set_by_support_while_hashing_wins(make_gateway, owner):
    """The check-and-set: a password support sets while the new one is
    being hashed is never overwritten, and nothing of the change applies."""
    import threading
    from helpers import wait_until
    g = make_gateway(hash_cost="t=4 m=64m")      # hashing takes a while
    other = g.login_token(owner.email, owner.password)
    token = g.login_token(owner.email, owner.password)
    csrf = area(g, token)["csrf"]
    key = user_key(owner.account, owner.user)
    result = {}

    def run():
        result["r"] = change(g, token, owner.password, csrf=csrf)

    t = threading.Thread(target=run)
    t.start()
    # counted: the record was read, the passwords are being hashed
    wait_until(lambda: fails(g, owner) == "1", 5, "the attempt counted")
    g.redis.call("HSET", key, "hash", "support-set-hash")
    t.join(30)

    assert result["r"].status_code == 403
    assert g.redis.call("HGET", key, "hash") == "support-set-hash"
    assert g.redis.call("EXISTS", session_key(other)) == 1
    assert outbox(g.redis, type="password_changed") == []
