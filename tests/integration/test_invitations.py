"""Sub-user invitations, the invitee's side (issue 10, Axarnet): the link
of a user_invitation message opens /auth/invite, where the invitee chooses
a password under the brand's rules and gets an active access.

Invitations are planted as the account pages write them (invite_helpers);
test_account_users.py sends them through the account pages.
"""

import pytest

from faultproxy import FaultProxy
from helpers import (BRAND, HTML, add_user, ctl, identity_of, token_hash,
                     wait_until)
from invite_helpers import (INVITE_LOCATIONS, INVITEE, INVITEE_PASSWORD,
                            accept, invite_key, invites_key, open_invite,
                            plant_invite)
from login_helpers import user_key


def gateway(make_gateway, redis=None, **conf):
    return make_gateway(redis=redis, locations=INVITE_LOCATIONS, **conf)


def index_key(email):
    return "ca:%s:id:email:%s" % (BRAND, email)


def users_of(redis, account):
    return sorted(redis.call("SMEMBERS", "ca:{%s:%s}:users"
                             % (BRAND, account)))


def assert_spent(redis, owner, token):
    assert redis.call("EXISTS", invite_key(token)) == 0
    assert redis.call("HEXISTS", invites_key(owner.account), INVITEE) == 0


def assert_untouched(redis, owner, token, users):
    """Nothing of a refused acceptance reached Redis."""
    assert redis.call("EXISTS", invite_key(token)) == 1
    assert redis.call("EXISTS", index_key(INVITEE)) == 0
    assert users_of(redis, owner.account) == users


def test_invitee_activates_access_and_logs_in(make_gateway, redis_store,
                                              owner):
    g = gateway(make_gateway)
    token = plant_invite(redis_store, owner, perms="billing,orders")
    users = users_of(redis_store, owner.account)

    r = open_invite(g, token)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "email": INVITEE}

    r = accept(g, token)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}

    ref = redis_store.call("GET", index_key(INVITEE))
    account, user = ref.split(":")
    assert account == owner.account and user not in users
    assert users_of(redis_store, owner.account) == sorted(users + [user])
    u = redis_store.hgetall(user_key(account, user))
    assert u["email"] == INVITEE
    assert u["perms"] == "billing,orders"
    assert u["status"] == "active"
    assert u["role"] == "subuser"
    assert u["account"] == owner.account
    assert u["invited_by"] == owner.user
    assert u["hash"].startswith("$argon2id$")
    assert_spent(redis_store, owner, token)

    # first login: the portal sees the sub-user and its permissions
    t = g.login_token(INVITEE, INVITEE_PASSWORD)
    r = g.get("/billing/x", t)
    assert r.status_code == 200
    ident = identity_of(g.backend.seen("/billing/x")[-1]["headers"])
    assert ident["x-client-account"] == [owner.account]
    assert ident["x-client-user"] == [user]
    assert ident["x-client-permissions"] == ["billing,orders"]


def test_invite_page_is_the_new_password_form(make_gateway, redis_store,
                                              owner):
    g = gateway(make_gateway)
    token = plant_invite(redis_store, owner)

    r = open_invite(g, token, accept=HTML)
    assert r.status_code == 200
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in r.headers
    body = r.text
    assert "<title>Activate your customer area access" in body
    assert INVITEE in body
    assert 'name="token" value="%s"' % token in body
    assert body.count('class="eye"') == 2
    assert 'id="rules"' in body and "A special character" in body

    r = g.get("/auth/invite?token=%s&lang=es" % token, accept=HTML)
    assert '<html lang="es">' in r.text
    assert "Active su acceso" in r.text
    r = g.get("/auth/invite?token=%s&lang=fr" % token, accept=HTML)
    assert "Activez votre accès" in r.text


def test_browser_form_goes_to_login_with_a_notice(make_gateway, redis_store,
                                                  owner):
    g = gateway(make_gateway)
    token = plant_invite(redis_store, owner)

    r = accept(g, token, accept=HTML)
    assert r.status_code == 303
    assert r.headers["Location"] == "/auth/login?done=invite"
    r = g.get("/auth/login?done=invite", accept=HTML)
    assert "Your access is active" in r.text


def test_accepting_twice_is_refused(make_gateway, redis_store, owner):
    g = gateway(make_gateway)
    token = plant_invite(redis_store, owner)
    assert accept(g, token).status_code == 200
    users = users_of(redis_store, owner.account)

    r = accept(g, token, password="An0ther-secret!pw")
    assert r.status_code == 410
    assert r.json()["error"] == "invalid_token"
    assert open_invite(g, token).status_code == 410
    assert users_of(redis_store, owner.account) == users
    # the first password still works, the second never did
    assert g.login(INVITEE, INVITEE_PASSWORD).status_code == 200
    assert g.login(INVITEE, "An0ther-secret!pw").status_code == 401


@pytest.mark.parametrize("how", ["unknown", "malformed", "cancelled",
                                 "expired", "expired_key"])
def test_dead_invitations_answer_410(make_gateway, redis_store, owner, how):
    g = gateway(make_gateway)
    token = plant_invite(redis_store, owner,
                         lifetime=-10 if how == "expired" else 7 * 86400)
    if how == "expired":
        # the record says it expired even if the key outlived it
        redis_store.call("EXPIRE", invite_key(token), "3600")
    if how == "cancelled":
        redis_store.call("DEL", invite_key(token))
    if how == "expired_key":
        redis_store.call("PEXPIRE", invite_key(token), "1")
        wait_until(lambda: redis_store.call("EXISTS", invite_key(token)) == 0,
                   2, "the invitation to expire")
    if how == "unknown":
        token = "A" * 43
    if how == "malformed":
        token = "not-a-token"
    users = users_of(redis_store, owner.account)

    r = open_invite(g, token, accept=HTML)
    assert r.status_code == 410
    assert "This invitation is unknown, was already used, was cancelled" \
        in r.text
    assert open_invite(g, token).json()["error"] == "invalid_token"
    r = accept(g, token)
    assert r.status_code == 410
    assert redis_store.call("EXISTS", index_key(INVITEE)) == 0
    assert users_of(redis_store, owner.account) == users


@pytest.fixture
def manager(redis_store, owner):
    """A sub-user of owner who may manage users, bill and order."""
    return add_user(redis_store, "manager@example.com", "M4nager-secret!pw",
                    perms=["billing", "orders", "users"], parent=owner.email)


@pytest.mark.parametrize("how", ["inviter_removed", "users_taken_away",
                                 "invited_perm_taken_away", "all_needs_all",
                                 "inviter_of_another_account",
                                 "account_gone"])
def test_invitation_dies_with_its_inviter_rights(make_gateway, redis_store,
                                                 owner, manager, how):
    g = gateway(make_gateway)
    mkey = user_key(manager.account, manager.user)
    token = plant_invite(redis_store, manager,
                         perms="all" if how == "all_needs_all"
                         else "billing,orders")
    if how == "inviter_removed":
        redis_store.call("DEL", mkey)
        redis_store.call("SREM", "ca:{%s:%s}:users"
                         % (BRAND, manager.account), manager.user)
    if how == "users_taken_away":
        redis_store.call("HSET", mkey, "perms", "billing,orders")
    if how == "invited_perm_taken_away":
        redis_store.call("HSET", mkey, "perms", "billing,users")
    if how == "inviter_of_another_account":
        other = add_user(redis_store, "zoe@example.com", "Z0e-secret!pw")
        redis_store.call("HSET", invite_key(token), "inviter", other.user)
    if how == "account_gone":
        redis_store.call("DEL", "ca:{%s:%s}:account"
                         % (BRAND, owner.account))
    users = users_of(redis_store, owner.account)
    before = redis_store.dump()

    r = accept(g, token)
    assert r.status_code == 410, r.text
    assert r.json()["error"] == "invalid_token"
    r = accept(g, token, accept=HTML)
    assert r.status_code == 410
    assert "This invitation is unknown, was already used, was cancelled" \
        in r.text
    # nothing but the id counter (a gap, as any refused acceptance leaves)
    after = redis_store.dump()
    after.pop("ca:%s:seq:user" % BRAND)
    before.pop("ca:%s:seq:user" % BRAND)
    assert after == before
    assert_untouched(redis_store, owner, token, users)
    assert g.login(INVITEE, INVITEE_PASSWORD).status_code == 401


def test_invitation_of_an_inviter_who_still_may_is_accepted(make_gateway,
                                                            redis_store,
                                                            owner, manager):
    g = gateway(make_gateway)
    token = plant_invite(redis_store, manager, perms="billing,users")
    # other changes to the inviter do not matter
    redis_store.call("HSET", user_key(manager.account, manager.user),
                     "perms", "billing,technical,users")
    assert accept(g, token).status_code == 200
    assert_spent(redis_store, owner, token)
    assert g.login(INVITEE, INVITEE_PASSWORD).status_code == 200


def test_support_lists_and_cancels_what_the_gateway_reads(make_gateway,
                                                           redis_store,
                                                           owner):
    """clientauthctl and the gateway agree on the invitations' layout."""
    g = gateway(make_gateway)
    token = plant_invite(redis_store, owner)
    out = ctl(redis_store, "invite", "list", BRAND, owner.email).stdout
    assert out.startswith("%s %s billing,orders %s "
                          % (token_hash(token)[:16], INVITEE, owner.user))

    out = ctl(redis_store, "invite", "cancel", BRAND, INVITEE).stdout
    assert "cancelled invitation %s" % token_hash(token)[:16] in out
    assert open_invite(g, token).status_code == 410
    assert accept(g, token).status_code == 410
    assert ctl(redis_store, "invite", "list", BRAND, owner.email).stdout == ""


def test_address_already_registered_is_refused(make_gateway, redis_store,
                                               owner):
    g = gateway(make_gateway)
    # another account of the brand has the address already
    add_user(redis_store, INVITEE, "Oth3r-secret!pw")
    token = plant_invite(redis_store, owner)
    before = redis_store.call("GET", index_key(INVITEE))
    users = users_of(redis_store, owner.account)

    r = accept(g, token)
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "email_taken"
    # nothing says which account holds it
    assert before.split(":")[0] not in r.text
    r = accept(g, token, accept=HTML)
    assert r.status_code == 409
    assert "already has an access" in r.text
    assert redis_store.call("GET", index_key(INVITEE)) == before
    assert users_of(redis_store, owner.account) == users
    assert redis_store.call("EXISTS", invite_key(token)) == 1


def test_password_rules_apply(make_gateway, redis_store, owner):
    g = gateway(make_gateway)
    token = plant_invite(redis_store, owner)
    users = users_of(redis_store, owner.account)

    r = accept(g, token, password="short")
    assert r.status_code == 422
    assert "too_short" in r.json()["rules"]
    r = accept(g, token, password=INVITEE_PASSWORD, confirm="Other-1!pass")
    assert r.status_code == 422
    assert r.json()["rules"] == ["mismatch"]
    r = accept(g, token, password=INVITEE, accept=HTML)
    assert r.status_code == 422
    assert "Not your identifier" in r.text
    assert 'name="token" value="%s"' % token in r.text
    assert_untouched(redis_store, owner, token, users)


def test_cross_site_post_changes_nothing(make_gateway, redis_store, owner):
    g = gateway(make_gateway)
    token = plant_invite(redis_store, owner)
    users = users_of(redis_store, owner.account)

    r = accept(g, token, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert r.json()["error"] == "cross_site"
    r = accept(g, token, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    assert_untouched(redis_store, owner, token, users)


def test_missing_fields_are_400(make_gateway, redis_store, owner):
    g = gateway(make_gateway)
    token = plant_invite(redis_store, owner)
    r = g.post("/auth/invite", data={"token": token})
    assert r.status_code == 400
    assert r.json()["error"] == "missing_field"
    r = g.request("PUT", "/auth/invite")
    assert r.status_code == 405


class _ProxyAddress:
    def __init__(self, port):
        self.port = port


@pytest.fixture
def proxy(redis_store):
    """A fault-injecting proxy before the test's Redis; it outlives the
    gateway (asked for before make_gateway)."""
    p = FaultProxy(redis_store.port).start()
    yield p
    p.clear()
    p.stop()


@pytest.mark.parametrize("command,fault", [
    ("HMGET", "err"),            # the invitation, then its re-read
    ("EXISTS", "close"),         # the address check under WATCH
    ("INCR", "err"),             # the new user id
    ("EXEC", "err"),             # the creation itself
    ("EXEC", "close"),
])
def test_redis_failure_leaves_nothing_half_made(proxy, make_gateway,
                                                redis_store, owner, command,
                                                fault):
    g = gateway(make_gateway, redis=_ProxyAddress(proxy.port),
                redis_opts="timeout=1s")
    token = plant_invite(redis_store, owner)
    users = users_of(redis_store, owner.account)

    nth = 2 if command == "HMGET" else 1
    rule = proxy.fail(command, fault, nth=nth, count=1)
    r = accept(g, token)
    assert r.status_code == 503, r.text
    assert rule.hits == 1
    assert_untouched(redis_store, owner, token, users)
    assert redis_store.call("HEXISTS", invites_key(owner.account),
                            INVITEE) == 1

    # it recovers by itself: the same link works
    proxy.clear()
    wait_until(lambda: accept(g, token).status_code != 503, 5,
               "the gateway to use Redis again")
    assert_spent(redis_store, owner, token)
    assert g.login(INVITEE, INVITEE_PASSWORD).status_code == 200


def test_inviter_losing_users_between_watch_and_exec_kills_the_link(
        make_gateway, redis_store, owner, manager):
    """The acceptance's MULTI is held on its way to Redis while the
    inviter loses "users": the WATCH on the inviter aborts the EXEC, the
    retry reads the inviter again and answers 410."""
    import threading
    from txn_helpers import GateProxy, bulk
    gate = GateProxy(redis_store.port).start()
    try:
        g = gateway(make_gateway, redis=_ProxyAddress(gate.port),
                    redis_opts="timeout=10s")
        token = plant_invite(redis_store, manager)
        users = users_of(redis_store, owner.account)
        gate.hold(bulk("invited_by"))
        result = {}
        t = threading.Thread(target=lambda: result.update(r=accept(g, token)),
                             daemon=True)
        t.start()
        wait_until(gate.is_holding, 10, "the acceptance's MULTI to be held")
        redis_store.call("HSET", user_key(manager.account, manager.user),
                         "perms", "billing,orders")
        gate.release()
        t.join(15)
        assert result["r"].status_code == 410, result["r"].text
        assert_untouched(redis_store, owner, token, users)
        assert gate.seen(bulk("invited_by")) == 1
    finally:
        gate.release()
        gate.stop()
