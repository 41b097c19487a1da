"""A fake Redis for fault injection: a RESP proxy in front of a real
redis-server (asyncio, standard library only).

Every client connection gets its own connection to the real server.  The
proxy parses each command the client sends (pipelined or not), and answers
them in strict order: a command that no rule matches is forwarded and its
reply relayed; a command that a rule matches is not forwarded and gets the
rule's fault instead.  A MULTI ... EXEC block is one unit: if a rule matches
any command in it, nothing of the block reaches Redis, and the fault lands on
that command (an error reply, then -EXECABORT, as Redis does for a command
refused while queued) or on the EXEC (every other fault).

Faults (FAULTS):

  err, loading, readonly, noauth, oom   the error reply Redis would send
  wrong_type    a reply of another type than the command's
  nil           a nil (*-1 for array replies, $-1 otherwise)
  short_array   an array one element shorter than expected (empty when
                the length is not known: SMEMBERS, LRANGE)
  truncated     half a reply, then silence on an open connection
  garbage       bytes that are not RESP
  close         half a reply, then the connection is closed
  silence       no answer, ever (nor to anything after it)

Not a fault but a delay, for races: proxy.hold(command, key) forwards the
matching command and keeps its reply (and the replies after it on that
connection) until rule.release(); rule.held is set once Redis has answered
it.  Pub/Sub messages (the session cache's invalidations) are relayed as
they come.

Rules are set and cleared from the test's thread:

    proxy = FaultProxy(redis_port).start()
    rule = proxy.fail("HMGET", "nil", key="ca:{*}:sess:*", nth=1, count=None)
    ... rule.hits ...
    proxy.clear()

A rule matches a command by name ("*": any), optionally by the glob of its
first argument (the key), from its nth matching occurrence on, at most
count times (None: until cleared).  proxy.commands() lists what clients
sent.
"""

import asyncio
import collections
import fnmatch
import socket
import threading

FAULTS = ("err", "loading", "readonly", "noauth", "oom", "wrong_type", "nil",
          "short_array", "truncated", "garbage", "close", "silence")

ERRORS = {
    "err": b"-ERR fault injected\r\n",
    "loading": b"-LOADING Redis is loading the dataset in memory\r\n",
    "readonly": b"-READONLY You can't write against a read only replica.\r\n",
    "noauth": b"-NOAUTH Authentication required.\r\n",
    "oom": b"-OOM command not allowed when used memory > 'maxmemory'.\r\n",
}

PUSH = b"*3\r\n$7\r\nmessage\r\n"
EXECABORT = b"-EXECABORT Transaction discarded because of previous errors.\r\n"
GARBAGE = b"\x00\x9c\xfe\x07<html>not redis</html>\r\n"

# The shape of each command's reply, for wrong types and short arrays.
ARRAY = {"HMGET", "MGET", "SMEMBERS", "HGETALL", "XRANGE", "XREVRANGE",
         "EXEC", "KEYS", "LRANGE", "SCAN", "ZRANGE", "SRANDMEMBER",
         "XREADGROUP", "XREAD"}
STATUS = {"SET", "MULTI", "PING", "SELECT", "AUTH", "WATCH", "UNWATCH",
          "LTRIM", "DISCARD", "FLUSHALL", "RENAME"}
BULK = {"GET", "HGET", "GETDEL", "GETSET", "XADD", "LPOP", "RPOP", "ZSCORE"}
# everything else answers an integer (INCR, PTTL, DEL, HSET, SADD, ...)


HOLD = "hold"


class Rule:
    def __init__(self, command, fault, key=None, nth=1, count=None):
        if fault not in FAULTS and fault != HOLD:
            raise ValueError("unknown fault %r" % fault)
        self.command = command.upper()
        self.fault = fault
        self.key = key
        self.nth = nth
        self.count = count
        self.seen = 0           # matching commands
        self.hits = 0           # faults answered
        self.held = threading.Event()       # HOLD: Redis answered
        self.released = threading.Event()   # HOLD: the reply may go

    def release(self):
        self.released.set()

    def matches(self, args):
        if self.command != "*" and args[0].upper() != self.command.encode():
            return False
        if self.command == "*" and args[0].upper() == b"SUBSCRIBE":
            # the session cache's subscriber: hiredis 0.14 aborts on a
            # Pub/Sub reply shorter than Redis ever sends (*0), so "every
            # command" means every command but its SUBSCRIBE
            return False
        if self.key is not None:
            if len(args) < 2 or not fnmatch.fnmatchcase(
                    args[1].decode("latin-1"), self.key):
                return False
        self.seen += 1
        if self.seen < self.nth:
            return False
        if self.count is not None and self.hits >= self.count:
            return False
        self.hits += 1
        return True

    def __repr__(self):
        return "Rule(%s %s key=%s nth=%d hits=%d)" % (
            self.command, self.fault, self.key, self.nth, self.hits)


class _ProtocolError(Exception):
    pass


def _encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


async def _read_command(reader):
    """One client command as a list of bytes (RESP array of bulk strings,
    or an inline command); None at EOF."""
    line = await reader.readline()
    if not line:
        return None
    if not line.endswith(b"\r\n"):
        raise _ProtocolError(line)
    if line[:1] != b"*":
        return line.split()                     # inline command
    n = int(line[1:-2])
    args = []
    for _ in range(n):
        head = await reader.readline()
        if head[:1] != b"$":
            raise _ProtocolError(head)
        size = int(head[1:-2])
        data = await reader.readexactly(size + 2)
        args.append(data[:-2])
    return args


async def _read_reply(reader):
    """One reply's raw bytes, as the server sent them."""
    line = await reader.readline()
    if not line:
        raise ConnectionError("redis closed the connection")
    kind = line[:1]
    if kind in b"+-:":
        return line
    if kind == b"$":
        n = int(line[1:-2])
        return line if n < 0 else line + await reader.readexactly(n + 2)
    if kind == b"*":
        n = int(line[1:-2])
        parts = [line]
        for _ in range(max(n, 0)):
            parts.append(await _read_reply(reader))
        return b"".join(parts)
    raise _ProtocolError(line)


def _shape(name):
    name = name.upper()
    if name in ARRAY:
        return "array"
    if name in STATUS:
        return "status"
    if name in BULK:
        return "bulk"
    return "integer"


def _expected_length(args, queued):
    """How many elements the reply to args has, when that is known."""
    name = args[0].upper()
    if name == b"EXEC":
        return queued
    if name == b"HMGET" or name == b"MGET":
        return len(args) - (2 if name == b"HMGET" else 1)
    return None


def _plausible(args, queued):
    """A reply of the right shape (for truncation)."""
    shape = _shape(args[0].decode("latin-1"))
    if shape == "array":
        n = _expected_length(args, queued) or 2
        return b"*%d\r\n" % n + b"$10\r\n0123456789\r\n" * n
    if shape == "status":
        return b"+OK\r\n"
    if shape == "bulk":
        return b"$10\r\n0123456789\r\n"
    return b":12345\r\n"


def _fault_reply(fault, args, queued=0):
    """(bytes to send, then: 'go on' | 'silence' | 'close')"""
    if fault in ERRORS:
        return ERRORS[fault], "go on"
    shape = _shape(args[0].decode("latin-1"))
    if fault == "wrong_type":
        if args[0].upper() == b"EXEC":
            # EXEC answers arrays or nil: its elements are what is wrong
            return b"*%d\r\n" % queued + b"+OK\r\n" * queued, "go on"
        if shape == "integer":
            return b"$1\r\n1\r\n", "go on"
        if shape == "array":
            return b":1\r\n", "go on"
        return b"*1\r\n:1\r\n", "go on"
    if fault == "nil":
        return (b"*-1\r\n" if shape == "array" else b"$-1\r\n"), "go on"
    if fault == "short_array":
        n = _expected_length(args, queued)
        n = max((n or 1) - 1, 0)
        return b"*%d\r\n" % n + b"$-1\r\n" * n, "go on"
    if fault == "garbage":
        return GARBAGE, "go on"
    if fault == "silence":
        return b"", "silence"
    whole = _plausible(args, queued)
    half = whole[:max(len(whole) // 2, 1)]
    return half, ("close" if fault == "close" else "silence")


class _Connection:
    """One client: its commands in order, its own upstream connection."""

    def __init__(self, proxy, reader, writer):
        self.proxy = proxy
        self.reader = reader
        self.writer = writer
        self.up_reader = None
        self.up_writer = None
        self.replies = asyncio.Queue()          # (future, then), in order
        self.upstream = collections.deque()     # (future, reply count)
        self.dead = False                       # silenced or closed
        self.subscriber = False                 # it sent a SUBSCRIBE
        proxy.clients.add(self)

    async def run(self):
        try:
            self.up_reader, self.up_writer = await asyncio.open_connection(
                "127.0.0.1", self.proxy.upstream_port)
        except OSError:
            self.writer.close()
            return
        tasks = [asyncio.ensure_future(self._answer()),
                 asyncio.ensure_future(self._relay())]
        try:
            await self._commands()
        except (ConnectionError, _ProtocolError, asyncio.IncompleteReadError,
                ValueError):
            pass
        finally:
            # wait for the answers still owed unless the link is silenced
            if not self.dead:
                await self.replies.put((None, "end"))
                try:
                    await asyncio.wait_for(tasks[0], 5)
                except Exception:
                    pass
            self.proxy.clients.discard(self)
            for t in tasks:
                t.cancel()
            for w in (self.writer, self.up_writer):
                try:
                    w.close()
                except Exception:
                    pass

    async def _commands(self):
        block = None
        while True:
            args = await _read_command(self.reader)
            if args is None:
                return
            if not args:
                continue
            self.proxy._note(args)
            if args[0].upper() == b"SUBSCRIBE":
                self.subscriber = True
            if self.dead:
                continue                # nothing more is answered
            name = args[0].upper()
            if block is None and name == b"MULTI":
                block = [args]
                continue
            if block is not None:
                block.append(args)
                if name in (b"EXEC", b"DISCARD"):
                    self._unit(block, transaction=True)
                    block = None
                continue
            self._unit([args], transaction=False)

    def _unit(self, cmds, transaction):
        rule, at = self.proxy._match(cmds)
        fut = asyncio.get_event_loop().create_future()
        if rule is not None and rule.fault == HOLD:
            fut.hold = rule
            rule = None
        if rule is None:
            self.up_writer.write(b"".join(_encode(c) for c in cmds))
            self.upstream.append((fut, len(cmds)))
            self.replies.put_nowait((fut, "go on"))
            return
        if not transaction:
            data, then = _fault_reply(rule.fault, cmds[0])
        else:
            queued = len(cmds) - 2
            prefix = [b"+OK\r\n"] + [b"+QUEUED\r\n"] * queued
            if rule.fault in ERRORS and 0 < at < len(cmds) - 1:
                prefix[at] = ERRORS[rule.fault]
                data, then = b"".join(prefix) + EXECABORT, "go on"
            elif rule.fault in ERRORS and at == 0:
                # MULTI refused: Redis would run the rest one by one; the
                # proxy refuses them all
                data = ERRORS[rule.fault] * len(cmds)
                then = "go on"
            else:
                data, then = _fault_reply(rule.fault, cmds[-1], queued)
                data = b"".join(prefix) + data
        if then != "go on":
            self.dead = True
        fut.set_result(data)
        self.replies.put_nowait((fut, then))

    async def _relay(self):
        try:
            await self._relay_replies()
        except (ConnectionError, _ProtocolError, asyncio.IncompleteReadError,
                ValueError, IndexError):
            pass                        # the client's side ends it all

    async def _relay_replies(self):
        while True:
            reply = await _read_reply(self.up_reader)
            if reply.startswith(PUSH):
                # a message of a subscribed connection: nobody asked
                fut = asyncio.get_event_loop().create_future()
                fut.set_result(reply)
                self.replies.put_nowait((fut, "go on"))
                continue
            fut, left = self.upstream[0]
            fut.parts = getattr(fut, "parts", []) + [reply]
            if left == 1:
                self.upstream.popleft()
                fut.set_result(b"".join(fut.parts))
            else:
                self.upstream[0] = (fut, left - 1)

    async def _answer(self):
        while True:
            fut, then = await self.replies.get()
            if then == "end":
                return
            data = await fut
            rule = getattr(fut, "hold", None)
            if rule is not None:
                rule.held.set()
                while not rule.released.is_set():
                    await asyncio.sleep(0.005)
            if data:
                self.writer.write(data)
                await self.writer.drain()
            if then == "close":
                self.writer.transport.abort()
                self.up_writer.close()
                return
            if then == "silence":
                await asyncio.Event().wait()


class FaultProxy:
    def __init__(self, upstream_port, host="127.0.0.1"):
        self.upstream_port = upstream_port
        self.host = host
        self.port = None
        self.rules = []
        self.log = []
        self.clients = set()
        self.lock = threading.Lock()
        self.loop = None
        self.thread = None
        self.server = None

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    # -- control, from the test's thread

    def fail(self, command, fault, key=None, nth=1, count=None):
        rule = Rule(command, fault, key, nth, count)
        with self.lock:
            self.rules.append(rule)
        return rule

    def hold(self, command, key=None, nth=1, count=1):
        return self.fail(command, HOLD, key, nth, count)

    def clear(self):
        with self.lock:
            self.rules = []

    def drop_clients(self, subscribers=False):
        """Closes every client's connection, as a restarting Redis does
        (subscribers: only those that sent a SUBSCRIBE, as CLIENT KILL TYPE
        pubsub does)."""
        async def drop():
            for client in list(self.clients):
                if subscribers and not client.subscriber:
                    continue
                client.writer.transport.abort()
        asyncio.run_coroutine_threadsafe(drop(), self.loop).result(5)

    def commands(self):
        """Every command clients sent, as lists of str, oldest first."""
        with self.lock:
            return [[a.decode("latin-1") for a in c] for c in self.log]

    def forget(self):
        with self.lock:
            self.log = []

    # -- called in the proxy's loop

    def _note(self, args):
        with self.lock:
            self.log.append(args)

    def _match(self, cmds):
        """The first rule matching a command of the unit, and where."""
        with self.lock:
            for rule in self.rules:
                for i, args in enumerate(cmds):
                    if rule.matches(args):
                        return rule, i
        return None, None

    # -- life

    def start(self):
        sock = socket.socket()
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        ready = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)

            async def serve():
                self.server = await asyncio.start_server(
                    self._client, sock=sock)
            self.loop.run_until_complete(serve())
            ready.set()
            self.loop.run_forever()
            self.loop.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self

    async def _client(self, reader, writer):
        await _Connection(self, reader, writer).run()

    def stop(self):
        if self.loop is None:
            return

        async def shutdown():
            self.server.close()
            tasks = [t for t in asyncio.all_tasks()
                     if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop = None
