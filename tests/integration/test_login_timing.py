"""Failed logins take as long whatever the stored hash (issue 13, findings
2 and 13): an unknown identifier, an imported bcrypt or sha512-crypt hash
and an argon2id hash of another cost are told apart neither by the answer
nor by its time; a hash beyond the cost bounds is never hashed."""

import statistics
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt                    # libcrypt, as the portals' PHP used

from login_helpers import (WRONG, add_customer, login_bytes, raw_exchange,
                           status_of, without_date)

OPEN = ("clientauth_lockout off;\n"
        "clientauth_login_limit account off;\n"
        "clientauth_login_limit address off;\n"
        "clientauth_login_limit brand off;\n")
DEFAULT_COST = "t=2 m=19m"
ROUNDS = 7                  # of one sample each, alternating order
TOLERANCE = 0.05


def bcrypt10(password):
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH,
                                              rounds=1 << 10))


def sha512crypt(password):
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))


def timed(g, identifier, password=WRONG):
    data = login_bytes(g.port, identifier, password)
    t = time.perf_counter()
    raw = raw_exchange(g.port, data)
    return time.perf_counter() - t, raw


def test_failed_logins_take_as_long_whatever_the_stored_hash(make_gateway):
    g = make_gateway(hash_cost=DEFAULT_COST, failure_floor="auto",
                     server=OPEN)
    kinds = {"unknown": "nobody@example.com"}
    for name, legacy in (("bcrypt", bcrypt10), ("sha512crypt", sha512crypt)):
        c = add_customer(g.redis, name + "@example.com", cost="2:19")
        g.redis.call("HSET", c.key, "hash", legacy(c.password))
        kinds[name] = c.email
    kinds["argon2id-3:32"] = add_customer(g.redis, "other@example.com",
                                          cost="3:32").email

    names = sorted(kinds)
    reference = None
    for name in names:                                  # warm-up
        _, raw = timed(g, kinds[name])
        assert status_of(raw) == 401, raw[:300]
        reference = reference or without_date(raw)
        assert without_date(raw) == reference, name

    samples = {name: [] for name in names}
    for i in range(ROUNDS):
        order = names[i % len(names):] + names[:i % len(names)]
        if i % 2:
            order.reverse()
        for name in order:
            elapsed, raw = timed(g, kinds[name])
            assert status_of(raw) == 401, (name, raw[:300])
            samples[name].append(elapsed)

    medians = {name: statistics.median(s) for name, s in samples.items()}
    shown = ", ".join("%s %.1f ms" % (n, m * 1000)
                      for n, m in sorted(medians.items()))
    print("failed login medians: " + shown)
    unknown = medians["unknown"]
    for name, m in medians.items():
        assert abs(m / unknown - 1) <= TOLERANCE, shown


def test_right_passwords_are_not_held_by_the_failure_floor(make_gateway):
    """Only failures wait, and never less than the floor: a login with the
    right password answers as soon as its verification is done.  A floor
    set well above the hash's time keeps this apart from the load."""
    g = make_gateway(hash_cost=DEFAULT_COST, failure_floor="2s",
                     server=OPEN)
    ana = add_customer(g.redis, "ana@example.com", cost="2:19")

    success, failure = [], []
    for i in range(3):
        elapsed, raw = timed(g, ana.email, ana.password)
        assert status_of(raw) == 200, raw[:300]
        success.append(elapsed)
        elapsed, raw = timed(g, ana.email if i % 2 else "nobody@example.com")
        assert status_of(raw) == 401, raw[:300]
        failure.append(elapsed)

    print("login medians: success %.1f ms, failure %.1f ms"
          % (statistics.median(success) * 1000,
             statistics.median(failure) * 1000))
    assert min(failure) >= 2.0, failure
    assert statistics.median(success) < 1.0, success


def test_a_hash_beyond_the_cost_bounds_fails_without_hashing(make_gateway):
    """A stored bcrypt of cost 31 would take days to verify; one of cost 13
    a second at every attempt.  Both are corrupt: a failed login, the same
    answer as a wrong password, logged at error level."""
    g = make_gateway(hash_cost=DEFAULT_COST, server=OPEN)
    ana = add_customer(g.redis, "ana@example.com")
    bob = add_customer(g.redis, "bob@example.com")
    g.redis.call("HSET", ana.key, "hash",
                 "$2y$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW")
    costly = crypt.crypt(bob.password, "$2b$13$" + crypt.mksalt(
        crypt.METHOD_BLOWFISH)[7:])
    assert costly.startswith("$2b$13$")
    g.redis.call("HSET", bob.key, "hash", costly)
    _, wrong = timed(g, "nobody@example.com")

    for customer, why in ((ana, "bcrypt cost 31 is outside 4..12"),
                          (bob, "bcrypt cost 13 is outside 4..12")):
        elapsed, raw = timed(g, customer.email, customer.password)
        assert status_of(raw) == 401, raw[:300]
        assert without_date(raw) == without_date(wrong)
        assert elapsed < 5, elapsed
        log = g.nginx.read_log()
        assert ("[error]" in log and "has an unusable password hash (%s)"
                % why in log), log[-2000:]
        # never upgraded, never replaced
        assert g.redis.call("HGET", customer.key, "hash").startswith(
            "$2y$31$" if customer is ana else "$2b$13$")
