"""Identifiers (issue 3, item 1): a brand accepts the kinds named by
clientauth_identifiers, recognises the kind from the shape of the one input
field, and every spelling of one identifier is one account, for logging in
and for the throttle alike.  Accounts are made with clientauthctl, which
indexes every identifier given to it whatever the brand accepts."""

import html
import json

import pytest

from helpers import JSON, HTML
from login_helpers import (WRONG, add_customer, avoid_bucket_edge,
                           failures, form_login, limit_keys, lock_within,
                           throttle_keys)

ALL_KINDS = "email customer_number nic phone domain"
PASSWORD = "An4-secret!pw"

# identifier as given to clientauthctl, as the customer may type it
ANA = dict(email="ana@example.com", customer_number="9000",
           nic="dm429850-OVH", phone="+34 612 345 678",
           domain="Example.COM.")


def add_ana(redis):
    ids = dict(ANA)
    email = ids.pop("email")
    return add_customer(redis, email, PASSWORD, **ids)


def add_bob(redis):
    """Whose domain name is internationalised."""
    return add_customer(redis, "bob@example.net", PASSWORD,
                        domain="bücher.example")


def account_seen(g, token):
    """X-Client-Account as the portal receives it with this session."""
    r = g.get("/whoami", token)
    assert r.status_code == 200, r.text
    return [v for k, v in r.json()["headers"]
            if k.lower() == "x-client-account"]


def headers_but_date(r):
    return [(k, v) for k, v in r.raw.headers.items()
            if k.lower() not in ("date", "content-length")]


# ------------------------------------------------------------ kinds

@pytest.mark.parametrize("typed", [
    "ana@example.com", "9000", "dm429850-OVH", "+34 612 345 678",
    "example.com",
], ids=["email", "customer_number", "nic", "phone", "domain"])
def test_owner_logs_in_by_each_kind_the_brand_accepts(make_gateway, typed):
    g = make_gateway(identifiers=ALL_KINDS)
    ana = add_ana(g.redis)

    r = form_login(g, typed, PASSWORD)

    assert r.status_code == 200, r.text
    token = r.cookies.get("clientauth_magic")
    assert account_seen(g, token) == [ana.account]


@pytest.mark.parametrize("typed", ["bücher.example", "Bücher.Example.",
                                   "xn--bcher-kva.example"])
def test_internationalised_domain_logs_in_however_it_is_written(
        make_gateway, typed):
    g = make_gateway(identifiers="email domain")
    bob = add_bob(g.redis)

    r = form_login(g, typed, PASSWORD)

    assert r.status_code == 200, r.text
    assert account_seen(g, r.cookies.get("clientauth_magic")) \
        == [bob.account]


def test_customer_number_may_come_as_a_json_number(make_gateway):
    g = make_gateway(identifiers=ALL_KINDS)
    ana = add_ana(g.redis)

    r = g.post("/auth/login", data=json.dumps(
        {"identifier": 9000, "password": PASSWORD}),
        headers={"Content-Type": "application/json"})

    assert r.status_code == 200, r.text
    assert account_seen(g, r.cookies.get("clientauth_magic")) \
        == [ana.account]


@pytest.mark.parametrize("typed", ["9000", "dm429850-OVH",
                                   "+34 612 345 678", "example.com"],
                         ids=["customer_number", "nic", "phone", "domain"])
@pytest.mark.parametrize("accept", [JSON, HTML])
def test_a_kind_the_brand_does_not_accept_is_a_generic_failure(make_gateway,
                                                               typed,
                                                               accept):
    g = make_gateway(identifiers="email")
    add_ana(g.redis)
    wrong = form_login(g, "ana@example.com", WRONG, accept=accept)

    r = form_login(g, typed, PASSWORD, accept=accept)

    assert r.status_code == 401
    assert r.text.replace(html.escape(typed), "IDENTIFIER") \
        == wrong.text.replace("ana@example.com", "IDENTIFIER")
    assert headers_but_date(r) == headers_but_date(wrong)
    assert [k for k in g.redis.keys() if ":sess:" in k] == []
    # the e-mail address still works
    assert form_login(g, "ana@example.com", PASSWORD).status_code == 200


def test_bare_digits_are_a_phone_number_where_customer_numbers_are_not_used(
        make_gateway):
    g = make_gateway(identifiers="email phone",
                     server="clientauth_phone_country 34;")
    add_ana(g.redis)

    for typed in ("612345678", "0034612345678", "+34 612-345-678"):
        r = form_login(g, typed, PASSWORD)
        assert r.status_code == 200, (typed, r.text)

    # and where they are, bare digits are a customer number
    g2 = make_gateway(identifiers="email customer_number phone",
                      server="clientauth_phone_country 34;")
    assert form_login(g2, "9000", PASSWORD).status_code == 200
    assert form_login(g2, "612345678", PASSWORD).status_code == 401
    assert form_login(g2, "+34 612 345 678", PASSWORD).status_code == 200


# ------------------------------------------------------------ one account

# (identifiers, phone country, three spellings for wrong passwords, a fourth
# for the right password)
SPELLINGS = {
    "email": ("email", None,
              ["Ana@Example.com", " ana@example.com ", "ANA@EXAMPLE.COM"],
              "ana@example.com"),
    "customer_number": ("email customer_number", None,
                        ["9000", "09000", " 0009000"], "9000"),
    "nic": ("email nic", None,
            ["dm429850-OVH", "DM429850-ovh", "Dm429850-Ovh"],
            "dm429850-ovh"),
    "phone": ("email phone", "34",
              ["+34 612 345 678", "0034612345678", "612345678"],
              "+34 (612) 34-56-78"),
    "domain": ("email domain", None,
               ["Example.COM.", "example.com", "EXAMPLE.com"],
               "example.com."),
    "idn domain": ("email domain", None,
                   ["Bücher.Example.", "xn--bcher-kva.example",
                    "XN--BCHER-KVA.EXAMPLE."],
                   "bücher.example"),
}


@pytest.mark.parametrize("case", sorted(SPELLINGS))
def test_every_spelling_of_an_identifier_shares_one_lockout(make_gateway,
                                                            case):
    identifiers, country, wrongs, right = SPELLINGS[case]
    server = "clientauth_lockout 3 1h 1h;\n"
    if country:
        server += "clientauth_phone_country %s;\n" % country
    g = make_gateway(identifiers=identifiers, server=server)
    add_ana(g.redis)
    add_bob(g.redis)

    assert [form_login(g, w, WRONG).status_code for w in wrongs] \
        == [401] * 3
    assert failures(g.redis) == 3

    r = form_login(g, right, PASSWORD)

    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) > 0
    assert lock_within(g.redis, 0, 3600000) > 0
    # one window bucket, however the identifier was spelt
    assert len(limit_keys(g.redis, "account")) == 1, \
        limit_keys(g.redis, "account")


def test_cycling_through_an_accounts_identifiers_stays_under_20_guesses(
        make_gateway):
    """Issue 3: the defaults stop a brute force within 20 attempts per
    account.  An attacker who knows several identifiers of one account
    (its e-mail, customer number, domain, ...) and takes turns with them
    must not get a fresh allowance for each."""
    g = make_gateway(identifiers=ALL_KINDS)               # default throttle
    add_ana(g.redis)
    spellings = ["ana@example.com", "9000", "dm429850-OVH",
                 "+34 612 345 678", "example.com"]

    hashed = 0
    for i in range(40):
        r = form_login(g, spellings[i % len(spellings)], "Guess-%d!" % i)
        assert r.status_code in (401, 429), r.text
        hashed += r.status_code == 401
    locked = form_login(g, "ana@example.com", PASSWORD)

    assert hashed < 20, "%d wrong passwords checked" % hashed
    assert locked.status_code == 429


def test_unknown_identifier_is_locked_out_like_a_known_one(make_gateway):
    """The throttle must not tell accounts that exist from those that do
    not: an unknown address is counted and locked exactly the same."""
    g = make_gateway(server="clientauth_lockout 3 1h 1h;")

    statuses = [form_login(g, "Nobody@Example.com", WRONG).status_code
                for _ in range(4)]

    assert statuses == [401, 401, 401, 429]
    assert lock_within(g.redis, 0, 3600000) > 0


def test_unrecognised_identifiers_still_count_per_address(make_gateway):
    g = make_gateway(server="clientauth_login_limit address 3 1h;")
    avoid_bucket_edge(3600)

    statuses = [form_login(g, "not an identifier %d" % i, WRONG).status_code
                for i in range(4)]

    assert statuses == [401, 401, 401, 429]
    # no per-account state for a value that names no account
    assert not [k for k in throttle_keys(g.redis)
                if ":fails:" in k or ":lock:" in k or ":rl:account:" in k]
    assert len(limit_keys(g.redis, "address")) == 1
