"""clientauthctl against a throwaway Redis: each test is one operator's story.

The Redis fixture lives here rather than in conftest.py on purpose: this file
runs alone (`pytest tests/integration/test_clientauthctl.py`) and starts its
own redis-server on a free loopback port, in a temporary directory, with
persistence off.  Redis is inspected with redis-cli, so no Python client is
needed.  The binary is $CA_CTL or build/clientauthctl.
"""

import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt            # legacy hashes for the import tests
    except ImportError:         # gone in Python 3.13
        crypt = None

REPO = Path(__file__).resolve().parents[2]
CTL = Path(os.environ.get("CA_CTL", REPO / "build" / "clientauthctl"))

BRAND = "magic"
SECRET = "Sup3r-secret!pw"
ARGON2_FAST = ["--hash-cost", "1:8"]      # t=1, m=8 MiB: quick tests


# ---------------------------------------------------------------- fixtures

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    def __init__(self, port, sock):
        self.port = port
        self.sock = sock
        self.address = "127.0.0.1:%d" % port

    def cli(self, *args, db=0):
        """One redis-cli command; the raw reply, one element per line."""
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), "-n", str(db), "--raw",
             *args],
            check=True, capture_output=True, text=True, timeout=10)
        return out.stdout.rstrip("\n")

    def lines(self, *args, db=0):
        out = self.cli(*args, db=db)
        return out.split("\n") if out else []

    def hgetall(self, key, db=0):
        items = self.lines("HGETALL", key, db=db)
        return dict(zip(items[0::2], items[1::2]))

    def keys(self, db=0):
        return sorted(self.lines("KEYS", "*", db=db))

    def snapshot(self):
        """Every key with its type and contents: 'nothing changed' checks."""
        state = {}
        for key in self.keys():
            kind = self.cli("TYPE", key)
            if kind == "string":
                state[key] = self.cli("GET", key)
            elif kind == "hash":
                state[key] = self.hgetall(key)
            elif kind == "set":
                state[key] = sorted(self.lines("SMEMBERS", key))
            elif kind == "list":
                state[key] = self.lines("LRANGE", key, "0", "-1")
            else:
                state[key] = kind
        return state


@pytest.fixture(scope="module")
def redis_server():
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (make test-deps)")
    if not CTL.exists():
        pytest.fail("%s is missing: run 'make ctl' first" % CTL)

    tmp = tempfile.mkdtemp(prefix="ca-ctl-")
    port = free_port()
    sock = os.path.join(tmp, "redis.sock")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", tmp,
         "--unixsocket", sock, "--unixsocketperm", "700"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Redis(port, sock)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if server.cli("PING") == "PONG":
                    break
            except subprocess.CalledProcessError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("redis-server did not start on port %d" % port)
            time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def redis(redis_server):
    redis_server.cli("FLUSHALL")
    return redis_server


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def fields(self):
        """'key: value' lines of the output as a dict."""
        return dict(line.split(": ", 1) for line in self.out.splitlines())


@pytest.fixture
def ctl(redis):
    def run(*args, password=None, stdin=None, global_args=None):
        if global_args is None:
            global_args = ["--redis", redis.address] + ARGON2_FAST
        if password is not None:
            stdin = password + "\n"
        proc = subprocess.run([str(CTL), *global_args, *args],
                              input=stdin if stdin is not None else "",
                              capture_output=True, text=True, timeout=60)
        return Result(proc)
    return run


def ok(result):
    assert result.rc == 0, result.err
    assert result.err == ""
    return result


def failed(result, rc, message):
    """Exit status rc and one line on stderr, naming the tool."""
    assert result.rc == rc, (result.out, result.err)
    assert result.err.startswith("clientauthctl: "), result.err
    assert result.err.endswith("\n") and result.err.count("\n") == 1, \
        result.err
    assert message in result.err, result.err
    return result


def added(result):
    """'account A user U' -> (A, U)."""
    ok(result)
    m = re.fullmatch(r"account (\d+) user (\d+)\n", result.out)
    assert m, result.out
    return m.group(1), m.group(2)


def add_owner(ctl, email="ana@example.com", *extra, password=SECRET):
    args = ["user", "add", BRAND, "--email", email, *extra]
    if password is not None:
        args.append("--password-stdin")
    return added(ctl(*args, password=password))


def fake_session(redis, account, user, live=True):
    """A session as the module writes it: the key and the set member."""
    token_hash = secrets.token_hex(32)
    if live:
        redis.cli("HSET", sess_key(account, token_hash),
                  "a", account, "u", user, "p", "all",
                  "x", str(int(time.time()) + 3600), "s", "1")
    redis.cli("SADD", "ca:{%s:%s}:user:%s:sessions" % (BRAND, account, user),
              token_hash)
    return token_hash


def sess_key(account, token_hash):
    """A session's key: in its account's slot."""
    return "ca:{%s:%s}:sess:%s" % (BRAND, account, token_hash)


def user_key(account, user):
    return "ca:{%s:%s}:user:%s" % (BRAND, account, user)


# ---------------------------------------------------------------- user add

def test_owner_with_every_identifier_is_indexed_in_canonical_form(ctl, redis):
    account, user = add_owner(
        ctl, " Ana@Example.COM ", "--customer-number", "09000",
        "--nic", "dm429850-OVH", "--phone", "+34 600 11-22-33",
        "--domain", "Example.COM.", "--locale", "es")

    ref = "%s:%s" % (account, user)
    assert redis.cli("GET", "ca:magic:id:email:ana@example.com") == ref
    assert redis.cli("GET", "ca:magic:id:customer_number:9000") == ref
    assert redis.cli("GET", "ca:magic:id:nic:dm429850-ovh") == ref
    assert redis.cli("GET", "ca:magic:id:phone:+34600112233") == ref
    assert redis.cli("GET", "ca:magic:id:domain:example.com") == ref

    acc = redis.hgetall("ca:{magic:%s}:account" % account)
    assert acc.pop("created").isdigit()
    assert acc == {"owner": user, "email": "ana@example.com",
                   "customer_number": "9000", "nic": "dm429850-ovh",
                   "phone": "+34600112233", "domain": "example.com"}

    u = redis.hgetall(user_key(account, user))
    assert u["hash"].startswith("$argon2id$")
    assert "m=8192,t=1" in u["hash"]          # --hash-cost 1:8
    assert u["created"].isdigit() and u["pwchanged"] == u["created"]
    assert {k: u[k] for k in ("email", "perms", "status", "locale", "role",
                              "account")} == {
        "email": "ana@example.com", "perms": "all", "status": "active",
        "locale": "es", "role": "owner", "account": account}
    assert redis.lines("SMEMBERS", "ca:{magic:%s}:users" % account) == [user]


def test_owner_without_password_cannot_log_in_until_reset(ctl, redis):
    account, user = add_owner(ctl, "bo@example.com", password=None)

    u = redis.hgetall(user_key(account, user))
    assert u["hash"] == ""
    assert "pwchanged" not in u
    assert u["locale"] == "en"


def test_ids_come_from_the_brand_counters(ctl, redis):
    first = add_owner(ctl, "a@example.com")
    second = add_owner(ctl, "b@example.com")

    assert first == ("1", "1") and second == ("2", "2")
    assert redis.cli("GET", "ca:magic:seq:account") == "2"
    assert redis.cli("GET", "ca:magic:seq:user") == "2"


def test_identifier_in_use_is_refused_and_nothing_is_written(ctl, redis):
    add_owner(ctl, "ana@example.com", "--customer-number", "9000")
    before = redis.snapshot()

    failed(ctl("user", "add", BRAND, "--email", "ANA@example.com"),
           1, "identifier already in use: email ana@example.com")
    failed(ctl("user", "add", BRAND, "--email", "new@example.com",
               "--customer-number", "009000"),
           1, "identifier already in use: customer_number 9000")

    assert redis.snapshot() == before


def test_same_identifier_in_another_brand_is_another_account(ctl, redis):
    add_owner(ctl, "ana@example.com")
    ok(ctl("user", "add", "nuxit", "--email", "ana@example.com"))

    assert redis.cli("GET", "ca:nuxit:id:email:ana@example.com") == "1:1"


def test_concurrent_adds_of_one_email_create_one_account(redis):
    procs = [subprocess.Popen(
        [str(CTL), "--redis", redis.address, "user", "add", BRAND,
         "--email", "race@example.com", "--customer-number", str(100 + i)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(8)]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read())
               for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()

    winners = [r for r in results if r[0] == 0]
    assert len(winners) == 1, results
    assert all("identifier already in use" in r[2]
               for r in results if r[0] != 0), results
    account, user = re.fullmatch(r"account (\d+) user (\d+)\n",
                                 winners[0][1]).groups()
    assert redis.cli("GET", "ca:magic:id:email:race@example.com") == \
        "%s:%s" % (account, user)
    assert len([k for k in redis.keys() if k.endswith("}:account")]) == 1
    assert len([k for k in redis.keys() if ":id:customer_number:" in k]) == 1


@pytest.mark.parametrize("option, value", [
    ("--email", "not-an-address"),
    ("--customer-number", "12ab"),
    ("--nic", "not a nic"),
    ("--phone", "12"),
    ("--domain", "localhost"),
])
def test_invalid_identifier_is_refused_naming_the_option(ctl, redis, option,
                                                         value):
    args = ["user", "add", BRAND, "--email", "ana@example.com"]
    if option == "--email":
        args = ["user", "add", BRAND]
    failed(ctl(*args, option, value), 2, "invalid %s" % option)
    assert redis.keys() == []


def test_national_phone_takes_the_country_code(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com", "--phone", "600 112 233",
                              "--phone-country", "34")

    assert redis.cli("GET", "ca:magic:id:phone:+34600112233") == \
        "%s:%s" % (account, user)
    shown = ok(ctl("user", "show", BRAND, "600-112-233",
                   "--phone-country", "34")).fields()
    assert shown["user"] == user


@pytest.mark.parametrize("args, message", [
    ([], "missing --email"),
    (["--email", "a@example.com", "--email", "b@example.com"],
     "--email given twice"),
    (["--email", "a@example.com", "--perm", "Billing"], "invalid --perm"),
    (["--email", "a@example.com", "--perm", "billing,"], "invalid --perm"),
    (["--email", "a@example.com", "--locale", "english"], "invalid --locale"),
    (["--email", "a@example.com", "--phone-country", "+34"],
     "invalid --phone-country"),
    (["--email", "a@example.com", "--frobnicate"],
     "unknown option --frobnicate"),
    (["--email", "a@example.com", "extra"], "too many arguments"),
])
def test_bad_add_command_lines_are_usage_errors(ctl, redis, args, message):
    failed(ctl("user", "add", BRAND, *args), 2, message)
    assert redis.keys() == []


def test_permissions_are_sorted_unique_and_all_stands_alone(ctl, redis):
    account, user = add_owner(ctl, "a@example.com", "--perm", "orders,billing",
                              "--perm", "billing", "--perm", "technical")
    assert redis.hgetall(user_key(account, user))["perms"] == \
        "billing,orders,technical"

    account, user = add_owner(ctl, "b@example.com", "--perm", "billing,all")
    assert redis.hgetall(user_key(account, user))["perms"] == "all"


# ---------------------------------------------------------------- sub-users

def test_subuser_joins_the_account_of_any_owner_identifier(ctl, redis):
    account, owner = add_owner(ctl, "ana@example.com",
                               "--customer-number", "9000")
    account_before = redis.hgetall("ca:{magic:%s}:account" % account)

    sub_account, sub = added(ctl(
        "user", "add", BRAND, "--parent", "9000", "--email", "Bob@Example.com",
        "--perm", "orders", "--perm", "billing,orders", "--password-stdin",
        password=SECRET))

    assert sub_account == account and sub != owner
    u = redis.hgetall(user_key(account, sub))
    assert u["role"] == "subuser"
    assert u["perms"] == "billing,orders"
    assert u["email"] == "bob@example.com"
    assert u["account"] == account
    assert u["hash"].startswith("$argon2id$")
    assert redis.cli("GET", "ca:magic:id:email:bob@example.com") == \
        "%s:%s" % (account, sub)
    assert sorted(redis.lines("SMEMBERS", "ca:{magic:%s}:users" % account)) \
        == sorted([owner, sub])
    assert redis.hgetall("ca:{magic:%s}:account" % account) == account_before
    assert redis.cli("GET", "ca:magic:seq:account") == "1"


def test_subuser_of_a_subuser_joins_the_same_account(ctl, redis):
    account, _ = add_owner(ctl, "ana@example.com")
    added(ctl("user", "add", BRAND, "--parent", "ana@example.com",
              "--email", "bob@example.com", "--perm", "billing"))

    sub_account, _ = added(ctl("user", "add", BRAND, "--parent",
                               "bob@example.com", "--email", "cy@example.com",
                               "--perm", "orders"))
    assert sub_account == account


@pytest.mark.parametrize("args, message", [
    (["--email", "bob@example.com"], "a sub-user needs --perm"),
    (["--email", "bob@example.com", "--perm", "billing", "--domain",
      "bob.example"], "--domain identifies an account"),
])
def test_subuser_rules_are_usage_errors(ctl, redis, args, message):
    add_owner(ctl, "ana@example.com")
    before = redis.snapshot()

    failed(ctl("user", "add", BRAND, "--parent", "ana@example.com", *args),
           2, message)
    assert redis.snapshot() == before


def test_subuser_of_unknown_account_is_refused(ctl, redis):
    failed(ctl("user", "add", BRAND, "--parent", "nobody@example.com",
               "--email", "bob@example.com", "--perm", "billing"),
           1, "no such account: nobody@example.com")
    assert redis.keys() == []


# ---------------------------------------------------------------- passwd

def test_passwd_keeps_five_former_hashes_and_revokes_sessions(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com")
    key = user_key(account, user)
    history_key = key + ":history"
    sessions = [fake_session(redis, account, user) for _ in range(3)]
    fake_session(redis, account, user, live=False)   # expired already

    hashes = [redis.hgetall(key)["hash"]]
    first = ok(ctl("user", "passwd", BRAND, "ana@example.com",
                   "--password-stdin", password="N3w-password!1"))
    assert first.out == ("password changed for account %s user %s, revoked 3"
                         " session(s)\n" % (account, user))
    for s in sessions:
        assert redis.cli("EXISTS", sess_key(account, s)) == "0"
    assert redis.cli("EXISTS", key + ":sessions") == "0"

    hashes.append(redis.hgetall(key)["hash"])
    for i in range(2, 8):
        ok(ctl("user", "passwd", BRAND, "ana@example.com", "--password-stdin",
               password="N3w-password!%d" % i))
        hashes.append(redis.hgetall(key)["hash"])

    u = redis.hgetall(key)
    assert u["hash"] == hashes[-1] and u["hash"].startswith("$argon2id$")
    assert len(set(hashes)) == len(hashes)
    assert redis.lines("LRANGE", history_key, "0", "-1") == \
        list(reversed(hashes[-6:-1]))        # newest first, five kept
    assert u["pwchanged"].isdigit()


def test_concurrent_passwd_loses_no_former_hash(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com")
    procs = [subprocess.Popen(
        [str(CTL), "--redis", redis.address, *ARGON2_FAST, "user", "passwd",
         BRAND, "ana@example.com", "--password-stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for _ in range(8)]
    results = [p.communicate("Pw-%d!x\n" % i, timeout=60) + (p.returncode,)
               for i, p in enumerate(procs)]

    assert all(rc == 0 for _, _, rc in results), results
    history = redis.lines("LRANGE", user_key(account, user) + ":history",
                          "0", "-1")
    current = redis.hgetall(user_key(account, user))["hash"]
    # each change pushed the hash it replaced: never one twice
    assert len(history) == 5 and len(set(history + [current])) == 6


def test_first_password_leaves_the_history_empty(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com", password=None)

    ok(ctl("user", "passwd", BRAND, "ana@example.com", "--password-stdin",
           password="First-pw1!"))

    assert redis.hgetall(user_key(account, user))["hash"].startswith(
        "$argon2id$")
    assert redis.cli("EXISTS", user_key(account, user) + ":history") == "0"


def test_passwd_strips_only_the_line_end(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com", password=None)

    ok(ctl("user", "passwd", BRAND, "ana@example.com", "--password-stdin",
           stdin=" with spaces \r\nsecond line ignored\n"))
    assert redis.hgetall(user_key(account, user))["hash"].startswith(
        "$argon2id$")


@pytest.mark.parametrize("stdin", ["", "\n", "\r\n"])
def test_empty_password_is_refused(ctl, redis, stdin):
    account, user = add_owner(ctl, "ana@example.com")
    before = redis.snapshot()

    failed(ctl("user", "passwd", BRAND, "ana@example.com", "--password-stdin",
               stdin=stdin), 1, "empty password")
    assert redis.snapshot() == before


def test_passwd_needs_password_stdin(ctl, redis):
    add_owner(ctl, "ana@example.com")
    failed(ctl("user", "passwd", BRAND, "ana@example.com",
               stdin=SECRET + "\n"), 2, "missing --password-stdin")


@pytest.mark.parametrize("args", [
    ["user", "passwd", BRAND, "ana@example.com", "--password", SECRET],
    ["user", "passwd", BRAND, "ana@example.com", "--password=" + SECRET],
    ["user", "passwd", BRAND, "ana@example.com", SECRET],
    ["user", "add", BRAND, "--email", "bo@example.com", "--password", SECRET],
    ["user", "add", BRAND, "--email", "bo@example.com", SECRET],
])
def test_password_is_never_taken_from_argv(ctl, redis, args):
    add_owner(ctl, "ana@example.com")
    before = redis.snapshot()

    result = failed(ctl(*args), 2, "")
    assert SECRET not in result.err
    assert redis.snapshot() == before


# ---------------------------------------------------------------- lock

def test_lock_refuses_logins_and_revokes_sessions_unlock_restores(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com", "--nic", "dm429850-OVH")
    sessions = [fake_session(redis, account, user) for _ in range(2)]

    locked = ok(ctl("user", "lock", BRAND, "DM429850-ovh"))
    assert locked.out == ("locked account %s user %s, revoked 2 session(s)\n"
                          % (account, user))
    assert redis.hgetall(user_key(account, user))["status"] == "locked"
    for s in sessions:
        assert redis.cli("EXISTS", sess_key(account, s)) == "0"

    unlocked = ok(ctl("user", "unlock", BRAND, "ana@example.com"))
    assert unlocked.out == "unlocked account %s user %s\n" % (account, user)
    assert redis.hgetall(user_key(account, user))["status"] == "active"


def test_lock_of_a_vanished_user_writes_nothing(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com")
    redis.cli("DEL", user_key(account, user))
    before = redis.snapshot()

    failed(ctl("user", "lock", BRAND, "ana@example.com"), 1, "no such user")
    assert redis.snapshot() == before


# ---------------------------------------------------------------- show

def test_show_prints_the_user_and_never_the_hash(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com", "--customer-number",
                              "9000", "--domain", "example.com")
    fake_session(redis, account, user)
    fake_session(redis, account, user)
    fake_session(redis, account, user, live=False)
    stored = redis.hgetall(user_key(account, user))["hash"]

    result = ok(ctl("user", "show", BRAND, "example.com"))
    shown = result.fields()

    assert stored not in result.out and "$argon2id$" not in result.out
    assert shown["account"] == account and shown["user"] == user
    assert shown["role"] == "owner"
    assert shown["email"] == "ana@example.com"
    assert shown["customer_number"] == "9000"
    assert shown["domain"] == "example.com"
    assert shown["perms"] == "all"
    assert shown["status"] == "active"
    assert shown["locale"] == "en"
    assert shown["password"] == "argon2id"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", shown["created"])
    assert shown["sessions"] == "2"


def test_show_subuser_lists_its_own_identifier_only(ctl, redis):
    account, owner = add_owner(ctl, "ana@example.com", "--customer-number",
                               "9000", password=None)
    added(ctl("user", "add", BRAND, "--parent", "9000", "--email",
              "bob@example.com", "--perm", "billing"))

    shown = ok(ctl("user", "show", BRAND, "bob@example.com")).fields()
    assert shown["role"] == "subuser"
    assert shown["owner"] == owner
    assert shown["perms"] == "billing"
    assert shown["password"] == "none"
    assert "customer_number" not in shown
    assert shown["sessions"] == "0"


# ---------------------------------------------------------------- sessions

def test_sessions_revoke_ends_every_session_of_the_user(ctl, redis):
    account, owner = add_owner(ctl, "ana@example.com")
    _, sub = added(ctl("user", "add", BRAND, "--parent", "ana@example.com",
                       "--email", "bob@example.com", "--perm", "billing"))
    mine = [fake_session(redis, account, owner) for _ in range(3)]
    fake_session(redis, account, owner, live=False)
    other = fake_session(redis, account, sub)

    result = ok(ctl("sessions", "revoke", BRAND, "ana@example.com"))

    assert result.out == "revoked 3 session(s)\n"
    for s in mine:
        assert redis.cli("EXISTS", sess_key(account, s)) == "0"
    assert redis.cli("EXISTS", user_key(account, owner) + ":sessions") == "0"
    assert redis.cli("EXISTS", sess_key(account, other)) == "1"
    assert ok(ctl("sessions", "revoke", BRAND, "ana@example.com")).out == \
        "revoked 0 session(s)\n"


# ---------------------------------------------------------------- import

def bcrypt_hash(password):
    if crypt is None:
        pytest.skip("no crypt module to make a bcrypt hash")
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH,
                                              rounds=1 << 4))


def sha512_hash(password):
    if crypt is not None:
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))
    return subprocess.run(["openssl", "passwd", "-6", password], check=True,
                          capture_output=True, text=True).stdout.strip()


def argon2id_hash(ctl, redis, password):
    """A hash made by the tool itself, in a scratch brand, then dropped."""
    account, user = added(ctl("user", "add", "scratch", "--email",
                              "scratch@example.com", "--password-stdin",
                              password=password))
    stored = redis.hgetall("ca:{scratch:%s}:user:%s" % (account, user))["hash"]
    redis.cli("FLUSHALL")
    return stored


BCRYPT_TAIL = "CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
SHA512_TAIL = ("saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"
               "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1")
ARGON2_TAIL = "$c2FsdHNhbHRzYWx0c2FsdA$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA"


def import_csv(ctl, tmp_path, text, *args):
    path = tmp_path / "users.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return ctl("user", "import", BRAND, str(path), *args)


def import_failures(result):
    """stderr: one 'clientauthctl: line N: ...' per failed line."""
    lines = result.err.splitlines()
    assert all(line.startswith("clientauthctl: line") for line in lines), \
        result.err
    return lines


def ref_of(redis, kind, identifier):
    return redis.cli("GET", "ca:%s:id:%s:%s" % (BRAND, kind, identifier))


def test_import_legacy_hashes_subusers_and_a_malformed_line(ctl, redis,
                                                            tmp_path):
    hashes = {"bcrypt": bcrypt_hash("Bcrypt-pw1!"),
              "sha512": sha512_hash("Sha512-pw1!"),
              "argon2id": argon2id_hash(ctl, redis, "Argon2-pw1!")}
    assert hashes["bcrypt"].startswith("$2b$")
    assert hashes["sha512"].startswith("$6$")
    csv = ("email,customer_number,password_hash,perms,parent,locale\n"
           "ana@example.com,9000,%(bcrypt)s,,,es\n"
           "Bob@Example.com,,%(sha512)s,billing;orders,9000,\n"
           "mal@example.com,9001,\"$6$broken\"x,,,\n"
           # argon2id's "m=...,t=...,p=..." needs the quotes
           "cy@example.com,9002,\"%(argon2id)s\",all,,pt-BR\n"
           "\"dee@example.com\",,,technical,cy@example.com,\n" % hashes)

    result = import_csv(ctl, tmp_path, csv)

    assert result.rc == 1, result.err
    assert result.out.splitlines() == [
        "line 2: created account 1 user 1 (ana@example.com)",
        "line 3: created user 2 in account 1 (bob@example.com)",
        "line 5: created account 2 user 3 (cy@example.com)",
        "line 6: created user 4 in account 2 (dee@example.com)",
        "imported 4 line(s), 1 failed",
    ], result.err
    assert import_failures(result) == [
        "clientauthctl: line 4: malformed CSV: text after a closing quote"]

    # the malformed line wrote nothing, not even an id
    assert not any("mal@" in k or ":9001" in k for k in redis.keys())
    assert redis.cli("GET", "ca:magic:seq:account") == "2"

    assert ref_of(redis, "customer_number", "9000") == "1:1"
    assert ref_of(redis, "email", "bob@example.com") == "1:2"
    ana = redis.hgetall(user_key("1", "1"))
    assert (ana["hash"], ana["perms"], ana["locale"], ana["role"]) == \
        (hashes["bcrypt"], "all", "es", "owner")
    bob = redis.hgetall(user_key("1", "2"))
    assert (bob["hash"], bob["perms"], bob["locale"], bob["role"]) == \
        (hashes["sha512"], "billing,orders", "en", "subuser")
    assert redis.hgetall(user_key("2", "3"))["hash"] == hashes["argon2id"]
    dee = redis.hgetall(user_key("2", "4"))
    assert (dee["hash"], dee["perms"]) == ("", "technical")
    assert sorted(redis.lines("SMEMBERS", "ca:{magic:1}:users")) == ["1", "2"]

    # the stored legacy hashes still verify their passwords
    if crypt is not None:
        assert crypt.crypt("Bcrypt-pw1!", ana["hash"]) == ana["hash"]
        assert crypt.crypt("Sha512-pw1!", bob["hash"]) == bob["hash"]
    schemes = [ok(ctl("user", "show", BRAND, e)).fields()["password"]
               for e in ("ana@example.com", "bob@example.com",
                         "cy@example.com", "dee@example.com")]
    assert schemes == ["bcrypt", "sha512crypt", "argon2id", "none"]


def test_import_of_a_clean_export_exits_0(ctl, redis, tmp_path):
    # Excel's habits: byte order mark, CRLF, quotes, columns in any order
    csv = ("\ufeffLocale, Parent ,EMAIL,perms,nic,phone,domain\r\n"
           "fr,,\"ana@example.com\",,dm429850-OVH,+34 600 11 22 33,"
           "example.com\r\n"
           "\r\n"
           "en,dm429850-ovh,bob@example.com,\"orders;billing\",,,\r\n")

    result = ok(import_csv(ctl, tmp_path, csv))

    assert result.out.splitlines() == [
        "line 2: created account 1 user 1 (ana@example.com)",
        "line 4: created user 2 in account 1 (bob@example.com)",
        "imported 2 line(s), 0 failed",
    ]
    assert ref_of(redis, "nic", "dm429850-ovh") == "1:1"
    assert ref_of(redis, "phone", "+34600112233") == "1:1"
    assert ref_of(redis, "domain", "example.com") == "1:1"
    assert redis.hgetall(user_key("1", "1"))["locale"] == "fr"
    assert redis.hgetall(user_key("1", "2"))["perms"] == "billing,orders"


def test_import_reads_standard_input(ctl, redis):
    result = ok(ctl("user", "import", BRAND, "-",
                    stdin="email\nana@example.com\n"))
    assert result.out.splitlines()[0] == \
        "line 2: created account 1 user 1 (ana@example.com)"
    assert ref_of(redis, "email", "ana@example.com") == "1:1"


@pytest.mark.parametrize("row, message", [
    ("nope,,,,", "invalid email: nope"),
    ("new@example.com,12ab,,,", "invalid customer_number: 12ab"),
    ("new@example.com,,$1$salt$md5crypthash,,",
     "unknown password hash scheme"),
    ("new@example.com,,$2b$10$ with space,,",
     "password_hash holds a space"),
    ("ANA@example.com,,,,", "identifier already in use: email "
     "ana@example.com"),
    ("new@example.com,9000,,,", "identifier already in use: "
     "customer_number 9000"),
    ("new@example.com,,,billing,nobody@example.com",
     "no such account: nobody@example.com"),
    ("new@example.com,,,,ana@example.com", "a sub-user needs perms"),
    ("new@example.com,9100,,billing,ana@example.com",
     "customer_number identifies an account: not with parent"),
    ("new@example.com,,,\"billing,orders\",", "invalid perms: "
     "billing,orders"),
    ("new@example.com,,,,,extra", "6 field(s) where the header has 5"),
    ("new@example.com,,,", "4 field(s) where the header has 5"),
    ("new@exa\"mple.com,,,,", "malformed CSV: quote inside"),
    # finding 13: costs that would tie a hash thread up at every login
    ("new@example.com,,$2y$13$" + BCRYPT_TAIL + ",,",
     "password_hash: bcrypt cost 13 is outside 4..12"),
    ("new@example.com,,$2b$31$" + BCRYPT_TAIL + ",,",
     "password_hash: bcrypt cost 31 is outside 4..12"),
    ("new@example.com,,$2y$03$" + BCRYPT_TAIL + ",,",
     "password_hash: bcrypt cost 3 is outside 4..12"),
    ("new@example.com,,$6$rounds=999999999$" + SHA512_TAIL + ",,",
     "password_hash: sha512-crypt rounds 999999999 are outside 1000..656000"),
    ("new@example.com,,$6$rounds=656001$" + SHA512_TAIL + ",,",
     "password_hash: sha512-crypt rounds 656001 are outside"),
    ("new@example.com,,\"$argon2id$v=19$m=4194304,t=3,p=1" + ARGON2_TAIL
     + "\",,", "password_hash: argon2 memory m=4194304 KiB is over 65536 KiB"),
    ("new@example.com,,\"$argon2id$v=19$m=65536,t=40,p=1" + ARGON2_TAIL
     + "\",,", "password_hash: argon2 cost t=40 x m=65536 KiB is over 262144"),
    ("new@example.com,,\"$argon2id$v=19$m=65536,t=2,p=64" + ARGON2_TAIL
     + "\",,", "password_hash: argon2 parameters m=65536,t=2,p=64 are not"),
    ("new@example.com,,$2b$10$cut.short,,",
     "password_hash: malformed bcrypt hash"),
])
def test_a_bad_line_is_reported_and_changes_nothing(ctl, redis, tmp_path,
                                                    row, message):
    add_owner(ctl, "ana@example.com", "--customer-number", "9000")
    before = redis.snapshot()

    result = import_csv(ctl, tmp_path,
                        "email,customer_number,password_hash,perms,parent\n"
                        + row + "\n")

    assert result.rc == 1
    failures = import_failures(result)
    assert len(failures) == 1, result.err
    assert failures[0].startswith("clientauthctl: line 2: " + message), \
        result.err
    assert result.out == "imported 0 line(s), 1 failed\n"
    assert redis.snapshot() == before


def test_import_cost_bounds_follow_the_configured_argon2id_cost(
        ctl, redis, tmp_path):
    """At the bounds every scheme imports; argon2id may cost up to twice the
    --hash-cost (or PHP's t=4 m=64 MiB), as the gateway allows at login."""
    big = "$argon2id$v=19$m=524288,t=3,p=1" + ARGON2_TAIL
    csv = ("email,password_hash\n"
           "a@example.com,$2y$12$%s\n"
           "b@example.com,$2b$04$%s\n"
           "c@example.com,$6$rounds=656000$%s\n"
           "d@example.com,\"$argon2id$v=19$m=65536,t=4,p=1%s\"\n"
           "e@example.com,\"%s\"\n"
           % (BCRYPT_TAIL, BCRYPT_TAIL, SHA512_TAIL, ARGON2_TAIL, big))

    result = import_csv(ctl, tmp_path, csv, "--dry-run")
    assert result.rc == 1
    assert import_failures(result) == [
        "clientauthctl: line 6: password_hash: argon2 memory m=524288 KiB "
        "is over 65536 KiB"]
    assert "4 line(s) valid, 1 failed" in result.out

    result = ok(ctl("user", "import", BRAND, str(tmp_path / "users.csv"),
                    global_args=["--redis", redis.address,
                                 "--hash-cost", "3:256"]))
    assert "imported 5 line(s), 0 failed" in result.out
    assert redis.hgetall(user_key("5", "5"))["hash"] == big


def test_show_tells_support_why_a_stored_hash_cannot_log_in(ctl, redis):
    """A hash written before the bounds existed (or by hand) fails every
    login: user show says why, still without printing it."""
    account, user = add_owner(ctl, "ana@example.com")
    costly = "$2y$13$" + BCRYPT_TAIL
    redis.cli("HSET", user_key(account, user), "hash", costly)

    shown = ok(ctl("user", "show", BRAND, "ana@example.com"))

    assert shown.fields()["password"] == \
        "bcrypt, unusable: bcrypt cost 13 is outside 4..12"
    assert costly not in shown.out and BCRYPT_TAIL not in shown.out


def test_bad_locale_names_the_column(ctl, redis, tmp_path):
    result = import_csv(ctl, tmp_path, "email,locale\na@example.com,english\n")
    assert result.rc == 1
    assert "line 2: invalid locale: english" in result.err
    assert redis.keys() == []


def test_an_unclosed_quote_spoils_the_lines_after_it(ctl, redis, tmp_path):
    result = import_csv(ctl, tmp_path,
                        "email,perms\n"
                        "ana@example.com,\"all\n"
                        "bob@example.com,all\n")

    assert result.rc == 1
    assert import_failures(result) == [
        "clientauthctl: lines 2-3: malformed CSV: quoted field not closed"]
    assert redis.keys() == []


def test_dry_run_checks_every_line_and_writes_nothing(ctl, redis, tmp_path):
    add_owner(ctl, "old@example.com")
    before = redis.snapshot()
    csv = ("email,parent,perms\n"
           "ana@example.com,,\n"
           "bob@example.com,ana@example.com,billing\n"
           "cy@example.com,old@example.com,orders\n"
           "ana@example.com,,\n"
           "dee@example.com,nobody@example.com,billing\n"
           "old@example.com,,\n")

    result = import_csv(ctl, tmp_path, csv, "--dry-run")

    assert result.rc == 1
    assert result.out.splitlines() == [
        "line 2: would create an account (ana@example.com)",
        "line 3: would create a sub-user (bob@example.com)",
        "line 4: would create a sub-user (cy@example.com)",
        "dry run: 3 line(s) valid, 3 failed, nothing written",
    ]
    assert import_failures(result) == [
        "clientauthctl: line 5: identifier already in use: email "
        "ana@example.com (by an earlier line)",
        "clientauthctl: line 6: no such account: nobody@example.com",
        "clientauthctl: line 7: identifier already in use: email "
        "old@example.com",
    ]
    assert redis.snapshot() == before


def test_a_second_import_of_one_file_adds_nothing(ctl, redis, tmp_path):
    csv = ("email,perms,parent\n"
           "ana@example.com,,\n"
           "bob@example.com,x,ana@example.com\n")
    ok(import_csv(ctl, tmp_path, csv))
    before = redis.snapshot()

    result = import_csv(ctl, tmp_path, csv)

    assert result.rc == 1
    assert result.out == "imported 0 line(s), 2 failed\n"
    assert len(import_failures(result)) == 2
    assert redis.snapshot() == before


@pytest.mark.parametrize("text, message", [
    ("", "no header line"),
    ("\n\r\n", "no header line"),
    ("email,password\nana@example.com,x\n", "unknown column \"password\""),
    ("email,perms,Perms\nana@example.com,all,all\n",
     "repeated column \"Perms\""),
    ("customer_number\n9000\n", "no email column"),
    ("email,\"per\"ms\nana@example.com,all\n", "malformed CSV header"),
])
def test_a_bad_header_stops_the_import(ctl, redis, tmp_path, text, message):
    result = failed(import_csv(ctl, tmp_path, text), 1, message)

    assert "users.csv: " in result.err
    assert result.out == ""
    assert redis.keys() == []


def test_an_unreadable_file_exits_1(ctl, redis, tmp_path):
    failed(ctl("user", "import", BRAND, str(tmp_path / "missing.csv")), 1,
           "cannot open")


# ---------------------------------------------------------------- list

def test_list_prints_every_user_of_the_account(ctl, redis):
    account, owner = add_owner(ctl, "ana@example.com", "--customer-number",
                               "9000")
    _, bob = added(ctl("user", "add", BRAND, "--parent", "9000", "--email",
                       "bob@example.com", "--perm", "orders,billing"))
    _, cy = added(ctl("user", "add", BRAND, "--parent", "9000", "--email",
                      "cy@example.com", "--perm", "technical"))
    ok(ctl("user", "lock", BRAND, "cy@example.com"))
    add_owner(ctl, "other@example.com")

    expected = ["%s owner ana@example.com all active" % owner,
                "%s subuser bob@example.com billing,orders active" % bob,
                "%s subuser cy@example.com technical locked" % cy]
    for identifier in ("9000", "bob@example.com"):
        assert ok(ctl("user", "list", BRAND, identifier)).out.splitlines() \
            == expected


def test_list_orders_ids_as_numbers_and_shows_a_missing_user(ctl, redis):
    account, owner = add_owner(ctl, "ana@example.com")
    redis.cli("SADD", "ca:{magic:%s}:users" % account, "10", "9")

    assert ok(ctl("user", "list", BRAND, "ana@example.com")).out == (
        "%s owner ana@example.com all active\n9 - - - missing\n"
        "10 - - - missing\n" % owner)


# ---------------------------------------------------------------- perms

def test_perms_reach_live_sessions_at_once_and_never_revive_one(ctl, redis):
    account, _ = add_owner(ctl, "ana@example.com")
    _, bob = added(ctl("user", "add", BRAND, "--parent", "ana@example.com",
                       "--email", "bob@example.com", "--perm", "orders"))
    live = [fake_session(redis, account, bob) for _ in range(2)]
    ended = fake_session(redis, account, bob, live=False)
    owners = fake_session(redis, account, "1")

    result = ok(ctl("user", "perms", BRAND, "bob@example.com", "--perm",
                    "technical", "--perm", "billing,orders"))

    assert result.out == ("permissions of account %s user %s: billing,orders,"
                          "technical, updated 2 live session(s)\n"
                          % (account, bob))
    assert redis.hgetall(user_key(account, bob))["perms"] == \
        "billing,orders,technical"
    for s in live:
        session = redis.hgetall(sess_key(account, s))
        assert session["p"] == "billing,orders,technical"
        assert session["u"] == bob                  # the rest is untouched
    assert redis.cli("EXISTS", sess_key(account, ended)) == "0"
    assert redis.hgetall(sess_key(account, owners))["p"] == "all"

    ok(ctl("user", "perms", BRAND, "bob@example.com", "--perm", "all,orders"))
    assert redis.hgetall(sess_key(account, live[0]))["p"] == "all"


def test_perms_keep_the_session_expiry(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com")
    s = fake_session(redis, account, user)
    redis.cli("PEXPIRE", sess_key(account, s), "600000")

    ok(ctl("user", "perms", BRAND, "ana@example.com", "--perm", "billing"))

    assert 0 < int(redis.cli("PTTL", sess_key(account, s))) <= 600000


def test_perms_of_a_vanished_user_write_nothing(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com")
    fake_session(redis, account, user)
    redis.cli("DEL", user_key(account, user))
    before = redis.snapshot()

    failed(ctl("user", "perms", BRAND, "ana@example.com", "--perm", "all"),
           1, "no such user")
    assert redis.snapshot() == before


# ---------------------------------------------------------------- email

def test_email_change_moves_the_login_identifier(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com", "--customer-number",
                              "9000")
    s = fake_session(redis, account, user)
    # a reset link mailed to the old address: the gateway's valid token
    redis.cli("HSET", user_key(account, user), "reset", "ab" * 32)

    result = ok(ctl("user", "email", BRAND, "9000", "--email",
                    " Ana.New@Example.COM "))

    assert result.out == ("e-mail of account %s user %s changed from "
                          "ana@example.com to ana.new@example.com\n"
                          % (account, user))
    assert ref_of(redis, "email", "ana.new@example.com") == \
        "%s:%s" % (account, user)
    assert redis.cli("EXISTS", "ca:magic:id:email:ana@example.com") == "0"
    u = redis.hgetall(user_key(account, user))
    assert u["email"] == "ana.new@example.com"
    assert "reset" not in u
    assert redis.hgetall("ca:{magic:%s}:account" % account)["email"] == \
        "ana.new@example.com"
    assert ok(ctl("user", "show", BRAND, "ana.new@example.com")).fields()[
        "user"] == user
    failed(ctl("user", "show", BRAND, "ana@example.com"), 1,
           "no such account: ana@example.com")
    assert redis.cli("EXISTS", sess_key(account, s)) == "1"


def test_email_change_of_a_subuser_leaves_the_account_alone(ctl, redis):
    account, _ = add_owner(ctl, "ana@example.com")
    _, bob = added(ctl("user", "add", BRAND, "--parent", "ana@example.com",
                       "--email", "bob@example.com", "--perm", "billing"))
    account_before = redis.hgetall("ca:{magic:%s}:account" % account)

    ok(ctl("user", "email", BRAND, "bob@example.com", "--email",
           "bob@elsewhere.example"))

    assert ref_of(redis, "email", "bob@elsewhere.example") == \
        "%s:%s" % (account, bob)
    assert redis.cli("EXISTS", "ca:magic:id:email:bob@example.com") == "0"
    assert redis.hgetall("ca:{magic:%s}:account" % account) == account_before


def test_email_in_use_is_refused_and_nothing_changes(ctl, redis):
    add_owner(ctl, "ana@example.com")
    add_owner(ctl, "bob@example.com")
    before = redis.snapshot()

    failed(ctl("user", "email", BRAND, "ana@example.com", "--email",
               "BOB@example.com"), 1,
           "identifier already in use: email bob@example.com")
    assert redis.snapshot() == before


def test_email_unchanged_is_no_error(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com")
    before = redis.snapshot()

    result = ok(ctl("user", "email", BRAND, "ana@example.com", "--email",
                    "ANA@example.com"))

    assert result.out == ("e-mail of account %s user %s is already "
                          "ana@example.com\n" % (account, user))
    assert redis.snapshot() == before


# ---------------------------------------------------------------- outbox

def xadd(redis, *fields, key="clientauth:outbox"):
    return redis.cli("XADD", key, "*", *fields)


def test_outbox_shows_the_account_newest_first_with_urls_redacted(ctl,
                                                                 redis):
    account, user = add_owner(ctl, "ana@example.com", "--customer-number",
                              "9000")
    other, _ = add_owner(ctl, "bob@example.com")
    token = secrets.token_urlsafe(32)
    first = xadd(redis, "type", "password_reset", "brand", BRAND, "account",
                 account, "to", "ana@example.com", "locale", "es", "url",
                 "https://magic.example/auth/reset/confirm?token=" + token)
    xadd(redis, "type", "login_notice", "brand", BRAND, "account", other,
         "to", "bob@example.com", "locale", "en")
    xadd(redis, "type", "login_notice", "brand", "nuxit", "account", account,
         "to", "someone@example.com", "locale", "en")
    last = xadd(redis, "type", "login_notice", "brand", BRAND, "account",
                account, "user", user, "to", "ana@example.com", "locale",
                "es", "address", "192.0.2.7")

    result = ok(ctl("outbox", "show", BRAND, "9000"))

    assert result.out.splitlines() == [
        "%s login_notice to=ana@example.com user=%s locale=es "
        "address=192.0.2.7" % (last, user),
        "%s password_reset to=ana@example.com locale=es url=<redacted>"
        % first,
    ]
    assert token not in result.out

    shown = ok(ctl("outbox", "show", BRAND, "ana@example.com", "--count",
                   "1")).out
    assert shown.startswith(last + " ") and shown.count("\n") == 1

    urls = ok(ctl("outbox", "show", BRAND, "9000", "--show-urls")).out
    assert "url=https://magic.example/auth/reset/confirm?token=%s" % token \
        in urls


def test_outbox_reads_past_other_accounts_in_a_long_stream(ctl, redis):
    account, _ = add_owner(ctl, "ana@example.com")
    old = xadd(redis, "type", "password_changed", "brand", BRAND, "account",
               account, "to", "ana@example.com", "locale", "en")
    redis.cli("EVAL", "for i = 1, 1200 do redis.call('XADD', KEYS[1], '*',"
              " 'type', 'login_notice', 'brand', 'magic', 'account', '999',"
              " 'to', 'x@example.com') end", "1", "clientauth:outbox")

    assert ok(ctl("outbox", "show", BRAND, "ana@example.com")).out == \
        "%s password_changed to=ana@example.com locale=en\n" % old


def test_outbox_key_is_an_option_and_an_empty_stream_prints_nothing(ctl,
                                                                    redis):
    account, _ = add_owner(ctl, "ana@example.com")
    assert ok(ctl("outbox", "show", BRAND, "ana@example.com")).out == ""

    mine = xadd(redis, "type", "login_notice", "brand", BRAND, "account",
                account, "to", "ana@example.com", key="mail:magic")

    assert ok(ctl("outbox", "show", BRAND, "ana@example.com")).out == ""
    assert ok(ctl("--outbox", "mail:magic", "outbox", "show", BRAND,
                  "ana@example.com")).out.startswith(mine + " login_notice")


def test_outbox_that_is_not_a_stream_exits_1(ctl, redis):
    add_owner(ctl, "ana@example.com")
    redis.cli("SET", "clientauth:outbox", "oops")

    failed(ctl("outbox", "show", BRAND, "ana@example.com"), 1, "WRONGTYPE")


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("verb", [
    ["user", "show"], ["user", "lock"], ["user", "unlock"],
    ["sessions", "revoke"], ["user", "list"], ["outbox", "show"],
    ["user", "perms", "--perm", "billing"],
    ["user", "email", "--email", "new@example.com"],
])
def test_unknown_identifier_exits_1(ctl, redis, verb):
    failed(ctl(*verb[:2], BRAND, "nobody@example.com", *verb[2:]), 1,
           "no such account: nobody@example.com")
    assert redis.keys() == []


@pytest.mark.parametrize("brand", ["Magic", "", "a" * 33, "ma gic", "m:x"])
def test_bad_brand_exits_2(ctl, redis, brand):
    failed(ctl("user", "show", brand, "ana@example.com"), 2, "invalid brand")
    failed(ctl("user", "add", brand, "--email", "ana@example.com"), 2,
           "invalid brand")
    assert redis.keys() == []


def test_redis_down_is_one_line_and_exit_1(ctl):
    port = free_port()
    result = ctl("user", "show", BRAND, "ana@example.com",
                 global_args=["--redis", "127.0.0.1:%d" % port])

    failed(result, 1, "cannot connect to redis 127.0.0.1:%d: "
                      "Connection refused" % port)


def test_redis_over_a_unix_socket_and_another_db(ctl, redis):
    result = ctl("user", "add", BRAND, "--email", "ana@example.com",
                 global_args=["--redis", "unix:" + redis.sock, "--db", "3"])
    added(result)

    assert redis.keys() == []
    assert "ca:magic:id:email:ana@example.com" in redis.keys(db=3)


def test_global_options_may_follow_the_verb(ctl, redis):
    added(ctl("user", "add", BRAND, "--email", "ana@example.com",
              "--redis", redis.address, global_args=[]))


@pytest.mark.parametrize("args, message", [
    ([], "missing command"),
    (["user"], "missing verb"),
    (["user", "frob"], "unknown command: user frob"),
    (["user", "show", BRAND], "missing IDENTIFIER"),
    (["user", "show", BRAND, "ana@example.com", "--password-stdin"],
     "unknown option --password-stdin"),
    (["--hash-cost", "2:19922944", "user", "show", BRAND, "a@example.com"],
     "invalid --hash-cost"),
    (["--redis", "localhost:http", "user", "show", BRAND, "a@example.com"],
     "invalid --redis"),
    (["--outbox", "", "outbox", "show", BRAND, "a@example.com"],
     "empty --outbox"),
    (["user", "import", BRAND], "missing FILE"),
    (["user", "import"], "missing BRAND and FILE"),
    (["user", "import", "Magic", "x.csv"], "invalid brand"),
    (["user", "perms", BRAND, "a@example.com"], "missing --perm"),
    (["user", "perms", BRAND, "a@example.com", "--perm", "Billing"],
     "invalid --perm"),
    (["user", "email", BRAND, "a@example.com"], "missing --email"),
    (["user", "email", BRAND, "a@example.com", "--email", "nope"],
     "invalid --email: nope"),
    (["user", "list", BRAND], "missing IDENTIFIER"),
    (["outbox", "show", BRAND, "a@example.com", "--count", "0"],
     "invalid --count"),
    (["outbox", "show", BRAND, "a@example.com", "--count", "2x"],
     "invalid --count"),
    (["outbox", "frob"], "unknown command: outbox frob"),
])
def test_usage_errors_exit_2(ctl, args, message):
    failed(ctl(*args, global_args=[]), 2, message)


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["user", "--help"], ["sessions", "--help"],
    ["outbox", "--help"],
    ["user", "add", "--help"], ["user", "passwd", "--help"],
    ["user", "show", "-h"], ["user", "lock", "--help"],
    ["user", "unlock", "--help"], ["sessions", "revoke", "--help"],
    ["user", "import", "--help"], ["user", "list", "--help"],
    ["user", "perms", "--help"], ["user", "email", "--help"],
    ["outbox", "show", "--help"],
    ["user", "show", BRAND, "ana@example.com", "--help"],
    ["user", "import", BRAND, "users.csv", "--dry-run", "-h"],
])
def test_help_prints_usage_and_exits_0(ctl, args):
    # no Redis runs on this address: a verb that went on would fail
    result = ok(ctl(*args, global_args=["--redis",
                                        "127.0.0.1:%d" % free_port()]))

    assert result.out.startswith("usage:\n")
    assert all(len(line) <= 79 for line in result.out.splitlines())
    if len(args) >= 3:
        assert "%s %s" % (args[0], args[1]) in result.out


def test_help_states_the_import_exit_status(ctl):
    for args in (["--help"], ["user", "import", "--help"]):
        out = ok(ctl(*args, global_args=[])).out
        assert "any line failed" in out or "some line failed" in out


def gateway_throttle_keys(account):
    return ["ca:%s:%s:account:%s" % (BRAND, what, account)
            for what in ("fails", "lock", "bans")]


@pytest.mark.parametrize("verb", ["passwd", "unlock"])
def test_support_gives_a_fresh_start(ctl, redis, verb):
    """A password set by support, or an unlock, ends the gateway's lockout
    of the account and kills a reset link still in the lost mailbox."""
    account, user = add_owner(ctl, "ana@example.com")
    key = user_key(account, user)
    redis.cli("HSET", key, "reset", "ab" * 32)
    for k in gateway_throttle_keys(account):
        redis.cli("SET", k, "7")

    if verb == "passwd":
        ok(ctl("user", "passwd", BRAND, "ana@example.com", "--password-stdin",
               password="N3w-password!1"))
    else:
        ok(ctl("user", "lock", BRAND, "ana@example.com"))
        ok(ctl("user", "unlock", BRAND, "ana@example.com"))

    assert "reset" not in redis.hgetall(key)
    for k in gateway_throttle_keys(account):
        assert redis.cli("EXISTS", k) == "0", k
    assert redis.hgetall(key)["status"] == "active"


# ------------------------------------------- invitations, sessions (issue 10)

def plant_invite(redis, account, email, perms="billing", inviter="1",
                 lifetime=7 * 86400):
    """An invitation as the gateway's account pages store it; its token
    hash (the invitation's id is its first 16 digits)."""
    token_hash = secrets.token_hex(32)
    key = "ca:%s:invite:%s" % (BRAND, token_hash)
    redis.cli("HSET", key, "account", account, "inviter", inviter,
              "email", email, "perms", perms, "locale", "es",
              "created", "1764550000", "expires", "1765154800")
    redis.cli("EXPIRE", key, str(lifetime))
    redis.cli("HSET", "ca:{%s:%s}:invites" % (BRAND, account), email,
              token_hash)
    return token_hash


def invite_exists(redis, account, email, token_hash):
    return (redis.cli("EXISTS", "ca:%s:invite:%s" % (BRAND, token_hash))
            == "1",
            redis.cli("HEXISTS", "ca:{%s:%s}:invites" % (BRAND, account),
                      email) == "1")


def test_invite_list_shows_the_pending_invitations_of_the_account(ctl,
                                                                  redis):
    account, owner = add_owner(ctl, "ana@example.com")
    other, _ = add_owner(ctl, "zoe@example.com")
    h1 = plant_invite(redis, account, "nuria@example.com",
                      perms="billing,orders", inviter=owner)
    h2 = plant_invite(redis, account, "pau@example.com", perms="all")
    plant_invite(redis, other, "elsewhere@example.com")
    # an expired one: the key went, the account's entry stayed
    gone = plant_invite(redis, account, "late@example.com")
    redis.cli("DEL", "ca:%s:invite:%s" % (BRAND, gone))

    out = ok(ctl("invite", "list", BRAND, "ana@example.com")).out
    lines = sorted(out.splitlines())
    assert lines == sorted([
        "%s nuria@example.com billing,orders %s 2025-12-08T00:46:40Z"
        % (h1[:16], owner),
        "%s pau@example.com all 1 2025-12-08T00:46:40Z" % h2[:16],
    ])

    # any user of the account names it; one without invitations: nothing
    assert ok(ctl("invite", "list", BRAND, "zoe@example.com")).out.count(
        "\n") == 1
    add_owner(ctl, "solo@example.com")
    assert ok(ctl("invite", "list", BRAND, "solo@example.com")).out == ""


def test_invite_cancel_by_id_kills_the_link(ctl, redis):
    account, _ = add_owner(ctl, "ana@example.com")
    h1 = plant_invite(redis, account, "nuria@example.com")
    h2 = plant_invite(redis, account, "pau@example.com")

    out = ok(ctl("invite", "cancel", BRAND, h1[:16])).out
    assert out == ("cancelled invitation %s to nuria@example.com (account "
                   "%s)\n" % (h1[:16], account))
    assert invite_exists(redis, account, "nuria@example.com", h1) == \
        (False, False)
    assert invite_exists(redis, account, "pau@example.com", h2) == \
        (True, True)

    # the whole hash names it too; a second cancel finds nothing
    failed(ctl("invite", "cancel", BRAND, h1), 1,
           "no pending invitation of brand magic matches %s" % h1)


def test_invite_cancel_by_email_cancels_every_account_s(ctl, redis):
    a1, _ = add_owner(ctl, "ana@example.com")
    a2, _ = add_owner(ctl, "zoe@example.com")
    h1 = plant_invite(redis, a1, "nuria@example.com")
    h2 = plant_invite(redis, a2, "nuria@example.com")
    h3 = plant_invite(redis, a1, "pau@example.com")

    out = ok(ctl("invite", "cancel", BRAND, " Nuria@Example.COM ")).out
    assert sorted(out.splitlines()) == sorted([
        "cancelled invitation %s to nuria@example.com (account %s)"
        % (h1[:16], a1),
        "cancelled invitation %s to nuria@example.com (account %s)"
        % (h2[:16], a2)])
    assert invite_exists(redis, a1, "nuria@example.com", h1) == \
        (False, False)
    assert invite_exists(redis, a2, "nuria@example.com", h2) == \
        (False, False)
    assert invite_exists(redis, a1, "pau@example.com", h3) == (True, True)


def test_invite_cancel_leaves_a_resent_invitation_alone(ctl, redis):
    """A stale invitation key whose address was invited again: cancelling
    the old one must not drop the account's entry for the new one."""
    account, _ = add_owner(ctl, "ana@example.com")
    old = plant_invite(redis, account, "nuria@example.com")
    new = plant_invite(redis, account, "nuria@example.com")

    ok(ctl("invite", "cancel", BRAND, old[:16]))
    assert invite_exists(redis, account, "nuria@example.com", new) == \
        (True, True)


@pytest.mark.parametrize("target,message", [
    ("zz", "not an invitation id"),
    ("0123456789abcde", "not an invitation id"),
    ("ABCDEF0123456789", "not an invitation id"),
    ("@", "invalid e-mail address"),
])
def test_invite_cancel_refuses_what_names_no_invitation(ctl, redis, target,
                                                        message):
    add_owner(ctl, "ana@example.com")
    before = redis.snapshot()
    failed(ctl("invite", "cancel", BRAND, target), 2, message)
    failed(ctl("invite", "cancel", BRAND, "0123456789abcdef"), 1,
           "no pending invitation")
    failed(ctl("invite", "cancel", BRAND, "nobody@example.com"), 1,
           "no pending invitation")
    assert redis.snapshot() == before


def test_sessions_list_shows_what_each_session_records(ctl, redis):
    account, user = add_owner(ctl, "ana@example.com")
    full = fake_session(redis, account, user)
    redis.cli("HSET", sess_key(account, full), "i", "ab" * 16,
              "c", "1764550000123", "s", "1764553600999",
              "ip", "192.0.2.7", "ua", "Firefox 133 on Linux")
    old = fake_session(redis, account, user)        # before issue 10
    redis.cli("HSET", sess_key(account, old), "s", "1764550000000")
    fake_session(redis, account, user, live=False)  # ended: not listed

    lines = ok(ctl("sessions", "list", BRAND, "ana@example.com")).out \
        .splitlines()
    # a session made before the gateway recorded an opaque id is not listed
    assert lines == [
        '%s created=2025-12-01T00:46:40Z last_seen=2025-12-01T01:46:40Z '
        'address=192.0.2.7 device="Firefox 133 on Linux"' % ("ab" * 16),
    ]
    # never the token hash
    assert full not in "\n".join(lines) and old not in "\n".join(lines)


def test_sessions_list_of_a_user_without_sessions_is_empty(ctl, redis):
    add_owner(ctl, "ana@example.com")
    assert ok(ctl("sessions", "list", BRAND, "ana@example.com")).out == ""
    failed(ctl("sessions", "list", BRAND, "nobody@example.com"), 1, "")
