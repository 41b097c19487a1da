"""Support for the code review's regression tests
(test_review_regressions.py).

- nginx_t(): `nginx -t` of a hand-written configuration.
- start_review_gateway(): the harness's gateway (helpers.gateway_conf) with
  two changes the shared template cannot make: the module's default hash
  cost (no clientauth_hash_cost line at all) and a debug-level error log.
- slow_request(): a raw HTTP request whose body arrives after its headers.
- live_sessions(): what `clientauthctl user show` counts.
- HoldingProxy: a TCP proxy between the gateway and Redis that can hold
  the gateway's commands from a given one until the next MULTI, to force
  one interleaving of two flows on the gateway's pipelined connection.
"""

import re
import socket
import threading
import time
from pathlib import Path

from helpers import (BRAND, HOST, MODULE, Gateway, Nginx, ctl, free_port,
                     gateway_conf, nginx_check)


# ------------------------------------------------------------ nginx -t

CHECK_CONF = """\
load_module {module};
thread_pool clientauth threads=1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}

http {{
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    access_log off;
{http}
    server {{
        listen {host}:{port};
{server}
    }}
}}
"""


def nginx_t(workdir, http="", server=""):
    """Writes a configuration (the module loaded, one server) and runs
    `nginx -t -p DIR -c CONF` on it; the CompletedProcess (output in
    .stdout, stderr merged)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(CHECK_CONF.format(module=MODULE, dir=workdir, http=http,
                                      server=server, host=HOST,
                                      port=free_port()))
    return nginx_check(workdir, conf)


# ------------------------------------------------------------ gateway

def start_review_gateway(workdir, redis, backend, *, default_hash_cost=False,
                         debug_log=False, redis_port=None, **conf):
    """The harness's gateway; default_hash_cost drops the template's
    clientauth_hash_cost line (the module's default, t=2 m=19m, applies);
    debug_log makes the error log (the file the harness checks) debug;
    redis_port points clientauth_redis elsewhere (a proxy) while the
    Gateway's redis stays the real server."""
    workdir = Path(workdir)
    port = free_port()
    text = gateway_conf(workdir, port, redis_port or redis.port,
                        backend.port, **conf)
    if default_hash_cost:
        text = re.sub(r"(?m)^\s*clientauth_hash_cost .*\n", "", text)
        assert "clientauth_hash_cost" not in text, text
    if debug_log:
        info = "error_log %s/error.log info;" % workdir
        assert info in text, text
        text = text.replace(info, "error_log %s/error.log debug;" % workdir)
    nginx = Nginx(workdir, text, port).start(workers=1)
    return Gateway(nginx, redis, backend)


# ------------------------------------------------------------ raw HTTP

def recv_response(sock, timeout):
    """Reads one HTTP/1.1 response (Content-Length framed, or up to EOF);
    raises socket.timeout when it does not come within timeout seconds.
    Returns (status, {lower-case header: value}, body)."""
    deadline = time.monotonic() + timeout
    buf = b""

    def more():
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no complete response within %.1fs: %r"
                                 % (timeout, buf[:200]))
        sock.settimeout(left)
        chunk = sock.recv(65536)
        return chunk

    while b"\r\n\r\n" not in buf:
        chunk = more()
        if not chunk:
            raise ConnectionError("closed before the headers: %r" % buf)
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.setdefault(k.strip().lower(), v.strip())
    length = headers.get("content-length")
    if length is not None:
        while len(body) < int(length):
            chunk = more()
            if not chunk:
                break
            body += chunk
    return status, headers, body


def slow_request(port, head_lines, body, delay=0.3, timeout=5):
    """Sends a request's headers, waits delay seconds, then sends its body;
    returns (status, headers, body, seconds from the body to the answer)."""
    head = "\r\n".join(head_lines + ["Content-Length: %d" % len(body),
                                     "Connection: close", "", ""])
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(head.encode("latin-1"))
        time.sleep(delay)
        s.sendall(body)
        t = time.monotonic()
        status, headers, answer = recv_response(s, timeout)
        return status, headers, answer, time.monotonic() - t


# ------------------------------------------------------------ accounts

def show(redis, identifier, brand=BRAND):
    out = ctl(redis, "user", "show", brand, identifier).stdout
    return dict(line.split(": ", 1) for line in out.splitlines())


def live_sessions(redis, identifier, brand=BRAND):
    """The `sessions:` count of clientauthctl user show."""
    return int(show(redis, identifier, brand)["sessions"])


# ------------------------------------------------------------ proxy

class HoldingProxy:
    """127.0.0.1:port -> Redis.  Once armed with a key, the gateway's
    `SMEMBERS key` and everything it sends after it, on any connection, are
    held back until a MULTI comes (then all is forwarded in order, each
    chunk on the connection it came from), or until hold_max seconds.
    released_by tells which: "MULTI" or "timeout"."""

    TRIGGER = b"$8\r\nSMEMBERS\r\n$%d\r\n%s\r\n"
    MULTI = b"$5\r\nMULTI\r\n"

    def __init__(self, upstream_port, hold_max=3.0):
        self.upstream = upstream_port
        self.hold_max = hold_max
        self.lock = threading.Lock()
        self.trigger = None
        self.held = None            # (destination, chunk) held, or None
        self.held_since = 0
        self.released_by = None
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.socks = []
        self.stopped = False

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self.stopped = True
        for s in [self.listener] + self.socks:
            try:
                s.close()
            except OSError:
                pass

    def arm(self, key):
        key = key.encode()
        with self.lock:
            self.trigger = self.TRIGGER % (len(key), key)
            self.released_by = None

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection((HOST, self.upstream))
            except OSError:
                client.close()
                continue
            self.socks += [client, server]
            threading.Thread(target=self._up, args=(client, server),
                             daemon=True).start()
            threading.Thread(target=self._down, args=(server, client),
                             daemon=True).start()

    def _down(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _flush(self, why):
        for dst, chunk in self.held:
            dst.sendall(chunk)
        self.held = None
        self.released_by = why

    def _up(self, src, dst):
        src.settimeout(0.02)
        try:
            while True:
                try:
                    data = src.recv(65536)
                except socket.timeout:
                    with self.lock:
                        if self.held is not None and time.monotonic() \
                                - self.held_since > self.hold_max:
                            self._flush("timeout")
                    continue
                if not data:
                    break
                with self.lock:
                    if self.held is not None:
                        self.held.append((dst, data))
                        if self.MULTI in data:
                            self._flush("MULTI")
                    elif self.trigger and self.trigger in data:
                        self.trigger = None
                        self.held = [(dst, data)]
                        self.held_since = time.monotonic()
                    else:
                        dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
