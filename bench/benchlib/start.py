"""Helpers compiled, accounts provisioned, services started; the machine."""

import json
import os
import platform
import re
import subprocess

from .common import (BENCH, BRAND, COOKIE, HASH_M, HASH_T, LIB, NGINX,
                     PASSWORD, REPO, STUFF_USERS, USERS, VICTIMS, log)
from .gateway import ACCOUNT_LOCATION, Gateway, backend_conf
from .measure import Redis, children, http
from .procs import PROCS, free_ports, sh, wait_port


def compile_helpers(ctx):
    flags = ["-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    ctx.fwdauth_bin = ctx.tmp / "fwdauth"
    ctx.pwverify_bin = ctx.tmp / "pwverify"
    sh(["cc"] + flags + ["-D_GNU_SOURCE", "-I", str(LIB), "-o",
                         str(ctx.fwdauth_bin), str(BENCH / "fwdauth.c"),
                         str(LIB / "ca_token.c"), str(LIB / "ca_keys.c"),
                         "-lhiredis", "-lsodium"])
    sh(["cc"] + flags + ["-o", str(ctx.pwverify_bin),
                         str(BENCH / "pwverify.c"), "-lsodium", "-lpthread"])


def provision(ctx):
    """USERS login accounts, VICTIMS stuffing targets, one browsing user,
    eight at a time (each add hashes a password)."""
    emails = (["browse@bench.example"]
              + ["u%d@bench.example" % i for i in range(1, USERS + 1)]
              + ["s%d@bench.example" % i for i in range(1, STUFF_USERS + 1)]
              + ["v%d@bench.example" % i for i in range(1, VICTIMS + 1)]
              + ["a1@bench.example"])           # section 8's own
    running = []
    for email in emails:
        p = PROCS.spawn("clientauthctl", [
            str(ctx.ctl), "--redis", "127.0.0.1:%d" % ctx.ports["redis"],
            "--hash-cost", "%d:%d" % (HASH_T, HASH_M), "user", "add", BRAND,
            "--email", email, "--perm", "all", "--password-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        p.stdin.write((PASSWORD + "\n").encode())
        p.stdin.close()
        running.append((p, email))
        if len(running) >= 8:
            _reap(running)
    _reap(running)


def _reap(running):
    for p, email in running:
        p.wait(60)
        PROCS.procs.remove(p)
        if p.returncode != 0:
            raise RuntimeError("clientauthctl user add %s: %s"
                               % (email, p.stderr.read().decode()))
    running.clear()


def login(port, email, password=PASSWORD, timeout=10):
    body = json.dumps({"identifier": email, "password": password}).encode()
    status, headers, _ = http("POST", "http://127.0.0.1:%d/auth/login" % port,
                              body, {"Content-Type": "application/json",
                                     "Accept": "application/json",
                                     "Origin": "http://127.0.0.1:%d" % port,
                                     "Sec-Fetch-Site": "same-origin"},
                              timeout=timeout)
    if status != 200:
        raise RuntimeError("login %s: status %d" % (email, status))
    m = re.search(COOKIE + r"=([A-Za-z0-9_-]+)", headers.get("Set-Cookie", ""))
    if not m:
        raise RuntimeError("login %s: no session cookie" % email)
    return m.group(1)


def nginx_knows(ctx, directive, http="", server=""):
    """Whether this build's module knows a directive: `nginx -t` on a
    configuration using it (http: lines of the http block, server: of a
    server block).  (known, nginx -t's complaint or "")."""
    name = "probe-" + re.sub(r"\W", "", directive)
    conf = ctx.tmp / (name + ".conf")
    conf.write_text("""
load_module {module};
pid {t}/{name}.pid;
error_log {t}/{name}.error.log;
thread_pool clientauth threads=1;
events {{ }}
http {{
    clientauth_redis 127.0.0.1:1;
    {http}
    server {{
        listen 127.0.0.1:1;
        clientauth_brand {brand};
        {server}
    }}
}}
""".format(module=ctx.module, t=ctx.tmp, name=name, http=http,
           server=server, brand=BRAND))
    out = subprocess.run([NGINX, "-t", "-p", str(ctx.tmp), "-c", str(conf),
                          "-e", str(ctx.tmp / (name + ".error.log"))],
                         capture_output=True, text=True, timeout=60)
    text = out.stderr + out.stdout
    if 'unknown directive "%s"' % directive in text:
        return False, "unknown directive"
    if out.returncode != 0:
        m = re.search(r"\[emerg\] (.*)", text)
        return False, m.group(1) if m else text.strip()[-200:]
    return True, ""


def detect_features(ctx):
    """What this build has that the bench measures when it is there."""
    ctx.cache, why = nginx_knows(ctx, "clientauth_session_cache",
                                 http="clientauth_session_cache off;")
    ctx.cache_absent = "" if ctx.cache else why
    ctx.account, why = nginx_knows(
        ctx, "clientauth_account",
        server="location /auth/account/ { clientauth_account; }")
    ctx.account_absent = "" if ctx.account else why
    log("session cache: %s; self-service account pages: %s"
        % ("yes" if ctx.cache else "no (%s)" % ctx.cache_absent,
           "yes" if ctx.account else "no (%s)" % ctx.account_absent))


def start(ctx):
    ports = free_ports(3)
    ctx.ports = {"redis": ports[0], "backend": ports[1], "fwdauth": ports[2]}

    (ctx.tmp / "redis").mkdir()
    ctx.redis_proc = PROCS.spawn("redis-server", [
        "redis-server", "--port", str(ctx.ports["redis"]), "--bind",
        "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
        str(ctx.tmp / "redis"), "--maxclients", "1000"],
        stdout=open(ctx.tmp / "redis.log", "w"))
    wait_port(ctx.ports["redis"], ctx.redis_proc, "redis-server")
    ctx.redis = Redis(ctx.ports["redis"])

    (ctx.tmp / "backend-temp").mkdir()
    conf = ctx.tmp / "backend.conf"
    conf.write_text(backend_conf(ctx.tmp, ctx.ports["backend"]))
    ctx.backend = PROCS.spawn("backend", [
        NGINX, "-p", str(ctx.tmp), "-c", str(conf), "-e",
        str(ctx.tmp / "backend.error.log")])
    wait_port(ctx.ports["backend"], ctx.backend, "backend")
    ctx.backend_worker = children(ctx.backend.pid)[0]

    ctx.fwdauth = PROCS.spawn("fwdauth", [
        str(ctx.fwdauth_bin), "--listen", str(ctx.ports["fwdauth"]),
        "--redis", "127.0.0.1:%d" % ctx.ports["redis"], "--brand", BRAND],
        stderr=open(ctx.tmp / "fwdauth.log", "w"))
    wait_port(ctx.ports["fwdauth"], ctx.fwdauth, "fwdauth")

    log("provisioning %d accounts (argon2id t=%d m=%d MiB)"
        % (USERS + STUFF_USERS + VICTIMS + 2, HASH_T, HASH_M))
    provision(ctx)

    # the self-service pages, when the build has them, on the login block
    ctx.gw = Gateway(ctx, "gateway",
                     login_extra=ACCOUNT_LOCATION if ctx.account else "")
    ctx.cookie = login(ctx.gw.ports["login"], "browse@bench.example")
    # the same gateway with the session cache off (an http-level directive)
    ctx.gw_nocache = (Gateway(ctx, "gateway-nocache",
                              http_extra="clientauth_session_cache off;")
                      if ctx.cache else None)

    # every variant must answer 200 with the cookie, the protected ones
    # 401 without it: otherwise the numbers would measure error pages
    checks = [(ctx.gw, v) for v in ("plain", "ca", "fwd")]
    checks += [(ctx.gw_nocache, "ca")] if ctx.cache else []
    for gw, variant in checks:
        url = "http://127.0.0.1:%d/app/page" % gw.ports[variant]
        status, _, body = http("GET", url, headers={
            "Cookie": "%s=%s" % (COOKIE, ctx.cookie)})
        if status != 200 or body != b"backend ok\n":
            raise RuntimeError("%s: %d %r" % (variant, status, body))
        if variant != "plain":
            status = http("GET", url, headers={
                "Accept": "application/json",
                "Cookie": "%s=%s" % (COOKIE, "A" * 43)})[0]
            if status != 401:
                raise RuntimeError("%s: a bad cookie got %d" % (variant,
                                                                status))


def machine_info():
    info = {"nproc": os.cpu_count(), "kernel": platform.release()}
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["cpu"] = model
    mem = open("/proc/meminfo").readline().split()
    info["mem_gib"] = round(int(mem[1]) / 1048576, 1)
    info["loadavg"] = open("/proc/loadavg").read().split()[:3]

    def version(argv, pattern):
        try:
            out = subprocess.run(argv, capture_output=True, text=True,
                                 timeout=10)
            m = re.search(pattern, out.stdout + out.stderr)
            return m.group(1) if m else "?"
        except OSError:
            return "?"

    info["nginx"] = version([NGINX, "-v"], r"nginx/(\S+)")
    info["redis"] = version(["redis-server", "--version"], r"v=(\S+)")
    info["wrk"] = version(["wrk", "-v"], r"wrk (\S+)")
    info["libsodium"] = version(["dpkg-query", "-W", "-f=${Version}",
                                 "libsodium23"], r"(\S+)")
    info["hiredis"] = version(["dpkg-query", "-W", "-f=${Version}",
                               "libhiredis0.14"], r"(\S+)")
    try:
        info["commit"] = sh(["git", "-C", str(REPO), "rev-parse", "--short",
                             "HEAD"]).stdout.strip()
        dirty = sh(["git", "-C", str(REPO), "status", "--porcelain",
                    "--untracked-files=no", "--", "ngx_clientauth",
                    "config"]).stdout.strip()
        info["commit"] += " (module sources modified)" if dirty else ""
    except Exception:
        info["commit"] = "?"
    return info
