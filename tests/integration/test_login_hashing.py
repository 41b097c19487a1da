"""Password verification (issue 3, item 2): argon2id in the thread pool,
the same answer and the same work for unknown accounts, legacy bcrypt and
sha512-crypt hashes upgraded at login, outdated argon2id costs upgraded,
over-long passwords refused before hashing, a bounded hash queue, and
clients that leave while their hash runs."""

import socket
import statistics
import struct
import time
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt                    # libcrypt, as the portals' PHP used

from helpers import HTML, JSON, wait_until
from login_helpers import (WRONG, add_customer, burst, failures,
                           form_login, header_of, login_bytes, login_key,
                           raw_exchange, status_of, without_date)

CONF_HASH = "$argon2id$v=19$m=8192,t=1,p=1$"      # the gateway's t=1 m=8m
NO_LOCKOUT = ("clientauth_lockout off;\n"
              "clientauth_login_limit account off;\n"
              "clientauth_login_limit address off;\n")


def stored_hash(g, customer):
    return g.redis.call("HGET", customer.key, "hash")


# ------------------------------------------------------------ no oracle

@pytest.mark.parametrize("accept", [JSON, HTML])
def test_unknown_account_and_wrong_password_answers_are_byte_identical(
        make_gateway, accept):
    g = make_gateway()
    ana = add_customer(g.redis, "ana@example.com")

    def answer(identifier):
        return raw_exchange(g.port, login_bytes(g.port, identifier, WRONG,
                                                accept=accept))

    wrong = answer(ana.email)
    unknown = answer("nobody@example.com")
    unknown_shape = answer("dm429850-OVH")          # not accepted here

    assert status_of(wrong) == 401
    assert header_of(wrong, "Date")
    assert without_date(unknown) == without_date(wrong)
    assert without_date(unknown_shape) == without_date(wrong)


def test_unknown_account_costs_the_same_hash_work(make_gateway):
    """Medians of interleaved tries, with the default-like cost t=2 m=19m:
    an unknown account must take about as long as a wrong password on a
    real one, and clearly longer than a request refused before hashing."""
    g = make_gateway(hash_cost="t=2 m=19m", server=NO_LOCKOUT)
    ana = add_customer(g.redis, "ana@example.com", cost="2:19")

    def timed(identifier, password):
        data = login_bytes(g.port, identifier, password)
        t = time.perf_counter()
        raw = raw_exchange(g.port, data)
        elapsed = time.perf_counter() - t
        return status_of(raw), elapsed

    known, unknown, unhashed = [], [], []
    for i in range(11):
        s1, t1 = timed(ana.email, WRONG)
        s2, t2 = timed("nobody%d@example.com" % i, WRONG)
        s3, t3 = timed(ana.email, "x" * 129)         # refused unhashed
        assert (s1, s2, s3) == (401, 401, 400)
        known.append(t1)
        unknown.append(t2)
        unhashed.append(t3)

    k, u, n = (statistics.median(x) for x in (known, unknown, unhashed))
    assert 0.5 < u / k < 2, (k, u)
    assert u > 3 * n, (u, n)


# ------------------------------------------------------------ length

def test_password_over_the_maximum_is_refused_before_hashing(make_gateway):
    g = make_gateway(server="clientauth_password_max_length 16;\n"
                            "clientauth_lockout 3 1h 1h;\n")
    exact = "Sixteen-chars!1A"
    assert len(exact.encode()) == 16
    ana = add_customer(g.redis, "ana@example.com", exact)
    failed = g.metric('clientauth_logins_total{result="failure"}')
    before = g.redis.dump()

    for too_long in (exact + "x",                    # never truncated
                     "Fifteen-chars!1" + "\u00e9",   # 17 bytes, 16 chars
                     "y" * 1000):
        r = form_login(g, ana.email, too_long)
        assert r.status_code == 400, (too_long, r.text)
        assert r.json()["error"] == "password_too_long"

    # refused before anything was counted or hashed
    assert g.redis.dump() == before
    assert g.metric('clientauth_logins_total{result="failure"}') == failed

    assert form_login(g, ana.email, "Sixteen-chars!1B").status_code == 401
    assert failures(g.redis) == 1
    assert form_login(g, ana.email, exact).status_code == 200


def test_default_maximum_is_128_bytes(make_gateway):
    g = make_gateway()
    exact = "P4ss!" + "w" * 123
    ana = add_customer(g.redis, "ana@example.com", exact)

    assert form_login(g, ana.email, exact + "w").status_code == 400
    assert form_login(g, ana.email, exact).status_code == 200


# ------------------------------------------------------------ legacy

def bcrypt(password, prefix):
    salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)
    h = crypt.crypt(password, prefix + salt[4:])
    assert h.startswith(prefix), h
    return h


def sha512crypt(password):
    h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))
    assert h.startswith("$6$"), h
    return h


LEGACY = {
    "bcrypt $2b$": lambda pw: bcrypt(pw, "$2b$"),
    "bcrypt $2y$": lambda pw: bcrypt(pw, "$2y$"),
    "sha512-crypt $6$": sha512crypt,
}


@pytest.mark.parametrize("scheme", sorted(LEGACY))
def test_legacy_hash_logs_in_and_becomes_argon2id(make_gateway, scheme):
    g = make_gateway()
    ana = add_customer(g.redis, "ana@example.com")
    legacy = LEGACY[scheme](ana.password)
    g.redis.call("HSET", ana.key, "hash", legacy)
    rehashed = g.metric("clientauth_password_rehashes_total")

    assert form_login(g, ana.email, WRONG).status_code == 401
    assert stored_hash(g, ana) == legacy             # no upgrade on failure

    r = form_login(g, ana.email, ana.password)

    assert r.status_code == 200, r.text
    upgraded = stored_hash(g, ana)
    assert upgraded.startswith(CONF_HASH), upgraded
    assert g.metric("clientauth_password_rehashes_total") == rehashed + 1
    # the new hash is the password's, and is not upgraded again
    assert form_login(g, ana.email, WRONG).status_code == 401
    assert form_login(g, ana.email, ana.password).status_code == 200
    assert stored_hash(g, ana) == upgraded
    assert g.metric("clientauth_password_rehashes_total") == rehashed + 1


@pytest.mark.parametrize("cost", ["1:9", "2:8"])
def test_argon2id_hash_of_another_cost_is_upgraded(make_gateway, cost):
    g = make_gateway()
    ana = add_customer(g.redis, "ana@example.com", cost=cost)
    old = stored_hash(g, ana)
    assert old.startswith("$argon2id$") and not old.startswith(CONF_HASH)

    assert form_login(g, ana.email, WRONG).status_code == 401
    assert stored_hash(g, ana) == old

    assert form_login(g, ana.email, ana.password).status_code == 200
    assert stored_hash(g, ana).startswith(CONF_HASH), stored_hash(g, ana)


def test_unusable_stored_hash_is_a_generic_failure(make_gateway):
    g = make_gateway()
    ana = add_customer(g.redis, "ana@example.com")
    g.redis.call("HSET", ana.key, "hash", "$1$md5$notsupportedhere")
    wrong = form_login(g, "nobody@example.com", WRONG)

    r = form_login(g, ana.email, ana.password)

    assert r.status_code == 401
    assert r.content == wrong.content


# ------------------------------------------------------------ hash queue

SLOW = dict(hash_cost="t=4 m=64m", http="clientauth_hash_queue 1;")


def test_full_hash_queue_answers_503_with_retry_after(make_gateway):
    g = make_gateway(**SLOW)

    results = burst(6, lambda i: form_login(g, "user%d@example.com" % i,
                                            WRONG, timeout=30))
    statuses = [r.status_code for r in results]

    assert set(statuses) == {401, 503}, statuses
    for r in results:
        if r.status_code == 503:
            assert r.headers["Retry-After"] == "1"
            assert r.json()["error"] == "busy"
            assert "Set-Cookie" not in r.headers
    assert g.metric("clientauth_hash_queue_full_total") \
        == statuses.count(503)
    # and the queue frees itself
    assert form_login(g, "later@example.com", WRONG).status_code == 401


def test_a_busy_refusal_is_not_a_failed_password(make_gateway):
    """503 is refused before hashing, like a throttled attempt: it must not
    bring the identifier closer to a lockout."""
    g = make_gateway(**SLOW)

    results = burst(6, lambda i: form_login(g, "user%d@example.com" % i,
                                            WRONG, timeout=30))

    counted = {}
    for i, r in enumerate(results):
        fails = g.redis.call("GET", login_key("fails", "email",
                                              "user%d@example.com" % i))
        counted.setdefault(r.status_code, []).append(fails)
    assert 503 in counted, counted
    assert set(counted[401]) == {"1"}, counted
    assert set(counted[503]) <= {None, "0"}, counted


# ------------------------------------------------------------ disconnects

def send_and_leave(port, data, delay, reset):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    if delay:
        time.sleep(delay)
    if reset:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
    s.close()


def test_client_leaving_while_its_hash_runs_breaks_nothing(make_gateway):
    g = make_gateway(http="clientauth_hash_queue 2;", server=NO_LOCKOUT)
    slow = add_customer(g.redis, "slow@example.com")
    # the costliest hash the bounds allow (argon2id 10:64 is beyond them)
    g.redis.call("HSET", slow.key, "hash", crypt.crypt(
        slow.password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 12)))
    fast = add_customer(g.redis, "fast@example.com")
    workers = g.nginx.worker_pids()

    # right and wrong passwords; gone at once, or mid-hash, FIN or RST
    cases = [(slow.password, 0, False), (WRONG, 0.05, False),
             (slow.password, 0.05, True), (WRONG, 0.05, True),
             (slow.password, 0.05, False)]
    for password, delay, reset in cases:
        send_and_leave(g.port, login_bytes(g.port, slow.email, password,
                                           close=False), delay, reset)
        time.sleep(0.3)                 # its hash ends before the next one

    # every request was finished (logged), none left hanging
    wait_until(lambda: len(g.nginx.access_lines("POST /auth/login"))
               == len(cases), 5, "the abandoned logins to be finalized")
    assert g.nginx.worker_pids() == workers

    # no hash-queue slot leaked: once the abandoned hashes are done (their
    # end cannot be seen from outside), a queue of 2 takes 2 at once again
    def two_at_once():
        results = burst(2, lambda i: form_login(g, fast.email,
                                                fast.password))
        return [r.status_code for r in results] == [200, 200]
    wait_until(two_at_once, 5, "two logins at once to pass", interval=0.2)

    # and a worker with no task left exits promptly on reload
    old, _ = g.nginx.reload()
    wait_until(lambda: not (old & g.nginx.worker_pids()), 10,
               "the old workers to exit")
    assert form_login(g, fast.email, fast.password).status_code == 200
