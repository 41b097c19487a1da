"""What is read around a run: CPU of processes and threads, RSS, the
machine's other load, Redis INFO, the gateway's clientauth_status."""

import os
import re
import resource
import socket
import time
import urllib.error
import urllib.request


def cpu_ns(pid):
    """CPU time of every thread of pid, in ns (schedstat: precise)."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def threads_ns(pid):
    """{thread name: ns}, threads of the same name summed."""
    out = {}
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                comm = f.read().strip()
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                ns = int(f.read().split()[0])
            name = ("event loop" if tid == str(pid)
                    else "thread pool" if comm == "nginx" else comm)
            out[name] = out.get(name, 0) + ns
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def user_sys_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]), int(fields[12])
    except (FileNotFoundError, ProcessLookupError):
        return 0, 0


def machine_busy():
    """Busy CPU seconds of the whole machine (all CPUs), and steal."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    busy = v[0] + v[1] + v[2] + v[5] + v[6]       # user nice system irq soft
    steal = v[7] if len(v) > 7 else 0
    return busy / hz, steal / hz


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def children(ppid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid:
                kids.append(int(d))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return sorted(kids)


class Redis:
    """Just enough RESP for INFO and a few reads."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), 5)
        self.f = self.sock.makefile("rb")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._reply()

    def _reply(self):
        line = self.f.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError("redis: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError("redis: bad reply %r" % line)

    def commandstats(self):
        stats = {}
        for line in self.cmd("INFO", "commandstats").splitlines():
            m = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
            if m and m.group(1) != "info":          # the bench's own
                stats[m.group(1)] = int(m.group(2))
        return stats

    def info(self, section):
        out = {}
        for line in self.cmd("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v
        return out


def http(method, url, body=None, headers=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def metrics(port):
    """The gateway's clientauth_status counters, as {name{labels}: value}."""
    _, _, body = http("GET", "http://127.0.0.1:%d/bench/status" % port)
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def delta(after, before):
    return {k: after.get(k, 0) - before.get(k, 0)
            for k in set(after) | set(before)}


class Sample:
    """CPU of the bench's processes, Redis commands and gateway counters
    around one measured run."""

    def __init__(self, ctx, gateway=None):
        self.ctx = ctx
        self.gw = gateway or ctx.gw

    def __enter__(self):
        self.t0 = time.monotonic()
        self.cpu0 = self._cpu()
        self.cmd0 = self.ctx.redis.commandstats()
        self.m0 = metrics(self.gw.ports["ca"])
        self.ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.thr0 = threads_ns(self.gw.worker)
        self.us0 = self._user_sys()
        self.busy0 = machine_busy()
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        self.elapsed = time.monotonic() - self.t0
        cpu1 = self._cpu()
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = {k: (cpu1[k] - self.cpu0.get(k, 0)) / 1e9 for k in cpu1}
        self.cpu["wrk"] = ((ru1.ru_utime - self.ru0.ru_utime)
                           + (ru1.ru_stime - self.ru0.ru_stime))
        self.cmds = delta(self.ctx.redis.commandstats(), self.cmd0)
        self.metrics = delta(metrics(self.gw.ports["ca"]), self.m0)
        thr1 = threads_ns(self.gw.worker)
        self.threads = {k: (thr1[k] - self.thr0.get(k, 0)) / 1e9
                        for k in thr1}
        busy1 = machine_busy()
        ours = sum(self.cpu.values())
        ncpu = os.cpu_count() or 1
        # CPU the machine spent on work that is not the bench's
        self.foreign = max(0.0, busy1[0] - self.busy0[0] - ours) / (
            self.elapsed * ncpu)
        self.steal = (busy1[1] - self.busy0[1]) / (self.elapsed * ncpu)
        u1, s1 = self._user_sys()
        self.gw_user = u1 - self.us0[0]
        self.gw_sys = s1 - self.us0[1]
        return False

    def _user_sys(self):
        ticks = [user_sys_ticks(w) for w in self.gw.workers]
        return sum(u for u, _ in ticks), sum(s for _, s in ticks)

    def _cpu(self):
        c = self.ctx
        return {"gateway": sum(cpu_ns(w) for w in self.gw.workers),
                "backend": cpu_ns(c.backend_worker),
                "redis": cpu_ns(c.redis_proc.pid),
                "fwdauth": cpu_ns(c.fwdauth.pid)}
