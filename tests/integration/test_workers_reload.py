"""Several workers, reloads, and DESIGN.md's minimal configuration."""

import threading
from concurrent.futures import ThreadPoolExecutor

from helpers import (BRAND, COOKIE, HOST, HTTP_TEMPS, MODULE, Gateway, Nginx,
                     add_user, check_logs, free_port, identity_of, wait_until)


def test_two_workers_serve_many_concurrent_sessions(make_gateway,
                                                    redis_store):
    g = make_gateway(workers=2, listen_opts="reuseport",
                     server="proxy_set_header X-Worker-Pid $pid;")
    users = [add_user(redis_store, "user%d@example.com" % i, "Us3r-%d-pw!" % i)
             for i in range(4)]
    tokens = [g.login_token(u.email, u.password) for u in users]
    valid = 'clientauth_session_checks_total{result="valid"}'
    checks = g.metric(valid)

    def fetch(i):
        u = users[i % 4]
        r = g.get("/many/%d" % i, tokens[i % 4])
        if r.status_code != 200:
            return i, r.status_code, None, None
        headers = r.json()["headers"]
        pid = [v for k, v in headers if k == "X-Worker-Pid"]
        ident = identity_of(headers)
        return i, 200, pid[0], ident["x-client-user"] == [u.user]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(fetch, range(200)))

    assert [r for r in results if r[1] != 200] == []
    assert all(r[3] for r in results), "a response with another's identity"
    served_by = {int(r[2]) for r in results}
    assert served_by == g.nginx.worker_pids()
    assert len(served_by) == 2
    assert g.metric(valid) == checks + 200      # counters shared by workers


def test_reload_lets_requests_in_flight_finish(make_gateway, owner):
    g = make_gateway(workers=2)
    token = g.login_token(owner.email, owner.password)
    results = {}

    def slow(i):
        r = g.get("/slow?ms=1000&i=%d" % i, token, timeout=15)
        results[i] = (r.status_code, r.json() if r.status_code == 200
                      else r.text)

    threads = [threading.Thread(target=slow, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    wait_until(lambda: len(g.backend.seen("/slow")) == 6, 5,
               "the slow requests to reach the portal")

    old, new = g.nginx.reload()

    for t in threads:
        t.join(15)
    assert sorted(results) == list(range(6))
    for status, seen in results.values():
        assert status == 200, seen
        assert identity_of(seen["headers"])["x-client-user"] == [owner.user]
    assert not old & new
    wait_until(lambda: not (g.nginx.worker_pids() & old), 10,
               "the old workers to exit")


def test_service_continues_after_reload(make_gateway, owner):
    g = make_gateway(workers=2)
    token = g.login_token(owner.email, owner.password)

    old, new = g.nginx.reload()
    wait_until(lambda: not (g.nginx.worker_pids() & old), 10,
               "the old workers to exit")

    assert g.get("/after-reload", token).status_code == 200
    r = g.login(owner.email, owner.password)
    assert r.status_code == 200
    assert g.nginx.worker_pids() == new


# DESIGN.md's minimal configuration, as written there.
MINIMAL = """\
load_module modules/ngx_http_clientauth_module.so;   # path as built
thread_pool clientauth threads=2;
events {}
http {
    clientauth_redis 127.0.0.1:6379;
    server {
        listen 8080;
        clientauth_brand magic;
        clientauth_identifiers email;
        location = /auth/login          { clientauth_login; }
        location = /auth/logout         { clientauth_logout; }
        location = /auth/reset          { clientauth_reset_request; }
        location = /auth/reset/confirm  { clientauth_reset_confirm; }
        location / { clientauth on; proxy_pass http://127.0.0.1:9000; }
    }
}
"""


def test_minimal_design_config_works(tmp_path, redis_store, backend):
    port = free_port()
    conf = MINIMAL
    for old, new in [
            ("modules/ngx_http_clientauth_module.so", str(MODULE)),
            ("127.0.0.1:6379", "127.0.0.1:%d" % redis_store.port),
            ("listen 8080;", "listen %s:%d;" % (HOST, port)),
            ("127.0.0.1:9000", "127.0.0.1:%d" % backend.port),
            ("http {\n", "http {\n" + HTTP_TEMPS.format(dir=tmp_path)
             + "    access_log %s/access.log;\n" % tmp_path)]:
        assert old in conf
        conf = conf.replace(old, new, 1)
    nginx = Nginx(tmp_path, conf, port, extra_args=[
        "-g", "daemon off; master_process on; pid %s/nginx.pid; "
              "error_log %s/error.log info;" % (tmp_path, tmp_path)])
    nginx.start(workers=1)
    try:
        g = Gateway(nginx, redis_store, backend)
        owner = add_user(redis_store, "owner@example.com", "Sup3r-secret!pw")

        r = g.login(owner.email, owner.password)
        assert r.status_code == 200
        assert r.headers["Set-Cookie"].endswith("; Secure")
        name, token = r.headers["Set-Cookie"].split(";")[0].split("=", 1)
        assert name == "__Host-" + COOKIE
        cookie = {"Cookie": "%s=%s" % (name, token)}
        r = g.get("/portal/home", headers=cookie)
        assert r.status_code == 200
        assert identity_of(r.json()["headers"]) == {
            "x-client-account": [owner.account],
            "x-client-user": [owner.user],
            "x-client-brand": [BRAND],
            "x-client-permissions": ["all"]}
        assert g.post("/auth/logout", headers=cookie).status_code == 200
        assert g.get("/portal/home", headers=cookie).status_code == 401
    finally:
        nginx.stop()
        Nginx.registry.remove(nginx)
    check_logs([nginx])
