"""Profiles of the targets missed: callgrind and strace."""

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .common import (CONNS, LOGIN_CONNS, NGINX, PASSWORD, PROFILE,
                     PROFILE_REDIS_TIMEOUT, QUICK, TARGETS, USERS, VICTIMS,
                     WRONG, log)
from .fmt import meets, table
from .gateway import GW_PORTS, gateway_conf
from .procs import PROCS, free_ports, sh, wait_port
from .start import login
from .wrk import wrk_argv, wrk_finish, wrk_run, wrk_start


def callgrind_profile(ctx, phases):
    """Runs a single-process copy of the gateway under callgrind, with
    instrumentation switched on only for the measured phases, and dumps one
    profile per phase.  phases: [(name, fn(gw) -> requests)]."""
    name = "gw-callgrind"
    ports = dict(zip(GW_PORTS, free_ports(len(GW_PORTS))))
    conf = ctx.tmp / (name + ".conf")
    # under callgrind the worker runs some 50 times slower: the default
    # Redis timeout (500 ms) would answer 503 before a reply is read
    conf.write_text(gateway_conf(ctx, name, ports, single=True,
                                 redis_timeout=PROFILE_REDIS_TIMEOUT))
    (ctx.tmp / (name + "-temp")).mkdir(exist_ok=True)
    out = ctx.tmp / "callgrind.out"
    proc = PROCS.spawn(name, [
        "valgrind", "--tool=callgrind", "--instr-atstart=no",
        "--callgrind-out-file=%s" % out, NGINX, "-p", str(ctx.tmp), "-c",
        str(conf), "-e", str(ctx.tmp / (name + ".error.log"))],
        stderr=open(ctx.tmp / (name + ".valgrind.log"), "w"))

    class G:
        pass

    g = G()
    g.ports = ports
    g.proc = proc

    def control(*args):
        sh(["callgrind_control"] + list(args) + [str(proc.pid)])

    profiles = []
    try:
        for port in ports.values():
            wait_port(port, proc, "callgrind gateway", timeout=120)
        g.cookie = login(ports["login"], "browse@bench.example",
                         timeout=120)
        control("-i", "on")
        for i, (phase, fn) in enumerate(phases):
            control("-z")
            requests = fn(g)
            control("-d", phase)
            profiles.append((phase, requests, Path("%s.%d" % (out, i + 1))))
    finally:
        PROCS.stop(proc, wait=60)
    result = []
    for phase, requests, path in profiles:
        result.append((phase, requests, parse_callgrind(path)))
    return result


def parse_callgrind(path):
    """(total Ir, [(Ir exclusive, function)], {function: Ir inclusive})"""
    def annotate(*extra):
        return sh(["callgrind_annotate", "--auto=no", "--threshold=100"]
                  + list(extra)
                  + [str(path)]).stdout

    def rows(text):
        out = []
        for line in text.splitlines():
            m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(.*)$", line)
            if m and "PROGRAM TOTALS" not in line:
                fn = m.group(2)
                fn = re.sub(r"^.*?:(?=[^:/\[]+ \[)", "", fn)   # drop file:
                out.append((int(m.group(1).replace(",", "")), fn.strip()))
        return out

    text = annotate()
    m = re.search(r"([\d,]+)\s+\([^)]*\)\s+PROGRAM TOTALS", text)
    total = int(m.group(1).replace(",", "")) if m else 0
    incl = {fn: ir for ir, fn in rows(annotate("--inclusive=yes"))}
    return total, rows(text), incl


def profile_validation(ctx):
    log("   profile: callgrind, plain proxy vs clientauth (user-space "
        "instructions per request)")
    secs = 4 if QUICK else 6

    def run(variant):
        def fn(g):
            res = wrk_run(ctx, wrk_argv(g.ports[variant], secs, 8,
                                        "stats.lua", cookie=g.cookie), secs)
            return res["requests"]
        return fn

    prof = callgrind_profile(ctx, [("plain", run("plain")),
                                   ("clientauth", run("ca"))])
    ctx.syscalls = strace_profile(ctx) if shutil.which("strace") else None
    return prof


def strace_profile(ctx):
    """System calls of the gateway worker per request, plain vs clientauth:
    the kernel side that callgrind does not see."""
    log("   profile: strace -c, system calls per request")
    secs = 2 if QUICK else 3
    out = {}
    for variant in ("plain", "ca"):
        path = ctx.tmp / ("strace-%s.txt" % variant)
        st = PROCS.spawn("strace", ["strace", "-f", "-c", "-o", str(path),
                                    "-p", str(ctx.gw.worker)])
        time.sleep(0.5)
        res = wrk_run(ctx, wrk_argv(ctx.gw.ports[variant], secs, CONNS,
                                    "stats.lua", cookie=ctx.cookie), secs)
        os.kill(st.pid, signal.SIGINT)
        try:
            st.wait(20)
        except subprocess.TimeoutExpired:
            pass
        PROCS.stop(st)
        calls = {}
        if path.exists():
            for line in path.read_text().splitlines():
                f = line.split()
                # % time, seconds, usecs/call, calls, [errors], syscall
                if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
                    calls[f[-1]] = int(f[3])
        out[variant] = (res["requests"], calls)
    return out


def profile_flood(ctx):
    log("   profile: callgrind, validated traffic + flood")
    secs = 4 if QUICK else 6

    def fn(g):
        v = wrk_start(ctx, wrk_argv(g.ports["ca"], secs, 8, "stats.lua",
                                    cookie=g.cookie))
        f = wrk_start(ctx, wrk_argv(g.ports["stuff"], secs, 8, "login.lua",
                                    path="/auth/login",
                                    script_args=("v", VICTIMS, WRONG,
                                                 "flood", 0)))
        rv = wrk_finish(v, secs)
        rf = wrk_finish(f, secs)
        return rv["requests"] + rf["requests"]

    return callgrind_profile(ctx, [("flood", fn)])


def profile_login(ctx):
    log("   profile: callgrind, logins")
    secs = 6 if QUICK else 10

    def fn(g):
        res = wrk_run(ctx, wrk_argv(g.ports["login"], secs, LOGIN_CONNS,
                                    "login.lua", path="/auth/login",
                                    script_args=("u", USERS, PASSWORD,
                                                 "users", 0)), secs)
        return res["requests"]

    return callgrind_profile(ctx, [("login", fn)])


def profiles(ctx):
    ctx.profiles = {}
    ctx.profile_skipped = {}
    missed = {
        "validate": not (meets(ctx.v_ratio, TARGETS["validate"])
                         and meets(ctx.v_cpu_ratio, TARGETS["validate"])),
        "login": not (meets(ctx.l_ratio, TARGETS["login"])
                      and meets(ctx.l_cpu_ratio, TARGETS["login"])),
        "stuffing": not meets(ctx.s_ratio, TARGETS["stuffing"]),
    }
    if PROFILE == "never":
        return
    if PROFILE == "always":
        missed = {k: True for k in missed}
    try:
        perf_ok = subprocess.run(
            ["perf", "stat", "-e", "instructions", "true"],
            capture_output=True, text=True, timeout=20)
        perf_ok = (perf_ok.returncode == 0
                   and "not supported" not in perf_ok.stderr
                   and "<not counted>" not in perf_ok.stderr)
    except OSError:
        perf_ok = False
    ctx.profile_tool = ("callgrind (perf has no hardware counters here)"
                        if not perf_ok else "callgrind")
    if shutil.which("valgrind") is None:
        ctx.profile_skipped = {k: "valgrind is not installed"
                               for k, v in missed.items() if v}
        return
    if not any(missed.values()):
        return
    log("profiles for the targets missed: %s"
        % ", ".join(k for k, v in missed.items() if v))
    for key, take in (("validate", profile_validation),
                      ("stuffing", profile_flood), ("login", profile_login)):
        if missed[key]:
            profile_or_skip(ctx, key, take)


def profile_or_skip(ctx, key, take):
    """A profile explains a result, it is not one: whatever goes wrong
    while taking it (a tool missing, a slow machine, a crash) is reported
    as "profile skipped" and the bench goes on."""
    try:
        ctx.profiles[key] = take(ctx)
    except Exception as e:              # not SystemExit: signals still stop
        reason = (str(e).strip() or type(e).__name__).splitlines()[0][:300]
        ctx.profile_skipped[key] = reason
        log("   profile skipped (%s): %s" % (key, reason))


def profile_md(ctx):
    skipped = ["profile skipped: %s: %s" % kv
               for kv in sorted(ctx.profile_skipped.items())]
    skipped += [""] if skipped else []
    if not ctx.profiles:
        return skipped or ["No target was missed: no profile taken."]
    out = skipped + [
        "Tool: %s.  Callgrind counts user-space instructions (Ir) of the "
        "gateway process only; the kernel's share (loopback TCP, epoll) is "
        "covered by the user/system split of the validation table and, for "
        "validation, by a count of system calls." % ctx.profile_tool, ""]
    if "validate" in ctx.profiles:
        out.extend(profile_validation_md(ctx))
    for key, title in (("stuffing", "Credential stuffing"),
                       ("login", "Login")):
        if key not in ctx.profiles:
            continue
        for phase, req, (tot, rows, inc) in ctx.profiles[key]:
            out.append("**%s** (callgrind, %d requests): %.0f Ir/request; "
                       "top functions (exclusive):"
                       % (title, req, tot / max(1, req)))
            out.append("")
            out.append(table(("Ir share", "function"),
                             [("%.1f%%" % (100 * ir / max(1, tot)),
                               "`%s`" % short_fn(fn))
                              for ir, fn in rows[:10]]))
            out.append("")
        if key == "stuffing":
            thr = ctx.s["flood_threads"]
            out.append("Gateway worker threads during the paced flood "
                       "rounds: %s." % ", ".join(
                           "%s %.1f s" % kv for kv in sorted(
                               thr.items(), key=lambda i: -i[1])))
            out.append("")
    return out


STEPS = [
    ("cookie to keys: ca_token_session (base64url decode, BLAKE2b, hex, "
     "the user's ids)", "ca_token_session"),
    ("cookie to keys: ca_key_session", "ca_key_session"),
    ("cookie to keys: ca_key_user", "ca_key_user"),
    ("sending the HMGET: redisAsyncCommandArgv (RESP formatting)",
     "redisAsyncCommandArgv"),
    ("the reply: redisAsyncHandleRead (parse, reply objects, callbacks, "
     "free)", "redisAsyncHandleRead"),
    ("the decision: ngx_http_clientauth_session_decide (identity headers)",
     "ngx_http_clientauth_session_decide"),
]


def profile_validation_md(ctx):
    out = []
    (_, preq, (ptot, prows, _)), (_, creq, (ctot, crows, cinc)) = \
        ctx.profiles["validate"]
    pper = ptot / max(1, preq)
    cper = ctot / max(1, creq)
    v = ctx.v

    def split(r):
        return (r["us_gateway"] * (1 - r["gw_sys_share"]),
                r["us_gateway"] * r["gw_sys_share"])

    pu, pk = split(v["plain"])
    cu, ck = split(v["ca"])
    steps = []
    for label, fn in STEPS:
        ir = sum(x for k, x in cinc.items() if k.split(" [")[0] == fn)
        if ir:
            steps.append((label, ir / creq))
    out.append("**Session validation, where the time goes.**  The gateway "
               "worker spends %.1f µs of CPU per validated request against "
               "%.1f µs per plain proxied one (+%.1f µs: %+.1f µs in user "
               "space, %+.1f µs in the kernel).  In user space, callgrind "
               "counts %.0f instructions per request against %.0f (+%.0f, "
               "x%.2f); the module's steps account for most of the "
               "difference:" % (v["ca"]["us_gateway"],
                                v["plain"]["us_gateway"],
                                v["ca"]["us_gateway"]
                                - v["plain"]["us_gateway"],
                                cu - pu, ck - pk, cper, pper, cper - pper,
                                cper / max(1, pper)))
    out.append("")
    out.append(table(("step (inclusive)", "Ir/request"),
                     [(l, "%.0f" % x) for l, x in steps]
                     + [("sum of these", "%.0f" % sum(x for _, x in steps))]))
    out.append("")
    pmap = {}
    for ir, fn in prows:
        pmap[fn] = pmap.get(fn, 0) + ir
    diffs = sorted(((ir / creq - pmap.get(fn, 0) / preq, ir / creq, fn)
                    for ir, fn in crows), reverse=True)
    out.append("The functions that grow most (exclusive Ir per request, "
               "clientauth minus plain; wrk c=8 on a single-process copy "
               "of the gateway under callgrind):")
    out.append("")
    out.append(table(("extra Ir/req", "clientauth Ir/req", "function"),
                     [("%.0f" % d, "%.0f" % per, "`%s`" % short_fn(fn))
                      for d, per, fn in diffs[:12]]))
    out.append("")
    sc = getattr(ctx, "syscalls", None)
    if sc:
        (sp, pc), (sca, cc) = sc["plain"], sc["ca"]

        def per(c, n, k):
            return c.get(k, 0) / max(1, n)

        names = sorted(set(pc) | set(cc), key=lambda k: -per(cc, sca, k))
        rows = [(k, "%.3f" % per(pc, sp, k), "%.3f" % per(cc, sca, k))
                for k in names if per(pc, sp, k) + per(cc, sca, k) >= 0.005]
        rows.append(("all", "%.2f" % (sum(pc.values()) / max(1, sp)),
                     "%.2f" % (sum(cc.values()) / max(1, sca))))
        redis_io = per(cc, sca, "read") + per(cc, sca, "write")
        out.append("In the kernel: system calls of the gateway worker per "
                   "request (`strace -f -c` on the worker, wrk c=%d; "
                   "tracing slows the worker, the counts per request "
                   "stay).  The Redis socket costs %.3f read+write per "
                   "request, i.e. one pipelined batch per ~%.0f requests, "
                   "and the adapter adds %.3f epoll_ctl per request (write "
                   "interest switched on and off for every batch):"
                   % (CONNS, redis_io,
                      2 / redis_io if redis_io else 0,
                      per(cc, sca, "epoll_ctl") - per(pc, sp, "epoll_ctl")))
        out.append("")
        out.append(table(("syscall", "plain proxy", "clientauth"), rows))
        out.append("")
    return out


def short_fn(fn):
    m = re.match(r"(.*?) \[(.*)\]$", fn)
    if m:
        return "%s (%s)" % (m.group(1), os.path.basename(m.group(2)))
    return fn
