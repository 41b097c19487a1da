"""Primary e-mail change (issue 10): OVH's flow, made safer.

POST /auth/account/email (email, current_password) sends email_change_code
(8 digits, and a "this was not me" link) to the current address and
email_verify (a single-use link) to the new one; the change applies when
the code is confirmed and the link opened, or, with
clientauth_email_change_grace, once the link is opened and the grace time
has passed.  Each test is a customer's (or an attacker's) story on a
gateway of its own; the messages are read from the outbox as the mailers
would.
"""

import time
import urllib.parse

import pytest

from faultproxy import FaultProxy
from helpers import BRAND, HTML, JSON, add_user, ctl, wait_until
from reset_helpers import ask_link, check_link, confirm, outbox

PASSWORD = "Sup3r-secret!pw"
OLD = "ana@example.com"
NEW = "ana.nueva@example.com"
ACCOUNT = "/auth/account/"
CANCEL = "/auth/email/cancel"

LOCATIONS = """
        location = /auth/email/cancel { clientauth_email_cancel; }
        location = /auth/reset          { clientauth_reset_request; }
        location = /auth/reset/confirm  { clientauth_reset_confirm; }
"""
ROOMY = ("clientauth_login_limit account 1000 1h;\n"
         "clientauth_login_limit address 1000 1h;\n"
         "clientauth_lockout 100 1h 1s;\n")


def gateway(make_gateway, server="", **conf):
    conf.setdefault("locations", LOCATIONS)
    return make_gateway(server=ROOMY + server, **conf)


def index_key(email):
    return "ca:%s:id:email:%s" % (BRAND, email)


def change_key(who):
    return "ca:{%s:%s}:user:%s:email-change" % (BRAND, who.account, who.user)


def user_key(who):
    return "ca:{%s:%s}:user:%s" % (BRAND, who.account, who.user)


class Session:
    """A logged-in JSON client of the area: its cookie and CSRF token."""

    def __init__(self, g, email, password=PASSWORD):
        self.g = g
        self.token = g.login_token(email, password)
        r = g.get(ACCOUNT, self.token)
        assert r.status_code == 200, r.text
        self.csrf = r.json()["csrf"]

    def post(self, path, data, accept=JSON):
        return self.g.post(ACCOUNT + path, self.token, accept=accept,
                           data=data, headers={"X-CSRF-Token": self.csrf})

    def get(self, path, accept=JSON):
        return self.g.get(ACCOUNT + path, self.token, accept=accept)

    def ask(self, new=NEW, password=PASSWORD):
        return self.post("email", {"email": new,
                                   "current_password": password})

    def confirm(self, code):
        return self.post("email/confirm", {"code": code})

    def open(self, url):
        """The verify link as the browser opens it (path and query)."""
        parts = urllib.parse.urlsplit(url)
        return self.g.get(parts.path + "?" + parts.query, self.token)


def asked(s, new=NEW):
    """Asks for the change; (code, verify link, cancel link) as mailed."""
    r = s.ask(new)
    assert r.status_code == 202, (r.status_code, r.text)
    [code_msg] = outbox(s.g.redis, type="email_change_code")[-1:]
    [verify_msg] = outbox(s.g.redis, type="email_verify")[-1:]
    return code_msg["code"], verify_msg["url"], code_msg["url"]


def snapshot(g, who):
    """What a change moves: the user, the two index keys, the account."""
    return (g.redis.hgetall(user_key(who)),
            g.redis.call("GET", index_key(OLD)),
            g.redis.call("GET", index_key(NEW)),
            g.redis.call("HGET", "ca:{%s:%s}:account" % (BRAND, who.account),
                         "email"))


def assert_changed(g, who):
    ref = "%s:%s" % (who.account, who.user)
    assert g.redis.call("GET", index_key(NEW)) == ref
    assert g.redis.call("EXISTS", index_key(OLD)) == 0
    assert g.redis.call("HGET", user_key(who), "email") == NEW
    assert g.redis.call("HGET", "ca:{%s:%s}:account" % (BRAND, who.account),
                        "email") == NEW
    assert g.redis.call("EXISTS", change_key(who)) == 0
    sent = outbox(g.redis, type="email_changed")
    assert sorted(m["to"] for m in sent) == sorted([OLD, NEW])
    for m in sent:
        assert (m["old_email"], m["new_email"]) == (OLD, NEW)
    # the index moved: the new address logs in, the old one no longer does
    assert g.login(NEW, PASSWORD).status_code == 200
    assert g.login(OLD, PASSWORD).status_code == 401


def accounts(g):
    """Redis but the throttle's counters (a password check counts)."""
    return {k: v for k, v in g.redis.dump().items()
            if not any(":%s:" % c in k for c in ("rl", "fails", "lock",
                                                 "bans"))}


def assert_unchanged(g, who, before):
    assert snapshot(g, who) == before
    assert outbox(g.redis, type="email_changed") == []


# ================================================================ request

def test_request_sends_a_code_to_the_current_and_a_link_to_the_new(
        make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    before = snapshot(g, ana)

    code, verify, cancel = asked(s, "Ana.Nueva@Example.COM")

    [c] = outbox(g.redis, type="email_change_code")
    [v] = outbox(g.redis, type="email_verify")
    assert (c["to"], c["account"], c["user"]) == (OLD, ana.account, ana.user)
    assert len(code) == 8 and code.isdigit()
    assert c["new_email"] == NEW
    assert urllib.parse.urlsplit(cancel).path == CANCEL
    assert v["to"] == NEW and "code" not in v
    assert urllib.parse.urlsplit(verify).path == ACCOUNT + "email/verify"
    # at rest: hashes only, with a lifetime; nothing moved yet
    record = g.redis.hgetall(change_key(ana))
    assert record["email"] == NEW
    assert code not in record.values()
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(verify).query)[
        "token"][0] not in record.values()
    assert 0 < g.redis.call("PTTL", change_key(ana)) <= 2 * 3600 * 1000
    assert snapshot(g, ana) == before


@pytest.mark.parametrize("data, status, error", [
    ({"email": NEW}, 400, "missing_field"),
    ({"current_password": PASSWORD}, 400, "missing_field"),
    ({"email": "not-an-address", "current_password": PASSWORD}, 422,
     "invalid_email"),
    ({"email": "ANA@example.com", "current_password": PASSWORD}, 422,
     "same_email"),
    ({"email": NEW, "current_password": "Wr0ng-password!"}, 403,
     "wrong_password"),
], ids=["no-password", "no-email", "invalid", "same", "wrong-password"])
def test_refused_request_changes_nothing(make_gateway, data, status, error):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    before = g.redis.dump()

    r = s.post("email", data)

    assert r.status_code == status, (r.status_code, r.text)
    assert r.json()["error"] == error
    assert g.redis.call("EXISTS", change_key(ana)) == 0
    assert outbox(g.redis, type="email_change_code") == []
    if error != "wrong_password":
        assert g.redis.dump() == before


def test_wrong_current_passwords_are_counted_by_the_lockout(make_gateway):
    g = make_gateway(server="clientauth_lockout 3 15m 5m;\n"
                            "clientauth_login_limit account 1000 1h;\n",
                     locations=LOCATIONS)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)

    for _ in range(3):
        assert s.ask(password="Wr0ng-password!").status_code == 403
    r = s.ask()                     # locked out: even the right one waits

    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) > 0
    assert g.redis.call("EXISTS", change_key(ana)) == 0
    assert outbox(g.redis, type="email_change_code") == []
    # a login of the account is locked out as well
    assert g.login(OLD, PASSWORD).status_code == 429


def test_right_password_clears_the_failure_count(make_gateway):
    g = make_gateway(server="clientauth_lockout 3 15m 5m;\n"
                            "clientauth_login_limit account 1000 1h;\n",
                     locations=LOCATIONS)
    add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)

    for _ in range(2):
        assert s.ask(password="Wr0ng-password!").status_code == 403
    assert s.ask().status_code == 202
    for _ in range(2):
        assert s.ask(password="Wr0ng-password!").status_code == 403
    assert s.ask().status_code == 202


def test_request_without_the_csrf_token_is_403(make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)

    r = g.post(ACCOUNT + "email", s.token,
               data={"email": NEW, "current_password": PASSWORD})

    assert r.status_code == 403
    assert g.redis.call("EXISTS", change_key(ana)) == 0


@pytest.mark.parametrize("holder", ["other-account", "own-sub-user"])
def test_address_in_use_is_refused_alike_whoever_holds_it(make_gateway,
                                                          holder):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    if holder == "other-account":
        add_user(g.redis, NEW, PASSWORD)
    else:
        add_user(g.redis, NEW, PASSWORD, perms=["billing"], parent=OLD)
    s = Session(g, OLD)
    before = accounts(g)

    r = s.ask(NEW.upper())

    assert r.status_code == 409, r.text
    assert r.json() == {"ok": False, "error": "email_unavailable",
                        "message": "This address cannot be used for your "
                                   "customer area. Choose another one."}
    assert accounts(g) == before
    assert outbox(g.redis) == []
    assert ana.account not in r.text


# ================================================================ applying

def test_code_then_link_moves_the_login_index(make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    code, verify, _ = asked(s)

    r = s.confirm(code[:4] + " " + code[4:])
    assert r.status_code == 200, r.text
    assert g.redis.call("HGET", user_key(ana), "email") == OLD
    assert s.get("email").json()["confirmed"] is True

    r = s.open(verify)
    assert r.status_code == 200, r.text
    assert_changed(g, ana)


def test_link_then_code_moves_the_login_index(make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    code, verify, _ = asked(s)

    r = s.open(verify)
    assert r.status_code == 200, r.text
    assert s.get("email").json()["verified"] is True
    assert g.redis.call("HGET", user_key(ana), "email") == OLD

    assert s.confirm(code).status_code == 200
    assert_changed(g, ana)


def test_code_and_link_are_single_use(make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    code, verify, cancel = asked(s)
    assert s.open(verify).status_code == 200
    assert s.confirm(code).status_code == 200
    after = snapshot(g, ana)

    again = s.confirm(code)
    assert again.status_code == 410
    assert again.json()["error"] == "no_email_change"
    assert s.open(verify).status_code == 410
    assert g.post(CANCEL, data={"token": token_of(cancel)}).status_code == 410
    assert snapshot(g, ana) == after


def test_verify_link_twice_before_the_code_is_410(make_gateway):
    g = gateway(make_gateway)
    add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    _, verify, _ = asked(s)

    assert s.open(verify).status_code == 200
    assert s.open(verify).status_code == 410


def test_another_user_cannot_use_the_verify_link(make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    add_user(g.redis, "eve@example.com", PASSWORD)
    _, verify, _ = asked(Session(g, OLD))
    eve = Session(g, "eve@example.com")

    assert eve.open(verify).status_code == 410
    assert g.redis.hgetall(change_key(ana)).get("verified") is None


def test_a_new_request_replaces_the_pending_one(make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    first_code, first_link, _ = asked(s, "first@example.com")
    code, verify, _ = asked(s)

    assert s.open(first_link).status_code == 410
    if first_code != code:
        assert s.confirm(first_code).status_code == 422
    assert s.confirm(code).status_code == 200
    assert s.open(verify).status_code == 200
    assert_changed(g, ana)


def test_sub_user_changes_its_own_address_not_the_account_s(make_gateway):
    g = gateway(make_gateway)
    owner = add_user(g.redis, "owner@example.com", PASSWORD)
    sub = add_user(g.redis, OLD, PASSWORD, perms=["billing"],
                   parent="owner@example.com")
    s = Session(g, OLD)
    code, verify, _ = asked(s)

    s.confirm(code)
    assert s.open(verify).status_code == 200

    assert g.redis.call("HGET", user_key(sub), "email") == NEW
    assert g.redis.call("GET", index_key(NEW)) == "%s:%s" % (sub.account,
                                                             sub.user)
    assert g.redis.call("HGET", "ca:{%s:%s}:account" % (BRAND, owner.account),
                        "email") == "owner@example.com"


# ================================================================ the code

def test_five_wrong_codes_cancel_the_change(make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    code, verify, _ = asked(s)
    before = snapshot(g, ana)
    wrong = "%08d" % ((int(code) + 1) % 100000000)

    for left in (4, 3, 2, 1):
        r = s.confirm(wrong)
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "wrong_code"
        assert r.json()["message"].endswith("Tries left: %d." % left)
    r = s.confirm(wrong)
    assert r.status_code == 410
    assert r.json()["error"] == "code_dead"

    # dead: the right code, the link, nothing brings it back
    assert g.redis.call("EXISTS", change_key(ana)) == 0
    assert s.confirm(code).status_code == 410
    assert s.open(verify).status_code == 410
    assert_unchanged(g, ana, before)


def test_browser_sees_the_refusals_on_the_change_s_page(make_gateway):
    g = gateway(make_gateway)
    add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)

    r = s.post("email?lang=en", {"email": NEW, "csrf": s.csrf,
                                 "current_password": "Wr0ng-password!"},
               accept=HTML)
    assert r.status_code == 403
    assert "The current password is not correct." in r.text
    assert 'name="email"' in r.text

    r = s.post("email?lang=en", {"email": NEW, "csrf": s.csrf,
                                 "current_password": PASSWORD}, accept=HTML)
    assert r.status_code == 303
    assert r.headers["Location"] == ACCOUNT + "email?done=email_requested"

    r = s.post("email/confirm?lang=en", {"code": "00000000", "csrf": s.csrf},
               accept=HTML)
    assert r.status_code in (200, 422)
    if r.status_code == 422:
        assert "The code is not correct. Tries left: 4." in r.text
        assert 'aria-invalid="true"' in r.text
        assert NEW in r.text


@pytest.mark.parametrize("code", ["1234567", "123456789", "abcdefgh", ""])
def test_malformed_code_is_400_and_not_a_try(make_gateway, code):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    asked(s)

    r = s.confirm(code)

    assert r.status_code == 400
    assert g.redis.call("HGET", change_key(ana), "tries") == "0"


def test_expired_code_and_link_are_dead(make_gateway):
    g = gateway(make_gateway, "clientauth_reset_lifetime 1s;\n")
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    code, verify, _ = asked(s)
    before = snapshot(g, ana)
    time.sleep(1.1)

    r = s.confirm(code)
    assert r.status_code == 410, r.text
    assert s.open(verify).status_code == 410
    assert_unchanged(g, ana, before)
    assert s.get("email").json() == {"ok": True, "pending": False}


def test_expired_code_is_dead_while_the_change_is_kept_for_its_grace(
        make_gateway):
    g = gateway(make_gateway, "clientauth_reset_lifetime 1s;\n"
                              "clientauth_email_change_grace 1h;\n")
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    code, verify, _ = asked(s)
    before = snapshot(g, ana)
    time.sleep(1.1)

    assert g.redis.call("PTTL", change_key(ana)) > 3600 * 1000
    assert s.confirm(code).status_code == 410
    assert s.open(verify).status_code == 410
    assert g.redis.call("EXISTS", change_key(ana)) == 0
    assert_unchanged(g, ana, before)


# ================================================================ cancel

def token_of(url):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"][0]


def test_this_was_not_me_link_cancels_without_a_session(make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    code, verify, cancel = asked(s)
    before = snapshot(g, ana)

    # opening the link cancels nothing (mail scanners open links)
    page = g.get(CANCEL + "?token=" + token_of(cancel), accept=HTML)
    assert page.status_code == 200
    assert 'name="token" value="%s"' % token_of(cancel) in page.text
    assert g.redis.call("EXISTS", change_key(ana)) == 1

    r = g.post(CANCEL, data={"token": token_of(cancel)})
    assert r.status_code == 200, r.text
    assert g.redis.call("EXISTS", change_key(ana)) == 0
    assert s.confirm(code).status_code == 410
    assert s.open(verify).status_code == 410
    assert_unchanged(g, ana, before)
    assert g.post(CANCEL, data={"token": token_of(cancel)}).status_code == 410


def test_cancel_link_refuses_forged_and_cross_site(make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    _, _, cancel = asked(Session(g, OLD))
    token = token_of(cancel)
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BA")

    assert g.post(CANCEL, data={"token": forged}).status_code == 410
    assert g.post(CANCEL, data={"token": "x"}).status_code == 410
    assert g.post(CANCEL, data={"token": token},
                  headers={"Origin": "https://evil.example"}
                  ).status_code == 403
    assert g.redis.call("EXISTS", change_key(ana)) == 1


def test_user_gives_up_the_change_from_the_area(make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    asked(s)

    assert s.post("email/cancel", {}).status_code == 200
    assert g.redis.call("EXISTS", change_key(ana)) == 0
    assert s.post("email/cancel", {}).status_code == 410


# ================================================================ grace

def test_grace_applies_a_verified_change_without_the_code(make_gateway):
    g = gateway(make_gateway, "clientauth_email_change_grace 1s;\n")
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    _, verify, _ = asked(s)
    assert s.open(verify).status_code == 200

    status = s.get("email").json()
    assert status["pending"] is True and status["due"] is not None
    assert g.redis.call("HGET", user_key(ana), "email") == OLD

    time.sleep(1.1)
    r = s.get("email")                      # touched: it applies
    assert r.status_code == 200, r.text
    assert_changed(g, ana)


def test_support_sees_a_pending_change(make_gateway):
    g = gateway(make_gateway, "clientauth_email_change_grace 24h;\n")
    add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    _, verify, _ = asked(s)
    assert s.open(verify).status_code == 200

    shown = ctl(g.redis, "user", "show", BRAND, OLD).stdout

    assert ("email_change: %s (code confirmed: no, new address verified: "
            "yes)" % NEW) in shown
    assert "email_change_due: " in shown
    s.post("email/cancel", {})
    assert "email_change" not in ctl(g.redis, "user", "show", BRAND,
                                     OLD).stdout


@pytest.mark.parametrize("accept", [JSON, HTML], ids=["json", "html"])
def test_grace_applies_as_the_area_s_page_is_viewed(make_gateway, accept):
    g = gateway(make_gateway, "clientauth_email_change_grace 1s;\n")
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    _, verify, _ = asked(s)
    assert s.open(verify).status_code == 200
    assert s.get("").json()["email"] == OLD         # not due yet

    time.sleep(1.1)
    r = s.get("", accept=accept)

    assert r.status_code == 200, r.text
    if accept == JSON:
        assert r.json()["email"] == NEW
    else:
        assert NEW in r.text
    assert_changed(g, ana)


def test_grace_needs_the_new_address_verified(make_gateway):
    g = gateway(make_gateway, "clientauth_email_change_grace 1s;\n"
                              "clientauth_reset_lifetime 2s;\n")
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    asked(s)
    before = snapshot(g, ana)

    time.sleep(1.1)
    assert s.get("email").json()["pending"] is True
    assert_unchanged(g, ana, before)


def test_grace_cancelled_from_the_current_address_never_applies(
        make_gateway):
    g = gateway(make_gateway, "clientauth_email_change_grace 1s;\n")
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    _, verify, cancel = asked(s)
    assert s.open(verify).status_code == 200
    before = snapshot(g, ana)

    assert g.post(CANCEL, data={"token": token_of(cancel)}).status_code == 200
    time.sleep(1.1)
    assert s.get("email").json() == {"ok": True, "pending": False}
    assert_unchanged(g, ana, before)


# ================================================================ races

def test_address_registered_meanwhile_cancels_the_change(make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    code, verify, _ = asked(s)
    assert s.confirm(code).status_code == 200
    other = add_user(g.redis, NEW, PASSWORD)
    before = snapshot(g, ana)

    r = s.open(verify)

    assert r.status_code == 409, r.text
    assert r.json()["error"] == "email_unavailable"
    assert g.redis.call("GET", index_key(NEW)) == "%s:%s" % (other.account,
                                                             other.user)
    assert g.redis.call("EXISTS", change_key(ana)) == 0
    assert_unchanged(g, ana, before)


def test_change_kills_an_outstanding_reset_link(make_gateway):
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    link = ask_link(g, OLD)
    code, verify, _ = asked(s)
    s.confirm(code)
    assert s.open(verify).status_code == 200

    assert check_link(g, link).status_code == 410
    assert confirm(g, link, "N3w-secret!pw").status_code == 410
    assert g.redis.call("HEXISTS", user_key(ana), "reset") == 0


def test_change_racing_a_password_reset(make_gateway):
    """The reset confirm has read the user and is hashing (a slow stored
    hash) when the change applies: the reset's check-and-set finds its
    link dead and changes nothing; the change stands."""
    from account_helpers import SLOW_COST
    from txn_helpers import reset_in_flight
    g = gateway(make_gateway)
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    link = ask_link(g, OLD)
    code, verify, _ = asked(s)
    s.confirm(code)
    # a slow stored hash (a login would upgrade it): the reset's reuse
    # check lasts while the change applies
    slow = add_user(g.redis, "slow@example.com", PASSWORD, cost=SLOW_COST)
    hash_before = g.redis.call("HGET", user_key(slow), "hash")
    g.redis.call("HSET", user_key(ana), "hash", hash_before)

    wait, running = reset_in_flight(g, link, "N3w-secret!pw")
    assert s.open(verify).status_code == 200
    assert running(), "the reset answered before the change: hash too fast"
    r = wait()

    assert r.status_code == 410, (r.status_code, r.text)
    assert g.redis.call("HGET", user_key(ana), "hash") == hash_before
    assert_changed(g, ana)


def test_password_reset_cancels_a_pending_change(make_gateway):
    """Whoever reads the current address and resets the password wins over
    whoever asked for the change (with the password they had)."""
    g = gateway(make_gateway, "clientauth_email_change_grace 1s;\n")
    ana = add_user(g.redis, OLD, PASSWORD)
    s = Session(g, OLD)
    code, verify, _ = asked(s)
    assert s.open(verify).status_code == 200
    before = snapshot(g, ana)[1:]

    assert confirm(g, ask_link(g, OLD), "N3w-secret!pw").status_code == 200
    time.sleep(1.1)

    assert g.redis.call("EXISTS", change_key(ana)) == 0
    assert snapshot(g, ana)[1:] == before
    assert g.redis.call("HGET", user_key(ana), "email") == OLD
    s2 = Session(g, OLD, "N3w-secret!pw")
    assert s2.get("email").json() == {"ok": True, "pending": False}
    assert s2.confirm(code).status_code == 410


@pytest.mark.parametrize("command", ["XADD", "HSET"])
def test_redis_failure_while_asking_stores_nothing(make_gateway, redis_store,
                                                   command):
    proxy = FaultProxy(redis_store.port).start()
    try:
        g = gateway(make_gateway, redis=_Via(redis_store, proxy.port),
                    redis_opts="timeout=300ms")
        ana = add_user(g.redis, OLD, PASSWORD)
        s = Session(g, OLD)
        rule = proxy.fail(command, "err", key=None if command == "XADD"
                          else change_key(ana))

        r = s.ask()

        assert r.status_code == 503, (r.status_code, r.text)
        assert rule.hits >= 1
        assert g.redis.call("EXISTS", change_key(ana)) == 0
        assert outbox(g.redis) == [] or all(
            m["type"] == "login_notice" for m in outbox(g.redis))
        proxy.clear()
        wait_until(lambda: s.ask().status_code == 202, 5,
                   "the request to work once Redis answers")
    finally:
        proxy.clear()
        proxy.stop()


class _Via:
    """The test's Redis, the gateway talking to it through a proxy."""

    def __init__(self, redis, port):
        self._redis = redis
        self.port = port

    def __getattr__(self, name):
        return getattr(self._redis, name)


@pytest.mark.parametrize("command, key", [
    ("XADD", None), ("SET", "ca:*:id:email:*"), ("DEL", "ca:*:id:email:*"),
    ("HSET", "ca:{*}:user:*"), ("GET", "ca:*:id:email:*")])
def test_redis_failure_while_applying_leaves_nothing_half_done(
        make_gateway, redis_store, command, key):
    proxy = FaultProxy(redis_store.port).start()
    try:
        g = gateway(make_gateway, redis=_Via(redis_store, proxy.port),
                    redis_opts="timeout=300ms")
        ana = add_user(g.redis, OLD, PASSWORD)
        s = Session(g, OLD)
        code, verify, _ = asked(s)
        assert s.confirm(code).status_code == 200
        before = snapshot(g, ana)
        record = g.redis.hgetall(change_key(ana))
        rule = proxy.fail(command, "err", key=key)

        r = s.open(verify)

        assert r.status_code == 503, (r.status_code, r.text)
        assert rule.hits >= 1
        assert_unchanged(g, ana, before)
        assert g.redis.hgetall(change_key(ana)) == record
        proxy.clear()
        wait_until(lambda: s.open(verify).status_code == 200, 5,
                   "the link to work once Redis answers")
        assert_changed(g, ana)
    finally:
        proxy.clear()
        proxy.stop()
