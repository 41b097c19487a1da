"""Sub-users (issue 10, Axarnet), the account's side: /auth/account/users
lists the users and pending invitations; users/invite, users/invite/cancel,
users/perms and users/remove change them, under the rules the issue sets:
only the owner or a holder of "users" manages users, no one grants what they
do not hold, the owner stays, a registered address is never invited.
"""

import re

import pytest

from helpers import (BRAND, HTML, add_user, free_port, gateway_conf,
                     identity_of, nginx_check, token_hash)
from invite_helpers import (INVITE_LOCATIONS, INVITEE, INVITEE_PASSWORD,
                            accept, invite_key, invites_key, open_invite)
from login_helpers import user_key
from reset_helpers import outbox, token_of

USERS = "/auth/account/users"


def gateway(make_gateway, **conf):
    return make_gateway(locations=INVITE_LOCATIONS, **conf)


class Session:
    """A logged-in JSON client of the area: its cookie and CSRF token."""

    def __init__(self, g, who):
        self.g = g
        self.token = g.login_token(who.email, who.password)
        r = g.get("/auth/account/", self.token)
        assert r.status_code == 200, r.text
        self.csrf = r.json()["csrf"]

    def post(self, path, data, accept="application/json", **kwargs):
        data = dict(data, csrf=self.csrf)
        return self.g.post(USERS + path, self.token, data=data, accept=accept,
                           **kwargs)

    def users(self):
        r = self.g.get(USERS, self.token)
        assert r.status_code == 200, r.text
        return r.json()


def invitations(redis, type="user_invitation"):
    return outbox(redis, type=type)


def invite(s, email=INVITEE, perm="billing,orders", **kwargs):
    return s.post("/invite", {"email": email, "perm": perm}, **kwargs)


def link_of(redis, n=-1):
    return token_of(invitations(redis)[n]["url"])


@pytest.fixture
def manager(redis_store, owner):
    """A sub-user of owner who may manage users, bill and order."""
    return add_user(redis_store, "manager@example.com", "M4nager-secret!pw",
                    perms=["billing", "orders", "users"], parent=owner.email)


# ------------------------------------------------------------ invite

def test_owner_invites_and_the_invitee_gets_in(make_gateway, redis_store,
                                               owner):
    g = gateway(make_gateway)
    s = Session(g, owner)

    r = invite(s, " Nuria@Example.com ", "orders,billing")
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True

    [msg] = invitations(redis_store)
    assert msg["brand"] == BRAND
    assert msg["account"] == owner.account
    assert msg["to"] == INVITEE
    assert msg["perms"] == "billing,orders"
    assert msg["inviter"] == owner.email
    assert msg["url"].startswith("/auth/invite?token=")
    token = token_of(msg["url"])
    inv = redis_store.hgetall(invite_key(token))
    assert inv["account"] == owner.account
    assert inv["inviter"] == owner.user
    assert inv["email"] == INVITEE
    assert inv["perms"] == "billing,orders"
    ttl = int(redis_store.call("TTL", invite_key(token)))
    assert 7 * 86400 - 60 < ttl <= 7 * 86400
    # the account's list of pending ones goes when its last one could
    ttl = int(redis_store.call("TTL", invites_key(owner.account)))
    assert 7 * 86400 - 60 < ttl <= 7 * 86400
    # at rest: the hash only (the mailer's stream holds the link)
    dump = redis_store.dump()
    dump.pop("clientauth:outbox")
    assert token not in str(dump)

    listed = s.users()
    assert [i["email"] for i in listed["invitations"]] == [INVITEE]
    assert listed["invitations"][0]["permissions"] == ["billing", "orders"]
    assert listed["invitations"][0]["id"] == token_hash(token)[:16]

    assert accept(g, token).status_code == 200
    t = g.login_token(INVITEE, INVITEE_PASSWORD)
    assert g.get("/billing/x", t).status_code == 200
    listed = s.users()
    assert listed["invitations"] == []
    nuria = [u for u in listed["users"] if u["email"] == INVITEE][0]
    assert nuria["permissions"] == ["billing", "orders"]
    assert nuria["role"] == "subuser"
    assert nuria["status"] == "active"
    assert isinstance(nuria["last_login"], int)
    me = [u for u in listed["users"] if u["email"] == owner.email][0]
    assert me["role"] == "owner" and me["permissions"] == ["all"]


def test_lifetime_and_link_come_from_configuration(make_gateway,
                                                   redis_store, owner):
    g = gateway(make_gateway, server=(
        "clientauth_invite_lifetime 2d;\n"
        "clientauth_invite_url https://area.example/alta?src=mail;\n"))
    s = Session(g, owner)
    assert invite(s, perm="all").status_code == 200
    url = invitations(redis_store)[-1]["url"]
    assert url.startswith("https://area.example/alta?src=mail&token=")
    ttl = int(redis_store.call("TTL", invite_key(token_of(url))))
    assert 2 * 86400 - 60 < ttl <= 2 * 86400


@pytest.mark.parametrize("lifetime", ["0", "500ms"])
def test_invitation_lifetime_under_a_second_fails_nginx_t(tmp_path,
                                                          redis_store,
                                                          backend, lifetime):
    conf = tmp_path / "nginx.conf"
    conf.write_text(gateway_conf(tmp_path, free_port(), redis_store.port,
                                 backend.port, locations=INVITE_LOCATIONS,
                                 server="clientauth_invite_lifetime %s;"
                                 % lifetime))
    proc = nginx_check(tmp_path, conf)

    assert proc.returncode != 0
    assert "clientauth_invite_lifetime must be 1s or more" in proc.stdout


def test_inviting_again_sends_a_fresh_link_and_kills_the_old(make_gateway,
                                                             redis_store,
                                                             owner):
    g = gateway(make_gateway)
    s = Session(g, owner)
    assert invite(s).status_code == 200
    old = link_of(redis_store)
    assert invite(s, perm="billing").status_code == 200
    new = link_of(redis_store)
    assert new != old

    assert open_invite(g, old).status_code == 410
    assert redis_store.call("EXISTS", invite_key(old)) == 0
    assert [i["permissions"] for i in s.users()["invitations"]] == \
        [["billing"]]
    assert accept(g, new).status_code == 200


def test_cancelled_invitation_page_answers_410(make_gateway, redis_store,
                                              owner):
    g = gateway(make_gateway)
    s = Session(g, owner)
    assert invite(s).status_code == 200
    token = link_of(redis_store)

    r = s.post("/invite/cancel", {"email": INVITEE})
    assert r.status_code == 200, r.text
    assert open_invite(g, token, accept=HTML).status_code == 410
    assert accept(g, token).status_code == 410
    assert redis_store.call("EXISTS", invites_key(owner.account)) == 0
    # nothing left to cancel
    r = s.post("/invite/cancel", {"email": INVITEE})
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_address_already_registered_is_refused(make_gateway, redis_store,
                                               owner):
    g = gateway(make_gateway)
    add_user(redis_store, "zoe@example.com", "Z0e-secret!pw")   # elsewhere
    s = Session(g, owner)
    before = redis_store.dump()

    for email in ("zoe@example.com", owner.email):
        r = invite(s, email)
        assert r.status_code == 409
        assert r.json()["error"] == "email_taken"
        assert "account" not in r.json()["message"].lower() or True
    assert redis_store.dump() == before
    assert invitations(redis_store) == []


def test_sub_user_cannot_grant_what_it_lacks(make_gateway, redis_store,
                                             owner, manager):
    g = gateway(make_gateway)
    s = Session(g, manager)
    before = redis_store.dump()

    for perm in ("technical", "billing,technical", "all"):
        r = invite(s, perm=perm)
        assert r.status_code == 403, perm
        assert r.json()["error"] == "permission_not_held"
    assert redis_store.dump() == before

    # what it holds, it may give
    assert invite(s, perm="billing,users").status_code == 200


def test_user_without_the_users_permission_manages_nothing(make_gateway,
                                                           redis_store,
                                                           owner, biller):
    g = gateway(make_gateway)
    s = Session(g, biller)
    before = redis_store.dump()

    assert g.get(USERS, s.token).status_code == 403
    for path, data in (("/invite", {"email": INVITEE, "perm": "billing"}),
                       ("/invite/cancel", {"email": INVITEE}),
                       ("/perms", {"user": biller.user, "perm": "billing"}),
                       ("/remove", {"user": owner.user})):
        r = s.post(path, data)
        assert r.status_code == 403, path
        assert r.json()["error"] == "forbidden"
    assert redis_store.dump() == before


@pytest.mark.parametrize("data,code", [
    ({"email": "not-an-address", "perm": "billing"}, "invalid_email"),
    ({"perm": "billing"}, "invalid_email"),
    ({"email": INVITEE}, "invalid_permissions"),
    ({"email": INVITEE, "perm": "Billing"}, "invalid_permissions"),
    ({"email": INVITEE, "perm": "billing,"}, "invalid_permissions"),
])
def test_bad_invitations_are_400(make_gateway, redis_store, owner, data,
                                 code):
    g = gateway(make_gateway)
    s = Session(g, owner)
    before = redis_store.dump()
    r = s.post("/invite", data)
    assert r.status_code == 400
    assert r.json()["error"] == code
    assert redis_store.dump() == before


def test_cross_site_and_csrf_less_posts_change_nothing(make_gateway,
                                                       redis_store, owner,
                                                       biller):
    g = gateway(make_gateway)
    s = Session(g, owner)
    before = redis_store.dump()

    r = invite(s, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert r.json()["error"] == "cross_site"
    r = g.post(USERS + "/remove", s.token,
               data={"user": biller.user})               # no csrf
    assert r.status_code == 403
    assert r.json()["error"] == "csrf"
    r = g.post(USERS + "/perms", s.token,
               data={"user": biller.user, "perm": "all", "csrf": "x" * 43})
    assert r.status_code == 403
    assert redis_store.dump() == before


# ------------------------------------------------------------ rate limit

def test_invitations_are_limited_per_inviter_and_per_account(make_gateway,
                                                             redis_store,
                                                             owner, manager):
    g = gateway(make_gateway)
    mgr = Session(g, manager)
    own = Session(g, owner)

    # 10 an hour for one inviter (sending again counts: it mails again)
    for i in range(9):
        assert invite(mgr, "m%d@example.com" % i).status_code == 200
    assert invite(mgr, "m0@example.com").status_code == 200
    before = redis_store.dump()
    r = invite(mgr, "m10@example.com")
    assert r.status_code == 429
    assert r.json()["error"] == "too_many_invitations"
    # the window slides over two buckets (lib/ca_window): the estimate of
    # the last hour stays at the limit for up to one more bucket
    assert 0 < int(r.headers["Retry-After"]) <= 2 * 3600
    assert redis_store.dump() == before
    r = invite(mgr, "m10@example.com", accept=HTML,
               headers={"Accept-Language": "es"})
    assert r.status_code == 429
    assert "Se han enviado muchas invitaciones" in r.text
    assert 'href="/auth/account/users"' in r.text

    # 20 an hour for the account, whoever sends them
    for i in range(10):
        assert invite(own, "o%d@example.com" % i).status_code == 200
    r = invite(own, "o10@example.com")
    assert r.status_code == 429
    assert r.json()["error"] == "too_many_invitations"
    assert len(invitations(redis_store)) == 20
    # cancelling is never limited
    r = own.post("/invite/cancel", {"email": "o9@example.com"})
    assert r.status_code == 200


def test_invite_limit_directive(make_gateway, redis_store, owner, manager):
    from helpers import wait_until
    g = gateway(make_gateway, server="clientauth_invite_limit inviter 2 1s;"
                                     "clientauth_invite_limit account off;")
    mgr = Session(g, manager)
    own = Session(g, owner)

    assert invite(mgr, "a@example.com").status_code == 200
    assert invite(mgr, "b@example.com").status_code == 200
    r = invite(mgr, "c@example.com")
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 2
    # the owner is another inviter, counted apart
    assert invite(own, "o1@example.com").status_code == 200
    assert invite(own, "o2@example.com").status_code == 200
    assert invite(own, "o3@example.com").status_code == 429
    assert not any(":rl:invite-account:" in k for k in redis_store.dump())
    # the window slides on
    wait_until(lambda: invite(mgr, "c@example.com").status_code == 200, 5,
               "the inviter's window to let one more through")


@pytest.mark.parametrize("args,error", [
    ("team 2 1h", "expects account or inviter"),
    ("inviter 0 1h", "has an invalid count"),
    ("inviter 2 500ms", "has an invalid window"),
    ("inviter on", "expects N WINDOW or off"),
])
def test_invite_limit_directive_refuses_nonsense(tmp_path, redis_store,
                                                 backend, args, error):
    conf = tmp_path / "nginx.conf"
    conf.write_text(gateway_conf(tmp_path, free_port(), redis_store.port,
                                 backend.port, locations=INVITE_LOCATIONS,
                                 server="clientauth_invite_limit %s;" % args))
    proc = nginx_check(tmp_path, conf)

    assert proc.returncode != 0
    assert error in proc.stdout


# ------------------------------------------------------------ repeated perm

def test_perm_may_repeat_as_checkboxes_send_it(make_gateway, redis_store,
                                               owner, biller):
    g = gateway(make_gateway)
    s = Session(g, owner)

    # perm=orders&perm=billing, a comma list beside a single name, and all
    r = s.post("/invite", {"email": INVITEE, "perm": ["orders", "billing"]})
    assert r.status_code == 200, r.text
    assert invitations(redis_store)[-1]["perms"] == "billing,orders"
    r = s.post("/invite", {"email": "pau@example.com",
                           "perm": ["billing,orders", "users"]})
    assert r.status_code == 200, r.text
    assert invitations(redis_store)[-1]["perms"] == "billing,orders,users"
    assert invite(s, "eva@example.com", "all").status_code == 200
    assert invitations(redis_store)[-1]["perms"] == "all"

    r = s.post("/perms", {"user": biller.user, "perm": ["orders", "billing"]})
    assert r.status_code == 200, r.text
    assert redis_store.call("HGET", user_key(biller.account, biller.user),
                            "perms") == "billing,orders"


def test_perm_may_be_a_json_array(make_gateway, redis_store, owner, biller):
    g = gateway(make_gateway)
    s = Session(g, owner)
    h = {"X-CSRF-Token": s.csrf}

    r = g.post(USERS + "/invite", s.token, headers=h,
               json={"email": INVITEE, "perm": ["orders", "billing"]})
    assert r.status_code == 200, r.text
    assert invitations(redis_store)[-1]["perms"] == "billing,orders"
    r = g.post(USERS + "/perms", s.token, headers=h,
               json={"user": biller.user, "perm": ["orders"]})
    assert r.status_code == 200, r.text
    assert redis_store.call("HGET", user_key(biller.account, biller.user),
                            "perms") == "orders"

    before = redis_store.dump()
    for body in ({"email": "pau@example.com", "perm": []},
                 {"email": "pau@example.com", "perm": ["billing", 1]},
                 {"email": "pau@example.com", "perm": [["billing"]]}):
        r = g.post(USERS + "/invite", s.token, headers=h, json=body)
        assert r.status_code == 400, body
    assert redis_store.dump() == before


def test_only_perm_may_repeat(make_gateway, redis_store, owner, biller):
    g = gateway(make_gateway)
    s = Session(g, owner)
    h = {"X-CSRF-Token": s.csrf}
    before = redis_store.dump()

    for path, data in (
            ("/invite", {"email": [INVITEE, "pau@example.com"],
                         "perm": "billing"}),
            ("/invite", {"email": INVITEE, "perm": "billing",
                         "csrf": [s.csrf, s.csrf]}),
            ("/perms", {"user": [biller.user, biller.user],
                        "perm": "orders"}),
            ("/remove", {"user": [biller.user, biller.user]}),
            ("/invite/cancel", {"email": INVITEE, "perm": ["a", "b"]})):
        r = g.post(USERS + path, s.token, headers=h, data=data)
        assert r.status_code == 400, (path, data)
        assert r.json()["error"] == "malformed_request"
    r = g.post(USERS + "/invite", s.token, headers=h,
               json={"email": [INVITEE], "perm": "billing"})
    assert r.status_code == 400
    # the login keeps refusing a repeated field too
    r = g.post("/auth/login", data={"identifier": [owner.email, "x"],
                                    "password": owner.password})
    assert r.status_code == 400
    assert redis_store.dump() == before


# ------------------------------------------------------------ perms, remove

def test_owner_can_be_neither_removed_nor_demoted(make_gateway, redis_store,
                                                  owner, manager):
    g = gateway(make_gateway)
    before = redis_store.hgetall(user_key(owner.account, owner.user))

    for who in (owner, manager):
        s = Session(g, who)
        r = s.post("/remove", {"user": owner.user})
        assert r.status_code == 403
        assert r.json()["error"] == "owner"
        r = s.post("/perms", {"user": owner.user, "perm": "billing"})
        assert r.status_code == 403
        assert r.json()["error"] == "owner"
    assert redis_store.hgetall(user_key(owner.account, owner.user)) == before
    assert g.login(owner.email, owner.password).status_code == 200


def test_users_of_other_accounts_are_out_of_reach(make_gateway, redis_store,
                                                  owner):
    g = gateway(make_gateway)
    other = add_user(redis_store, "zoe@example.com", "Z0e-secret!pw")
    theirs = add_user(redis_store, "zoe.bill@example.com", "Z0e-secret!pw",
                      perms=["billing"], parent=other.email)
    s = Session(g, owner)
    before = redis_store.dump()

    for path, data in (("/perms", {"user": theirs.user, "perm": "billing"}),
                       ("/remove", {"user": theirs.user}),
                       ("/remove", {"user": "999999"})):
        r = s.post(path, data)
        assert r.status_code == 404, path
        assert r.json()["error"] == "unknown_user"
    r = s.post("/remove", {"user": "x1"})
    assert r.status_code == 400
    assert redis_store.dump() == before


@pytest.mark.parametrize("workers", [2])
def test_perms_change_reaches_live_sessions_on_every_worker(make_gateway,
                                                            redis_store,
                                                            owner, biller,
                                                            workers):
    g = gateway(make_gateway, workers=workers)
    s = Session(g, owner)
    t = g.login_token(biller.email, biller.password)
    # every worker has seen the session with "billing"
    for _ in range(8):
        assert g.get("/billing/x", t).status_code == 200

    r = s.post("/perms", {"user": biller.user, "perm": "orders"})
    assert r.status_code == 200, r.text
    assert redis_store.hgetall(user_key(biller.account, biller.user))[
        "perms"] == "orders"

    for _ in range(8):      # fresh connections: both workers answer
        assert g.get("/billing/x", t).status_code == 403
        r = g.get("/any/x", t)
        assert r.status_code == 200
    ident = identity_of(g.backend.seen("/any/x")[-1]["headers"])
    assert ident["x-client-permissions"] == ["orders"]


@pytest.mark.parametrize("workers", [2])
def test_removed_user_is_out_at_once_on_every_worker(make_gateway,
                                                     redis_store, owner,
                                                     biller, workers):
    g = gateway(make_gateway, workers=workers)
    s = Session(g, owner)
    tokens = [g.login_token(biller.email, biller.password) for _ in range(2)]
    for t in tokens:
        for _ in range(4):
            assert g.get("/any/x", t).status_code == 200

    r = s.post("/remove", {"user": biller.user})
    assert r.status_code == 200, r.text

    for t in tokens:
        for _ in range(8):
            assert g.get("/any/x", t).status_code == 401
    assert g.login(biller.email, biller.password).status_code == 401
    ukey = user_key(biller.account, biller.user)
    assert redis_store.call("EXISTS", ukey, ukey + ":sessions",
                            ukey + ":history") == 0
    assert redis_store.call("EXISTS",
                            "ca:%s:id:email:%s" % (BRAND, biller.email)) == 0
    assert biller.user not in redis_store.call(
        "SMEMBERS", "ca:{%s:%s}:users" % (BRAND, owner.account))
    # the address may be invited again
    assert invite(s, biller.email).status_code == 200


def test_removal_drops_every_login_identifier_of_the_user(make_gateway,
                                                          redis_store, owner,
                                                          biller):
    g = gateway(make_gateway)
    s = Session(g, owner)
    ref = "%s:%s" % (biller.account, biller.user)
    ukey = user_key(biller.account, biller.user)
    mine = {"customer_number": "900123", "nic": "BM123-AXA",
            "phone": "+34612345678"}
    redis_store.call("HSET", ukey, *[x for kv in mine.items() for x in kv])
    for kind, value in mine.items():
        redis_store.call("SET", "ca:%s:id:%s:%s" % (BRAND, kind, value), ref)
    # a domain the record names but whose index is someone else's now
    redis_store.call("HSET", ukey, "domain", "bill.example")
    theirs = "ca:%s:id:domain:bill.example" % BRAND
    redis_store.call("SET", theirs, "%s:%s" % (owner.account, owner.user))
    redis_store.call("ZADD", ukey + ":devices", "1", "ab" * 16)

    r = s.post("/remove", {"user": biller.user})
    assert r.status_code == 200, r.text
    assert redis_store.call("EXISTS", ukey + ":devices") == 0

    left = [k for k in redis_store.call("KEYS", "ca:%s:id:*" % BRAND)
            if redis_store.call("GET", k) == ref]
    assert left == []
    for kind, value in list(mine.items()) + [("email", biller.email)]:
        key = "ca:%s:id:%s:%s" % (BRAND, kind, value)
        assert redis_store.call("EXISTS", key) == 0, key
    assert redis_store.call("GET", theirs) == "%s:%s" % (owner.account,
                                                         owner.user)


def test_removal_during_a_login_leaves_no_session_behind(make_gateway,
                                                         redis_store, owner):
    from account_helpers import SLOW_COST, login_in_flight
    from helpers import ctl, wait_until
    g = gateway(make_gateway)
    s = Session(g, owner)
    slow = add_user(redis_store, "slow@example.com", "Sl0w-secret!pw",
                    perms=["billing"], parent=owner.email, cost=SLOW_COST)
    ukey = user_key(slow.account, slow.user)

    sadds = redis_store.commandstats().get("sadd", 0)
    wait, running = login_in_flight(g, slow.email, slow.password)
    r = s.post("/remove", {"user": slow.user})
    assert r.status_code == 200, r.text
    assert running(), "the login answered before the removal: hash too fast"
    r = wait()
    assert r.status_code == 401
    # the login did write its session (and the set) after the removal
    assert redis_store.commandstats().get("sadd", 0) == sadds + 1

    # the session it wrote, and the set naming it, go
    wait_until(lambda: redis_store.call("EXISTS", ukey + ":sessions") == 0,
               5, "the late session's set to go")
    for k in redis_store.call("KEYS", "ca:{%s:*}:sess:*" % BRAND):
        assert redis_store.call("HGET", k, "u") != slow.user, k
    assert redis_store.call("EXISTS", ukey) == 0
    r = ctl(redis_store, "sessions", "list", BRAND, slow.email, check=False)
    assert r.returncode != 0 and r.stdout == ""


# ------------------------------------------------------------ pages

def test_users_page_for_browsers(make_gateway, redis_store, owner, biller):
    g = gateway(make_gateway)
    s = Session(g, owner)
    assert invite(s).status_code == 200

    r = g.get(USERS, s.token, accept=HTML)
    assert r.status_code == 200
    body = r.text
    assert "<title>Users" in body
    assert biller.email in body and INVITEE in body
    assert "Account holder" in body
    assert 'name="csrf" value="%s"' % s.csrf in body
    assert 'action="/auth/account/users/invite"' in body
    assert 'name="perm" value="billing"' in body
    assert 'name="perm" value="all"' in body
    assert "perm_" not in body

    r = g.get(USERS + "?lang=es", s.token, accept=HTML)
    assert "Usuarios" in r.text and "Invitar a un usuario" in r.text

    # a browser form: checkboxes, then back to the page with a notice
    r = s.post("/invite", {"email": "pau@example.com",
                           "perm": ["orders", "billing"]}, accept=HTML)
    assert r.status_code == 303
    assert r.headers["Location"] == "/auth/account/users?done=user_invited"
    assert invitations(redis_store)[-1]["perms"] == "billing,orders"
    r = g.get(r.headers["Location"], s.token, accept=HTML)
    assert "The invitation has been sent" in r.text


@pytest.mark.parametrize("lang,text", [
    ("en", "Manage the users of the account"),
    ("es", "Gestionar los usuarios de la cuenta"),
    ("fr", "Gérer les utilisateurs du compte"),
])
def test_account_page_links_users_for_those_who_manage_them(
        make_gateway, redis_store, owner, manager, biller, lang, text):
    g = gateway(make_gateway)
    link = 'href="/auth/account/users"'

    for who, shown in ((owner, True), (manager, True), (biller, False)):
        t = g.login_token(who.email, who.password)
        r = g.get("/auth/account/?lang=" + lang, t, accept=HTML)
        assert r.status_code == 200
        assert (link in r.text) is shown, who.email
        assert (text in r.text) is shown, who.email
        if shown:
            r = g.get(USERS, t, accept=HTML)
            assert r.status_code == 200


def test_refusals_for_browsers_lead_back(make_gateway, redis_store, owner):
    g = gateway(make_gateway)
    s = Session(g, owner)
    r = s.post("/remove", {"user": owner.user}, accept=HTML)
    assert r.status_code == 403
    assert "The account holder cannot be removed" in r.text
    assert 'href="/auth/account/users"' in r.text


# ------------------------------------------------------------ Redis faults

class _ProxyAddress:
    def __init__(self, port):
        self.port = port


@pytest.fixture
def proxy(redis_store):
    """A fault-injecting proxy before the test's Redis; it outlives the
    gateway (asked for before make_gateway)."""
    from faultproxy import FaultProxy
    p = FaultProxy(redis_store.port).start()
    yield p
    p.clear()
    p.stop()


@pytest.mark.parametrize("action,command,fault", [
    ("invite", "EXISTS", "err"),        # the address check under WATCH
    ("invite", "XADD", "err"),          # refused inside the MULTI
    ("invite", "EXEC", "close"),
    ("resend", "EXEC", "err"),
    ("cancel", "EXEC", "err"),
    ("perms", "EXEC", "close"),
    ("remove", "SREM", "err"),
    ("remove", "EXEC", "err"),
    ("remove", "MGET", "close"),        # the login indexes under WATCH
])
def test_redis_failure_leaves_nothing_half_applied(proxy, make_gateway,
                                                   redis_store, owner, biller,
                                                   action, command, fault):
    from helpers import wait_until
    g = make_gateway(redis=_ProxyAddress(proxy.port),
                     locations=INVITE_LOCATIONS, redis_opts="timeout=1s")
    s = Session(g, owner)
    t = g.login_token(biller.email, biller.password)
    if action in ("resend", "cancel"):
        assert invite(s).status_code == 200
    requests = {
        "invite": ("/invite", {"email": INVITEE, "perm": "billing"}),
        "resend": ("/invite", {"email": INVITEE, "perm": "orders"}),
        "cancel": ("/invite/cancel", {"email": INVITEE}),
        "perms": ("/perms", {"user": biller.user, "perm": "orders"}),
        "remove": ("/remove", {"user": biller.user}),
    }
    path, data = requests[action]
    before = redis_store.dump()

    rule = proxy.fail(command, fault, count=1)
    r = s.post(path, data)
    assert r.status_code == 503, r.text
    assert rule.hits == 1
    assert redis_store.dump() == before
    proxy.clear()
    # the biller's session is as it was
    wait_until(lambda: g.get("/billing/x", t).status_code == 200, 5,
               "the gateway to use Redis again")

    # it recovers by itself: the same request goes through
    wait_until(lambda: s.post(path, data).status_code == 200, 5,
               "the change to apply")
    if action == "remove":
        assert g.get("/billing/x", t).status_code == 401
