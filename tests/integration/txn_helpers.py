"""Support for test_txn_races.py.

- GateProxy: a TCP proxy between the gateway and Redis that, from the
  gateway's first chunk holding a given command, holds everything until the
  test releases it, or cuts the connection at the nth such command.
- reset_in_flight(): a reset confirm held in the thread pool (a slow stored
  hash makes its reuse check last) while the test acts.
"""

import socket
import threading

import requests

from helpers import HOST, JSON, Nginx, check_logs, wait_until
from reset_helpers import confirm


def user_key(account):
    return "ca:{magic:%s}:user:%s" % (account.account, account.user)


def hash_of(redis, account):
    return redis.call("HGET", user_key(account), "hash")


def stopped(gateways):
    """Stops the gateways and checks their error logs."""
    errors = []
    for g in gateways:
        try:
            g.nginx.stop()
        finally:
            if g.nginx in Nginx.registry:
                Nginx.registry.remove(g.nginx)
        try:
            check_logs([g.nginx])
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n".join(errors)


def resp(*args):
    """A command as the gateway writes it (RESP)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def bulk(*args):
    """The start of a command's arguments, wherever its array begins."""
    out = b""
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def in_flight(fn, ready, what):
    """Runs fn() in a thread; returns once ready() holds (the flow reached
    the point the test wants): wait() for fn's result, and running()."""
    result = {}

    def run():
        try:
            result["r"] = fn()
        except Exception as e:                  # re-raised by wait()
            result["e"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    wait_until(lambda: ready() or not t.is_alive(), 10, what)
    assert t.is_alive(), "answered before the test could act: %r" % result

    def wait():
        t.join(30)
        assert not t.is_alive(), "hung"
        if "e" in result:
            raise result["e"]
        return result["r"]
    return wait, t.is_alive


def reset_in_flight(g, link, password):
    """A confirm of link that has read the user's record and history and is
    checking the new password against the (slow) stored hash."""
    before = g.redis.commandstats().get("lrange", 0)
    return in_flight(lambda: confirm(g, link, password, timeout=30),
                     lambda: g.redis.commandstats().get("lrange", 0)
                     > before, "the confirm to read the user")


def login(port, email, password):
    return requests.post("http://%s:%d/auth/login" % (HOST, port),
                         headers={"Accept": JSON}, timeout=30,
                         data={"identifier": email, "password": password},
                         allow_redirects=False)


class GateProxy:
    """HOST:port -> Redis, for the gateway.  hold(*patterns): on each
    connection whose chunk first contains one of the patterns, that chunk
    and all it sends after wait until release().  cut(pattern, nth): at the nth chunk containing pattern, the
    connection is closed instead (that chunk never reaches Redis).
    seen(pattern) counts the chunks that contained it."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.hold_on = []
        self.holding = 0
        self.cut_on = None
        self.cut_left = 0
        self.counts = {}
        self.log = []
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
        self.released.set()
        for s in [self.listener] + self.socks:
            try:
                s.close()
            except OSError:
                pass

    def hold(self, *patterns):
        with self.lock:
            self.hold_on = list(patterns)
            self.released.clear()

    def release(self):
        self.released.set()

    def cut(self, pattern, nth=1):
        with self.lock:
            self.cut_on = pattern
            self.cut_left = nth

    def seen(self, pattern):
        with self.lock:
            return sum(chunk.count(pattern) for chunk in self.log)

    def is_holding(self, n=1):
        """Whether n connections are held."""
        with self.lock:
            return self.holding >= n

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
            threading.Thread(target=self._pipe, args=(server, client),
                             daemon=True).start()

    @staticmethod
    def _close(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _pipe(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._close(src, dst)

    def _up(self, src, dst):
        held = False
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self.lock:
                    self.log.append(data)
                    if self.cut_on and self.cut_on in data:
                        self.cut_left -= 1
                        if self.cut_left == 0:
                            self.cut_on = None
                            break
                    for pattern in self.hold_on:
                        if not held and pattern in data:
                            self.hold_on.remove(pattern)
                            self.holding += 1
                            held = True
                if held and not self.released.is_set():
                    self.released.wait()
                    with self.lock:
                        self.holding -= 1
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._close(src, dst)
