"""PNG plots (gnuplot) of sections 1, 3, 4 and 5."""

import subprocess

from .common import CONNS, FLOOD_RATE, HASH_M, HASH_T, RESULTS, THREADS
from .validate import variants


def gnuplot(ctx, script, name):
    path = RESULTS / ("%s-%s.png" % (ctx.stem, name))
    gp = ctx.tmp / (name + ".gp")
    gp.write_text("set terminal pngcairo noenhanced size 900,520 "
                  "font 'sans,10'\n"
                  "set output '%s'\nset grid\nset key outside right top\n%s"
                  % (path, script))
    subprocess.run(["gnuplot", str(gp)], check=True, capture_output=True,
                   timeout=60)
    return path.name


def plots(ctx):
    t = ctx.tmp
    names = []
    vs = variants(ctx)

    def lines(style, first):
        return ", \\\n     ".join(
            "%s u %s t '%s'" % ("'%s'" % first if i == 0 else "''",
                                style(i), label)
            for i, (_, label) in enumerate(vs))

    # 1. req/s per variant per round
    with open(t / "validate.dat", "w") as f:
        for r in range(ctx.v_rounds):
            f.write("%d %s\n" % (r + 1, " ".join(
                "%.0f" % ctx.validate_all[v][r]["rps"] for v, _ in vs)))
    names.append(gnuplot(ctx, """
set title 'Session validation: requests/s per round (1 gateway worker, c=%d)'
set xlabel 'round (variants interleaved)'
set ylabel 'requests/s'
set yrange [0:*]
set xtics 1
plot %s
""" % (CONNS, lines(lambda i: "1:%d w linespoints lw 2" % (i + 2),
                    t / "validate.dat")), "validate-rps"))
    # 2. latency percentiles
    with open(t / "latency.dat", "w") as f:
        for i, q in enumerate(("50", "75", "90", "99", "99.9")):
            f.write("%d p%s %s\n" % (i, q, " ".join(
                "%.3f" % ctx.v[v]["pct"][q] for v, _ in vs)))
    names.append(gnuplot(ctx, """
set title 'Session validation: latency percentiles (median over rounds)'
set ylabel 'ms'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set yrange [0:*]
plot %s
""" % lines(lambda i: "%d%s" % (i + 3, ":xtic(2)" if i == 0 else ""),
            t / "latency.dat"), "validate-latency"))
    # 3. logins/s vs raw verify
    with open(t / "login.dat", "w") as f:
        for r in range(len(ctx.login_all)):
            f.write("%d %.2f %.2f\n" % (r + 1,
                                        ctx.login_all[r]["ok_per_sec"],
                                        ctx.raw_all[r]["per_sec"]))
    names.append(gnuplot(ctx, """
set title 'Logins/s vs raw argon2id verifies/s (t=%d m=%d MiB, %d threads)'
set xlabel 'round'
set ylabel 'per second'
set yrange [0:*]
set xtics 1
plot '%s' u 1:2 w linespoints lw 2 t 'logins/s through the gateway', \\
     '' u 1:3 w linespoints lw 2 t 'crypto_pwhash_str_verify/s (pwverify)'
""" % (HASH_T, HASH_M, THREADS, t / "login.dat"), "login"))
    # 4. stuffing
    with open(t / "stuffing.dat", "w") as f:
        for r in range(len(ctx.stuff_all["baseline"])):
            f.write("%d %.0f %.0f\n" % (
                r + 1, ctx.stuff_all["baseline"][r]["validated"]["rps"],
                ctx.stuff_all["flood"][r]["validated"]["rps"]))
    names.append(gnuplot(ctx, """
set title 'Validated req/s without and during a stuffing flood (<= %d attempts/s)'
set xlabel 'round'
set ylabel 'validated requests/s'
set yrange [0:*]
set xtics 1
plot '%s' u 1:2 w linespoints lw 2 t 'without flood', \\
     '' u 1:3 w linespoints lw 2 t 'during flood'
""" % (FLOOD_RATE, t / "stuffing.dat"), "stuffing"))
    # 5. RSS over load time
    for name in ("glibc", "jemalloc"):
        for kind in ("series", "idle"):
            with open(t / ("rss-%s-%s.dat" % (name, kind)), "w") as f:
                for s, v in ctx.mem[name][kind]:
                    if v:
                        f.write("%.1f %.2f\n" % (s, v / 1024))
    names.append(gnuplot(ctx, """
set title 'Gateway worker RSS (during load: + argon2id maps 19 MiB per running hash)'
set xlabel 'seconds of load on this instance'
set ylabel 'VmRSS (MiB)'
set yrange [0:*]
plot '{d}/rss-glibc-idle.dat' u 1:2 w linespoints lw 2 pt 7 lc 1 t 'glibc, after a segment', \\
     '{d}/rss-jemalloc-idle.dat' u 1:2 w linespoints lw 2 pt 7 lc 2 t 'jemalloc, after a segment', \\
     '{d}/rss-glibc-series.dat' u 1:2 w points pt 1 lc 1 t 'glibc, during load', \\
     '{d}/rss-jemalloc-series.dat' u 1:2 w points pt 2 lc 2 t 'jemalloc, during load'
""".format(d=t), "memory"))
    ctx.plots = names
