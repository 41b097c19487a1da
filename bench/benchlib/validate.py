"""Sections 1 and 2: session validation against a plain proxy and
auth_request + fwdauth."""

import time

from .common import (CLEAN_ROUNDS, CONNS, EXTRA_ROUNDS, LOOKUP_HMGETS, NOISY,
                     ROUNDS, SECONDS, TARGETS, log, median)
from .fmt import meets, status_line, table
from .measure import Sample, metrics, rss_kib
from .rounds import clean_rounds, rotate
from .wrk import wrk_argv, wrk_run


VARIANTS = [("plain", "plain proxy"), ("ca", "clientauth on"),
            ("fwd", "auth_request + fwdauth")]
NOCACHE = ("nocache", "clientauth, cache off")
CACHE_METRICS = ("hits", "misses", "invalidations", "flushes")


def variants(ctx):
    """This run's variants: with a session cache in the build, the
    clientauth variant once more on a gateway that turns it off."""
    return VARIANTS + ([NOCACHE] if ctx.cache else [])


def endpoint(ctx, variant):
    """(gateway, port) a variant of sections 1 and 2 runs on."""
    if variant == "nocache":
        return ctx.gw_nocache, ctx.gw_nocache.ports["ca"]
    return ctx.gw, ctx.gw.ports[variant]


def section_validate(ctx):
    vs = variants(ctx)
    log("1+2. session validation: %d+ rounds x %d variants x %ds, c=%d"
        % (ROUNDS, len(vs), SECONDS, CONNS))
    targets = [(v, label) + endpoint(ctx, v) for v, label in vs]
    warm_up(ctx, targets, ctx.cookie)
    ctx.rss_start = rss_kib(ctx.gw.worker)
    t0 = time.monotonic()
    ctx.validate, ctx.v_rounds = run_rounds(ctx, targets, ctx.cookie)
    ctx.v_wall = time.monotonic() - t0


def warm_up(ctx, targets, cookie):
    """2 s of each target first: connections, caches."""
    for _, _, _, port in targets:
        wrk_run(ctx, wrk_argv(port, 2, CONNS, "stats.lua", cookie=cookie), 2)


def run_rounds(ctx, targets, cookie):
    """Interleaved rounds of wrk runs over targets [(variant, label,
    gateway, port)], the order rotating each round, more rounds (up to
    EXTRA_ROUNDS) while fewer than CLEAN_ROUNDS were clean.  Returns
    ({variant: [wrk result + what Sample saw]}, rounds)."""
    runs = {t[0]: [] for t in targets}
    r = clean = 0
    while r < ROUNDS or (clean < CLEAN_ROUNDS and r < ROUNDS + EXTRA_ROUNDS):
        worst = 0.0
        for variant, _, gw, port in rotate(targets, r):
            with Sample(ctx, gateway=gw) as s:
                res = wrk_run(ctx, wrk_argv(port, SECONDS, CONNS,
                                            "stats.lua", cookie=cookie),
                              SECONDS)
            res["round"] = r + 1
            res["cpu"] = s.cpu
            res["cmds"] = s.cmds
            res["metrics"] = s.metrics
            res["gw_user"], res["gw_sys"] = s.gw_user, s.gw_sys
            res["foreign"], res["steal"] = s.foreign, s.steal
            bad = res["errors"] + res["status"]
            if bad:
                raise RuntimeError("%s: %d failed requests in a validation "
                                   "run: the numbers would be wrong"
                                   % (variant, bad))
            runs[variant].append(res)
            worst = max(worst, s.foreign)
            log("   round %d %-7s %8.0f req/s  p50 %.2f ms  p99 %.2f ms  "
                "(gateway %.0f%% busy, other load %.0f%%)"
                % (r + 1, variant, res["rps"], res["p50_ms"],
                   res["p99_ms"], 100 * s.cpu["gateway"] / s.elapsed,
                   100 * s.foreign))
        clean += worst <= NOISY
        r += 1
    return runs, r


def metric(m, name):
    """A clientauth_status counter, its labelled series summed."""
    return sum(v for k, v in m.items() if k.split("{")[0] == name)


def variant_row(runs):
    """Medians over a variant's runs, and its Redis commands over them
    all (per request and per validated request)."""
    n = [r["requests"] for r in runs]
    row = {
        "rps": median([r["rps"] for r in runs]),
        "rps_all": [r["rps"] for r in runs],
        "p50": median([r["p50_ms"] for r in runs]),
        "p99": median([r["p99_ms"] for r in runs]),
        "pct": {q: median([r["pct_us"][q] / 1000 for r in runs])
                for q in ("50", "75", "90", "99", "99.9")},
    }
    for comp in ("gateway", "backend", "redis", "fwdauth", "wrk"):
        row["us_" + comp] = median([r["cpu"][comp] / r["requests"] * 1e6
                                    for r in runs])
    row["gw_busy"] = median([r["cpu"]["gateway"] / r["seconds"]
                             for r in runs])
    row["gw_sys_share"] = median([r["gw_sys"] / max(1, r["gw_sys"]
                                                      + r["gw_user"])
                                  for r in runs])
    # Redis commands per request, over the whole section
    tot = {}
    for r in runs:
        for k, v in r["cmds"].items():
            tot[k] = tot.get(k, 0) + v
    total_req = sum(n)
    row["cmds_per_req"] = {k: v / total_req for k, v in tot.items() if v}
    row["all_cmds_per_req"] = sum(tot.values()) / total_req
    valid = sum(r["metrics"].get(
        'clientauth_session_checks_total{result="valid"}', 0)
        for r in runs)
    row["valid_checks"] = valid
    row["requests"] = total_req
    # the denominator is the gateway's own count of validated requests
    row["hmget_per_valid"] = tot.get("hmget", 0) / max(1, valid)
    row["all_per_valid"] = sum(tot.values()) / max(1, valid)
    row["cache"] = {k: sum(metric(r["metrics"], "clientauth_session_cache_"
                                  "%s_total" % k) for r in runs)
                    for k in CACHE_METRICS}
    return row


def per_round(a, b):
    """a's req/s over b's, round by round (the two ran back to back)."""
    return [x["rps"] / y["rps"] for x, y in zip(a, b)]


def capacity(a, b):
    """The same question asked of the CPU: b's gateway CPU time per request
    over a's is the capacity ratio of a saturated worker, which does not
    depend on how much CPU other tenants took."""
    def us(r):
        return r["cpu"]["gateway"] / r["requests"]
    return median([us(y) / us(x) for x, y in zip(a, b)])


def summarize_validate(ctx):
    vs = variants(ctx)
    used = clean_rounds([ctx.validate[v] for v, _ in vs])
    ctx.v_used = used
    ctx.validate_all = ctx.validate
    ctx.validate = {v: [runs[i] for i in used]
                    for v, runs in ctx.validate_all.items()}
    val = ctx.validate
    ctx.v = {variant: variant_row(val[variant]) for variant, _ in vs}
    # a round's variants ran back to back: the median of the per-round
    # ratios cancels the drift of a shared machine best
    ctx.v_ratio_rounds = per_round(val["ca"], val["plain"])
    ctx.v_ratio = median(ctx.v_ratio_rounds)
    ctx.f_ratio_rounds = per_round(val["fwd"], val["plain"])
    ctx.f_ratio = median(ctx.f_ratio_rounds)
    ctx.cf_ratio = median(per_round(val["ca"], val["fwd"]))
    ctx.v_cpu_ratio = capacity(val["ca"], val["plain"])
    ctx.f_cpu_ratio = capacity(val["fwd"], val["plain"])
    if ctx.cache:
        ctx.n_ratio_rounds = per_round(val["nocache"], val["plain"])
        ctx.n_ratio = median(ctx.n_ratio_rounds)
        ctx.n_cpu_ratio = capacity(val["nocache"], val["plain"])
        ctx.cache_entries = metric(metrics(ctx.gw.ports["ca"]),
                                   "clientauth_session_cache_entries")
    ctx.v_foreign = median([r["foreign"] for v in ctx.validate_all.values()
                            for r in v])
    ctx.v_steal = median([r["steal"] for v in ctx.validate_all.values()
                          for r in v])
    ctx.v_refreshes = sum(r["metrics"].get(
        "clientauth_session_refreshes_total", 0) for r in val["ca"])
    ctx.v_seconds = sum(r["seconds"] for r in val["ca"])


def markdown(ctx):
    """Sections 1 and 2 of the results file, as lines."""
    v = ctx.v
    lines = []
    w = lines.append
    w("## 1. Session validation and 2. forward auth")
    w("")
    rows = []
    vs = variants(ctx)
    vratio = {"plain": 1.0, "ca": ctx.v_ratio, "fwd": ctx.f_ratio,
              "nocache": getattr(ctx, "n_ratio", None)}
    for variant, label in vs:
        r = v[variant]
        rows.append((label, "%.0f" % r["rps"], "%.2f" % vratio[variant],
                     "%.2f" % r["p50"], "%.2f" % r["p99"],
                     "%.0f%%" % (100 * r["gw_busy"]),
                     "%.1f" % r["us_gateway"],
                     "%.0f%%" % (100 * r["gw_sys_share"]),
                     "%.1f" % r["us_backend"], "%.1f" % r["us_redis"],
                     "%.1f" % r["us_fwdauth"], "%.1f" % r["us_wrk"]))
    w(table(("variant", "req/s", "ratio", "p50 ms", "p99 ms",
             "gateway worker busy", "gateway µs CPU/req", "of which kernel", "backend µs/req",
             "redis µs/req", "fwdauth µs/req", "wrk µs/req"), rows))
    w("")
    w("Rounds: %d, of which %d clean (other load ≤ %.0f%% in every run); "
      "used: %s.  Per used round (req/s): "
      % (ctx.v_rounds, sum(1 for i in range(ctx.v_rounds)
                           if all(ctx.validate_all[x][i]["foreign"] <= NOISY
                                  for x, _ in vs)),
         100 * NOISY, ", ".join(str(i + 1) for i in ctx.v_used))
      + "; ".join(
        "%s %s" % (label, ", ".join("%.0f" % x for x in v[var]["rps_all"]))
        for var, label in vs) + ".  clientauth/plain per round: "
      + ", ".join("%.2f" % x for x in ctx.v_ratio_rounds)
      + ("; cache off/plain per round: " + ", ".join(
          "%.2f" % x for x in ctx.n_ratio_rounds) if ctx.cache else "")
      + ".  Capacity ratios from gateway CPU per request: clientauth/plain "
      "%.2f, auth_request/plain %.2f%s."
      % (ctx.v_cpu_ratio, ctx.f_cpu_ratio,
         ", cache off/plain %.2f" % ctx.n_cpu_ratio if ctx.cache else ""))
    w("")
    ca = v["ca"]
    if ctx.cache:
        lines.extend(cache_markdown(ctx))
    else:
        w("This build has no session cache (`nginx -t` does not know "
          "`clientauth_session_cache`): every validated request reads "
          "Redis, and the cache-off variant would measure the same.")
        w("")
    w("Redis, clientauth variant: %d validated requests (wrk counted %d), "
      "%.4f HMGET and %.4f commands in all per validated request (%s); "
      "the HMGETs above 2 are those of requests still in flight when wrk "
      "stopped.  Each request waits for one round trip: its two HMGETs "
      "(the session, and the user it names) are sent together, pipelined "
      "with other requests' on the worker's one connection.  "
      "Idle-deadline refreshes (HSET + PEXPIRE, not awaited): %d over the "
      "%.0f s of this section, all requests on one session, where "
      "`clientauth_session_refresh 60s` needs at most %d: every request in "
      "flight when a refresh falls due sends its own."
      % (ca["valid_checks"], ca["requests"], ca["hmget_per_valid"],
         ca["all_per_valid"],
         ", ".join("%s %.4f" % (k.upper(), x) for k, x in
                   sorted(ca["cmds_per_req"].items(), key=lambda i: -i[1])),
         ctx.v_refreshes, ctx.v_wall, int(ctx.v_wall // 60) + 1)
      if not ctx.cache else
      "Idle-deadline refreshes (HSET + PEXPIRE): %d over the %.0f s of "
      "this section, all requests on one session."
      % (ctx.v_refreshes, ctx.v_wall))
    w("The fwdauth variant costs %.3f HMGET per request (it does not read "
      "the user): the rest of the difference between the two is the extra "
      "HTTP hop (subrequest, upstream connection, a second process)."
      % v["fwd"]["cmds_per_req"].get("hmget", 0))
    w("")
    w("![req/s per round](%s)" % ctx.plots[0])
    w("![latency](%s)" % ctx.plots[1])
    w("")
    return lines


def cache_markdown(ctx):
    """The session cache's side of sections 1 and 2."""
    ca, nc = ctx.v["ca"], ctx.v["nocache"]
    c = ca["cache"]
    looked = c["hits"] + c["misses"]
    sent = ", ".join("%s %d" % (k.upper(), round(x * ca["requests"]))
                     for k, x in sorted(ca["cmds_per_req"].items(),
                                        key=lambda i: -i[1]))
    return [
        "Session cache: the `ca` block runs with `clientauth_session_cache` "
        "at its default, the cache-off variant is the same server block in "
        "a second gateway whose http block says `clientauth_session_cache "
        "off;` (the directive is per http block), loaded in the same "
        "rounds.  validated / plain proxy: cache on %.2f, cache off %.2f "
        "(medians of the per-round ratios); gateway CPU per validated "
        "request %.1f µs with the cache, %.1f µs without, %.1f µs for a "
        "plain proxied one."
        % (ctx.v_ratio, ctx.n_ratio, ca["us_gateway"], nc["us_gateway"],
           ctx.v["plain"]["us_gateway"]),
        "",
        "Redis commands per validated request in steady state "
        "(`INFO commandstats` delta over the rounds used / the gateway's "
        "count of validated requests): cache on %.4f (%s), cache off %.4f.  "
        "Cache counters over those rounds: %d hits, %d misses (hit ratio "
        "%s), %d invalidations, %d flushes; %d entries at the end."
        % (ca["all_per_valid"],
           "commands: " + sent if sent else "no command",
           nc["all_per_valid"], c["hits"], c["misses"],
           "%.4f" % (c["hits"] / looked) if looked else "n/a",
           c["invalidations"], c["flushes"], ctx.cache_entries),
        ""]


def summary_rows(ctx):
    """Sections 1 and 2 in the summary table."""
    v = ctx.v
    na = "n/a (no cache)"
    cache = " (cache on)" if ctx.cache else ""
    rows = [
        ("validated / plain proxy req/s" + cache, "%.2f" % ctx.v_ratio,
         "≥ %.2f" % TARGETS["validate"],
         status_line(meets(ctx.v_ratio, TARGETS["validate"]))),
        ("  same, from gateway CPU per request (capacity)",
         "%.2f" % ctx.v_cpu_ratio, "≥ %.2f" % TARGETS["validate"],
         status_line(meets(ctx.v_cpu_ratio, TARGETS["validate"]))),
        ("  same with `clientauth_session_cache off` req/s (CPU)",
         "%.2f (%.2f)" % (ctx.n_ratio, ctx.n_cpu_ratio) if ctx.cache
         else na, "(comparison)", "-"),
        ("auth_request + fwdauth / plain proxy req/s (CPU)",
         "%.2f (%.2f)" % (ctx.f_ratio, ctx.f_cpu_ratio), "(comparison)",
         "-"),
        ("clientauth / auth_request req/s", "%.2f" % ctx.cf_ratio,
         "(comparison)", "-"),
    ]
    # without the cache a lookup is two pipelined HMGETs (the session, its
    # user): one round trip
    uncached = v["nocache"] if ctx.cache else v["ca"]
    one_trip = ("%.3f (HMGET %.3f)" % (uncached["all_per_valid"],
                                       uncached["hmget_per_valid"]),
                "≤ 1 round trip",
                status_line(uncached["hmget_per_valid"] / LOOKUP_HMGETS
                            <= TARGETS["roundtrips"] + 0.005))
    if ctx.cache:
        rows += [
            ("Redis commands per validated request (cache on)",
             "%.4f" % v["ca"]["all_per_valid"],
             "≤ %.2f" % TARGETS["cached_cmds"],
             status_line(v["ca"]["all_per_valid"]
                         <= TARGETS["cached_cmds"])),
            ("  same with the cache off",) + one_trip]
    else:
        rows += [("Redis commands per validated request",) + one_trip,
                 ("  same with the session cache", na,
                  "≤ %.2f" % TARGETS["cached_cmds"], "-")]
    return rows
