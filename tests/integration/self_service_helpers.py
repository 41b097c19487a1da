"""Support for the self-service tests (issue 10): the area's requests with
the session's CSRF token, and a gateway whose answers name the worker that
gave them (every way of ending a session is checked on every worker).

- ACCOUNT: the area's prefix in the test gateway (helpers.CONF_TEMPLATE).
- area(): GET /auth/account/ as JSON: who the session is, its CSRF token.
- post(): a state-changing request, with the token as the form field csrf
  (or as the header X-CSRF-Token: as_header=True, JSON body).
- workers_gateway(): two workers, each answer with X-Worker-Pid.
- on_every_worker(): the statuses a token gets from every worker.
"""

from concurrent.futures import ThreadPoolExecutor

from helpers import JSON, wait_until

ACCOUNT = "/auth/account/"
FORM = "application/x-www-form-urlencoded"


def area(gw, token):
    r = gw.get(ACCOUNT, token)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def post(gw, token, path, fields=None, csrf=None, as_header=False,
         accept=JSON, headers=None):
    """POST /auth/account/<path>; csrf None: the session's own token."""
    if csrf is None:
        csrf = area(gw, token)["csrf"]
    fields = dict(fields or {})
    h = dict(headers or {})
    if as_header:
        h["X-CSRF-Token"] = csrf
        return gw.post(ACCOUNT + path, token, accept=accept, headers=h,
                       json=fields)
    if csrf != "":
        fields["csrf"] = csrf
    return gw.post(ACCOUNT + path, token, accept=accept, headers=h,
                   data=fields)


def workers_gateway(make_gateway, **conf):
    """Two workers sharing the port (reuseport spreads the connections);
    every answer, the module's own included, says which worker gave it."""
    server = conf.pop("server", "")
    g = make_gateway(workers=2, listen_opts="reuseport",
                     server=server + "\nadd_header X-Worker-Pid $pid always;",
                     **conf)
    return g


def on_every_worker(g, token, path="/portal", n=40):
    """{worker pid: set of statuses} for n concurrent requests with token,
    until both workers have answered."""
    seen = {}

    def one(i):
        r = g.get("%s?w=%d" % (path, i), token)
        return int(r.headers["X-Worker-Pid"]), r.status_code

    def both():
        with ThreadPoolExecutor(max_workers=10) as pool:
            for pid, status in pool.map(one, range(n)):
                seen.setdefault(pid, set()).add(status)
        return set(seen) == g.nginx.worker_pids()

    wait_until(both, 10, "answers from both workers")
    return seen
