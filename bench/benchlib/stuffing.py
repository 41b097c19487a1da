"""Section 4: validated requests and logins during credential stuffing."""

from .common import (CONNS, FLOOD_CONNS, FLOOD_RATE, LEGIT_LOGIN_CONNS,
                     LEGIT_PACE_MS, PASSWORD, SECONDS, STUFF_ROUNDS,
                     STUFF_USERS, USERS, VICTIMS, WRONG, log, median)
from .fmt import fmt_statuses, table
from .measure import Sample
from .rounds import clean_rounds, more_rounds, rotate
from .wrk import wrk_argv, wrk_finish, wrk_run, wrk_start


def section_stuffing(ctx):
    pace_ms = max(1, round(FLOOD_CONNS * 1000 / FLOOD_RATE))
    log("4. credential stuffing: %d rounds x (baseline | flood %d/s | "
        "unpaced flood alone) x %ds" % (STUFF_ROUNDS, FLOOD_RATE, SECONDS))
    gw = ctx.gw
    port = gw.ports["stuff"]
    legit = ("s", STUFF_USERS, PASSWORD, "users", LEGIT_PACE_MS)
    ctx.stuff = {"baseline": [], "flood": [], "max": []}
    # the first attempts on each victim are hashed until its lockout: run
    # them first, so that the rounds measure the steady state
    res = wrk_run(ctx, wrk_argv(port, 2, FLOOD_CONNS, "login.lua",
                                path="/auth/login",
                                script_args=("v", VICTIMS, WRONG, "flood",
                                             0)), 2)
    ctx.stuff_lockin = res
    log("   lock-in  flood %.0f/s %s" % (res["rps"], res["statuses"]))
    r = 0
    while more_rounds(r, STUFF_ROUNDS,
                      [ctx.stuff["baseline"], ctx.stuff["flood"]], 3):
        r += 1
        for mode in rotate(["baseline", "flood"], r - 1) + ["max"]:
            with Sample(ctx) as s:
                procs = {}
                if mode != "max":
                    procs["validated"] = wrk_start(ctx, wrk_argv(
                        port, SECONDS, CONNS, "stats.lua",
                        cookie=ctx.cookie))
                    procs["logins"] = wrk_start(ctx, wrk_argv(
                        port, SECONDS, LEGIT_LOGIN_CONNS, "login.lua",
                        path="/auth/login", script_args=legit))
                if mode != "baseline":
                    procs["flood"] = wrk_start(ctx, wrk_argv(
                        port, SECONDS, FLOOD_CONNS, "login.lua",
                        path="/auth/login",
                        script_args=("v", VICTIMS, WRONG, "flood",
                                     pace_ms if mode == "flood" else 0)))
                res = {k: wrk_finish(p, SECONDS) for k, p in procs.items()}
            res["threads"] = s.threads
            res["cpu"] = s.cpu
            res["cmds"] = s.cmds
            res["foreign"] = s.foreign
            res["round"] = r
            ctx.stuff[mode].append(res)
            log_stuff(r, mode, res)
    if ctx.throttle:
        # the brand-wide window at its default, on the "ca" block
        log("   the default brand-wide limit under the same unpaced flood")
        procs = {"flood": wrk_start(ctx, wrk_argv(
                     gw.ports["ca"], SECONDS, FLOOD_CONNS, "login.lua",
                     path="/auth/login",
                     script_args=("v", VICTIMS, WRONG, "flood", 0))),
                 # the "u" accounts: their default-window counters are
                 # fresh (the login block counts them in 7 s windows)
                 "logins": wrk_start(ctx, wrk_argv(
                     gw.ports["ca"], SECONDS, LEGIT_LOGIN_CONNS, "login.lua",
                     path="/auth/login",
                     script_args=("u", USERS, PASSWORD, "users",
                                  LEGIT_PACE_MS)))}
        res = {k: wrk_finish(p, SECONDS) for k, p in procs.items()}
        ctx.stuff["brand"] = res
        log_stuff(0, "brand", res)


def log_stuff(r, mode, res):
    parts = []
    if "validated" in res:
        parts.append("validated %.0f req/s" % res["validated"]["rps"])
    if "logins" in res:
        lg = res["logins"]
        parts.append("logins %.1f/s %s" % (
            lg["statuses"].get(200, 0) / lg["seconds"], lg["statuses"]))
    if "flood" in res:
        fl = res["flood"]
        parts.append("flood %.0f/s %s" % (fl["rps"], fl["statuses"]))
    if "foreign" in res:
        parts.append("(other load %.0f%%)" % (100 * res["foreign"]))
    log("   round %d %-8s %s" % (r, mode, ", ".join(parts)))


def summarize_stuffing(ctx):
    used = clean_rounds([ctx.stuff["baseline"], ctx.stuff["flood"]])
    ctx.s_used = used
    ctx.stuff_all = ctx.stuff
    st = ctx.stuff = dict(ctx.stuff)
    for mode in ("baseline", "flood", "max"):
        st[mode] = [ctx.stuff_all[mode][i] for i in used]
    out = {}
    for mode in ("baseline", "flood"):
        runs = st[mode]
        lg = _sum_statuses(r["logins"] for r in runs)
        out[mode] = {
            "val_rps": median([r["validated"]["rps"] for r in runs]),
            "val_p99": median([r["validated"]["p99_ms"] for r in runs]),
            "login_ok": median([r["logins"]["statuses"].get(200, 0)
                                / r["logins"]["seconds"] for r in runs]),
            "login_share": lg.get(200, 0) / max(1, sum(lg.values())),
            "login_p50": median([r["logins"]["p50_ms"] for r in runs]),
            "login_p99": median([r["logins"]["p99_ms"] for r in runs]),
            "login_statuses": lg,
        }
    for mode in ("flood", "max"):
        runs = st[mode]
        hist = _sum_statuses(r["flood"] for r in runs)
        secs = sum(r["flood"]["seconds"] for r in runs)
        attempts = sum(r["flood"]["requests"] for r in runs)
        cmds = {}
        for r in runs:
            for k, v in r["cmds"].items():
                cmds[k] = cmds.get(k, 0) + v
        out[mode + "_flood"] = {
            "rps": median([r["flood"]["rps"] for r in runs]),
            "rejected_429": median([r["flood"]["statuses"].get(429, 0)
                                    / r["flood"]["seconds"] for r in runs]),
            "statuses": hist,
            "p50": median([r["flood"]["p50_ms"] for r in runs]),
            "p99": median([r["flood"]["p99_ms"] for r in runs]),
            "errors": sum(r["flood"]["errors"] for r in runs),
            "cmds_per_attempt": (sum(cmds.values()) / max(1, attempts)
                                 if mode == "max" else None),
            "us_per_attempt": ({k: median([r["cpu"][k]
                                           / max(1, r["flood"]["requests"])
                                           * 1e6 for r in runs])
                                for k in ("gateway", "redis", "wrk")}
                               if mode == "max" else None),
            "seconds": secs,
        }
    if "brand" in st:
        b = st["brand"]
        out["brand"] = {"flood": b["flood"]["statuses"],
                        "flood_rps": b["flood"]["rps"],
                        "logins": b["logins"]["statuses"]}
    # where the gateway worker's CPU went during the flood rounds
    thr = {}
    for r in st["flood"]:
        for k, v in r["threads"].items():
            thr[k] = thr.get(k, 0) + v
    out["flood_threads"] = thr
    tot = {}
    for r in st["flood"]:
        for k, v in r["cpu"].items():
            tot[k] = tot.get(k, 0) + v
    out["flood_cpu"] = tot
    out["flood_seconds"] = sum(r["flood"]["seconds"] for r in st["flood"])
    ctx.s = out
    ctx.s_ratio_rounds = [f["validated"]["rps"] / b["validated"]["rps"]
                          for f, b in zip(st["flood"], st["baseline"])]
    ctx.s_ratio = median(ctx.s_ratio_rounds)
    ctx.s_foreign = median([r["foreign"] for m in ("baseline", "flood", "max")
                            for r in ctx.stuff_all[m]])
    ctx.s_login_ratio = (out["flood"]["login_ok"]
                         / max(1e-9, out["baseline"]["login_ok"]))


def _sum_statuses(results):
    out = {}
    for r in results:
        for k, v in r["statuses"].items():
            out[k] = out.get(k, 0) + v
    return out
def markdown(ctx):
    """Section 4 of the results file, as lines."""
    s = ctx.s
    lines = []
    w = lines.append
    w("## 4. Credential stuffing")
    w("")
    w("Its own server block: %s  Legitimate traffic: validated requests "
      "(wrk c=%d, closed loop) and logins (%d connections, each waiting "
      "%d ms between attempts, over %d accounts of their own, from random "
      "addresses in 10.0.0.0/8).  Flood: wrong passwords for %d existing "
      "accounts from random addresses in 198.18.0.0/15 (X-Forwarded-For, "
      "trusted from 127.0.0.1 by realip), %d connections each waiting "
      "%d ms before each attempt (at most %d attempts/s); then the same "
      "flood unpaced and alone, for the most attempts/s the gateway turns "
      "away.  Interleaved rounds of %d s."
      % ("per-address and per-account limits and the lockout at their "
         "defaults, `clientauth_login_limit brand off`." if ctx.throttle
         else "this build has no login throttle.",
         CONNS, LEGIT_LOGIN_CONNS, LEGIT_PACE_MS, STUFF_USERS, VICTIMS,
         FLOOD_CONNS, max(1, round(FLOOD_CONNS * 1000 / FLOOD_RATE)),
         FLOOD_RATE, SECONDS))
    w("")
    b, f = s["baseline"], s["flood"]
    w(table(("", "without flood", "during flood", "ratio"), [
        ("validated req/s", "%.0f" % b["val_rps"], "%.0f" % f["val_rps"],
         "%.2f" % ctx.s_ratio),
        ("validated p99 ms", "%.2f" % b["val_p99"], "%.2f" % f["val_p99"],
         ""),
        ("legitimate logins/s", "%.1f" % b["login_ok"],
         "%.1f" % f["login_ok"], "%.2f" % ctx.s_login_ratio),
        ("legitimate logins that succeeded", "%.0f%%" % (
            100 * b["login_share"]), "%.0f%%" % (100 * f["login_share"]),
         ""),
        ("legitimate login p50 / p99 ms",
         "%.0f / %.0f" % (b["login_p50"], b["login_p99"]),
         "%.0f / %.0f" % (f["login_p50"], f["login_p99"]), ""),
        ("legitimate login responses", fmt_statuses(b["login_statuses"]),
         fmt_statuses(f["login_statuses"]), "")]))
    w("")
    rows = []
    for mode, label in (("flood", "paced, with legitimate traffic"),
                        ("max", "unpaced, alone")):
        fl = s[mode + "_flood"]
        rows.append((label, "%.0f" % fl["rps"], "%.0f" % fl["rejected_429"],
                     fmt_statuses(fl["statuses"]),
                     "%.1f / %.1f" % (fl["p50"], fl["p99"])))
    w(table(("flood", "attempts/s", "429/s", "responses (all rounds)",
             "p50 / p99 ms"), rows))
    w("")
    mx = s["max_flood"]
    lk = ctx.stuff_lockin
    w("Before the rounds, 2 s of unpaced flood locked the victims in: %s "
      "(the 401s are the wrong passwords hashed before each account's "
      "lockout).  Each refused attempt of the unpaced flood cost %.1f Redis "
      "commands and CPU time of %.1f µs in the gateway worker, %.1f µs in "
      "Redis and %.1f µs in wrk.  Per-round validated ratio: %s (rounds "
      "used: %s)."
      % (fmt_statuses(lk["statuses"]), mx["cmds_per_attempt"],
         mx["us_per_attempt"]["gateway"], mx["us_per_attempt"]["redis"],
         mx["us_per_attempt"]["wrk"],
         ", ".join("%.2f" % x for x in ctx.s_ratio_rounds),
         ", ".join(str(i + 1) for i in ctx.s_used)))
    if "brand" in s:
        br = s["brand"]
        w("")
        w("With the brand-wide window at its default (the `ca` block: "
          "6000 attempts a minute for the whole brand), the same unpaced "
          "flood (%.0f attempts/s: %s) met legitimate logins (same pacing, "
          "their own accounts) answered %s.  %s"
          % (br["flood_rps"], fmt_statuses(br["flood"]),
             fmt_statuses(br["logins"]),
             "The brand-wide window counts the flood's attempts too, so "
             "while a flood lasts it refuses every customer of the brand: "
             "it caps the hashing an attacker can cause at the price of a "
             "denial of login."
             if br["logins"].get(429, 0) > br["logins"].get(200, 0) else
             ""))
    w("")
    thr = s["flood_threads"]
    tot = sum(thr.values()) or 1
    cpu = s["flood_cpu"]
    w("CPU during the paced flood rounds (%.0f s): gateway worker %s; "
      "Redis %.1f s, backend %.1f s, wrk %.1f s."
      % (s["flood_seconds"],
         ", ".join("%s %.1f s (%.0f%%)" % (k, x, 100 * x / tot)
                   for k, x in sorted(thr.items(), key=lambda i: -i[1])),
         cpu.get("redis", 0), cpu.get("backend", 0), cpu.get("wrk", 0)))
    flood_hist = s["flood_flood"]["statuses"]
    if flood_hist.get(429, 0) == 0:
        w("")
        w("No flood attempt was answered 429: login rate limiting and "
          "lockout are not in this build (issue 3), so every wrong password "
          "is hashed (401) or refused when the hash queue is full (503), "
          "and the flood competes with legitimate logins for the thread "
          "pool and with validated requests for the CPU.")
    w("")
    w("![stuffing](%s)" % ctx.plots[3])
    w("")
    return lines
