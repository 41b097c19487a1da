"""clientauth_login_notice new_device (issue 10): a login_notice only for a
login from a (device, network) pair this user has not logged in from in
the last 90 days (OVH's login notifications, without the noise).
"""

import time

import pytest

from account_helpers import user_key
from helpers import free_port, gateway_conf, nginx_check
from login_helpers import login_bytes, raw_exchange, status_of
from reset_helpers import outbox

FIREFOX = ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 "
           "Firefox/120.0")
FIREFOX_NEWER = FIREFOX.replace("120.0", "121.0")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
          "Mobile/15E148 Safari/604.1")
DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def g(make_gateway):
    return make_gateway(server="clientauth_login_notice new_device;")


def login_from(g, u, agent, source="127.0.0.1"):
    raw = raw_exchange(g.port, login_bytes(g.port, u.email, u.password,
                                           extra=["User-Agent: " + agent]),
                       source=source)
    assert status_of(raw) == 200, raw[:300]


def notices(g):
    return outbox(g.redis, type="login_notice")


def test_first_login_from_a_device_is_noticed_then_not_again(g, owner):
    login_from(g, owner, FIREFOX)
    login_from(g, owner, FIREFOX)
    login_from(g, owner, FIREFOX_NEWER)     # an update: the same device

    sent = notices(g)
    assert len(sent) == 1
    assert sent[0]["to"] == owner.email
    assert sent[0]["device"] == "Firefox (Linux)"
    assert sent[0]["address"] == "127.0.0.1"


def test_another_device_is_noticed(g, owner):
    login_from(g, owner, FIREFOX)
    login_from(g, owner, IPHONE)
    login_from(g, owner, FIREFOX)

    assert [m["device"] for m in notices(g)] == ["Firefox (Linux)",
                                                 "Safari (iOS)"]


def test_another_network_is_noticed_the_same_network_is_not(g, owner):
    login_from(g, owner, FIREFOX, source="127.0.0.1")
    login_from(g, owner, FIREFOX, source="127.0.0.9")    # same /24
    login_from(g, owner, FIREFOX, source="127.0.1.9")    # another /24

    assert [m["address"] for m in notices(g)] == ["127.0.0.1", "127.0.1.9"]


def test_each_user_has_its_own_devices(g, owner, biller):
    login_from(g, owner, FIREFOX)
    login_from(g, biller, FIREFOX)

    assert sorted(m["to"] for m in notices(g)) == sorted([owner.email,
                                                          biller.email])


def test_a_pair_unseen_for_90_days_is_noticed_again(g, owner):
    login_from(g, owner, FIREFOX)
    login_from(g, owner, IPHONE)
    devices = user_key(owner.account, owner.user) + ":devices"
    pairs = g.redis.call("ZRANGE", devices, 0, -1)
    assert len(pairs) == 2
    # both pairs were last seen 91 days ago
    now = int(time.time() * 1000)
    for member in pairs:
        g.redis.call("ZADD", devices, now - 91 * DAY_MS, member)

    login_from(g, owner, FIREFOX)

    assert len(notices(g)) == 3
    # the login forgot the other old pair, and keeps the set 90 days
    assert g.redis.call("ZCARD", devices) == 1
    ttl = g.redis.call("PTTL", devices)
    assert 89 * DAY_MS < ttl <= 90 * DAY_MS


def test_the_devices_store_no_user_agent_nor_address(g, owner):
    login_from(g, owner, FIREFOX)

    devices = user_key(owner.account, owner.user) + ":devices"
    members = g.redis.call("ZRANGE", devices, 0, -1)
    assert len(members) == 1
    assert all(c in "0123456789abcdef" for c in members[0])
    assert len(members[0]) == 32


def test_failed_logins_are_not_remembered(g, owner):
    raw = raw_exchange(g.port, login_bytes(g.port, owner.email, "Wr0ng!pass",
                                           extra=["User-Agent: " + FIREFOX]))
    assert status_of(raw) == 401

    login_from(g, owner, FIREFOX)

    assert len(notices(g)) == 1


def test_on_still_notices_every_login(make_gateway, owner):
    g = make_gateway(server="clientauth_login_notice on;")
    login_from(g, owner, FIREFOX)
    login_from(g, owner, FIREFOX)

    assert len(notices(g)) == 2
    assert g.redis.call("EXISTS", user_key(owner.account, owner.user)
                        + ":devices") == 0


def test_unknown_value_fails_nginx_t(tmp_path, redis_store, backend):
    conf = tmp_path / "nginx.conf"
    conf.write_text(gateway_conf(tmp_path, free_port(), redis_store.port,
                                 backend.port,
                                 server="clientauth_login_notice sometimes;"))

    proc = nginx_check(tmp_path, conf)

    assert proc.returncode != 0
    assert 'invalid value "sometimes"' in proc.stdout
