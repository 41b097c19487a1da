"""Fixtures of the gateway's integration tests.

- backend: the echoing portal, one for the whole run.
- shared_redis: a redis-server per test module; redis_store flushes it.
- own_redis: a redis-server for one test (for the tests that stop or kill
  it).
- gw: the default gateway of a test module (module-scoped nginx, Redis
  flushed before each test).
- make_gateway(**conf): a gateway with per-test directives, stopped at the
  end of the test.
- owner, biller, orders_clerk: accounts made with clientauthctl.

After every test, the error log of every nginx involved is read: an
[alert], [crit], [emerg], or "exited on signal" fails the test.
"""

import sys

import pytest

from helpers import (CTL, MODULE, Backend, Gateway, Nginx,
                     RedisServer, add_user, check_logs, free_port,
                     gateway_conf)


def pytest_sessionstart(session):
    missing = [str(p) for p in (MODULE, CTL) if not p.exists()]
    if missing:
        raise pytest.UsageError("missing %s: run 'make module ctl' first"
                                % ", ".join(missing))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """The error-log check: part of the test itself, so a test that passed
    but made nginx log an alert fails."""
    outcome = yield
    live = list(Nginx.registry)
    if outcome.excinfo is None:
        check_logs(live)
    else:
        try:
            check_logs(live)
        except AssertionError as e:
            print(e, file=sys.stderr)


@pytest.fixture(scope="session")
def backend():
    b = Backend().start()
    yield b
    b.stop()


@pytest.fixture(autouse=True)
def _fresh_backend_log(backend):
    backend.reset()


def _start_redis(tmp):
    return RedisServer(tmp).start()


@pytest.fixture(scope="module")
def shared_redis(tmp_path_factory):
    r = _start_redis(tmp_path_factory.mktemp("redis"))
    yield r
    r.stop()


@pytest.fixture
def redis_store(shared_redis):
    shared_redis.flush()
    return shared_redis


@pytest.fixture
def own_redis(tmp_path):
    r = _start_redis(tmp_path / "redis")
    yield r
    r.stop()


def _stop_and_check(nginx):
    try:
        nginx.stop()
    finally:
        Nginx.registry.remove(nginx)
    check_logs([nginx])


def start_gateway(workdir, redis, backend, *, workers=1, **conf):
    port = free_port()
    text = gateway_conf(workdir, port, redis.port, backend.port,
                        workers=workers, **conf)
    nginx = Nginx(workdir, text, port).start(workers=workers)
    return Gateway(nginx, redis, backend)


@pytest.fixture(scope="module")
def module_gateway(tmp_path_factory, shared_redis, backend):
    g = start_gateway(tmp_path_factory.mktemp("nginx"), shared_redis,
                      backend)
    yield g
    _stop_and_check(g.nginx)


@pytest.fixture
def gw(module_gateway, redis_store):
    return module_gateway


@pytest.fixture
def make_gateway(tmp_path, backend, request):
    """make_gateway(redis=None, **conf) starts a gateway for this test
    only; redis defaults to the module's (flushed)."""
    started = []

    def make(redis=None, **conf):
        if redis is None:
            redis = request.getfixturevalue("redis_store")
        workdir = tmp_path / ("nginx%d" % len(started))
        g = start_gateway(workdir, redis, backend, **conf)
        started.append(g)
        return g

    yield make
    errors = []
    for g in started:
        try:
            _stop_and_check(g.nginx)
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n".join(errors)


@pytest.fixture
def owner(redis_store):
    """An account owner ("all" permissions)."""
    return add_user(redis_store, "owner@example.com", "Sup3r-secret!pw")


@pytest.fixture
def biller(redis_store, owner):
    """A sub-user of owner who may only see billing."""
    return add_user(redis_store, "bill@example.com", "B1ll-secret!pw",
                    perms=["billing"], parent=owner.email)


@pytest.fixture
def orders_clerk(redis_store, owner):
    """A sub-user of owner who may only handle orders."""
    return add_user(redis_store, "orders@example.com", "0rders-secret!pw",
                    perms=["orders"], parent=owner.email)


