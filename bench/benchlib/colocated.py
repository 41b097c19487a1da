"""Section 7: validation in a second topology, where the backend is a
server block of the gateway's own nginx (it runs in the gateway's worker)
and Redis runs on the gateway's core.

The gateway worker and Redis are pinned to the first CPU this process may
use, wrk to the second: what Redis costs the gateway shows up whole in
the gateway's throughput, as on a host where both share the cores."""

import os

from .common import CONNS, ROUNDS, SECONDS, TARGETS, log, median
from .fmt import meets, status_line, table
from .gateway import Gateway
from .procs import PROCS
from .rounds import clean_rounds
from .validate import capacity, per_round, run_rounds, variant_row, warm_up

VARIANTS = [("plain", "plain proxy"), ("ca", "clientauth on"),
            ("nocache", "clientauth, cache off")]


def section_colocated(ctx):
    vs = VARIANTS if ctx.cache else VARIANTS[:2]
    log("7. second topology (backend in the gateway's worker, Redis on "
        "its core): %d+ rounds x %d variants x %ds, c=%d"
        % (ROUNDS, len(vs), SECONDS, CONNS))
    gw = Gateway(ctx, "gw-colo", local_backend=True)
    gws = {"plain": gw, "ca": gw}
    if ctx.cache:
        gws["nocache"] = Gateway(ctx, "gw-colo-nocache", local_backend=True,
                                 http_extra="clientauth_session_cache off;")
    targets = [(v, label, gws[v], gws[v].ports["plain" if v == "plain"
                                               else "ca"])
               for v, label in vs]
    cpus = sorted(os.sched_getaffinity(0))
    pinned = [ctx.redis_proc.pid] + [w for g in set(gws.values())
                                     for w in g.workers]
    saved = {pid: os.sched_getaffinity(pid) for pid in pinned}
    ctx.colo_cpus = cpus[:2] if len(cpus) >= 2 else None
    try:
        if ctx.colo_cpus:
            for pid in pinned:
                os.sched_setaffinity(pid, {cpus[0]})
            ctx.wrk_cpus = str(cpus[1])
        warm_up(ctx, targets, ctx.cookie)
        runs, ctx.colo_rounds = run_rounds(ctx, targets, ctx.cookie)
    finally:
        ctx.wrk_cpus = None
        for pid, mask in saved.items():
            try:
                os.sched_setaffinity(pid, mask)
            except ProcessLookupError:
                pass
    used = clean_rounds([runs[v] for v, _ in vs])
    ctx.colo_used = used
    ctx.colo_all = runs
    val = {v: [r[i] for i in used] for v, r in runs.items()}
    ctx.colo = {v: variant_row(val[v]) for v, _ in vs}
    ctx.colo_ratio_rounds = per_round(val["ca"], val["plain"])
    ctx.colo_ratio = median(ctx.colo_ratio_rounds)
    ctx.colo_cpu_ratio = capacity(val["ca"], val["plain"])
    if ctx.cache:
        ctx.colo_n_rounds = per_round(val["nocache"], val["plain"])
        ctx.colo_n_ratio = median(ctx.colo_n_rounds)
        ctx.colo_n_cpu_ratio = capacity(val["nocache"], val["plain"])
    ctx.colo_foreign = median([r["foreign"] for v in runs.values()
                               for r in v])
    for name, g in (("gateway (topology 2)", gw),
                    ("gateway (topology 2, cache off)",
                     gws.get("nocache"))):
        if g is not None:
            ctx.logs[name] = g.log_levels()
            PROCS.stop(g.proc)


def summary_rows(ctx):
    rows = [("topology 2 (backend in the worker, Redis on its core): "
             "validated / plain req/s%s" % (" (cache on)" if ctx.cache
                                            else ""),
             "%.2f (CPU %.2f)" % (ctx.colo_ratio, ctx.colo_cpu_ratio),
             "≥ %.2f" % TARGETS["validate"],
             status_line(meets(ctx.colo_ratio, TARGETS["validate"])))]
    rows.append(("  same with `clientauth_session_cache off`",
                 "%.2f (CPU %.2f)" % (ctx.colo_n_ratio,
                                      ctx.colo_n_cpu_ratio)
                 if ctx.cache else "n/a (no cache)",
                 "(comparison)", "-"))
    return rows


def markdown(ctx):
    """Section 7 of the results file, as lines."""
    lines = []
    w = lines.append
    vs = [v for v in VARIANTS if v[0] in ctx.colo]
    w("## 7. Second topology: backend in the gateway's worker, Redis on "
      "its core")
    w("")
    w("A gateway of the same configuration whose `upstream backend` is a "
      "server block of its own nginx (`return 200`), so the backend runs "
      "in the gateway's one worker%s%s.  Interleaved rounds as in section "
      "1 (%d s, `wrk -t1 -c%d`), the same session."
      % (", pinned with Redis to CPU %d and wrk to CPU %d"
         % tuple(ctx.colo_cpus) if ctx.colo_cpus else
         " (one CPU: nothing pinned)",
         "; the cache-off variant is the same on a second gateway with "
         "`clientauth_session_cache off;`" if ctx.cache else "",
         SECONDS, CONNS))
    w("")
    ratio = {"plain": 1.0, "ca": ctx.colo_ratio,
             "nocache": getattr(ctx, "colo_n_ratio", None)}
    rows = []
    for v, label in vs:
        r = ctx.colo[v]
        rows.append((label, "%.0f" % r["rps"], "%.2f" % ratio[v],
                     "%.2f" % r["p50"], "%.2f" % r["p99"],
                     "%.1f" % r["us_gateway"], "%.1f" % r["us_redis"],
                     "%.3f" % r["all_per_valid"] if v != "plain" else "-"))
    w(table(("variant", "req/s", "ratio", "p50 ms", "p99 ms",
             "gateway µs CPU/req (backend included)", "redis µs/req",
             "Redis commands / validated request"), rows))
    w("")
    w("Rounds: %d; used: %s (other load, median: %.0f%%).  Per used round "
      "(req/s): %s.  clientauth/plain per round: %s%s.  Capacity ratio "
      "from gateway CPU per request: clientauth/plain %.2f%s."
      % (ctx.colo_rounds, ", ".join(str(i + 1) for i in ctx.colo_used),
         100 * ctx.colo_foreign,
         "; ".join("%s %s" % (label, ", ".join(
             "%.0f" % x for x in ctx.colo[v]["rps_all"]))
             for v, label in vs),
         ", ".join("%.2f" % x for x in ctx.colo_ratio_rounds),
         "; cache off/plain: " + ", ".join(
             "%.2f" % x for x in ctx.colo_n_rounds) if ctx.cache else "",
         ctx.colo_cpu_ratio,
         ", cache off/plain %.2f" % ctx.colo_n_cpu_ratio if ctx.cache
         else ""))
    w("")
    return lines
