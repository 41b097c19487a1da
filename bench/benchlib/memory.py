"""Section 5: worker RSS with glibc and jemalloc."""

import time

from .common import (CONNS, HASH_M, JEMALLOC, LOGIN_CONNS, MEM_SECONDS,
                     MEM_SEGMENTS, PASSWORD, USERS, log, median)
from .fmt import table
from .gateway import Gateway
from .measure import Sample, rss_kib, threads_ns
from .procs import PROCS
from .rounds import rotate
from .start import login
from .wrk import wrk_argv, wrk_finish, wrk_start


def wait_pool_idle(pid, timeout=3):
    """Waits until the worker's thread pool has stopped hashing: a login
    still hashing when wrk stops holds its argon2id memory."""
    deadline = time.time() + timeout
    last = threads_ns(pid).get("thread pool", 0)
    while time.time() < deadline:
        time.sleep(0.1)
        now = threads_ns(pid).get("thread pool", 0)
        if now == last:
            return
        last = now


def section_memory(ctx):
    log("5. memory: fresh glibc and jemalloc gateways, %d alternating "
        "segments x %ds of validation (c=%d) + logins (c=%d)"
        % (MEM_SEGMENTS, MEM_SECONDS, CONNS, LOGIN_CONNS))
    insts = {"glibc": Gateway(ctx, "gw-glibc"),
             "jemalloc": Gateway(ctx, "gw-jemalloc", jemalloc=True)}
    mem = {}
    for name, g in insts.items():
        cookie = login(g.ports["login"], "browse@bench.example")
        mem[name] = {"gw": g, "cookie": cookie, "cold": rss_kib(g.worker),
                     "series": [], "idle": [(0.0, rss_kib(g.worker))],
                     "t": 0.0, "segments": []}
    for seg in range(MEM_SEGMENTS):
        for name in rotate(list(insts), seg):
            m = mem[name]
            g = m["gw"]
            val = wrk_start(ctx, wrk_argv(g.ports["ca"], MEM_SECONDS, CONNS,
                                          "stats.lua", cookie=m["cookie"]))
            lg = wrk_start(ctx, wrk_argv(
                g.ports["login"], MEM_SECONDS, LOGIN_CONNS, "login.lua",
                path="/auth/login",
                script_args=("u", USERS, PASSWORD, "users", 0)))
            with Sample(ctx, gateway=g) as s:
                t0 = time.monotonic()
                while val.poll() is None or lg.poll() is None:
                    time.sleep(1)
                    m["series"].append((m["t"] + time.monotonic() - t0,
                                        rss_kib(g.worker)))
                m["t"] += time.monotonic() - t0
                rv = wrk_finish(val, MEM_SECONDS)
                rl = wrk_finish(lg, MEM_SECONDS)
            wait_pool_idle(g.worker)
            rss = rss_kib(g.worker)
            m["idle"].append((m["t"], rss))
            m["segments"].append({
                "rps": rv["rps"],
                "logins": rl["statuses"].get(200, 0) / rl["seconds"],
                "rss": rss,
                # the event loop's CPU per validated request: steady even
                # when other tenants take CPU
                "us_loop": s.threads.get("event loop", 0)
                / max(1, rv["requests"]) * 1e6})
            log("   segment %d %-8s %8.0f req/s %6.1f logins/s  RSS %.1f MiB"
                "  (event loop %.1f µs/req, other load %.0f%%)"
                % (seg + 1, name, rv["rps"], m["segments"][-1]["logins"],
                   rss / 1024, m["segments"][-1]["us_loop"],
                   100 * s.foreign))
    for name, m in mem.items():
        m["warm"] = m["segments"][0]["rss"]
        m["final"] = m["segments"][-1]["rss"]
        m["peak"] = max(v for _, v in m["series"] if v)
        m["rps"] = median([s["rps"] for s in m["segments"]])
        m["logins"] = median([s["logins"] for s in m["segments"]])
        m["us_loop"] = median([s["us_loop"] for s in m["segments"]])
        m["load_seconds"] = m["t"]
        m["log"] = m["gw"].log_levels()
    ctx.mem = mem
    pairs = list(zip(mem["jemalloc"]["segments"], mem["glibc"]["segments"]))
    ctx.je_ratio = median([j["rps"] / g["rps"] for j, g in pairs])
    ctx.je_cpu_ratio = median([g["us_loop"] / j["us_loop"] for j, g in pairs])
    for g in insts.values():
        PROCS.stop(g.proc)
def markdown(ctx):
    """Section 5 of the results file, as lines."""
    mem = ctx.mem
    lines = []
    w = lines.append
    w("## 5. Memory")
    w("")
    w("Two fresh gateways, identical but for `LD_PRELOAD=%s` on one, each "
      "loaded in %d alternating segments of %d s with validated requests "
      "(c=%d) and logins (c=%d) at once; VmRSS of the worker from "
      "/proc/PID/status, sampled every second.  \"After\" values are taken "
      "when a segment's load has stopped; the peak is reached during "
      "logins, when each running argon2id verify holds its %d MiB "
      "(libsodium maps it for the hash and unmaps it after)."
      % (JEMALLOC, MEM_SEGMENTS, MEM_SECONDS, CONNS, LOGIN_CONNS, HASH_M))
    w("")
    rows = []
    for name in ("glibc", "jemalloc"):
        m = mem[name]
        rows.append((name, "%.1f" % (m["cold"] / 1024),
                     "%.1f" % (m["warm"] / 1024),
                     "%.1f" % (m["final"] / 1024),
                     "%+.2f" % ((m["final"] - m["warm"]) / 1024),
                     "%.1f" % (m["peak"] / 1024),
                     "%.0f" % m["rps"], "%.1f" % m["logins"],
                     "%.2f" % m["us_loop"]))
    w(table(("allocator", "RSS idle MiB", "after 1st segment",
             "after last", "growth", "peak", "validated req/s",
             "logins/s", "event loop µs/req"), rows))
    w("")
    w("jemalloc / glibc, median of the per-segment pairs: validated req/s "
      "%.2f; event-loop CPU per request %.2f (above 1: jemalloc cheaper)."
      % (ctx.je_ratio, ctx.je_cpu_ratio))
    w("")
    w("Main gateway worker over the whole run (sections 1-4, every kind of "
      "traffic): %.1f MiB after warm-up, %.1f MiB at the end."
      % (ctx.rss_start / 1024, ctx.rss_end / 1024))
    w("")
    w("![memory](%s)" % ctx.plots[4])
    w("")
    return lines
