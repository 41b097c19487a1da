"""The processes the bench starts: each in a process group of its own, told
to die with the bench, stopped on exit."""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time


_libc = ctypes.CDLL(None, use_errno=True)


def _child_setup():
    # die with this script even if it is killed with SIGKILL
    _libc.prctl(1, signal.SIGTERM)          # PR_SET_PDEATHSIG


class Procs:
    """Every process the bench starts, each in a process group of its own."""

    def __init__(self):
        self.procs = []

    def spawn(self, name, argv, env=None, stdout=None, stderr=None,
              cwd=None, stdin=None):
        p = subprocess.Popen(argv, env=env, cwd=cwd,
                             stdin=stdin or subprocess.DEVNULL,
                             stdout=stdout or subprocess.DEVNULL,
                             stderr=stderr or subprocess.DEVNULL,
                             start_new_session=True,
                             preexec_fn=_child_setup)
        p.bench_name = name
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=10):
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)
        else:
            # the leader is gone; anything left in its group goes too
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in reversed(list(self.procs)):
            try:
                self.stop(p)
            except Exception as e:          # keep stopping the others
                print("bench: stopping %s: %s" % (p.bench_name, e),
                      file=sys.stderr)


PROCS = Procs()


def _on_signal(signo, frame):
    raise SystemExit(128 + signo)


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def wait_port(port, proc, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with status %s" % (what,
                                                             proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on %d" % (what, port))


def sh(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True,
                          timeout=120, **kw)
