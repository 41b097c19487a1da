"""The login throttle (issue 3, item 3): lockout with growing bans, sliding
windows per client address, per account and per brand, all counted in Redis
before any hashing; plus what must never count (cross-site and malformed
posts) and the login notice of a successful login (item 6).

Each test is one story.  Gateways with other directives than the defaults
are started per test (make_gateway); the module gateway (gw) keeps the
defaults: lockout 5 15m 5m max=24h, account 10/15m, address 30/5m, brand
6000/1m.
"""

import time

import pytest

from helpers import BRAND, HTML, JSON, add_user, wait_until
from login_helpers import (FORM, WRONG, add_customer, avoid_bucket_edge,
                           bans_settled, burst, failures, form_login,
                           limit_keys, lock_pttl, lock_within, lockout_state,
                           log_pids, login_bytes, raw_exchange, start_burst,
                           status_of, wait_unlocked)

OWNER_ID = "owner@example.com"

# generous windows, so that only the rule under test can refuse
ROOMY = ("clientauth_login_limit account 1000 1h;\n"
         "clientauth_login_limit address 1000 1h;\n")


def retry_after(r):
    value = r.headers.get("Retry-After")
    assert value is not None and value.isdigit(), dict(r.headers)
    return int(value)


def assert_throttled(r):
    assert r.status_code == 429, (r.status_code, r.text[:200])
    assert retry_after(r) > 0
    assert "Set-Cookie" not in r.headers
    body = r.json()
    assert body["ok"] is False and body["error"] == "too_many_attempts"


def sessions(redis):
    return [k for k in redis.keys() if ":sess:" in k]


# ------------------------------------------------------------ lockout

def test_default_lockout_stops_a_brute_force_long_before_20_attempts(gw,
                                                                     owner):
    throttled = gw.metric('clientauth_logins_total{result="throttled"}')
    failures = gw.metric('clientauth_logins_total{result="failure"}')

    statuses = []
    for i in range(19):
        r = gw.login(owner.email, "Guess-%d!" % i)
        statuses.append(r.status_code)
        if r.status_code == 429:
            break

    # 5 wrong passwords are checked, the 6th attempt is refused unhashed
    assert statuses == [401] * 5 + [429]
    assert_throttled(r)
    assert 0 < retry_after(r) <= 300                  # the first ban: 5m
    ttl = lock_within(gw.redis, 0, 300000)
    assert 0 < ttl <= 300000, ttl

    right = gw.login(owner.email, owner.password)

    assert_throttled(right)
    assert 0 < retry_after(right) <= 300
    assert sessions(gw.redis) == []
    assert gw.metric('clientauth_logins_total{result="failure"}') \
        == failures + 5
    assert gw.metric('clientauth_logins_total{result="throttled"}') \
        == throttled + 2


def test_right_password_is_refused_while_locked_and_accepted_after_the_ban(
        make_gateway, owner):
    g = make_gateway(server="clientauth_lockout 3 1m 2s;\n" + ROOMY)

    assert [g.login(owner.email, WRONG).status_code
            for _ in range(3)] == [401] * 3
    assert failures(g.redis) == 3

    fourth = g.login(owner.email, WRONG)
    assert_throttled(fourth)
    assert retry_after(fourth) == 2
    ttl = lock_within(g.redis, 0, 2000)
    assert 0 < ttl <= 2000, ttl

    locked = g.login(owner.email, owner.password)
    assert_throttled(locked)
    assert 1 <= retry_after(locked) <= 2
    assert sessions(g.redis) == []

    wait_unlocked(g.redis, 3)
    after = g.login(owner.email, owner.password)

    assert after.status_code == 200, after.text
    assert "Set-Cookie" in after.headers
    assert len(sessions(g.redis)) == 1
    # a success leaves no failure behind
    assert failures(g.redis) == 0


def test_a_success_clears_the_failure_count(make_gateway, owner):
    g = make_gateway(server="clientauth_lockout 3 1m 2s;\n" + ROOMY)

    assert g.login(owner.email, WRONG).status_code == 401
    assert g.login(owner.email, WRONG).status_code == 401
    assert failures(g.redis) == 2
    assert g.login(owner.email, owner.password).status_code == 200
    assert failures(g.redis) == 0
    assert g.login(owner.email, WRONG).status_code == 401
    assert g.login(owner.email, WRONG).status_code == 401

    # 4 wrong passwords in all, never 3 in a row: not locked
    r = g.login(owner.email, owner.password)

    assert r.status_code == 200, r.text
    assert lock_pttl(g.redis) == -2


def test_each_new_lockout_bans_longer_up_to_the_maximum(make_gateway, owner):
    g = make_gateway(server="clientauth_lockout 2 1m 1s max=2s;\n" + ROOMY)
    seen = []

    for n in range(3):
        if n:
            wait_unlocked(g.redis, 3)
        tries = [g.login(owner.email, WRONG) for _ in range(2)]
        assert [r.status_code for r in tries] == [401, 401], \
            (n, seen, [(r.headers, r.text) for r in tries],
             g.redis.dump())
        r = g.login(owner.email, WRONG)
        assert_throttled(r)
        low, high = [(0, 1000), (1000, 2000), (1000, 2000)][n]
        seen.append((retry_after(r), lock_within(g.redis, low, high),
                     bans_settled(g.redis, n + 1)))

    (ra1, ttl1, n1), (ra2, ttl2, n2), (ra3, ttl3, n3) = seen
    assert (ra1, ra2, ra3) == (1, 2, 2), seen       # 1s, then 2s, capped
    assert 0 < ttl1 <= 1000, seen
    assert 1000 < ttl2 <= 2000, seen
    assert 1000 < ttl3 <= 2000, seen
    assert (n1, n2, n3) == (1, 2, 3), seen


# ------------------------------------------------------------ concurrency

HAMMER = 40


def hammer(g, identifier, password=WRONG):
    def one(i):
        r = form_login(g, identifier, password, timeout=30)
        return r.status_code, r.headers.get("Retry-After")
    return burst(HAMMER, one)


def test_two_workers_hammering_one_account_hash_only_the_allowed_attempts(
        make_gateway, owner):
    g = make_gateway(workers=2, listen_opts="reuseport",
                     server="clientauth_lockout 5 1m 2s max=1h;")

    results = hammer(g, owner.email)

    statuses = [x[0] if isinstance(x, tuple) else x for x in results]
    assert statuses.count(401) == 5, statuses     # the failure count is
    assert statuses.count(429) == HAMMER - 5, statuses  # claimed first
    assert g.metric('clientauth_logins_total{result="failure"}') == 5
    assert g.metric('clientauth_logins_total{result="throttled"}') \
        == HAMMER - 5
    assert g.metric('clientauth_logins_total{result="success"}') == 0
    # both workers took part, so the counting was shared through Redis
    assert len(log_pids(g.nginx, "clientauth: login")) == 2, \
        g.nginx.read_log()[-3000:]


def test_attempts_that_meet_a_lockout_together_ban_once(make_gateway, owner):
    """Attempts that all find the account over its retries (here: five
    that reach Redis together, which holds them while it is stopped) lock
    it out once: one ban of ban_time, counted once, announced as such; the
    next lockout is the second ban, not the sixth."""
    g = make_gateway(workers=2, listen_opts="reuseport",
                     redis_opts="timeout=5s",
                     server="clientauth_lockout 5 1m 2s max=1h;\n" + ROOMY)
    assert [g.login(owner.email, WRONG).status_code
            for _ in range(5)] == [401] * 5

    g.redis.pause()
    try:
        pending = start_burst(5, lambda i: form_login(g, owner.email, WRONG,
                                                      timeout=30))
        time.sleep(0.4)                 # all five read and sent to Redis
    finally:
        g.redis.resume()
    together = [r for r in pending()]

    assert [r.status_code for r in together] == [429] * 5
    assert bans_settled(g.redis, 1) == 1
    ttl = lock_within(g.redis, 0, 2000)
    assert 0 < ttl <= 2000, ttl
    assert [retry_after(r) for r in together] == [2] * 5

    wait_unlocked(g.redis, 3)
    after = [g.login(owner.email, WRONG) for _ in range(6)]

    assert [r.status_code for r in after] == [401] * 5 + [429]
    assert bans_settled(g.redis, 2) == 2
    assert retry_after(after[-1]) == 4
    ttl = lock_within(g.redis, 2000, 4000)
    assert 2000 < ttl <= 4000, ttl


def test_a_refused_attempt_never_leaves_the_account_extra_guesses(
        make_gateway):
    """An attempt refused by the account's window (it claimed a failure,
    then gives it back) while the customer logs in successfully (which
    clears the count): the count must not end below zero, or the next
    attacker gets more than RETRIES guesses.  The order is forced by
    holding Redis: the refused attempt's claim, then the success's clearing,
    then the refused attempt's give-back.  The guesses go through a second
    gateway instance on the same Redis, with a roomy window."""
    lockout = "clientauth_lockout 3 1h 2s;\n"
    g = make_gateway(redis_opts="timeout=5s",
                     server=lockout + "clientauth_login_limit account 1 1h;")
    avoid_bucket_edge(3600)
    slow = add_customer(g.redis, "slow@example.com", "Sl0w-secret!pw",
                        cost="4:64")             # verifying takes a while

    reads = g.redis.commandstats().get("hmget", 0)
    success = start_burst(1, lambda i: form_login(
        g, slow.email, slow.password, timeout=30))
    wait_until(lambda: g.redis.commandstats().get("hmget", 0) > reads, 5,
               "the success to read its user")   # and start its hash
    g.redis.pause()
    try:
        refused = start_burst(1, lambda i: form_login(
            g, slow.email, WRONG, timeout=30))
        time.sleep(1.5)                 # the hash ends, its EXEC is queued
    finally:
        g.redis.resume()
    [ok] = success()
    [no] = refused()
    assert ok.status_code == 200, ok.text
    assert no.status_code == 429, no.text     # the window: 1 attempt
    time.sleep(0.2)
    left = failures(g.redis)

    other = make_gateway(server=lockout + ROOMY)
    guesses = []
    for _ in range(6):
        r = form_login(other, slow.email, WRONG)
        guesses.append(r.status_code)
        if r.status_code == 429:
            break

    assert guesses == [401] * 3 + [429], "failure count %s" % left
    assert left == 0


# ------------------------------------------------------------ windows

def test_address_limit_spans_accounts(make_gateway, owner):
    g = make_gateway(server="clientauth_login_limit address 5 1h;")
    avoid_bucket_edge(3600)

    for i in range(5):
        assert g.login("stranger%d@example.com" % i, WRONG).status_code \
            == 401

    r = g.login(owner.email, owner.password)

    assert_throttled(r)
    assert sessions(g.redis) == []
    assert [k.rsplit(":", 1)[0] for k in limit_keys(g.redis, "address")] \
        == ["ca:%s:rl:address:127.0.0.1" % BRAND]
    # refused before hashing: not a failed password of the owner
    assert failures(g.redis, skip="stranger") == 0

    # another client address has its own budget
    raw = raw_exchange(g.port, login_bytes(g.port, owner.email,
                                           owner.password),
                       source="127.0.0.2")
    assert status_of(raw) == 200, raw[:300]


def test_brand_limit_spans_addresses_and_accounts(make_gateway, owner):
    g = make_gateway(server="set_real_ip_from 127.0.0.1;\n"
                            "real_ip_header X-Real-IP;\n"
                            "clientauth_login_limit brand 5 1h;\n")
    avoid_bucket_edge(3600)

    for i in range(5):
        r = form_login(g, "stranger%d@example.com" % i, WRONG,
                       headers={"X-Real-IP": "198.51.100.%d" % (i + 1)})
        assert r.status_code == 401

    r = form_login(g, owner.email, owner.password,
                   headers={"X-Real-IP": "198.51.100.99"})

    assert_throttled(r)
    assert len(limit_keys(g.redis, "brand")) == 1
    assert len(limit_keys(g.redis, "address")) == 6


def test_a_flood_refused_per_address_leaves_the_brand_open(make_gateway,
                                                          owner):
    """The brand counts only attempts whose password gets checked: a flood
    that its address or the accounts' lockout already refuses does not
    spend the brand's allowance, so the brand's customers still get in."""
    g = make_gateway(server="set_real_ip_from 127.0.0.1;\n"
                            "real_ip_header X-Real-IP;\n"
                            "clientauth_login_limit address 3 1h;\n"
                            "clientauth_lockout 2 1h 1h;\n"
                            "clientauth_login_limit brand 6 1h;\n")
    avoid_bucket_edge(3600)

    flood = [form_login(g, "victim%d@example.com" % (i % 2), WRONG,
                        headers={"X-Real-IP": "203.0.113.%d" % (i // 10)})
             .status_code for i in range(30)]

    # 3 addresses x 3 attempts, of which the 2 accounts' lockout lets 4
    # be checked; everything else is refused before any hashing
    assert flood.count(401) == 4, flood
    assert flood.count(429) == 26, flood

    r = form_login(g, owner.email, owner.password,
                   headers={"X-Real-IP": "198.51.100.99"})

    assert r.status_code == 200, r.text


def test_address_limit_follows_realip(make_gateway, owner):
    g = make_gateway(server="set_real_ip_from 127.0.0.1;\n"
                            "real_ip_header X-Real-IP;\n"
                            "clientauth_login_limit address 3 1h;\n")
    avoid_bucket_edge(3600)
    attacker = {"X-Real-IP": "203.0.113.7"}

    for i in range(3):
        assert form_login(g, "stranger%d@example.com" % i, WRONG,
                          headers=attacker).status_code == 401
    assert_throttled(form_login(g, "stranger9@example.com", WRONG,
                                headers=attacker))

    # the customer behind the same proxy, from another address, gets in
    r = form_login(g, owner.email, owner.password,
                   headers={"X-Real-IP": "203.0.113.8"})

    assert r.status_code == 200, r.text
    subjects = sorted(k.split(":")[4] for k in limit_keys(g.redis,
                                                          "address"))
    assert subjects == ["203.0.113.7", "203.0.113.8"]


def test_forwarded_headers_are_ignored_without_realip(make_gateway, owner):
    g = make_gateway(server="clientauth_login_limit address 3 1h;")
    avoid_bucket_edge(3600)

    for i in range(3):
        forged = {"X-Forwarded-For": "192.0.2.%d" % i,
                  "X-Real-IP": "192.0.2.%d" % i}
        assert form_login(g, "stranger%d@example.com" % i, WRONG,
                          headers=forged).status_code == 401

    r = form_login(g, owner.email, owner.password,
                   headers={"X-Forwarded-For": "192.0.2.200",
                            "X-Real-IP": "192.0.2.200"})

    assert_throttled(r)
    assert [k.split(":")[4] for k in limit_keys(g.redis, "address")] \
        == ["127.0.0.1"]


def test_account_limit_counts_attempts_not_only_failures(make_gateway, owner):
    """The per-account window counts every attempt (successes too), unlike
    the lockout, which a success resets."""
    g = make_gateway(server="clientauth_login_limit account 4 1h;\n"
                            "clientauth_lockout off;\n")
    avoid_bucket_edge(3600)

    for _ in range(4):
        assert g.login(owner.email, owner.password).status_code == 200

    r = g.login(owner.email, owner.password)

    assert_throttled(r)
    assert len(limit_keys(g.redis, "account")) == 1
    assert lockout_state(g.redis, "fails") == {}   # lockout is off


# ------------------------------------------------------------ never counted

CROSS_SITE = {
    "Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site"},
    "Sec-Fetch-Site same-site": {"Sec-Fetch-Site": "same-site"},
    "foreign Origin": {"Origin": "https://evil.example"},
    "null Origin": {"Origin": "null"},
    "Origin on another port": {"Origin": "http://127.0.0.1:1"},
    "same-origin Origin but cross-site fetch": {
        "Origin": "SAME", "Sec-Fetch-Site": "cross-site"},
}


@pytest.mark.parametrize("name", sorted(CROSS_SITE))
@pytest.mark.parametrize("accept", [JSON, HTML])
def test_cross_site_login_post_is_refused_and_writes_nothing(gw, owner, name,
                                                             accept):
    headers = {k: ("http://127.0.0.1:%d" % gw.port if v == "SAME" else v)
               for k, v in CROSS_SITE[name].items()}
    before = gw.redis.dump()
    writes = gw.redis.commandstats()

    r = gw.login(owner.email, owner.password, accept=accept, headers=headers)

    assert r.status_code == 403
    assert "Set-Cookie" not in r.headers
    assert gw.redis.dump() == before
    assert gw.redis.commandstats().get("incr", 0) == writes.get("incr", 0)


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "none"},
    {"Origin": "SAME"},
    {"Origin": "SAME", "Sec-Fetch-Site": "same-origin"},
    {},
], ids=["same-origin fetch", "typed by the user", "same Origin",
        "both", "neither (not a browser)"])
def test_same_origin_login_post_is_processed(gw, owner, headers):
    headers = {k: ("http://127.0.0.1:%d" % gw.port if v == "SAME" else v)
               for k, v in headers.items()}

    r = gw.login(owner.email, owner.password, headers=headers)

    assert r.status_code == 200, r.text
    assert len(sessions(gw.redis)) == 1


def test_cross_site_logout_is_refused_and_keeps_the_session(gw, owner):
    token = gw.login_token(owner.email, owner.password)

    r = gw.post("/auth/logout", token,
                headers={"Origin": "https://evil.example"})

    assert r.status_code == 403
    assert gw.get("/still-in", token).status_code == 200


MALFORMED = [
    (FORM, "identifier=owner%zz@example.com&password=x"),
    (FORM, "identifier=owner@example.com&password=a&password=b"),
    ("application/json", '{"identifier":"owner@example.com",'
                         '"password":"x","password":"y"}'),
    ("application/json", '{"identifier":"owner@example.com",'),
    ("application/json", '{"identifier":"owner@example.com",'
                         '"password":["x"]}'),
]


def test_malformed_posts_change_nothing_and_spend_no_attempt(make_gateway,
                                                             owner):
    g = make_gateway(server="clientauth_login_limit address 2 1h;\n"
                            "clientauth_login_limit account 2 1h;\n"
                            "clientauth_lockout 1 1h 1h;\n")
    avoid_bucket_edge(3600)
    before = g.redis.dump()

    for ctype, body in MALFORMED * 2:
        r = g.post("/auth/login", data=body.encode(),
                   headers={"Content-Type": ctype})
        assert r.status_code == 400, (body, r.status_code)
    big = ("identifier=%s&password=%s&pad=%s"
           % (owner.email, owner.password, "x" * 5000)).encode()
    for _ in range(3):
        assert g.post("/auth/login", data=big,
                      headers={"Content-Type": FORM}).status_code == 413

    assert g.redis.dump() == before
    assert g.metric('clientauth_logins_total{result="throttled"}') == 0
    # the whole budget is still there
    assert g.login(owner.email, owner.password).status_code == 200


# ------------------------------------------------------------ login notice

def outbox(redis, key="clientauth:outbox"):
    entries = redis.call("XRANGE", key, "-", "+") or []
    return [dict(zip(fields[0::2], fields[1::2])) for _, fields in entries]


def test_login_notice_is_appended_to_the_outbox(make_gateway, owner):
    g = make_gateway(server="clientauth_login_notice on;")

    assert g.login(owner.email, WRONG).status_code == 401
    assert outbox(g.redis) == []

    assert g.login(owner.email, owner.password).status_code == 200

    [msg] = outbox(g.redis)
    assert msg["type"] == "login_notice"
    assert msg["brand"] == BRAND
    assert msg["account"] == owner.account
    assert msg["to"] == owner.email
    assert msg["locale"] == "en"


def test_login_notice_goes_to_the_configured_stream(make_gateway, owner):
    g = make_gateway(server="clientauth_login_notice on;\n"
                            "clientauth_outbox mail:notices maxlen=100;\n")

    assert g.login(owner.email, owner.password).status_code == 200
    assert g.login(owner.email, owner.password).status_code == 200

    assert [m["type"] for m in outbox(g.redis, "mail:notices")] \
        == ["login_notice"] * 2
    assert g.redis.call("EXISTS", "clientauth:outbox") == 0


def test_sub_user_login_notice_goes_to_the_sub_user(make_gateway, owner):
    g = make_gateway(server="clientauth_login_notice on;")
    clerk = add_user(g.redis, "clerk@example.com", "Cl3rk-secret!pw",
                     perms=["orders"], parent=owner.email)

    assert g.login(clerk.email, clerk.password).status_code == 200

    [msg] = outbox(g.redis)
    assert msg["to"] == clerk.email
    assert msg["account"] == owner.account


def test_no_login_notice_by_default(gw, owner):
    assert gw.login(owner.email, owner.password).status_code == 200
    assert gw.redis.call("EXISTS", "clientauth:outbox") == 0
