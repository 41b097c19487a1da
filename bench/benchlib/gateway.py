"""nginx configurations (backend, gateway) and a running gateway."""

import os
import re
import time
from pathlib import Path

from .common import BRAND, JEMALLOC, NGINX, NO_LIMIT, THREADS, WORKERS
from .measure import children, http
from .procs import PROCS, free_ports, wait_port


def backend_conf(tmp, port):
    return """
worker_processes 1;
daemon off;
pid {tmp}/backend.pid;
error_log {tmp}/backend.error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/backend-temp;
    proxy_temp_path {tmp}/backend-temp;
    fastcgi_temp_path {tmp}/backend-temp;
    uwsgi_temp_path {tmp}/backend-temp;
    scgi_temp_path {tmp}/backend-temp;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            default_type text/plain;
            return 200 "backend ok\\n";
        }}
    }}
}}
""".format(tmp=tmp, port=port)


ACCOUNT_LOCATION = "location /auth/account/ { clientauth_account; }"


def gateway_conf(ctx, name, ports, single=False, workers=WORKERS,
                 redis_timeout=None, http_extra="", ca_extra="",
                 login_extra="", local_backend=False):
    """One nginx, one server block per variant: plain proxy, clientauth,
    auth_request to fwdauth.  Only the identity and proxy directives differ
    between them.  http_extra: directives for the http block (e.g. the
    session cache); ca_extra: for the clientauth block's `location /`;
    login_extra: for the login block;
    local_backend: the backend is a server block of this nginx, on port
    ports["local"], so it runs in the gateway's own worker."""
    t = ctx.tmp
    if local_backend:
        local = """
    # the backend, in the gateway's own worker
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            default_type text/plain;
            return 200 "backend ok\\n";
        }}
    }}
""".format(port=ports["local"])
    else:
        local = ""
    return """
load_module {module};
worker_processes {workers};
{process}
pid {t}/{name}.pid;
error_log {t}/{name}.error.log warn;
thread_pool clientauth threads={threads};
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {t}/{name}-temp;
    proxy_temp_path {t}/{name}-temp;
    fastcgi_temp_path {t}/{name}-temp;
    uwsgi_temp_path {t}/{name}-temp;
    scgi_temp_path {t}/{name}-temp;

    upstream backend {{ server 127.0.0.1:{backend}; keepalive 128; }}
    upstream fwdauth {{ server 127.0.0.1:{fwdauth}; keepalive 128; }}
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    clientauth_redis 127.0.0.1:{redis}{timeout};
{http_extra}{local}
    # plain proxy: the ceiling
    server {{
        listen 127.0.0.1:{plain} backlog=4096;
        location / {{ proxy_pass http://backend; }}
    }}

    # in-process session validation
    server {{
        listen 127.0.0.1:{ca} backlog=4096;
        clientauth_brand {brand};
        clientauth_identifiers email;
        clientauth_cookie_secure off;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
        location = /auth/login  {{ clientauth_login; }}
        location = /auth/logout {{ clientauth_logout; }}
        location = /bench/status {{ clientauth_status; }}
        location / {{
            clientauth on;
{ca_extra}            proxy_pass http://backend;
        }}
    }}

    # logins at full speed: the throttle counts but never refuses
    server {{
        listen 127.0.0.1:{login} backlog=4096;
        clientauth_brand {brand};
        clientauth_identifiers email;
        clientauth_cookie_secure off;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
{login_limits}
{login_extra}        location = /auth/login  {{ clientauth_login; }}
        location / {{ clientauth on; proxy_pass http://backend; }}
    }}

    # credential stuffing: per-address and per-account limits and lockout at
    # their defaults, the brand-wide window off (see the report)
    server {{
        listen 127.0.0.1:{stuff} backlog=4096;
        clientauth_brand {brand};
        clientauth_identifiers email;
        clientauth_cookie_secure off;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
{stuff_limits}
        location = /auth/login  {{ clientauth_login; }}
        location / {{ clientauth on; proxy_pass http://backend; }}
    }}

    # the common way: auth_request to a separate service that asks Redis
    server {{
        listen 127.0.0.1:{fwd} backlog=4096;
        location = /_auth {{
            internal;
            proxy_pass http://fwdauth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Connection "";
        }}
        location / {{
            auth_request /_auth;
            auth_request_set $ca_account $upstream_http_x_client_account;
            auth_request_set $ca_user $upstream_http_x_client_user;
            auth_request_set $ca_perms $upstream_http_x_client_permissions;
            proxy_set_header Connection "";
            proxy_set_header X-Client-Account $ca_account;
            proxy_set_header X-Client-User $ca_user;
            proxy_set_header X-Client-Permissions $ca_perms;
            proxy_pass http://backend;
        }}
    }}
}}
""".format(module=ctx.module, workers=workers, t=t, name=name,
           process=("daemon off; master_process off;" if single
                    else "daemon off;"),
           threads=THREADS,
           backend=ports["local"] if local_backend else ctx.ports["backend"],
           timeout=" timeout=%s" % redis_timeout if redis_timeout else "",
           http_extra="".join("    %s\n" % d for d in http_extra.split("\n")
                              if d),
           ca_extra="".join("            %s\n" % d
                            for d in ca_extra.split("\n") if d),
           local=local,
           login_extra="".join("        %s\n" % d
                               for d in login_extra.split("\n") if d),
           fwdauth=ctx.ports["fwdauth"], redis=ctx.ports["redis"],
           brand=BRAND,
           login_limits=("\n".join(
               "        clientauth_login_limit %s %s;" % (scope, NO_LIMIT)
               for scope in ("address", "account", "brand"))
               if ctx.throttle else ""),
           stuff_limits=("        clientauth_login_limit brand off;"
                         if ctx.throttle else ""),
           **{k: v for k, v in ports.items() if k != "local"})


GW_PORTS = ("plain", "ca", "fwd", "login", "stuff")


class Gateway:
    """A gateway nginx started from gateway_conf(); conf: its options."""

    def __init__(self, ctx, name, jemalloc=False, **conf):
        self.name = name
        self.jemalloc = jemalloc
        names = GW_PORTS + (("local",) if conf.get("local_backend") else ())
        self.ports = dict(zip(names, free_ports(len(names))))
        nworkers = conf.get("workers", WORKERS)
        path = ctx.tmp / ("%s.conf" % name)
        path.write_text(gateway_conf(ctx, name, self.ports, **conf))
        (ctx.tmp / ("%s-temp" % name)).mkdir(exist_ok=True)
        env = dict(os.environ)
        if jemalloc:
            env["LD_PRELOAD"] = JEMALLOC
        self.error_log = ctx.tmp / ("%s.error.log" % name)
        self.proc = PROCS.spawn(name, [NGINX, "-p", str(ctx.tmp), "-c",
                                       str(path), "-e", str(self.error_log)],
                                env=env,
                                stderr=open(ctx.tmp / (name + ".stderr"), "w"))
        for port in self.ports.values():
            wait_port(port, self.proc, "gateway " + name)
        deadline = time.time() + 10
        while True:
            kids = children(self.proc.pid)
            if len(kids) >= nworkers:
                break
            if time.time() > deadline:
                raise RuntimeError("gateway %s has no worker" % name)
            time.sleep(0.05)
        self.worker = kids[0]
        self.workers = kids
        # the worker connects to Redis at start: wait until it answers
        deadline = time.time() + 10
        while http("GET", "http://127.0.0.1:%d/app/" % self.ports["ca"],
                   headers={"Accept": "application/json"})[0] != 401:
            if time.time() > deadline:
                raise RuntimeError("gateway %s: no session checks" % name)
            time.sleep(0.1)
        if jemalloc:
            maps = Path("/proc/%d/maps" % self.worker).read_text()
            if "libjemalloc" not in maps:
                raise RuntimeError("jemalloc is not loaded in the worker")

    def log_levels(self):
        """({level: lines}, [alert/crit/emerg lines], {kind: lines})"""
        counts, kinds = {}, {}
        bad = []
        if self.error_log.exists():
            text = self.error_log.read_text(errors="replace")
            for line in text.splitlines():
                m = re.search(r"\[(\w+)\] \d+#\d+: (?:\*\d+ )?([^,]*)", line)
                if m:
                    counts[m.group(1)] = counts.get(m.group(1), 0) + 1
                    if (m.group(1) in ("alert", "crit", "emerg")
                            or "exited on signal" in line):
                        bad.append(line)
                    kind = "[%s] %s" % (m.group(1), re.sub(
                        r'"[^"]*"|\d+', "N", m.group(2))[:120])
                    kinds[kind] = kinds.get(kind, 0) + 1
        return counts, bad, kinds
