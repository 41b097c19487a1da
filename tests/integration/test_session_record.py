"""Session records as Redis holds them, read through lib/ca_reply: a record
the module did not write is no session, and says so in the error log.

One of them was found by fuzzing the reply decoder (tests/fuzz/fuzz_resp.c):
permissions holding a CR LF went upstream as a header line of their own.
"""

import pytest

from account_helpers import user_key
from helpers import session_key


CORRUPT = {
    "generation not digits": ("g", "1x"),
    "account not digits": ("a", "12ab"),
    "expiry signed": ("x", "-1"),
    "expiry past int64": ("x", "9223372036854775808"),
}

# The permissions go upstream from the user record (X-Client-Permissions).
CORRUPT_USER = {
    "permissions with CR LF": ("perms", "all\r\nX-Client-Role: admin"),
    "permissions with NUL": ("perms", "billing\x00orders"),
    "generation not digits": ("sgen", "-1"),
}


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_corrupt_session_record_is_no_session(gw, owner, name):
    token = gw.login_token(owner.email, owner.password)
    assert gw.get("/before", token).status_code == 200

    field, value = CORRUPT[name]
    gw.redis.call("HSET", session_key(token), field, value)
    start = gw.nginx.log_size()

    r = gw.get("/corrupt", token)

    assert r.status_code == 401
    assert gw.backend.seen("/corrupt") == []
    assert "corrupt session record ignored" in gw.nginx.read_log(start)


@pytest.mark.parametrize("name", sorted(CORRUPT_USER))
def test_corrupt_user_record_is_no_session(gw, owner, name):
    token = gw.login_token(owner.email, owner.password)
    assert gw.get("/before", token).status_code == 200

    field, value = CORRUPT_USER[name]
    gw.redis.call("HSET", user_key(owner.account, owner.user), field, value)
    start = gw.nginx.log_size()

    r = gw.get("/corrupt", token)

    assert r.status_code == 401
    assert gw.backend.seen("/corrupt") == []
    assert "corrupt user record of a session ignored" in \
        gw.nginx.read_log(start)


def test_session_record_without_its_fields_is_no_session(gw, owner):
    token = gw.login_token(owner.email, owner.password)
    gw.redis.call("HDEL", session_key(token), "u")
    start = gw.nginx.log_size()

    r = gw.get("/partial", token)

    assert r.status_code == 401
    assert gw.backend.seen("/partial") == []
    assert "corrupt session record" not in gw.nginx.read_log(start)
