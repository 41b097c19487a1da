"""wrk runs (with bench/stats.lua or bench/login.lua) and their results."""

import json
import os
import subprocess
import time

from .common import BENCH, COOKIE
from .procs import PROCS


def wrk_argv(port, seconds, conns, script, path="/app/page", cookie=None,
             script_args=(), headers=()):
    argv = ["wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds, "--latency",
            "--timeout", "10s", "-s", str(BENCH / script)]
    if cookie:
        argv += ["-H", "Cookie: %s=%s" % (COOKIE, cookie)]
    for h in headers:
        argv += ["-H", h]
    argv.append("http://127.0.0.1:%d%s" % (port, path))
    if script_args:
        argv += ["--"] + [str(a) for a in script_args]
    return argv


def wrk_start(ctx, argv):
    env = dict(os.environ, BENCH_DIR=str(BENCH))
    if getattr(ctx, "wrk_cpus", None):    # section 7 pins wrk
        argv = ["taskset", "-c", ctx.wrk_cpus] + argv
    out = open(ctx.tmp / ("wrk-%d.out" % time.monotonic_ns()), "w+")
    p = PROCS.spawn("wrk", argv, env=env, stdout=out, stderr=out)
    p.bench_out = out
    return p


def wrk_finish(p, seconds):
    try:
        p.wait(seconds + 30)
    except subprocess.TimeoutExpired:
        PROCS.stop(p)
        raise RuntimeError("wrk did not finish")
    PROCS.procs.remove(p)
    p.bench_out.seek(0)
    text = p.bench_out.read()
    p.bench_out.close()
    res = None
    statuses = {}
    for line in text.splitlines():
        if line.startswith("BENCH "):
            res = json.loads(line[6:])
        elif line.startswith("STATUS "):
            statuses = {int(k): v for k, v in json.loads(line[7:]).items()}
    if p.returncode != 0 or res is None:
        raise RuntimeError("wrk failed (%s): %s" % (p.returncode, text[-800:]))
    secs = res["duration_us"] / 1e6
    res["rps"] = res["requests"] / secs
    res["seconds"] = secs
    res["statuses"] = statuses
    res["errors"] = (res["connect"] + res["read"] + res["write"]
                     + res["timeout"])
    res["p50_ms"] = res["pct_us"]["50"] / 1000
    res["p99_ms"] = res["pct_us"]["99"] / 1000
    return res


def wrk_run(ctx, argv, seconds):
    return wrk_finish(wrk_start(ctx, argv), seconds)
