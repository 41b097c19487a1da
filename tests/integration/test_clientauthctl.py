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
from pathlib import Path

import pytest

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
        redis.cli("HSET", "ca:%s:sess:%s" % (BRAND, token_hash),
                  "a", account, "u", user, "p", "all",
                  "x", str(int(time.time()) + 3600), "s", "1")
    redis.cli("SADD", "ca:{%s:%s}:user:%s:sessions" % (BRAND, account, user),
              token_hash)
    return token_hash


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
        assert redis.cli("EXISTS", "ca:magic:sess:" + s) == "0"
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
        assert redis.cli("EXISTS", "ca:magic:sess:" + s) == "0"

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
        assert redis.cli("EXISTS", "ca:magic:sess:" + s) == "0"
    assert redis.cli("EXISTS", user_key(account, owner) + ":sessions") == "0"
    assert redis.cli("EXISTS", "ca:magic:sess:" + other) == "1"
    assert ok(ctl("sessions", "revoke", BRAND, "ana@example.com")).out == \
        "revoked 0 session(s)\n"


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("verb", [
    ["user", "show"], ["user", "lock"], ["user", "unlock"],
    ["sessions", "revoke"],
])
def test_unknown_identifier_exits_1(ctl, redis, verb):
    failed(ctl(*verb, BRAND, "nobody@example.com"), 1,
           "no such account: nobody@example.com")


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
])
def test_usage_errors_exit_2(ctl, args, message):
    failed(ctl(*args, global_args=[]), 2, message)


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["user", "--help"], ["sessions", "--help"],
    ["user", "add", "--help"], ["user", "passwd", "--help"],
    ["user", "show", "-h"], ["user", "lock", "--help"],
    ["user", "unlock", "--help"], ["sessions", "revoke", "--help"],
])
def test_help_prints_usage_and_exits_0(ctl, args):
    result = ok(ctl(*args, global_args=[]))

    assert result.out.startswith("usage:\n")
    assert all(len(line) <= 79 for line in result.out.splitlines())
    if len(args) == 3:
        assert "%s %s" % (args[0], args[1]) in result.out
