"""When Redis stops answering, dies, or clients leave mid-flight.

Each test has its own redis-server (own_redis) so that it can SIGSTOP or
SIGKILL it, and a gateway with `clientauth_redis ... timeout=300ms`.  The
gateway must fail closed (503, never proxy), come back by itself, and never
crash: worker pids are compared and the error log is checked after each
test.
"""

import socket
import time

import pytest

from helpers import (COOKIE, HTML, HOST, add_user, cookie_token, raw_get,
                     wait_until)

TIMEOUT = 0.3


@pytest.fixture
def gw_300ms(own_redis, make_gateway):
    """The read path's own fail-closed timing: the session cache off.  With
    it on, a worker keeps serving the sessions it holds until its
    heartbeat finds Redis silent (within 1.5 timeouts; Redis, stopped,
    revokes nothing meanwhile), then exactly this: test_session_cache.py
    test_redis_stopped_gets_503_not_the_cache."""
    return make_gateway(redis=own_redis, redis_opts="timeout=300ms",
                        http="    clientauth_session_cache off;\n")


@pytest.fixture
def customer(gw_300ms):
    """(account, token): a customer logged in before anything breaks."""
    account = add_user(gw_300ms.redis, "owner@example.com", "Sup3r-secret!pw")
    return account, gw_300ms.login_token(account.email, account.password)


def timed_get(g, path, token, **kwargs):
    t = time.monotonic()
    r = g.get(path, token, **kwargs)
    return r, time.monotonic() - t


def assert_unavailable(r):
    assert r.status_code == 503, (r.status_code, r.text[:200])
    assert r.headers["Retry-After"] == "1"
    assert "Location" not in r.headers
    assert "Set-Cookie" not in r.headers


def wait_for_status(g, path, token, status, timeout):
    """Polls until a request gets status; returns the seconds it took."""
    t = time.monotonic()
    wait_until(lambda: g.get(path, token, timeout=5).status_code == status,
               timeout, "%s to answer %d" % (path, status), interval=0.1)
    return time.monotonic() - t


# ------------------------------------------------------------ SIGSTOP

def test_stopped_redis_means_503_within_the_timeout(gw_300ms, customer):
    _, token = customer
    assert gw_300ms.get("/before-stop", token).status_code == 200
    gw_300ms.redis.pause()

    r, elapsed = timed_get(gw_300ms, "/while-stopped", token)

    assert_unavailable(r)
    assert r.json()["error"] == "unavailable"
    assert TIMEOUT - 0.05 <= elapsed < TIMEOUT + 0.5, elapsed
    assert gw_300ms.backend.seen("/while-stopped") == []


def test_stopped_redis_means_503_for_browsers_too(gw_300ms, customer):
    _, token = customer
    gw_300ms.redis.pause()

    for i in range(3):
        r, elapsed = timed_get(gw_300ms, "/stopped-html/%d" % i, token,
                               accept=HTML)
        assert_unavailable(r)
        assert elapsed < TIMEOUT + 0.5, elapsed
    assert gw_300ms.backend.seen("/stopped-html") == []


def test_service_comes_back_by_itself_after_sigcont(gw_300ms, customer):
    _, token = customer
    workers = gw_300ms.nginx.worker_pids()
    gw_300ms.redis.pause()
    # a while of failed reconnects, so that the backoff has grown
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        assert_unavailable(gw_300ms.get("/stopped", token))
        time.sleep(0.05)

    gw_300ms.redis.resume()

    took = wait_for_status(gw_300ms, "/resumed", token, 200, timeout=8)
    assert took < 6.5, took                 # backoff is capped at 5s
    assert gw_300ms.nginx.worker_pids() == workers     # no reload, no crash
    assert gw_300ms.backend.seen("/stopped") == []


# ------------------------------------------------------------ SIGKILL

def test_killed_redis_means_503_at_once(gw_300ms, customer):
    _, token = customer
    gw_300ms.redis.kill()

    for i in range(5):
        r, elapsed = timed_get(gw_300ms, "/killed/%d" % i, token)
        assert_unavailable(r)
        assert elapsed < TIMEOUT, elapsed   # refused, not timed out
    assert gw_300ms.backend.seen("/killed") == []


def test_restarted_redis_is_used_again_without_reload(gw_300ms, customer):
    account, token = customer
    workers = gw_300ms.nginx.worker_pids()
    redis = gw_300ms.redis
    redis.kill()
    assert_unavailable(gw_300ms.get("/killed", token))
    time.sleep(1)                            # some failed reconnects

    redis.start()                            # same port, empty
    add_user(redis, account.email, account.password)

    def logged_in():
        r = gw_300ms.login(account.email, account.password)
        assert r.status_code in (200, 503), r.status_code
        return cookie_token(r) if r.status_code == 200 else None
    fresh = wait_until(logged_in, 8, "a login after Redis restarted",
                       interval=0.1)

    assert gw_300ms.get("/back", fresh).status_code == 200
    assert gw_300ms.get("/old-session", token).status_code == 401
    assert gw_300ms.nginx.worker_pids() == workers


@pytest.mark.parametrize("failure", ["stopped", "killed"])
def test_login_while_redis_is_down_gets_503(gw_300ms, failure):
    add_user(gw_300ms.redis, "owner@example.com", "Sup3r-secret!pw")
    if failure == "stopped":
        gw_300ms.redis.pause()
    else:
        gw_300ms.redis.kill()

    t = time.monotonic()
    r = gw_300ms.login("owner@example.com", "Sup3r-secret!pw")

    assert_unavailable(r)
    assert r.json()["error"] == "unavailable"
    assert time.monotonic() - t < TIMEOUT + 0.5


def test_logout_while_redis_is_down_gets_503(gw_300ms, customer):
    """The session may still be alive: logout must not pretend it ended."""
    _, token = customer
    gw_300ms.redis.kill()

    r = gw_300ms.post("/auth/logout", token)

    assert_unavailable(r)


# ------------------------------------------------------------ clients gone

def send_and_leave(port, data, linger):
    """Sends a request, waits linger seconds, closes without reading."""
    s = socket.create_connection((HOST, port))
    s.sendall(data)
    time.sleep(linger)
    s.close()


@pytest.mark.parametrize("timeout,after", [
    ("2s", "the reply comes"),
    ("300ms", "the timeout fires"),
])
def test_client_gone_while_its_session_lookup_waits(own_redis, make_gateway,
                                                    timeout, after):
    g = make_gateway(redis=own_redis, redis_opts="timeout=" + timeout)
    account = add_user(own_redis, "owner@example.com", "Sup3r-secret!pw")
    token = g.login_token(account.email, account.password)
    workers = g.nginx.worker_pids()
    hmgets = own_redis.commandstats().get("hmget", 0)
    own_redis.pause()

    for i in range(3):
        send_and_leave(g.port, raw_get("/gone/%d" % i, [
            "Accept: application/json",
            "Cookie: %s=%s" % (COOKIE, token)]), linger=0.05)
    # nginx noticed each client leave (499) while Redis still had the command
    wait_until(lambda: len(g.nginx.access_lines('/gone/')) == 3, 2,
               "the abandoned requests to be logged")
    assert all('" 499 ' in line for line in g.nginx.access_lines('/gone/'))
    if after == "the timeout fires":
        time.sleep(0.6)
    own_redis.resume()

    if after == "the reply comes":
        wait_until(lambda: own_redis.commandstats()["hmget"] == hmgets + 6,
                   2, "Redis to answer the abandoned lookups")
    wait_for_status(g, "/still-serving", token, 200, timeout=8)
    assert g.nginx.worker_pids() == workers
    assert g.backend.seen("/gone/") == []


def test_client_gone_while_its_password_is_hashed(make_gateway, redis_store):
    g = make_gateway(hash_cost="t=3 m=64m")
    password = "Sup3r-secret!pw"
    add_user(redis_store, "owner@example.com", password, cost="3:64")
    t = time.monotonic()
    assert g.login("owner@example.com", password).status_code == 200
    hash_time = time.monotonic() - t
    assert hash_time > 0.06, "the hash is too quick for this test"
    workers = g.nginx.worker_pids()

    for i, who in enumerate(["owner@example.com", "nobody@example.com"] * 2):
        body = ("identifier=%s&password=%s" % (who, password)).encode()
        send_and_leave(g.port, (
            "POST /auth/login?gone=%d HTTP/1.1\r\nHost: gateway.test\r\n"
            "Accept: application/json\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: %d\r\n\r\n" % (i, len(body))).encode() + body,
            linger=hash_time / 4)

    wait_until(lambda: len(g.nginx.access_lines("gone=")) == 4, 5,
               "the abandoned logins to be logged")
    assert all('" 499 ' in line for line in g.nginx.access_lines("gone="))
    time.sleep(hash_time * 3)           # every abandoned hash has finished
    r = g.login("owner@example.com", password)
    assert r.status_code == 200
    assert g.get("/after-abandoned-logins", cookie_token(r)).status_code \
        == 200
    assert g.nginx.worker_pids() == workers
