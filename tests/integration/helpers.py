"""Support for the gateway's integration tests.

Everything here runs real processes on 127.0.0.1 only, in a temporary
directory: redis-server (no persistence), Debian's /usr/sbin/nginx with the
built module (master and workers, daemon off, as a child process), a small
"portal" backend that echoes what it receives, and build/clientauthctl for
provisioning.  Redis is inspected with a tiny RESP client, so no Python
Redis library is needed.

Override the binaries with $CA_MODULE, $CA_CTL, $CA_NGINX.

$CA_SANITIZE=1 (`make test-asan`) runs the module built with AddressSanitizer
and UBSan (build/asan/, scripts/build-module --sanitize) in the same Debian
nginx, with gcc's libasan preloaded ($CA_LIBASAN overrides its path); any
sanitizer report fails the test like an [alert] does.

$CA_VALGRIND=1 (`make test-valgrind`) runs nginx (master and workers) under
valgrind memcheck; an invalid access, a use of uninitialised memory or a
definite leak in any of its processes fails the test.
"""

import base64
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
SANITIZE = os.environ.get("CA_SANITIZE", "0") not in ("", "0")
VALGRIND = os.environ.get("CA_VALGRIND", "0") not in ("", "0")
MODULE = Path(os.environ.get(
    "CA_MODULE", REPO / "build" / ("asan" if SANITIZE else "") / "nginx"
    / "objs" / "ngx_http_clientauth_module.so"))
CTL = Path(os.environ.get("CA_CTL", REPO / "build" / "clientauthctl"))
NGINX = os.environ.get("CA_NGINX", "/usr/sbin/nginx")

HOST = "127.0.0.1"
BRAND = "magic"
COOKIE = "clientauth_magic"
CTL_COST = "1:8"                      # argon2id t=1, m=8 MiB: quick tests

JSON = "application/json"
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

IDENTITY_HEADERS = ("X-Client-Account", "X-Client-User", "X-Client-Brand",
                    "X-Client-Permissions")

# Any of these in an error log fails the test that was running.
SANITIZER_REPORT = re.compile(
    r"ERROR: \w+Sanitizer|\w+Sanitizer:DEADLYSIGNAL|runtime error: ")
LOG_PROBLEMS = re.compile(
    r"\[(alert|crit|emerg)\]|exited on signal|core dumped|"
    + SANITIZER_REPORT.pattern)

# Sanitizer options under CA_SANITIZE.  Reports go to stderr, which nginx
# points at the error log once it has read its configuration (before that,
# to nginx.out or `nginx -t`'s output): the workers run as nobody and could
# not open a log_path file in pytest's private temporary directories, but
# they inherit the error log's descriptor.  The first error aborts the
# process (the master then logs "exited on signal 6"), so nothing is missed
# even by a test that ignores the log.  No leak check (detect_leaks=0): in
# a forking server LeakSanitizer runs at each worker's exit, where nginx
# never frees what it allocated at worker start (its 240 KiB connection
# array, its event arrays: every worker "leaks" them); Debian's nginx is
# stripped and has no frame pointers, so no suppression can tell those from
# the module's, as every worker stack runs through the same nginx frames.
# Leaks are left to `make test-valgrind` (definite leaks, with the module's
# frames named) and to the soak (worker RSS flat over millions of
# requests).  UBSAN_OPTIONS reach the master only (a worker's UBSan starts
# after nginx has overwritten /proc/self/environ): in workers UBSan findings
# are fatal through -fno-sanitize-recover=all (scripts/build-module).
SANITIZER_OPTIONS = {
    "ASAN_OPTIONS": "halt_on_error=1:abort_on_error=1:detect_leaks=0"
                    ":disable_coredump=1:color=never",
    "UBSAN_OPTIONS": "halt_on_error=1:abort_on_error=1:print_stacktrace=1"
                     ":color=never",
}


# ------------------------------------------------------------------ utils

def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what, interval=0.02):
    """Polls predicate until it returns a true value, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


def forged_token():
    """A well-formed token (32 random bytes, base64url) that no login made."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() \
        .rstrip("=")


def token_hash(token):
    """What Redis may hold of a token: BLAKE2b-256 of its bytes, in hex."""
    raw = base64.urlsafe_b64decode(token + "=")
    return hashlib.blake2b(raw, digest_size=32).hexdigest()


def session_key(token, brand=BRAND):
    return "ca:%s:sess:%s" % (brand, token_hash(token))


def next_param(uri):
    """The login redirect's next= value for an original URI."""
    return urllib.parse.quote(uri, safe="")


# ------------------------------------------------------------------ redis

class RedisError(Exception):
    pass


class RedisServer:
    """A throwaway redis-server on a loopback port, with no persistence."""

    def __init__(self, workdir, port=None):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.proc = None
        self.paused = False

    @property
    def address(self):
        return "%s:%d" % (HOST, self.port)

    def start(self, timeout=10):
        log = open(self.dir / "redis.log", "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", HOST,
             "--save", "", "--appendonly", "no", "--dir", str(self.dir),
             "--logfile", ""],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.paused = False

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("redis-server exited (status %s) on "
                                     "port %d" % (self.proc.returncode,
                                                  self.port))
            try:
                return self.call("PING") == "PONG"
            except OSError:
                return False
        try:
            wait_until(up, timeout, "redis-server on port %d" % self.port)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        if self.paused:
            self.resume()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def pause(self):
        """SIGSTOP: connections stay open, nothing is answered."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)
        self.paused = False

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=5)
        self.paused = False

    # -- a minimal RESP client: one connection per call

    def call(self, *args, timeout=5):
        with socket.create_connection((HOST, self.port),
                                      timeout=timeout) as s:
            out = [b"*%d\r\n" % len(args)]
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
            s.sendall(b"".join(out))
            reply = _RespReader(s).read()
        if isinstance(reply, RedisError):
            raise reply
        return reply

    def flush(self):
        self.call("FLUSHALL")

    def commandstats(self):
        """{command: calls} from INFO commandstats."""
        stats = {}
        for line in self.call("INFO", "commandstats").splitlines():
            m = re.match(r"cmdstat_([^:]+):calls=(\d+),", line)
            if m:
                stats[m.group(1)] = int(m.group(2))
        return stats

    def keys(self):
        return sorted(self.call("KEYS", "*"))

    def dump(self):
        """Every key with its type and contents, for 'nothing changed'."""
        state = {}
        for key in self.keys():
            kind = self.call("TYPE", key)
            if kind == "string":
                value = self.call("GET", key)
            elif kind == "hash":
                items = self.call("HGETALL", key)
                value = dict(zip(items[0::2], items[1::2]))
            elif kind == "set":
                value = sorted(self.call("SMEMBERS", key))
            elif kind == "list":
                value = self.call("LRANGE", key, 0, -1)
            elif kind == "zset":
                value = self.call("ZRANGE", key, 0, -1, "WITHSCORES")
            elif kind == "stream":
                value = repr(self.call("XRANGE", key, "-", "+"))
            else:
                value = kind
            state[key] = (kind, value)
        return state

    def hgetall(self, key):
        items = self.call("HGETALL", key)
        return dict(zip(items[0::2], items[1::2]))


class _RespReader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode("utf-8",
                                                            "replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RedisError("unexpected RESP reply %r" % line)


# ------------------------------------------------------------------ backend

class Backend:
    """The portal behind the gateway: answers every request with a JSON echo
    of its method, path and headers (in order, as received), and remembers
    them.  /slow?ms=N answers after N milliseconds (default 1000)."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = {"method": self.command, "path": self.path,
                        "headers": [[k, v] for k, v in self.headers.items()],
                        "body": body.decode("utf-8", "replace")}
                with backend.lock:
                    backend.requests.append(seen)
                url = urllib.parse.urlsplit(self.path)
                if url.path.startswith("/slow"):
                    q = urllib.parse.parse_qs(url.query)
                    time.sleep(int(q.get("ms", ["1000"])[0]) / 1000)
                out = json.dumps(seen).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.send_header("X-Backend", "portal")
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def reset(self):
        with self.lock:
            self.requests.clear()

    def seen(self, marker):
        """Requests whose path contains marker."""
        with self.lock:
            return [r for r in self.requests if marker in r["path"]]


def identity_of(headers):
    """{lower-case name: [values]} of the X-Client-* headers received."""
    found = {}
    for name, value in headers:
        if name.lower().replace("_", "-").startswith("x-client-"):
            found.setdefault(name.lower(), []).append(value)
    return found


# ------------------------------------------------------------------ nginx

def libasan():
    """gcc's AddressSanitizer runtime, which Debian's uninstrumented nginx
    must load before anything else for a sanitized module to load."""
    path = os.environ.get("CA_LIBASAN")
    if not path:
        path = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                              capture_output=True, text=True,
                              check=True).stdout.strip()
    path = os.path.realpath(path)
    assert os.path.exists(path), "no libasan at %s" % path
    return path


# memcheck, every process (forked workers get their own log), failing on
# definite errors only: invalid accesses, uninitialised values, bad frees,
# definitely lost blocks.
VALGRIND_ARGS = ["valgrind", "--tool=memcheck", "--leak-check=full",
                 "--show-leak-kinds=definite",
                 "--errors-for-leak-kinds=definite", "--num-callers=30",
                 "--keep-debuginfo=yes",
                 "--suppressions=%s" % (REPO / "tests" / "integration"
                                        / "valgrind.supp")]
VALGRIND_ERRORS = re.compile(r"ERROR SUMMARY: [1-9]")


def nginx_command(workdir):
    """How to start nginx: under valgrind with CA_VALGRIND."""
    if VALGRIND:
        return VALGRIND_ARGS + ["--log-file=%s/valgrind.%%p.log" % workdir,
                                NGINX]
    return [NGINX]


def nginx_env():
    """The environment to start nginx in: this one, plus under CA_SANITIZE
    the preloaded ASan runtime and the sanitizers' options (the caller's
    own options come after ours, so they win)."""
    env = dict(os.environ)
    if SANITIZE:
        env["LD_PRELOAD"] = libasan()
        for name, ours in SANITIZER_OPTIONS.items():
            env[name] = ours + (":" + env[name] if env.get(name) else "")
    return env


def nginx_check(workdir, conf):
    """`nginx -t` on a configuration file, in the environment nginx runs in
    (the ASan runtime under CA_SANITIZE): the CompletedProcess, stderr
    merged into .stdout; a sanitizer report in it fails the test."""
    proc = subprocess.run([NGINX, "-t", "-p", str(workdir) + "/", "-c",
                           str(conf), "-e", str(Path(workdir) / "error.log")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=30, env=nginx_env())
    report = problem_lines(proc.stdout, SANITIZER_REPORT)
    assert not report, "nginx -t:\n" + "\n".join(report)
    return proc


HTTP_TEMPS = """\
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
"""

CONF_TEMPLATE = """\
load_module {module};
thread_pool clientauth threads=2;
worker_processes {workers};
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
{main}
events {{ worker_connections 1024; }}

http {{
{temps}
    access_log {dir}/access.log;
    clientauth_redis {redis} {redis_opts};
    clientauth_hash_cost {hash_cost};
    clientauth_login_failure_floor {failure_floor};
{cookie_secure}
{http}
    server {{
        listen {listen};
        clientauth_brand magic;
        clientauth_identifiers {identifiers};
{server}
        location = /auth/login  {{ clientauth_login; }}
        location = /auth/logout {{ clientauth_logout; }}
        location = /status      {{ clientauth_status; }}
        location /auth/account/ {{ clientauth_account; }}
        location /public/ {{
            clientauth off;
            proxy_pass http://{backend};
        }}
        location /billing/ {{
            clientauth on;
            clientauth_require billing;
            proxy_pass http://{backend};
        }}
        location /custom/ {{
            clientauth on;
            clientauth_login_url /sso/login;
            proxy_pass http://{backend};
        }}
        location / {{
            clientauth on;
            proxy_pass http://{backend};
        }}
{locations}
    }}
}}
"""


def gateway_conf(workdir, port, redis_port, backend_port, *, workers=1,
                 redis_opts="", hash_cost="t=1 m=8m", failure_floor="50ms",
                 cookie_secure=False,
                 main="", http="", server="", locations="", listen_opts="",
                 identifiers="email"):
    """The test gateway's nginx.conf: DESIGN.md's minimal shape plus a
    status page, a public location, a billing-only location and one with
    its own login URL; the keyword arguments add per-test directives."""
    workdir = Path(workdir)
    if VALGRIND and "timeout=" not in redis_opts:
        redis_opts += " timeout=5s"         # the worker runs ~20x slower
    return CONF_TEMPLATE.format(
        module=MODULE, dir=workdir, workers=workers, main=main,
        temps=HTTP_TEMPS.format(dir=workdir),
        redis="%s:%d" % (HOST, redis_port), redis_opts=redis_opts,
        hash_cost=hash_cost, failure_floor=failure_floor,
        cookie_secure="" if cookie_secure else
        "    clientauth_cookie_secure off;",
        http=http, server=server, locations=locations,
        identifiers=identifiers,
        listen=("%s:%d %s" % (HOST, port, listen_opts)).strip(),
        backend="%s:%d" % (HOST, backend_port))


class Nginx:
    """Debian's nginx, master plus workers, as a child process."""

    # every instance whose error log still has unchecked lines
    registry = []

    def __init__(self, workdir, conf_text, port, extra_args=()):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(conf_text)
        self.error_log = self.dir / "error.log"
        self.access_log = self.dir / "access.log"
        self.port = port
        self.extra_args = list(extra_args)
        self.proc = None
        self.checked = 0           # error-log offset already checked
        self.out_checked = 0       # nginx.out offset already checked
        self.valgrind_seen = set()  # valgrind logs already checked

    def start(self, workers=None, timeout=15):
        out = open(self.dir / "nginx.out", "ab")
        if VALGRIND:
            timeout *= 4
        self.proc = subprocess.Popen(
            nginx_command(self.dir)
            + ["-p", str(self.dir) + "/", "-c", str(self.conf),
             "-e", str(self.error_log)] + self.extra_args,
            stdout=out, stderr=subprocess.STDOUT, env=nginx_env())
        out.close()
        Nginx.registry.append(self)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(
                    "nginx exited with status %s:\n%s\n%s" % (
                        self.proc.returncode, self.read_log(),
                        (self.dir / "nginx.out").read_text()))
            if workers is not None and len(self.worker_pids()) < workers:
                return False
            try:
                with socket.create_connection((HOST, self.port),
                                              timeout=1):
                    return True
            except OSError:
                return False
        try:
            wait_until(up, timeout, "nginx to listen on port %d" % self.port)
        except BaseException:
            self.stop()
            Nginx.registry.remove(self)
            raise
        return self

    def stop(self):
        """SIGTERM (fast shutdown), SIGKILL if that does not do."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise AssertionError("nginx did not stop on SIGTERM")

    @property
    def master_pid(self):
        return self.proc.pid

    def worker_pids(self):
        """Pids of the master's worker processes (not its cache helpers)."""
        pids = set()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    stat = f.read()
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            # under valgrind the title nginx sets is not in /proc
            if ppid == self.proc.pid and (VALGRIND or cmdline.startswith(
                    b"nginx: worker process")):
                pids.add(int(entry))
        return pids

    def reload(self, timeout=15):
        """SIGHUP; returns once a whole new set of workers is running (as
        many as before: the master starts them one by one)."""
        old = self.worker_pids()
        os.kill(self.proc.pid, signal.SIGHUP)

        def new_workers():
            fresh = self.worker_pids() - old
            return fresh if len(fresh) >= len(old) else None
        return old, wait_until(new_workers, timeout, "new nginx workers")

    def read_log(self, start=0):
        try:
            with open(self.error_log, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_size(self):
        try:
            return self.error_log.stat().st_size
        except FileNotFoundError:
            return 0

    def take_log_problems(self):
        """Lines with [alert]/[crit]/[emerg]/exited on signal, or a
        sanitizer's report (with the lines that follow it), logged since
        the last check, in the error log and in nginx's own output."""
        end = self.log_size()
        text = self.read_log(self.checked)[:end - self.checked]
        self.checked = end
        out = self.dir / "nginx.out"
        try:
            with open(out, "rb") as f:
                f.seek(self.out_checked)
                text += "\n" + f.read().decode("utf-8", "replace")
                self.out_checked = f.tell()
        except FileNotFoundError:
            pass
        return problem_lines(text) + self.valgrind_errors()

    def valgrind_errors(self):
        """The reports of valgrind logs whose process has exited with
        errors (each log is read once, when its summary is there)."""
        found = []
        for log in sorted(self.dir.glob("valgrind.*.log")):
            if log in self.valgrind_seen:
                continue
            text = log.read_text(errors="replace")
            if "ERROR SUMMARY:" not in text:
                continue                # still running
            self.valgrind_seen.add(log)
            if VALGRIND_ERRORS.search(text):
                found += ["%s:" % log] + text.splitlines()[:200]
        return found

    def access_lines(self, marker):
        try:
            text = self.access_log.read_text()
        except FileNotFoundError:
            return []
        return [line for line in text.splitlines() if marker in line]


def problem_lines(text, pattern=LOG_PROBLEMS, report_lines=40):
    """The lines of text that pattern matches; a sanitizer's report comes
    whole (up to report_lines lines), for its stack."""
    lines = text.splitlines()
    found = []
    i = 0
    while i < len(lines):
        if not pattern.search(lines[i]):
            i += 1
            continue
        if SANITIZER_REPORT.search(lines[i]):
            found.extend(lines[i:i + report_lines])
            i += report_lines
        else:
            found.append(lines[i])
            i += 1
    return found


def check_logs(instances):
    """Fails with the offending lines of every instance given."""
    problems = []
    for n in instances:
        for line in n.take_log_problems():
            problems.append("%s: %s" % (n.error_log, line))
    assert not problems, "nginx error log:\n" + "\n".join(problems)


# ------------------------------------------------------------------ client

class Gateway:
    """A running nginx with the module, its Redis and its backend."""

    def __init__(self, nginx, redis, backend):
        self.nginx = nginx
        self.redis = redis
        self.backend = backend
        self.port = nginx.port

    def url(self, path):
        return "http://%s:%d%s" % (HOST, self.port, path)

    def request(self, method, path, token=None, accept=JSON, headers=None,
                timeout=10, **kwargs):
        """One request, no redirects followed; accept=None sends no Accept
        header; token is sent as the session cookie."""
        h = {"Accept": accept}
        if token is not None:
            h["Cookie"] = "%s=%s" % (COOKIE, token)
        h.update(headers or {})
        return requests.request(method, self.url(path), headers=h,
                                allow_redirects=False, timeout=timeout,
                                **kwargs)

    def get(self, path, token=None, **kwargs):
        return self.request("GET", path, token, **kwargs)

    def post(self, path, token=None, **kwargs):
        return self.request("POST", path, token, **kwargs)

    def login(self, email, password, accept=JSON, **kwargs):
        """Logs in with a form; the response."""
        return self.post("/auth/login", accept=accept,
                         data={"identifier": email, "password": password},
                         **kwargs)

    def login_token(self, email, password):
        """Logs in (JSON client) and returns the new session token."""
        r = self.login(email, password)
        assert r.status_code == 200, (r.status_code, r.text)
        return cookie_token(r)

    def raw(self, data, timeout=10):
        return raw_http(self.port, data, timeout)

    def metric(self, name_and_labels):
        """One value of the /status page."""
        r = self.get("/status")
        assert r.status_code == 200
        for line in r.text.splitlines():
            if line.startswith(name_and_labels + " "):
                return int(line.split()[-1])
        raise AssertionError("%s not in /status:\n%s" % (name_and_labels,
                                                         r.text))


def cookie_token(response):
    """The session token a response sets, from its one Set-Cookie."""
    setc = response.headers.get("Set-Cookie")
    assert setc, "no Set-Cookie in %r" % dict(response.headers)
    m = re.match(r"%s=([A-Za-z0-9_-]*);" % COOKIE, setc)
    assert m, setc
    return m.group(1)


class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[0] if values else None


def raw_http(port, data, timeout=10):
    """Sends bytes as they are (add Connection: close) and parses the
    answer."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = [tuple(x.strip() for x in line.split(":", 1))
               for line in lines[1:]]
    return RawResponse(status, headers, body)


def raw_get(path, header_lines, host="gateway.test"):
    """A GET request's bytes with header lines (str or bytes) in the order
    given, ending with Connection: close."""
    lines = [b"GET " + path.encode() + b" HTTP/1.1",
             b"Host: " + host.encode()]
    lines += [x if isinstance(x, bytes) else x.encode("latin-1")
              for x in header_lines]
    lines += [b"Connection: close", b"", b""]
    return b"\r\n".join(lines)


# ------------------------------------------------------------------ ctl

class Account:
    def __init__(self, email, password, account, user, perms):
        self.email = email
        self.password = password
        self.account = account
        self.user = user
        self.perms = perms


def ctl(redis, *args, password=None, cost=CTL_COST, check=True):
    """Runs clientauthctl against redis; the CompletedProcess."""
    proc = subprocess.run(
        [str(CTL), "--redis", redis.address, "--hash-cost", cost, *args],
        input=(password + "\n") if password is not None else "",
        capture_output=True, text=True, timeout=60)
    if check:
        assert proc.returncode == 0, (args, proc.returncode, proc.stderr)
    return proc


def add_user(redis, email, password="Sup3r-secret!pw", perms=(),
             parent=None, cost=CTL_COST):
    """Creates an owner (or a sub-user of parent) with clientauthctl."""
    args = ["user", "add", BRAND]
    if parent:
        args += ["--parent", parent]
    args += ["--email", email]
    for p in perms:
        args += ["--perm", p]
    args += ["--password-stdin"]
    out = ctl(redis, *args, password=password, cost=cost).stdout
    m = re.match(r"account (\d+) user (\d+)", out)
    assert m, out
    show = ctl(redis, "user", "show", BRAND, email).stdout
    fields = dict(line.split(": ", 1) for line in show.splitlines())
    return Account(email, password, m.group(1), m.group(2), fields["perms"])
