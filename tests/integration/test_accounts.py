"""Accounts, sub-users and permissions through the real gateway, operated
with clientauthctl (issue 5): each test is one support or customer story.

The module's gateway has the harness's magic server (/ needs a session,
/billing/ the billing permission) plus /billing-tech/ (billing and
technical), and two server blocks sharing the brand nuxit: Nuxit and the
acquired PhpNet.  Redis is flushed before each test.
"""

import pytest

from account_helpers import (ALIAS_BRAND, SLOW_COST, add, argon2id_hash,
                             bcrypt_hash, brand_get, brand_login, identity,
                             login_in_flight, set_cookie_token,
                             sha512_crypt_hash, show, start_accounts_gateway,
                             stop_gateway)
from helpers import BRAND, COOKIE, ctl, wait_until

OWNER_PW = "0wner-Secret!pw"
BILL_PW = "B1ll-Secret!pw"
TECH_PW = "T3ch-Secret!pw"
BOTH_PW = "B0th-Secret!pw"
WRONG = "Wr0ng-passw0rd!"


@pytest.fixture(scope="module")
def module_gateway(tmp_path_factory, shared_redis, backend):
    """Overrides the harness's: the same magic server, plus /billing-tech/
    and the nuxit/phpnet server blocks."""
    g = start_accounts_gateway(tmp_path_factory.mktemp("nginx"),
                               shared_redis, backend)
    yield g
    stop_gateway(g)


@pytest.fixture
def team(gw):
    """An owner and three sub-users with different permissions."""
    owner = add(gw.redis, "owner@example.com", OWNER_PW)
    return {
        "owner": owner,
        "biller": add(gw.redis, "bill@example.com", BILL_PW,
                      perms=["billing"], parent=owner.email),
        "tech": add(gw.redis, "tech@example.com", TECH_PW,
                    perms=["technical", "domains"], parent=owner.email),
        "both": add(gw.redis, "both@example.com", BOTH_PW,
                    perms=["billing,technical"], parent=owner.email),
    }


@pytest.fixture
def lookalike(gw, team):
    """Permissions whose names start or end like the required ones."""
    return add(gw.redis, "look@example.com", "L00k-Secret!pw",
               perms=["billing_read", "non_technical", "al"],
               parent=team["owner"].email)


def expected(u, perms, brand=BRAND):
    return {"x-client-account": u.account, "x-client-user": u.user,
            "x-client-brand": brand, "x-client-permissions": perms}


def assert_401(r):
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.json()["error"] == "unauthenticated"


def assert_login_refused(r):
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.json()["error"] == "invalid_credentials"
    assert "Set-Cookie" not in r.headers


# ------------------------------------------------------------ sub-users

def test_owner_and_sub_users_share_the_account_with_their_own_identity(
        gw, team):
    tokens = {name: gw.login_token(u.email, u.password)
              for name, u in team.items()}

    seen = {name: identity(gw.get("/dashboard/" + name, tokens[name]))
            for name in team}

    owner = team["owner"]
    assert seen == {
        "owner": expected(owner, "all"),
        "biller": expected(team["biller"], "billing"),
        "tech": expected(team["tech"], "domains,technical"),
        "both": expected(team["both"], "billing,technical"),
    }
    assert {s["x-client-account"] for s in seen.values()} == {owner.account}
    assert len({s["x-client-user"] for s in seen.values()}) == 4
    # support sees the same team
    listing = ctl(gw.redis, "user", "list", BRAND, "tech@example.com").stdout
    assert listing.splitlines() == [
        "%s owner owner@example.com all active" % owner.user,
        "%s subuser bill@example.com billing active" % team["biller"].user,
        "%s subuser tech@example.com domains,technical active"
        % team["tech"].user,
        "%s subuser both@example.com billing,technical active"
        % team["both"].user,
    ]


def test_another_account_is_another_x_client_account(gw, team):
    other = add(gw.redis, "other@example.com", OWNER_PW)

    r = gw.get("/dashboard", gw.login_token(other.email, OWNER_PW))

    assert r.status_code == 200
    assert identity(r) == expected(other, "all")
    assert other.account != team["owner"].account


# ------------------------------------------------------------ permissions

PATHS = ("/dashboard", "/billing/invoices", "/billing-tech/renewals")


@pytest.mark.parametrize("who, statuses", [
    ("owner", (200, 200, 200)),
    ("biller", (200, 200, 403)),
    ("tech", (200, 403, 403)),
    ("both", (200, 200, 200)),
])
def test_required_permissions_gate_each_location(gw, team, who, statuses):
    u = team[who]
    token = gw.login_token(u.email, u.password)

    got = tuple(gw.get(p, token).status_code for p in PATHS)

    assert got == statuses
    # a 403 never reaches the portal; a 200 carries the user's identity
    for path, status in zip(PATHS, statuses):
        seen = gw.backend.seen(path)
        assert len(seen) == (status == 200), (path, seen)


def test_permission_names_match_whole(gw, lookalike):
    token = gw.login_token(lookalike.email, lookalike.password)

    got = tuple(gw.get(p, token).status_code for p in PATHS)

    assert got == (200, 403, 403)
    assert identity(gw.get("/dashboard", token))["x-client-permissions"] \
        == "al,billing_read,non_technical"


def test_forbidden_answer_says_why(gw, team):
    token = gw.login_token(team["biller"].email, BILL_PW)

    r = gw.get("/billing-tech/renewals", token)

    assert r.status_code == 403
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["ok"] is False and r.json()["error"] == "forbidden"


def test_permission_change_applies_to_the_live_session_at_once(gw, team):
    tech = team["tech"]
    token = gw.login_token(tech.email, TECH_PW)
    assert gw.get("/billing/x", token).status_code == 403

    out = ctl(gw.redis, "user", "perms", BRAND, tech.email,
              "--perm", "billing").stdout

    assert out == ("permissions of account %s user %s: billing, updated 1 "
                   "live session(s)\n" % (tech.account, tech.user))
    r = gw.get("/billing/x", token)
    assert r.status_code == 200
    assert identity(r) == expected(tech, "billing")
    assert identity(gw.get("/dashboard", token)) == expected(tech, "billing")
    # billing alone is not billing and technical
    assert gw.get("/billing-tech/x", token).status_code == 403

    ctl(gw.redis, "user", "perms", BRAND, tech.email,
        "--perm", "technical", "--perm", "domains")

    assert gw.get("/billing/x", token).status_code == 403
    assert identity(gw.get("/dashboard", token)) == \
        expected(tech, "domains,technical")
    # and the next login gets the stored permissions
    fresh = gw.login_token(tech.email, TECH_PW)
    assert identity(gw.get("/dashboard", fresh)) == \
        expected(tech, "domains,technical")


def test_granting_all_opens_every_location_of_a_live_session(gw, team):
    biller = team["biller"]
    token = gw.login_token(biller.email, BILL_PW)
    assert gw.get("/billing-tech/x", token).status_code == 403

    ctl(gw.redis, "user", "perms", BRAND, biller.email, "--perm", "all")

    r = gw.get("/billing-tech/x", token)
    assert r.status_code == 200
    assert identity(r) == expected(biller, "all")


# ------------------------------------------------------------ lock

def test_lock_ends_the_live_session_and_refuses_logins_until_unlock(gw,
                                                                    team):
    biller, owner = team["biller"], team["owner"]
    before = gw.login_token(biller.email, BILL_PW)
    owner_token = gw.login_token(owner.email, OWNER_PW)
    assert gw.get("/billing/x", before).status_code == 200

    out = ctl(gw.redis, "user", "lock", BRAND, biller.email).stdout

    assert out == "locked account %s user %s, revoked 1 session(s)\n" % (
        biller.account, biller.user)
    assert_401(gw.get("/billing/x", before))
    assert_401(gw.get("/dashboard", before))
    # the account's other users are not locked
    assert gw.get("/dashboard", owner_token).status_code == 200

    r = gw.login(biller.email, BILL_PW)
    assert r.status_code == 403, (r.status_code, r.text)
    assert r.json()["error"] == "account_locked"
    assert "Retry-After" not in r.headers
    assert "Set-Cookie" not in r.headers
    assert show(gw.redis, biller.email)["status"] == "locked"

    out = ctl(gw.redis, "user", "unlock", BRAND, biller.email).stdout

    assert out == "unlocked account %s user %s\n" % (biller.account,
                                                     biller.user)
    token = gw.login_token(biller.email, BILL_PW)
    r = gw.get("/billing/x", token)
    assert r.status_code == 200
    assert identity(r) == expected(biller, "billing")
    # the cookie from before the lock stays dead
    assert_401(gw.get("/dashboard", before))


def test_locked_user_with_a_wrong_password_gets_the_generic_refusal(gw,
                                                                    team):
    """A lock does not tell a guesser that the password was wrong or
    right: only the right password learns about the lock."""
    ctl(gw.redis, "user", "lock", BRAND, team["biller"].email)

    assert_login_refused(gw.login(team["biller"].email, WRONG))


def test_unlock_also_lifts_the_lockout_the_locked_attempts_caused(gw,
                                                                  team):
    """The customer keeps trying while locked, then calls support."""
    biller = team["biller"]
    ctl(gw.redis, "user", "lock", BRAND, biller.email)
    answers = [gw.login(biller.email, BILL_PW) for _ in range(6)]
    assert [a.json()["error"] for a in answers] == \
        ["account_locked"] * 5 + ["too_many_attempts"]

    ctl(gw.redis, "user", "unlock", BRAND, biller.email)

    r = gw.get("/billing/x", gw.login_token(biller.email, BILL_PW))
    assert r.status_code == 200
    assert identity(r) == expected(biller, "billing")


# ------------------------------------------------------------ revoke

def test_sessions_revoke_ends_every_session_of_that_user_only(gw, team):
    owner, biller = team["owner"], team["biller"]
    owner_laptop = gw.login_token(owner.email, OWNER_PW)
    owner_phone = gw.login_token(owner.email, OWNER_PW)
    biller_token = gw.login_token(biller.email, BILL_PW)
    assert show(gw.redis, owner.email)["sessions"] == "2"

    out = ctl(gw.redis, "sessions", "revoke", BRAND, owner.email).stdout

    assert out == "revoked 2 session(s)\n"
    assert_401(gw.get("/dashboard", owner_laptop))
    assert_401(gw.get("/dashboard", owner_phone))
    r = gw.get("/billing/x", biller_token)
    assert r.status_code == 200
    assert identity(r) == expected(biller, "billing")
    assert show(gw.redis, owner.email)["sessions"] == "0"
    assert show(gw.redis, biller.email)["sessions"] == "1"
    # the owner may log in again
    assert gw.get("/dashboard", gw.login_token(owner.email, OWNER_PW)) \
        .status_code == 200


# ------------------------------------------------------------ import

def write_csv(tmp_path, text):
    path = tmp_path / "export.csv"
    path.write_text(text)
    return str(path)


def test_imported_accounts_log_in_and_legacy_hashes_become_argon2id(
        gw, tmp_path):
    r = gw.redis
    passwords = {"bea@example.com": "Bcrypt-Pw-2024!",
                 "sam@example.com": "Sha512-Pw-2024!",
                 "ara@example.com": "Argon2-Pw-2024!",
                 "sub@example.com": "SubUser-Pw-2024!"}
    hashes = {
        "bea@example.com": bcrypt_hash(passwords["bea@example.com"]),
        "sam@example.com": sha512_crypt_hash(passwords["sam@example.com"]),
        "ara@example.com": argon2id_hash(r, passwords["ara@example.com"]),
        "sub@example.com": sha512_crypt_hash(passwords["sub@example.com"]),
    }
    assert r.keys() == []            # the scratch brand's keys are gone
    csv = ("email,customer_number,password_hash,perms,parent,locale\n"
           "bea@example.com,9000,%(bea@example.com)s,,,es\n"
           "sam@example.com,,%(sam@example.com)s,all,,fr\n"
           "mal@example.com,9001,\"$6$broken\"x,,,\n"
           "ara@example.com,9002,\"%(ara@example.com)s\",,,\n"
           "sub@example.com,,%(sub@example.com)s,billing;orders,"
           "bea@example.com,\n" % hashes)

    result = ctl(r, "user", "import", BRAND, write_csv(tmp_path, csv),
                 check=False)

    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.splitlines() == [
        "clientauthctl: line 4: malformed CSV: text after a closing quote"]
    assert result.stdout.splitlines() == [
        "line 2: created account 1 user 1 (bea@example.com)",
        "line 3: created account 2 user 2 (sam@example.com)",
        "line 5: created account 3 user 3 (ara@example.com)",
        "line 6: created user 4 in account 1 (sub@example.com)",
        "imported 4 line(s), 1 failed",
    ]
    assert not any("mal@" in k or "9001" in k for k in r.keys())
    schemes = {e: show(r, e)["password"] for e in passwords}
    assert schemes == {"bea@example.com": "bcrypt",
                       "sam@example.com": "sha512crypt",
                       "ara@example.com": "argon2id",
                       "sub@example.com": "sha512crypt"}

    owners = {"bea@example.com": ("1", "1", "all"),
              "sam@example.com": ("2", "2", "all"),
              "ara@example.com": ("3", "3", "all"),
              "sub@example.com": ("1", "4", "billing,orders")}
    for email, password in passwords.items():
        account, user, perms = owners[email]
        key = "ca:{%s:%s}:user:%s" % (BRAND, account, user)

        # a wrong password is refused and upgrades nothing
        assert_login_refused(gw.login(email, WRONG))
        assert r.call("HGET", key, "hash") == hashes[email]

        token = gw.login_token(email, password)

        seen = gw.get("/dashboard", token)
        assert seen.status_code == 200
        assert identity(seen) == {
            "x-client-account": account, "x-client-user": user,
            "x-client-brand": BRAND, "x-client-permissions": perms}, email
        upgraded = r.call("HGET", key, "hash")
        assert upgraded.startswith("$argon2id$v=19$m=8192,t=1,"), \
            (email, upgraded)
        if email == "ara@example.com":
            # already argon2id at the gateway's cost: kept as it is
            assert upgraded == hashes[email]
        else:
            assert upgraded != hashes[email]
        # the new hash is the same password's
        assert_login_refused(gw.login(email, WRONG))
        assert gw.login(email, password).status_code == 200

    # the sub-user belongs to the bcrypt owner's account; the customer
    # number of the owner logs nobody in here (the gateway takes e-mails)
    assert show(r, "sub@example.com")["account"] == "1"
    assert_login_refused(gw.login("9000", passwords["bea@example.com"]))


# ------------------------------------------------------------ e-mail, passwd

def test_email_change_moves_the_login_to_the_new_address(gw, team):
    biller = team["biller"]
    before = gw.login_token(biller.email, BILL_PW)

    out = ctl(gw.redis, "user", "email", BRAND, biller.email,
              "--email", "Billing.New@Example.com").stdout

    assert out == ("e-mail of account %s user %s changed from "
                   "bill@example.com to billing.new@example.com\n"
                   % (biller.account, biller.user))
    assert_login_refused(gw.login("bill@example.com", BILL_PW))
    token = gw.login_token("billing.new@example.com", BILL_PW)
    r = gw.get("/billing/x", token)
    assert r.status_code == 200
    assert identity(r) == expected(biller, "billing")
    # "sessions are left as they are"
    assert gw.get("/billing/x", before).status_code == 200


def test_owner_email_change_moves_the_owners_login(gw, team):
    owner = team["owner"]

    ctl(gw.redis, "user", "email", BRAND, owner.email,
        "--email", "boss@example.com")

    assert_login_refused(gw.login(owner.email, OWNER_PW))
    r = gw.get("/dashboard", gw.login_token("boss@example.com", OWNER_PW))
    assert identity(r) == expected(owner, "all")
    # sub-users may still name the account by the new address
    add(gw.redis, "late@example.com", "L4te-Secret!pw", perms=["orders"],
        parent="boss@example.com")
    assert show(gw.redis, "late@example.com")["account"] == owner.account


def test_passwd_sets_the_password_and_ends_live_sessions(gw, team):
    biller, owner = team["biller"], team["owner"]
    old = gw.login_token(biller.email, BILL_PW)
    owner_token = gw.login_token(owner.email, OWNER_PW)
    new_pw = "Brand-N3w-pass!"

    out = ctl(gw.redis, "user", "passwd", BRAND, biller.email,
              "--password-stdin", password=new_pw).stdout

    assert out == ("password changed for account %s user %s, revoked 1 "
                   "session(s)\n" % (biller.account, biller.user))
    assert_401(gw.get("/billing/x", old))
    assert_login_refused(gw.login(biller.email, BILL_PW))
    token = gw.login_token(biller.email, new_pw)
    r = gw.get("/billing/x", token)
    assert r.status_code == 200
    assert identity(r) == expected(biller, "billing")
    assert gw.get("/dashboard", owner_token).status_code == 200


def test_passwd_gives_a_user_without_password_its_first_login(gw):
    owner = add(gw.redis, "owner@example.com", OWNER_PW)
    ctl(gw.redis, "user", "add", BRAND, "--parent", owner.email,
        "--email", "invited@example.com", "--perm", "orders")
    assert show(gw.redis, "invited@example.com")["password"] == "none"
    assert_login_refused(gw.login("invited@example.com", "Inv1ted-Secret!"))

    ctl(gw.redis, "user", "passwd", BRAND, "invited@example.com",
        "--password-stdin", password="Inv1ted-Secret!")

    r = gw.get("/dashboard",
               gw.login_token("invited@example.com", "Inv1ted-Secret!"))
    assert r.status_code == 200
    assert identity(r)["x-client-account"] == owner.account
    assert identity(r)["x-client-permissions"] == "orders"


# ------------------------------------------------------------ brand alias

def test_a_nuxit_session_opens_phpnet_too_and_says_brand_nuxit(gw):
    """PhpNet was acquired by Nuxit: both server blocks have
    clientauth_brand nuxit, so one cookie is good on both."""
    r = gw.redis
    pierre = add(r, "pierre@nuxit.example", "Demo-Nuxit-2026!",
                 brand=ALIAS_BRAND)
    julie = add(r, "julie@phpnet.example", "Demo-PhpNet-2026!",
                brand=ALIAS_BRAND)
    clerk = add(r, "compta@phpnet.example", "Demo-Compta-2026!",
                perms=["billing"], parent=julie.email, brand=ALIAS_BRAND)
    cookie = "clientauth_nuxit"

    login = brand_login(gw.phpnet_port, julie.email, julie.password)
    assert login.status_code == 200, login.text
    julie_token = set_cookie_token(login, cookie)
    login = brand_login(gw.nuxit_port, pierre.email, pierre.password)
    assert login.status_code == 200, login.text
    pierre_token = set_cookie_token(login, cookie)
    login = brand_login(gw.nuxit_port, clerk.email, clerk.password)
    clerk_token = set_cookie_token(login, cookie)

    for port in (gw.nuxit_port, gw.phpnet_port):
        got = brand_get(port, "/espace-client", cookie, julie_token)
        assert got.status_code == 200
        assert identity(got) == expected(julie, "all", "nuxit"), port
        got = brand_get(port, "/espace-client", cookie, pierre_token)
        assert identity(got) == expected(pierre, "all", "nuxit"), port
        got = brand_get(port, "/espace-client", cookie, clerk_token)
        assert identity(got) == expected(clerk, "billing", "nuxit"), port
        assert identity(got)["x-client-account"] == julie.account

    # a nuxit session is nothing at magic, under either cookie name
    assert_401(gw.get("/dashboard", julie_token))
    assert_401(brand_get(gw.port, "/dashboard", cookie, julie_token))
    # and a magic account does not log in at nuxit
    magic = add(r, "owner@example.com", OWNER_PW)
    assert brand_login(gw.nuxit_port, magic.email, OWNER_PW).status_code \
        == 401
    assert gw.login(julie.email, julie.password).status_code == 401

    # support's tools act on the brand: a revoke at nuxit ends the PhpNet
    # session wherever it is used
    ctl(r, "sessions", "revoke", ALIAS_BRAND, julie.email)
    for port in (gw.nuxit_port, gw.phpnet_port):
        assert_401(brand_get(port, "/espace-client", cookie, julie_token))
        assert brand_get(port, "/espace-client", cookie, pierre_token) \
            .status_code == 200


# ------------------------------------------------------------ logins in flight

def test_lock_during_a_login_leaves_no_live_session(gw):
    """Support locks a user whose password leaked while a login with it is
    being verified: whatever that login answers, it must not leave a
    session that outlives the lock."""
    owner = add(gw.redis, "owner@example.com", OWNER_PW, cost=SLOW_COST)
    wait, pending = login_in_flight(gw, owner.email, OWNER_PW)

    ctl(gw.redis, "user", "lock", BRAND, owner.email)
    assert pending(), "the login answered before the lock: hash too fast"

    r = wait()
    assert r.status_code in (200, 403), (r.status_code, r.text)
    if r.status_code == 200:
        token = set_cookie_token(r, COOKIE)
        assert_401(gw.get("/dashboard", token))
    assert show(gw.redis, owner.email)["sessions"] == "0"


def test_permission_change_during_a_login_reaches_its_session(gw):
    owner = add(gw.redis, "owner@example.com", OWNER_PW)
    clerk = add(gw.redis, "clerk@example.com", BILL_PW, perms=["billing"],
                parent=owner.email, cost=SLOW_COST)
    wait, pending = login_in_flight(gw, clerk.email, BILL_PW)

    ctl(gw.redis, "user", "perms", BRAND, clerk.email, "--perm", "orders")
    assert pending(), "the login answered before the change: hash too fast"

    r = wait()
    assert r.status_code == 200, r.text
    token = set_cookie_token(r, COOKIE)
    assert gw.get("/billing/x", token).status_code == 403
    assert identity(gw.get("/dashboard", token)) == expected(clerk, "orders")


def test_passwd_during_a_legacy_login_keeps_the_new_password(gw, tmp_path):
    """An imported customer still has the portal's bcrypt hash, upgraded at
    the first login.  Support sets a new password while a login with the
    old one is being verified: the new password must win, not the old
    one's upgraded hash, and the login is refused.  (That the upgrade is
    never written over it, even for a moment, is
    test_txn_races.test_upgrade_never_overwrites_*.)"""
    old_pw, new_pw = "Portal-0ld-pass!", "Supp0rt-New-pass!"
    legacy = bcrypt_hash(old_pw, cost=12)            # a verify that lasts
    csv = "email,password_hash\nlegacy@example.com,%s\n" % legacy
    ctl(gw.redis, "user", "import", BRAND, write_csv(tmp_path, csv))
    wait, pending = login_in_flight(gw, "legacy@example.com", old_pw)

    out = ctl(gw.redis, "user", "passwd", BRAND, "legacy@example.com",
              "--password-stdin", password=new_pw).stdout
    assert out.startswith("password changed for account 1 user 1,"), out
    assert pending(), "the login answered before passwd: hash too fast"
    assert wait().status_code == 401

    assert gw.login("legacy@example.com", new_pw).status_code == 200
    assert_login_refused(gw.login("legacy@example.com", old_pw))
    assert gw.redis.call("LRANGE", "ca:{magic:1}:user:1:history", 0, -1) \
        == [legacy]


def test_sessions_revoked_during_a_login_take_its_session_too(gw):
    """Support revokes every session of a user while a login of that user
    is being verified: the session that login writes afterwards is not in
    the list support revoked, yet it must not survive the revocation."""
    owner = add(gw.redis, "owner@example.com", OWNER_PW, cost=SLOW_COST)
    wait, pending = login_in_flight(gw, owner.email, OWNER_PW)

    ctl(gw.redis, "sessions", "revoke", BRAND, owner.email)
    assert pending(), "the login answered before the revoke: hash too fast"

    r = wait()
    assert r.status_code == 401, (r.status_code, r.text)
    assert "Set-Cookie" not in r.headers
    # the refused login deletes its session with a write it does not wait
    # for: the answer can reach the client first
    wait_until(lambda: show(gw.redis, owner.email)["sessions"] == "0", 5,
               "the refused login's session to be deleted")
    assert gw.login(owner.email, OWNER_PW).status_code == 200
