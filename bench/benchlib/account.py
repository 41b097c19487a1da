"""Section 8: what one self-service page view (`GET /auth/account/` with a
session) and one password change (`POST /auth/account/password`) cost,
beside a login, in interleaved rounds on the main gateway's login block
(its throttle counts but never refuses).  Reported "n/a" when the build
has no `clientauth_account`."""

import json
import re
import time
import urllib.parse

from .common import (COOKIE, LOGIN_CONNS, LOGIN_SECONDS, PASSWORD, QUICK,
                     SECONDS, USERS, log, median)
from .fmt import table
from .gateway import ACCOUNT_LOCATION, Gateway
from .measure import Sample, http
from .procs import PROCS
from .rounds import rotate
from .start import login
from .wrk import wrk_argv, wrk_run

ROUNDS = 2 if QUICK else 4
CHANGES = 3 if QUICK else 6       # password changes per round
PAGE_CONNS = 8
ACCOUNT = "a1@bench.example"      # provisioned for this section only
LOCATION = ACCOUNT_LOCATION
OPS = (("login", "login (`POST /auth/login`, JSON)"),
       ("page", "self-service page view (`GET /auth/account/`, HTML)"),
       ("password", "password change (`POST /auth/account/password`)"))


def section_account(ctx):
    if not ctx.account:
        ctx.acct = {"absent": "endpoint absent" + (
            "" if ctx.account_absent == "unknown directive"
            else ": " + ctx.account_absent)}
        log("8. self-service costs: n/a (%s)" % ctx.acct["absent"])
        return
    log("8. self-service costs: %d rounds x (login | page view | %d "
        "password changes)" % (ROUNDS, CHANGES))
    # another team's endpoint: its failure is reported, not fatal
    try:
        ctx.acct = measure(ctx, ctx.gw)
        return
    except Exception as e:
        failed = str(e).splitlines()[0][:200]
        log("   self-service costs: failed: %s" % failed)
    if not ctx.cache:
        ctx.acct = {"absent": "failed: %s" % failed}
        return
    log("   again on a gateway with the session cache off")
    gw = Gateway(ctx, "gw-account-nocache", login_extra=ACCOUNT_LOCATION,
                 http_extra="clientauth_session_cache off;")
    try:
        ctx.acct = measure(ctx, gw)
        ctx.acct["note"] = failed
    except Exception as e:
        ctx.acct = {"absent": "failed with the cache on (%s) and off (%s)"
                    % (failed, str(e).splitlines()[0][:200])}
    ctx.logs["gateway (self-service, cache off)"] = gw.log_levels()
    PROCS.stop(gw.proc)


def measure(ctx, gw):
    port = gw.ports["login"]
    state = {"cookie": login(port, ACCOUNT), "password": PASSWORD, "n": 0}
    runs = {op: [] for op, _ in OPS}
    for r in range(ROUNDS):
        for op, _ in rotate(list(OPS), r):
            with Sample(ctx, gateway=gw) as s:
                if op == "login":
                    res = wrk_run(ctx, wrk_argv(
                        port, LOGIN_SECONDS, LOGIN_CONNS, "login.lua",
                        path="/auth/login",
                        script_args=("u", USERS, PASSWORD, "users", 0)),
                        LOGIN_SECONDS)
                    ops, lat = res["statuses"].get(200, 0), res["p50_ms"]
                elif op == "page":
                    res = wrk_run(ctx, wrk_argv(
                        port, SECONDS, PAGE_CONNS, "stats.lua",
                        path="/auth/account/", cookie=state["cookie"],
                        headers=("Accept: text/html",)),
                        SECONDS)
                    if res["errors"] or res["status"]:
                        raise RuntimeError("account page: %d failed "
                                           "requests" % (res["errors"]
                                                         + res["status"]))
                    ops, lat = res["requests"], res["p50_ms"]
                else:
                    times = [change_password(port, state)
                             for _ in range(CHANGES)]
                    ops, lat = CHANGES, median(times)
            cpu = s.cpu["gateway"] + s.cpu["redis"]
            runs[op].append({"ops": ops, "per_sec": ops / s.elapsed,
                             "cpu_ms": 1000 * cpu / max(1, ops),
                             "p50_ms": lat, "foreign": s.foreign,
                             "cmds": sum(s.cmds.values()) / max(1, ops)})
            log("   round %d %-8s %8.1f/s  %.2f ms CPU each (gateway + "
                "Redis)  p50 %.1f ms  (other load %.0f%%)"
                % (r + 1, op, runs[op][-1]["per_sec"],
                   runs[op][-1]["cpu_ms"], lat, 100 * s.foreign))
    out = {"runs": runs}
    for op, _ in OPS:
        out[op] = {k: median([x[k] for x in runs[op]])
                   for k in ("per_sec", "cpu_ms", "p50_ms", "cmds")}
    return out


def change_password(port, state):
    """One password change on the section's account, to the next of a
    cycle longer than the password history; ms it took."""
    base = "http://127.0.0.1:%d/auth/account/" % port
    hdr = {"Accept": "application/json",
           "Cookie": "%s=%s" % (COOKIE, state["cookie"]),
           "Origin": "http://127.0.0.1:%d" % port,
           "Sec-Fetch-Site": "same-origin"}
    status, _, body = http("GET", base, headers=hdr)
    if status != 200:
        raise RuntimeError("GET /auth/account/: status %d" % status)
    csrf = json.loads(body)["csrf"]
    state["n"] += 1
    new = "Pass-word%d" % (2 + state["n"] % 8)
    if new == state["password"]:
        state["n"] += 1
        new = "Pass-word%d" % (2 + state["n"] % 8)
    form = urllib.parse.urlencode({
        "current_password": state["password"], "password": new,
        "password_confirm": new, "csrf": csrf}).encode()
    t = time.perf_counter()
    status, headers, body = http(
        "POST", base + "password", form,
        dict(hdr, **{"Content-Type": "application/x-www-form-urlencoded",
                     "X-CSRF-Token": csrf}))
    took = (time.perf_counter() - t) * 1000
    if status not in (200, 303):
        raise RuntimeError("POST /auth/account/password: status %d %r"
                           % (status, body[:200]))
    state["password"] = new
    m = re.search(COOKIE + r"=([A-Za-z0-9_-]+)",
                  headers.get("Set-Cookie", "") or "")
    if m:                               # the session was renewed
        state["cookie"] = m.group(1)
    return took


def summary_rows(ctx):
    a = ctx.acct
    if "absent" in a:
        return [("self-service page view, password change: CPU / a "
                 "login's", "n/a (%s)" % a["absent"], "(reported)", "-")]
    return [("self-service page view, password change: CPU / a login's%s"
             % (" (cache off: the change fails with it on)"
                if "note" in a else ""),
             "%.4f, %.2f" % (a["page"]["cpu_ms"] / a["login"]["cpu_ms"],
                             a["password"]["cpu_ms"]
                             / a["login"]["cpu_ms"]),
             "(reported)", "-")]


def markdown(ctx):
    """Section 8 of the results file, as lines."""
    a = ctx.acct
    lines = []
    w = lines.append
    w("## 8. Self-service: a page view and a password change beside a "
      "login")
    w("")
    if "absent" in a:
        w("n/a (%s)." % a["absent"])
        w("")
        return lines
    if "note" in a:
        w("**With the session cache on (the default) the password change "
          "failed: %s.**  Every figure below is from a second gateway, the "
          "same but for `clientauth_session_cache off;`." % a["note"])
        w("")
    w("On the login block (`%s`): logins as in section 3 "
      "(wrk c=%d, %d s), the account page (wrk c=%d, %d s, one session), "
      "and %d password changes one after the other (each reads the CSRF "
      "token first, not counted in its time), interleaved, %d rounds.  "
      "CPU is the gateway worker's (all threads) and Redis's per "
      "operation." % (LOCATION, LOGIN_CONNS, LOGIN_SECONDS, PAGE_CONNS,
                      SECONDS, CHANGES, ROUNDS))
    w("")
    rows = []
    for op, label in OPS:
        x = a[op]
        rows.append((label, "%.1f" % x["per_sec"], "%.3f" % x["cpu_ms"],
                     "%.4f" % (x["cpu_ms"] / a["login"]["cpu_ms"]),
                     "%.1f" % x["p50_ms"], "%.1f" % x["cmds"]))
    w(table(("operation", "per second", "ms CPU each", "CPU / a login's",
             "p50 ms", "Redis commands each"), rows))
    w("")
    w("Per round, ms CPU each: %s." % "; ".join(
        "%s %s" % (op, ", ".join("%.2f" % x["cpu_ms"]
                                 for x in a["runs"][op]))
        for op, _ in OPS))
    w("")
    return lines
