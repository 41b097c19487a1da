"""Section 6: how long a revoked session is still accepted elsewhere.

From the reply to the revoking command (a logout on worker 1 of gateway
A, or a DEL of the session key by hand) to the first refusal on worker 2
of A and on gateway B, both gateways on the same Redis.  Each poller is
one keep-alive connection pinned to its worker (A adds the worker's pid
to every response: no SO_REUSEPORT needed), sending the next request as
soon as the previous answer is in, both pollers at once."""

import base64
import hashlib
import selectors
import socket
import time

from .common import BRAND, COOKIE, QUICK, TARGETS, log, median
from .fmt import status_line, table
from .gateway import Gateway
from .start import login

TRIALS = 10 if QUICK else 100     # per kind of revocation
POLL_LIMIT = 2.0                  # s: a session accepted longer fails
PIN_TRIES = 64                    # connections opened to reach a worker
KINDS = (("logout", "logout on worker 1 of A (POST /auth/logout)"),
         ("del", "DEL of the session key by hand (a Redis client)"))
TARGETS_POLLED = (("worker", "worker 2 of gateway A"),
                  ("instance", "gateway B"))
# the worker's pid on every response; the pollers' connections outlive
# nginx's default of 1000 requests per keep-alive connection
WORKER_HEADER = ("add_header X-Bench-Worker $pid always;\n"
                 "keepalive_requests 100000000;")


def session_key(token):
    """The Redis key of a session: BLAKE2b-256 of the token's bytes."""
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return "ca:%s:sess:%s" % (BRAND,
                              hashlib.blake2b(raw, digest_size=32)
                              .hexdigest())


class Conn:
    """One raw keep-alive HTTP/1.1 connection: the bench writes requests
    and parses responses itself, to know when each one arrived and which
    worker sent it."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), 5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.worker = None

    def close(self):
        self.sock.close()

    def send(self, method, path, cookie, extra=""):
        self.sock.sendall((
            "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Accept: application/json\r\nCookie: %s=%s\r\n%s\r\n"
            % (method, path, self.port, COOKIE, cookie, extra)).encode())

    def get(self, cookie):
        self.send("GET", "/app/page", cookie)

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise RuntimeError("gateway on port %d closed a keep-alive "
                               "connection" % self.port)
        self.buf += data

    def parsed(self):
        """(status, {header: value}) of a complete response in the
        buffer, which it leaves; None when there is none yet."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buf[:end].decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        body = end + 4
        if headers.get("transfer-encoding", "").lower() == "chunked":
            pos = body
            while True:
                nl = self.buf.find(b"\r\n", pos)
                if nl < 0:
                    return None
                size = int(self.buf[pos:nl].split(b";")[0], 16)
                if len(self.buf) < nl + 2 + size + 2:
                    return None
                pos = nl + 2 + size + 2
                if size == 0:
                    break
            rest = pos
        else:
            rest = body + int(headers.get("content-length", 0))
            if len(self.buf) < rest:
                return None
        self.buf = self.buf[rest:]
        return status, headers

    def response(self, timeout=10):
        self.sock.settimeout(timeout)
        while True:
            res = self.parsed()
            if res is not None:
                return res
            self.fill()

    def request(self, method, path, cookie, extra=""):
        self.send(method, path, cookie, extra)
        return self.response()


def pinned(port, cookie, want):
    """Keep-alive connections to port, one per worker pid in want (or per
    worker met, when want is None), opened in bursts until each is
    reached: {pid: Conn}.  The others are closed."""
    found, tried = {}, 0
    while tried < PIN_TRIES and (want is None and len(found) < 2
                                 or want is not None
                                 and set(want) - set(found)):
        burst = [Conn(port) for _ in range(8)]
        tried += len(burst)
        for c in burst:
            c.get(cookie)
        for c in burst:
            status, headers = c.response()
            pid = headers.get("x-bench-worker")
            if status != 200 or pid is None:
                raise RuntimeError("pinning a connection: %d, worker %s"
                                   % (status, pid))
            c.worker = int(pid)
            if c.worker not in found and (want is None or c.worker in want):
                found[c.worker] = c
            else:
                c.close()
    return found


def poll(conns, cookie, t0):
    """Sends GETs with the revoked cookie on every connection at once,
    each again as soon as its answer is in, until each is refused.
    ({name: ms from t0 to the refusal, or None}, {name: answers 200})."""
    sel = selectors.DefaultSelector()
    delay = {name: None for name in conns}
    served = {name: 0 for name in conns}
    for name, c in conns.items():
        c.get(cookie)
        sel.register(c.sock, selectors.EVENT_READ, name)
    deadline = t0 + POLL_LIMIT
    pending = set(conns)
    while pending:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        for key, _ in sel.select(left):
            name = key.data
            c = conns[name]
            c.fill()
            res = c.parsed()
            if res is None:
                continue
            status = res[0]
            if status == 200:
                served[name] += 1
                c.get(cookie)
                continue
            if status != 401:
                raise RuntimeError("revoked session on %s: status %d"
                                   % (name, status))
            delay[name] = (time.perf_counter() - t0) * 1000
            sel.unregister(c.sock)
            pending.discard(name)
    sel.close()
    for name in pending:          # drain: the connection stays usable
        conns[name].sock.settimeout(10)
        while conns[name].response()[0] == 200:
            conns[name].get(cookie)
    return delay, served


def section_revocation(ctx):
    log("6. revocation delay: %d trials x %d kinds, gateway A (2 workers) "
        "and gateway B (1 worker) on one Redis" % (TRIALS, len(KINDS)))
    a = Gateway(ctx, "gw-rev-a", workers=2, ca_extra=WORKER_HEADER)
    b = Gateway(ctx, "gw-rev-b", workers=1, ca_extra=WORKER_HEADER)
    ctx.rev_gateways = (a, b)
    rev = ctx.rev = {"kinds": {k: {t: [] for t, _ in TARGETS_POLLED}
                               for k, _ in KINDS},
                     "served": {k: {t: 0 for t, _ in TARGETS_POLLED}
                                for k, _ in KINDS},
                     "late": {k: {t: 0 for t, _ in TARGETS_POLLED}
                              for k, _ in KINDS},
                     "rtt": {t: [] for t, _ in TARGETS_POLLED},
                     "workers": len(a.workers), "absent": ""}
    cookie = login(ctx.gw.ports["login"], "browse@bench.example")
    on_a = pinned(a.ports["ca"], cookie, None)
    if len(on_a) < 2:
        rev["absent"] = ("every one of %d connections to gateway A went to "
                         "the same worker" % PIN_TRIES)
        log("   %s: worker 2 not measured" % rev["absent"])
    pids = sorted(on_a)
    first = on_a[pids[0]]
    conns = {"instance": list(pinned(b.ports["ca"], cookie,
                                     b.workers).values())[0]}
    if len(pids) > 1:
        conns["worker"] = on_a[pids[1]]
    for i in range(TRIALS * len(KINDS)):
        kind = KINDS[i % len(KINDS)][0]
        cookie = login(ctx.gw.ports["login"], "browse@bench.example")
        # every connection sees the session twice: cached where a cache is
        for c in [first] + list(conns.values()):
            for _ in range(2):
                status = c.request("GET", "/app/page", cookie)[0]
                if status != 200:
                    raise RuntimeError("fresh session refused: %d" % status)
        for name, c in conns.items():
            t = time.perf_counter()
            c.request("GET", "/app/page", cookie)
            rev["rtt"][name].append((time.perf_counter() - t) * 1000)
        if kind == "logout":
            status = first.request(
                "POST", "/auth/logout", cookie,
                "Origin: http://127.0.0.1:%d\r\nSec-Fetch-Site: same-origin"
                "\r\nContent-Length: 0\r\n" % a.ports["ca"])[0]
            t0 = time.perf_counter()
            if status not in (200, 303):
                raise RuntimeError("logout: status %d" % status)
        else:
            if ctx.redis.cmd("DEL", session_key(cookie)) != 1:
                raise RuntimeError("DEL: no session key %s"
                                   % session_key(cookie))
            t0 = time.perf_counter()
        delay, served = poll(conns, cookie, t0)
        for name in conns:
            if delay[name] is None:
                rev["late"][kind][name] += 1
            else:
                rev["kinds"][kind][name].append(delay[name])
            rev["served"][kind][name] += served[name]
    for c in [first] + list(conns.values()):
        c.close()
    for kind, _ in KINDS:
        for name, _ in TARGETS_POLLED:
            d = rev["kinds"][kind][name]
            if d:
                log("   %-6s -> %-8s p50 %.2f ms  p99 %.2f ms  max %.2f ms  "
                    "(%d answers 200 after the reply, %d never refused)"
                    % (kind, name, pct(d, 50), pct(d, 99), max(d),
                       rev["served"][kind][name], rev["late"][kind][name]))
    ctx.logs["gateway A (revocation, 2 workers)"] = a.log_levels()
    ctx.logs["gateway B (revocation)"] = b.log_levels()


def pct(xs, q):
    """The q-th percentile, nearest rank."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q / 100 * len(xs))) - 1))]


def worst_p99(ctx):
    ds = [pct(d, 99) for k in ctx.rev["kinds"].values() for d in k.values()
          if d]
    late = sum(n for k in ctx.rev["late"].values() for n in k.values())
    return (max(ds) if ds else None), late


def summary_rows(ctx):
    if not hasattr(ctx, "rev"):
        return []
    p99, late = worst_p99(ctx)
    target = "≤ %.0f ms" % TARGETS["revocation_p99_ms"]
    if p99 is None:
        return [("revocation delay p99", "n/a", target, "-")]
    return [("revocation delay p99, worst of worker / instance "
             "(logout, DEL)",
             "%.2f ms%s" % (p99, ", %d never refused" % late if late
                            else ""), target,
             status_line(p99 <= TARGETS["revocation_p99_ms"] and not late))]


def markdown(ctx):
    """Section 6 of the results file, as lines."""
    rev = ctx.rev
    lines = []
    w = lines.append
    w("## 6. Revocation delay")
    w("")
    w("Gateway A (`worker_processes 2`) and gateway B (1 worker), the same "
      "configuration as the main gateway%s, both on the bench's Redis.  "
      "Each trial logs in (on the main gateway), lets every poller see the "
      "session twice (so that a cache holds it), revokes it, and from the "
      "revoking command's reply polls worker 2 of A and gateway B at once, "
      "each on a keep-alive connection pinned to its worker (A adds "
      "`X-Bench-Worker: $pid` to its responses), sending the next request "
      "as soon as the previous answer is in, until each answers 401.  The "
      "delay is from the reply to the refusal's arrival, so it includes "
      "one poll round trip (median poll round trip with a valid session: "
      "worker %.2f ms, instance %.2f ms).  %d trials of each kind, "
      "alternating."
      % (" with the session cache at its default" if ctx.cache else
         " (this build has no session cache)",
         median(rev["rtt"].get("worker") or [0]),
         median(rev["rtt"].get("instance") or [0]), TRIALS))
    if rev["absent"]:
        w("")
        w("Worker 2 of A: n/a (%s)." % rev["absent"])
    w("")
    rows = []
    for kind, klabel in KINDS:
        for name, tlabel in TARGETS_POLLED:
            d = rev["kinds"][kind][name]
            if not d:
                continue
            rows.append((klabel, tlabel, "%.2f" % pct(d, 50),
                         "%.2f" % pct(d, 99), "%.2f" % max(d),
                         "%d" % rev["served"][kind][name],
                         "%d" % rev["late"][kind][name]))
    w(table(("revoked by", "refused by", "p50 ms", "p99 ms", "max ms",
             "answers 200 after the reply (all trials)",
             "not refused within %.0f s" % POLL_LIMIT), rows))
    w("")
    return lines
