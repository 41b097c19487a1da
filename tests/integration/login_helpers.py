"""Support for the login throttle, identifier and hashing tests.

- add_customer(): clientauthctl user add with any identifier kinds.
- Redis key names of the throttle (lib/ca_keys.h), raw HTTP from another
  loopback source address, a barrier-started burst of requests.
"""

import html
import re
import socket
import threading
import time
import urllib.parse

from helpers import BRAND, CTL_COST, HOST, JSON, ctl, wait_until

FORM = "application/x-www-form-urlencoded"
WRONG = "Wr0ng-passw0rd!"


# ------------------------------------------------------------ accounts

class Customer:
    def __init__(self, password, account, user, fields):
        self.password = password
        self.account = account
        self.user = user
        self.fields = fields
        self.email = fields.get("email")

    @property
    def key(self):
        return user_key(self.account, self.user)


def add_customer(redis, email, password="Sup3r-secret!pw", cost=CTL_COST,
                 phone_country=None, **ids):
    """user add BRAND --email E [--customer-number N] [--nic H] [--phone P]
    [--domain D]; ids use the option names with '_' for '-'."""
    args = ["user", "add", BRAND, "--email", email]
    for name, value in ids.items():
        args += ["--" + name.replace("_", "-"), value]
    if phone_country:
        args += ["--phone-country", phone_country]
    args += ["--password-stdin"]
    out = ctl(redis, *args, password=password, cost=cost).stdout
    m = re.match(r"account (\d+) user (\d+)", out)
    assert m, out
    show = ctl(redis, "user", "show", BRAND, email).stdout
    fields = dict(line.split(": ", 1) for line in show.splitlines())
    return Customer(password, m.group(1), m.group(2), fields)


def user_key(account, user):
    return "ca:{%s:%s}:user:%s" % (BRAND, account, user)


def login_key(what, kind, ident):
    """ca:<brand>:fails|lock|bans:<kind>:<canonical identifier>"""
    return "ca:%s:%s:%s:%s" % (BRAND, what, kind, ident)


def limit_keys(redis, scope):
    """The sliding-window bucket keys of one scope (address, account,
    brand)."""
    prefix = "ca:%s:rl:%s:" % (BRAND, scope)
    return [k for k in redis.keys() if k.startswith(prefix)]


def throttle_keys(redis):
    return [k for k in redis.keys()
            if re.match(r"ca:%s:(rl|fails|lock|bans):" % BRAND, k)]


def lockout_state(redis, what, skip=None):
    """{key: value} of the lockout's keys of one kind (what: fails, lock or
    bans), whatever subject the module keeps them under (the canonical
    identifier, or the account it names); keys containing skip are left
    out."""
    prefix = "ca:%s:%s:" % (BRAND, what)
    return {k: redis.call("GET", k) for k in redis.keys()
            if k.startswith(prefix) and not (skip and skip in k)}


def only(redis, what, skip=None):
    """The one lockout key of a kind: (name, value), or (None, None)."""
    state = lockout_state(redis, what, skip)
    assert len(state) <= 1, state
    return next(iter(state.items()), (None, None))


def failures(redis, skip=None):
    """The one failure count in Redis, 0 when there is none."""
    return int(only(redis, "fails", skip)[1] or 0)


def bans(redis):
    return int(only(redis, "bans")[1] or 0)


def lock_pttl(redis):
    """PTTL of the one lock key, -2 when there is none."""
    key = only(redis, "lock")[0]
    return redis.call("PTTL", key) if key else -2


def settled(fn, ok, timeout=1.0):
    """fn()'s value once ok(value) holds, else its last value after timeout:
    for what the module may write to Redis just after it has answered."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.01)


def lock_within(redis, low, high):
    """The lock's PTTL once it is in (low, high], else as it is."""
    return settled(lambda: lock_pttl(redis), lambda t: low < t <= high)


def bans_settled(redis, n):
    return settled(lambda: bans(redis), lambda b: b == n)


def wait_unlocked(redis, timeout):
    """Polls until no lock key is left."""
    wait_until(lambda: not lockout_state(redis, "lock"), timeout,
               "the lockout to end", interval=0.05)


def avoid_bucket_edge(window_s, margin_s=3.0):
    """Sliding windows are buckets of window_s aligned on the epoch; a test
    that counts attempts against a limit should not straddle two of them
    (the previous bucket is carried over with rounding).  Sleeps past the
    next edge when it is less than margin_s away."""
    left = window_s - (time.time() % window_s)
    if left < margin_s:
        time.sleep(left + 0.05)


# ------------------------------------------------------------ requests

def form_login(g, identifier, password, accept=JSON, headers=None,
               timeout=10):
    return g.post("/auth/login", accept=accept, headers=headers,
                  timeout=timeout,
                  data={"identifier": identifier, "password": password})


def login_bytes(port, identifier, password, accept=JSON, extra=(),
                close=True):
    """A form login request's bytes (Host 127.0.0.1:port)."""
    body = urllib.parse.urlencode(
        {"identifier": identifier, "password": password}).encode()
    lines = [b"POST /auth/login HTTP/1.1",
             b"Host: %s:%d" % (HOST.encode(), port),
             b"Accept: " + accept.encode(),
             b"Content-Type: " + FORM.encode(),
             b"Content-Length: %d" % len(body)]
    lines += [x.encode() if isinstance(x, str) else x for x in extra]
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def raw_exchange(port, data, source=HOST, timeout=10):
    """Sends data from a chosen loopback source address; the raw answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect((HOST, port))
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(raw):
    return int(raw.split(b" ", 2)[1])


def header_of(raw, name):
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def without_date(raw):
    """A raw response with its Date line taken out."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = [x for x in head.split(b"\r\n")
             if not x.lower().startswith(b"date:")]
    return b"\r\n".join(lines) + sep + body


def without_typed(raw, typed):
    """A raw response without its Date and Content-Length lines and with
    the identifier the customer typed (the login page keeps it in its
    field, HTML-escaped) taken out: nothing else may tell accounts apart."""
    head, sep, body = without_date(raw).partition(b"\r\n\r\n")
    lines = [x for x in head.split(b"\r\n")
             if not x.lower().startswith(b"content-length:")]
    body = body.replace(html.escape(typed).encode(), b"IDENTIFIER")
    return b"\r\n".join(lines) + sep + body


def burst(n, fn):
    """Runs fn(i) in n threads released together; the results in order."""
    return start_burst(n, fn)()


def start_burst(n, fn):
    """Starts fn(i) in n threads released together; returns a function
    that waits for them and returns the results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as e:          # reported by the caller's asserts
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,), daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()

    def wait():
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads), "requests hung"
        for x in results:
            if isinstance(x, Exception):
                raise x
        return results
    return wait


def log_pids(nginx, pattern):
    """pids of the error-log lines matching pattern."""
    pids = set()
    for line in nginx.read_log().splitlines():
        if re.search(pattern, line):
            m = re.search(r"\] (\d+)#\d+:", line)
            if m:
                pids.add(int(m.group(1)))
    return pids
