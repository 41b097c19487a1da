"""Durable writes (issue 12): with clientauth_redis ... replicas=N, the
writes that spend a reset token, change a password or end sessions are
followed by WAIT N on the connection that made them, before the answer; a
replica that does not confirm in time costs a warning and that wait, never
the answer.  A real primary and replica (ha_helpers.ReplicatedRedis)."""

import threading
import time

import pytest

from ha_helpers import ReplicatedRedis
from helpers import (add_user, free_port, gateway_conf, nginx_check,
                     session_key, wait_until)
from login_helpers import add_customer
from reset_helpers import RESET_LOCATIONS, ask_link, check_link, confirm
from self_service_helpers import ACCOUNT, post
from sentinel_helpers import (PrimaryView, SentinelCluster,
                              start_sentinel_gateway)
from test_sentinel import all_workers_serve

WARNING = "write confirmed by 0 of 1 replicas"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    p = ReplicatedRedis(tmp_path_factory.mktemp("replicated")).start()
    yield p
    p.stop()


@pytest.fixture
def replicated(pair):
    pair.flush()
    return pair


def durable_gateway(make_gateway, pair, replicas=1, timeout="1s", **conf):
    return make_gateway(redis=pair.primary, locations=RESET_LOCATIONS,
                        redis_opts="timeout=%s replicas=%d"
                        % (timeout, replicas), **conf)


def blocked_clients(redis):
    for line in redis.call("INFO", "clients").splitlines():
        if line.startswith("blocked_clients:"):
            return int(line.split(":")[1])
    return 0


@pytest.mark.parametrize("everywhere", [False, True])
def test_logout_waits_for_the_replica(make_gateway, replicated, everywhere):
    g = durable_gateway(make_gateway, replicated)
    ana = add_user(replicated.primary, "ana@example.com")
    token = g.login_token(ana.email, ana.password)
    other = g.login_token(ana.email, ana.password)
    waits = replicated.waits()

    r = g.post("/auth/logout", token,
               data={"everywhere": "1"} if everywhere else None)

    assert r.status_code == 200, r.text
    assert replicated.waits() == waits + 1
    # confirmed: the replica a failover would promote has it already
    assert replicated.replica.call("EXISTS", session_key(token)) == 0
    assert replicated.replica.call("EXISTS", session_key(other)) == \
        (0 if everywhere else 1)
    assert WARNING not in g.nginx.read_log()


def test_reset_confirm_waits_for_the_replica(make_gateway, replicated):
    g = durable_gateway(make_gateway, replicated)
    ana = add_user(replicated.primary, "ana@example.com")
    old = g.login_token(ana.email, ana.password)
    token = ask_link(g, ana.email)
    waits = replicated.waits()

    r = confirm(g, token, "An0ther-Secret!pw")

    assert r.status_code == 200, r.text
    assert replicated.waits() == waits + 1
    replica = replicated.replica
    assert replica.call("EXISTS", "ca:magic:reset:" + token) == 0
    assert replica.call("EXISTS", session_key(old)) == 0
    assert replica.call("HGET", "ca:{magic:%s}:user:%s" % (ana.account,
                                                           ana.user),
                        "hash") == \
        replicated.primary.call("HGET", "ca:{magic:%s}:user:%s"
                                % (ana.account, ana.user), "hash")


def test_hash_upgrade_waits_for_the_replica(make_gateway, replicated):
    g = durable_gateway(make_gateway, replicated)
    ana = add_customer(replicated.primary, "ana@example.com", cost="2:8")
    before = replicated.primary.call("HGET", ana.key, "hash")
    waits = replicated.waits()

    assert g.login(ana.email, ana.password).status_code == 200

    upgraded = replicated.primary.call("HGET", ana.key, "hash")
    assert upgraded != before
    assert replicated.waits() == waits + 1
    assert replicated.replica.call("HGET", ana.key, "hash") == upgraded


NEW_PASSWORD = "N3w-Durable!pw"


def revoke_one(g, token, other):
    listed = g.get(ACCOUNT + "sessions", other).json()["sessions"]
    own = [s["id"] for s in listed if s["current"]]
    return post(g, token, "sessions/revoke", {"id": own[0]})


@pytest.mark.parametrize("change", ["password", "revoke_all", "revoke_one"])
def test_self_service_endings_wait_for_the_replica(make_gateway, replicated,
                                                   change):
    """The account area's password change and session revocations end
    sessions: a failover must not bring them back."""
    g = durable_gateway(make_gateway, replicated)
    ana = add_user(replicated.primary, "ana@example.com")
    token = g.login_token(ana.email, ana.password)
    other = g.login_token(ana.email, ana.password)
    waits = replicated.waits()

    if change == "password":
        r = post(g, token, "password",
                 {"current_password": ana.password, "password": NEW_PASSWORD,
                  "password_confirm": NEW_PASSWORD})
    elif change == "revoke_all":
        r = post(g, token, "sessions/revoke", {"all": "1"})
    else:
        r = revoke_one(g, token, other)

    assert r.status_code == 200, r.text
    assert replicated.waits() == waits + 1
    assert replicated.replica.call("EXISTS", session_key(other)) == 0
    assert g.get("/portal", other).status_code == 401
    assert g.get("/portal", token).status_code == 200
    assert WARNING not in g.nginx.read_log()


@pytest.mark.parametrize("change", ["perms", "remove"])
def test_sub_user_changes_wait_for_the_replica(make_gateway, replicated,
                                               change):
    """A sub-user's new permissions or its removal: no failover undoes
    them (its sessions would get their old rights back)."""
    g = durable_gateway(make_gateway, replicated)
    owner = add_user(replicated.primary, "owner@example.com")
    bill = add_user(replicated.primary, "bill@example.com", "B1ll-secret!pw",
                    perms=["billing"], parent=owner.email)
    token = g.login_token(owner.email, owner.password)
    theirs = g.login_token(bill.email, bill.password)
    waits = replicated.waits()

    fields = {"user": bill.user}
    if change == "perms":
        fields["perm"] = "orders"
    r = post(g, token, "users/" + change, fields)

    assert r.status_code == 200, r.text
    assert replicated.waits() == waits + 1
    ukey = "ca:{magic:%s}:user:%s" % (bill.account, bill.user)
    if change == "perms":
        assert replicated.replica.call("HGET", ukey, "perms") == "orders"
    else:
        assert replicated.replica.call("EXISTS", ukey) == 0
        assert replicated.replica.call("EXISTS", session_key(theirs)) == 0
        assert g.get("/portal", theirs).status_code == 401
    assert WARNING not in g.nginx.read_log()


def test_e_mail_change_waits_for_the_replica(make_gateway, replicated):
    """The login index moved and the old address's reset link killed: no
    failover brings them back."""
    from test_email_change import NEW, OLD, PASSWORD
    from test_email_change import Session as AreaSession
    from test_email_change import asked, index_key

    g = durable_gateway(make_gateway, replicated)
    ana = add_user(replicated.primary, OLD, PASSWORD)
    s = AreaSession(g, OLD)
    code, verify, _ = asked(s)
    assert s.confirm(code).status_code == 200
    waits = replicated.waits()

    r = s.open(verify)

    assert r.status_code == 200, r.text
    assert replicated.waits() == waits + 1
    ref = "%s:%s" % (ana.account, ana.user)
    assert replicated.replica.call("GET", index_key(NEW)) == ref
    assert replicated.replica.call("EXISTS", index_key(OLD)) == 0
    assert WARNING not in g.nginx.read_log()


def test_no_wait_without_replicas(make_gateway, replicated):
    g = durable_gateway(make_gateway, replicated, replicas=0)
    ana = add_user(replicated.primary, "ana@example.com")
    token = ask_link(g, ana.email)
    waits = replicated.waits()
    assert confirm(g, token, "An0ther-Secret!pw").status_code == 200
    session = g.login_token(ana.email, "An0ther-Secret!pw")
    assert g.post("/auth/logout", session).status_code == 200

    assert replicated.waits() == waits


def test_a_stopped_replica_costs_a_warning_and_the_wait(make_gateway,
                                                        replicated):
    g = durable_gateway(make_gateway, replicated, timeout="1s")
    ana = add_user(replicated.primary, "ana@example.com")
    token = g.login_token(ana.email, ana.password)

    confirmed = 'clientauth_durable_writes_total{replicas="confirmed"}'
    unconfirmed = 'clientauth_durable_writes_total{replicas="unconfirmed"}'
    assert g.post("/auth/logout", g.login_token(ana.email, ana.password)) \
        .status_code == 200
    assert (g.metric(confirmed), g.metric(unconfirmed)) == (1, 0)

    with replicated.replica_stopped():
        started = time.monotonic()
        r = g.post("/auth/logout", token)
        took = time.monotonic() - started

        # the write is on the primary: the customer is logged out
        assert r.status_code == 200, r.text
        assert replicated.primary.call("EXISTS", session_key(token)) == 0
        assert g.get("/", token).status_code == 401
        # WAIT ran its course (half the timeout), and no longer
        assert 0.45 <= took < 1.0, took
        assert WARNING + " of redis" in g.nginx.read_log()
        assert (g.metric(confirmed), g.metric(unconfirmed)) == (1, 1)


def test_a_waiting_logout_holds_up_no_session_lookup(make_gateway,
                                                      replicated):
    """The WAIT goes on a dedicated connection: the worker's pipelined
    lookups do not queue behind it while a replica lags."""
    g = durable_gateway(make_gateway, replicated, timeout="2s")
    ana = add_user(replicated.primary, "ana@example.com")
    leaving = g.login_token(ana.email, ana.password)
    staying = g.login_token(ana.email, ana.password)
    answers = []

    with replicated.replica_stopped():
        t = threading.Thread(target=lambda: answers.append(
            g.post("/auth/logout", leaving).status_code))
        t.start()
        wait_until(lambda: blocked_clients(replicated.primary) == 1, 5,
                   "the logout's WAIT")

        started = time.monotonic()
        assert g.get("/", staying).status_code == 200
        took = time.monotonic() - started
        t.join(10)

    assert answers == [200]
    assert took < 0.5, took


@pytest.mark.parametrize("value", ["x", "-1", "65", ""])
def test_replicas_must_be_a_small_number(tmp_path, replicated, backend,
                                         value):
    text = gateway_conf(tmp_path, free_port(), replicated.primary.port,
                        backend.port, redis_opts="replicas=" + value)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)

    p = nginx_check(tmp_path, conf)

    assert p.returncode != 0
    assert 'invalid clientauth_redis parameter "replicas=%s"' % value \
        in p.stdout


def test_what_was_confirmed_outlives_a_failover(tmp_path, backend):
    """The issue's scenario end to end: a reset token spent, sessions
    revoked and a logout answered just before the primary's kill -9 stay
    so on the replica Sentinel promotes."""
    from conftest import _stop_and_check
    cluster = SentinelCluster(tmp_path / "ha").start()
    g = None
    try:
        view = PrimaryView(cluster)
        g = start_sentinel_gateway(tmp_path / "nginx", cluster.sentinel_list,
                                   backend, redis=view,
                                   redis_opts="replicas=1",
                                   locations=RESET_LOCATIONS)
        ana = add_user(view, "ana@example.com")
        wait_until(lambda: g.login(ana.email, ana.password).status_code
                   == 200, 15, "the gateway to find the primary")
        before = g.login_token(ana.email, ana.password)
        token = ask_link(g, ana.email)
        new = "An0ther-Secret!pw"
        assert confirm(g, token, new).status_code == 200
        leaving = g.login_token(ana.email, new)
        staying = g.login_token(ana.email, new)
        assert g.post("/auth/logout", leaving).status_code == 200
        old = cluster.primary

        old.kill()          # at once: only the gateway's WAIT stood between

        # every worker: the checks below may land on any of them
        all_workers_serve(g, staying, timeout=20)
        assert cluster.named_port() != old.port
        assert check_link(g, token).status_code == 410
        assert g.get("/", before).status_code == 401
        assert g.get("/", leaving).status_code == 401
        assert g.login(ana.email, ana.password).status_code == 401
        assert g.login(ana.email, new).status_code == 200
        assert WARNING not in g.nginx.read_log()
    finally:
        try:
            if g is not None:
                _stop_and_check(g.nginx)
        finally:
            cluster.stop()
