"""The results file (bench/results/<date>.md) and the printed summary."""

from .common import CONNS, SECONDS, TARGETS, THREADS, WORKERS
from . import account, colocated, login, memory, revocation, stuffing, validate
from .fmt import meets, status_line, table
from .profiles import profile_md


def summary_rows(ctx):
    s = ctx.s
    return validate.summary_rows(ctx) + colocated.summary_rows(ctx) \
        + revocation.summary_rows(ctx) + account.summary_rows(ctx) + [
        ("logins/s / raw argon2id verify/s", "%.2f" % ctx.l_ratio,
         "≥ %.2f" % TARGETS["login"],
         status_line(meets(ctx.l_ratio, TARGETS["login"]))),
        ("  same, from CPU per login (capacity)", "%.2f" % ctx.l_cpu_ratio,
         "≥ %.2f" % TARGETS["login"],
         status_line(meets(ctx.l_cpu_ratio, TARGETS["login"]))),
        ("validated req/s during stuffing / without", "%.2f" % ctx.s_ratio,
         "≥ %.2f" % TARGETS["stuffing"],
         status_line(meets(ctx.s_ratio, TARGETS["stuffing"]))),
        ("legitimate logins/s during stuffing / without",
         "%.2f" % ctx.s_login_ratio, "(reported)", "-"),
        ("flood attempts/s answered 429 (unpaced flood, locked accounts)",
         "%.0f of %.0f" % (s["max_flood"]["rejected_429"],
                           s["max_flood"]["rps"]), "(reported)", "-"),
        ("worker RSS growth over %.0f s of load (glibc / jemalloc)"
         % ctx.mem["glibc"]["load_seconds"],
         "%+.1f / %+.1f MiB" % ((ctx.mem["glibc"]["final"]
                                 - ctx.mem["glibc"]["warm"]) / 1024,
                                (ctx.mem["jemalloc"]["final"]
                                 - ctx.mem["jemalloc"]["warm"]) / 1024),
         "no growth", "-"),
        ("jemalloc / glibc validated req/s (CPU)",
         "%.2f (%.2f)" % (ctx.je_ratio, ctx.je_cpu_ratio),
         "(reported)", "-"),
    ]


def report(ctx, runtime):
    mi = ctx.info
    lines = []
    w = lines.append
    w("# ngx_clientauth benchmarks, %s" % ctx.date)
    w("")
    w("Machine: %s CPUs (%s), %.1f GiB, kernel %s; load average at start "
      "%s.  nginx %s (Debian), Redis %s, wrk %s, libsodium %s, hiredis %s; "
      "commit %s.  `make bench` run time of bench/run: %.0f s."
      % (mi["nproc"], mi["cpu"], mi["mem_gib"], mi["kernel"],
         " ".join(mi["loadavg"]), mi["nginx"], mi["redis"], mi["wrk"],
         mi["libsodium"], mi["hiredis"], mi["commit"], runtime))
    w("")
    w("## Summary")
    w("")
    w(table(("measure", "measured", "target", ""), summary_rows(ctx)))
    w("")
    w("## How it was measured")
    w("")
    w("Everything runs on 127.0.0.1 in a temporary directory: redis-server "
      "(no persistence), a backend nginx (1 worker, `return 200`), "
      "fwdauth, and the gateway: Debian's /usr/sbin/nginx with the module, "
      "`worker_processes %d`, `thread_pool clientauth threads=%d`, one "
      "server block per variant in the same nginx, upstream keep-alive to "
      "the backend.  Why one worker: on 2 cores, wrk and the backend need "
      "about as much CPU as the gateway itself (see the µs/request "
      "columns).  One worker keeps the gateway to one core, where it runs "
      "close to saturation, and leaves the other to wrk, the backend and "
      "Redis, so the req/s ratio stays close to the gateway's own cost "
      "ratio; with two workers the gateway, its load generator and its "
      "backend would share both cores and the ratio would mostly measure "
      "the load generator and the scheduler.  The same count for every "
      "variant: they are server blocks of one nginx."
      % (WORKERS, THREADS))
    w("")
    w("Variants are interleaved: each round runs every variant once, %d s "
      "each with `wrk -t1 -c%d`, the order rotating from round to round; "
      "tables give the median over the rounds; a ratio is the median of "
      "the per-round ratios (variants of a round ran back to back, which "
      "cancels the drift of a shared machine best).  "
      "CPU per request is each process's scheduler run time "
      "(/proc/PID/task/*/schedstat) over the run divided by the requests; "
      "Redis commands are `INFO commandstats` deltas, divided by the "
      "gateway's own count of validated requests (clientauth_status).  "
      "\"Other load\" is the machine's busy CPU (/proc/stat) not spent by "
      "the bench's processes, as a share of all CPUs: when it is high the "
      "req/s ratios drift, and the ratio of gateway CPU per request (the "
      "capacity of a saturated worker) is the steadier measure."
      % (SECONDS, CONNS))
    w("")
    w("Other load during the measured runs (median of all runs): "
      "validation %.0f%%, "
      "login %.0f%%, stuffing %.0f%%; steal %.0f%%.%s"
      % (100 * ctx.v_foreign, 100 * ctx.l_foreign, 100 * ctx.s_foreign,
         100 * ctx.v_steal,
         "  **The machine was busy with other work: read the req/s ratios "
         "with care.**" if max(ctx.v_foreign, ctx.l_foreign,
                                ctx.s_foreign) > 0.10 else ""))
    w("")
    for section in (validate, login, stuffing, memory, revocation,
                    colocated, account):
        lines.extend(section.markdown(ctx))
    w("## Error logs")
    w("")
    w("The gateways log at `warn`.  Lines by level, and by kind (quoted "
      "values and numbers replaced by N):")
    w("")
    for label, (levels, bad, kinds) in ctx.logs.items():
        w("- %s: %s%s" % (label, ", ".join("[%s] %d" % kv for kv in
                                           sorted(levels.items())) or
                          "empty",
                          "; no [alert], [crit] or [emerg]" if not bad else
                          "; **%d [alert]/[crit]/[emerg]**" % len(bad)))
        for kind, n in sorted(kinds.items(), key=lambda i: -i[1])[:6]:
            w("  - %d × `%s`" % (n, kind))
        for line in bad[:5]:
            w("  - `%s`" % line[:300])
    w("")
    w("## Profiles of the targets missed")
    w("")
    lines.extend(profile_md(ctx))
    w("")
    return "\n".join(lines)


def print_summary(ctx, path):
    rows = summary_rows(ctx)
    width = max(len(r[0]) for r in rows)
    print()
    print("ngx_clientauth benchmark summary (%s)" % path)
    for r in rows:
        print("  %-*s  %-22s %-14s %s" % (width, r[0], r[1], r[2],
                                          r[3].replace("*", "")))
    for label, (levels, bad, kinds) in ctx.logs.items():
        if bad:
            print("  %s: %d [alert]/[crit] lines" % (label, len(bad)))
    for key, reason in sorted(ctx.profile_skipped.items()):
        print("  profile skipped: %s: %s" % (key, reason))
