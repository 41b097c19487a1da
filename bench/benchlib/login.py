"""Section 3: logins through the gateway against raw argon2id verifies."""

import json

from .common import (HASH_M, HASH_T, LOGIN_CONNS, LOGIN_ROUNDS, LOGIN_SECONDS,
                     PASSWORD, NO_LIMIT, THREADS, USERS, log, median)
from .fmt import fmt_statuses, table
from .measure import Sample
from .procs import sh
from .rounds import clean_rounds, more_rounds, rotate
from .wrk import wrk_argv, wrk_run


def section_login(ctx):
    log("3. login: %d rounds x (gateway c=%d | pwverify %d threads) x %ds"
        % (LOGIN_ROUNDS, LOGIN_CONNS, THREADS, LOGIN_SECONDS))
    gw = ctx.gw
    wrk_run(ctx, wrk_argv(gw.ports["login"], 2, LOGIN_CONNS, "login.lua",
                          path="/auth/login",
                          script_args=("u", USERS, PASSWORD, "users", 0)), 2)
    ctx.login = []
    ctx.raw = []
    r = 0
    while more_rounds(r, LOGIN_ROUNDS, [ctx.login, ctx.raw], 4):
        r += 1
        for what in rotate(["gateway", "raw"], r - 1):
            if what == "gateway":
                with Sample(ctx) as s:
                    res = wrk_run(ctx, wrk_argv(
                        gw.ports["login"], LOGIN_SECONDS, LOGIN_CONNS,
                        "login.lua", path="/auth/login",
                        script_args=("u", USERS, PASSWORD, "users", 0)),
                        LOGIN_SECONDS)
                ok = res["statuses"].get(200, 0)
                res["ok_per_sec"] = ok / res["seconds"]
                res["foreign"] = s.foreign
                res["busy"] = (s.threads.get("thread pool", 0)
                               / (THREADS * s.elapsed))
                # CPU a successful login costs the gateway host: the
                # worker's threads and Redis (not wrk)
                res["cpu_per_login"] = ((s.cpu["gateway"] + s.cpu["redis"])
                                        / max(1, ok))
                res["metrics"] = s.metrics
                res["cmds"] = s.cmds
                res["threads"] = s.threads
                res["round"] = r
                ctx.login.append(res)
                log("   round %d gateway  %6.1f logins/s  p50 %.1f ms  "
                    "p99 %.1f ms  %s (other load %.0f%%)"
                    % (r, res["ok_per_sec"], res["p50_ms"],
                       res["p99_ms"], res["statuses"], 100 * s.foreign))
            else:
                with Sample(ctx) as s:
                    out = sh([str(ctx.pwverify_bin), str(THREADS),
                              str(LOGIN_SECONDS), str(HASH_T), str(HASH_M),
                              PASSWORD]).stdout
                raw = json.loads(out)
                raw["foreign"] = s.foreign
                raw["busy"] = s.cpu["wrk"] / (THREADS * s.elapsed)
                raw["cpu_per_verify"] = s.cpu["wrk"] / max(1, raw["verifies"])
                raw["round"] = r
                ctx.raw.append(raw)
                log("   round %d raw      %6.1f verifies/s  (other load "
                    "%.0f%%)" % (r, raw["per_sec"], 100 * s.foreign))


def summarize_login(ctx):
    used = clean_rounds([ctx.login, ctx.raw])
    ctx.l_used = used
    ctx.login_all, ctx.raw_all = ctx.login, ctx.raw
    ctx.login = [ctx.login_all[i] for i in used]
    ctx.raw = [ctx.raw_all[i] for i in used]
    ctx.l_rate = median([r["ok_per_sec"] for r in ctx.login])
    ctx.raw_rate = median([r["per_sec"] for r in ctx.raw])
    ctx.l_ratio_rounds = [g["ok_per_sec"] / w["per_sec"]
                          for g, w in zip(ctx.login, ctx.raw)]
    ctx.l_ratio = median(ctx.l_ratio_rounds)
    ctx.l_cpu_ratio = median([w["cpu_per_verify"] / g["cpu_per_login"]
                              for g, w in zip(ctx.login, ctx.raw)])
    ctx.l_cpu_login = median([g["cpu_per_login"] for g in ctx.login])
    ctx.l_cpu_verify = median([w["cpu_per_verify"] for w in ctx.raw])
    ctx.l_p50 = median([r["p50_ms"] for r in ctx.login])
    ctx.l_p99 = median([r["p99_ms"] for r in ctx.login])
    ctx.l_foreign = median([r["foreign"]
                            for r in ctx.login_all + ctx.raw_all])
    ctx.l_busy = median([r["busy"] for r in ctx.login])
    ctx.raw_busy = median([r["busy"] for r in ctx.raw])
    ok = sum(r["statuses"].get(200, 0) for r in ctx.login)
    ctx.l_statuses = {}
    for r in ctx.login:
        for k, v in r["statuses"].items():
            ctx.l_statuses[k] = ctx.l_statuses.get(k, 0) + v
    tot = {}
    for r in ctx.login:
        for k, v in r["cmds"].items():
            tot[k] = tot.get(k, 0) + v
    ctx.l_cmds = {k: v / max(1, ok) for k, v in tot.items() if v}
def markdown(ctx):
    """Section 3 of the results file, as lines."""
    lines = []
    w = lines.append
    w("## 3. Login")
    w("")
    w("`POST /auth/login` (JSON) through the gateway, wrk c=%d over %d "
      "accounts (real argon2id, t=%d m=%d MiB, thread pool of %d), against "
      "bench/pwverify: %d threads calling crypto_pwhash_str_verify() on a "
      "hash of the same cost for %d s, interleaved.  %s"
      % (LOGIN_CONNS, USERS, HASH_T, HASH_M, THREADS, THREADS, LOGIN_SECONDS,
         "The login server block sets every `clientauth_login_limit` to "
         "%s: the throttle's Redis commands run, its limits never refuse."
         % NO_LIMIT if ctx.throttle else
         "This build has no login throttle."))
    w("")
    w(table(("", "per second", "p50 ms", "p99 ms"), [
        ("successful logins through the gateway", "%.1f" % ctx.l_rate,
         "%.1f" % ctx.l_p50, "%.1f" % ctx.l_p99),
        ("raw verifies (pwverify)", "%.1f" % ctx.raw_rate, "-", "-"),
        ("ratio", "%.2f" % ctx.l_ratio, "", "")]))
    w("")
    w("CPU per operation, which other tenants do not change: a successful "
      "login costs the gateway worker (all its threads) and Redis %.1f ms, "
      "a raw verify costs pwverify %.1f ms; their ratio, %.2f, is the "
      "capacity ratio of a host that does nothing else."
      % (1000 * ctx.l_cpu_login, 1000 * ctx.l_cpu_verify, ctx.l_cpu_ratio))
    w("")
    w("The hash threads were busy %.0f%% of the time in the gateway (its "
      "thread pool's CPU time / %d threads / wall time) and %.0f%% in "
      "pwverify: what the two get of the CPUs, as the machine's other load "
      "allows, is what the ratio compares."
      % (100 * ctx.l_busy, THREADS, 100 * ctx.raw_busy))
    w("")
    w("Rounds used: %s of %d.  Per used round: logins/s %s; raw %s; "
      "ratio %s.  Login responses: %s.  "
      "Redis "
      "commands per successful login: %s."
      % (", ".join(str(i + 1) for i in ctx.l_used), len(ctx.login_all),
         ", ".join("%.1f" % r["ok_per_sec"] for r in ctx.login),
         ", ".join("%.1f" % r["per_sec"] for r in ctx.raw),
         ", ".join("%.2f" % x for x in ctx.l_ratio_rounds),
         fmt_statuses(ctx.l_statuses),
         ", ".join("%s %.2f" % (k.upper(), x) for k, x in
                   sorted(ctx.l_cmds.items(), key=lambda i: -i[1]))))
    w("")
    w("![login](%s)" % ctx.plots[2])
    w("")
    return lines
