"""Paths, knobs (environment), targets and the small helpers every part
uses."""

import os
import statistics
import time
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent.parent
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
LIB = REPO / "ngx_clientauth" / "lib"
MODULE = REPO / "build" / "nginx" / "objs" / "ngx_http_clientauth_module.so"
CTL = REPO / "build" / "clientauthctl"
NGINX = "/usr/sbin/nginx"
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"

BRAND = "bench"
COOKIE = "clientauth_" + BRAND
PASSWORD = "Pass-word1"
WRONG = "Wrong-pass9"
HASH_T, HASH_M = 2, 19           # the module's default clientauth_hash_cost
WORKERS = 1                      # gateway worker_processes: see README


def env_int(name, default):
    return int(os.environ.get(name, default))


QUICK = os.environ.get("BENCH_QUICK") == "1"
ROUNDS = env_int("BENCH_ROUNDS", 2 if QUICK else 6)
SECONDS = env_int("BENCH_SECONDS", 2 if QUICK else 4)
# A round is "clean" when no run of it saw more than NOISY of the machine's
# CPU taken by other tenants; validation adds rounds (up to EXTRA_ROUNDS)
# until CLEAN_ROUNDS are clean, and every ratio uses the clean rounds when
# there are at least 3 of them.
NOISY = 0.15
CLEAN_ROUNDS = 1 if QUICK else 5
EXTRA_ROUNDS = 0 if QUICK else 4
LOGIN_ROUNDS = 2 if QUICK else 6
LOGIN_SECONDS = 2 if QUICK else 3
STUFF_ROUNDS = 2 if QUICK else 4
MEM_SEGMENTS = 2 if QUICK else 5
MEM_SECONDS = 3 if QUICK else 8
CONNS = env_int("BENCH_CONNS", 64)
THREADS = env_int("BENCH_THREADS", 2)
LOGIN_CONNS = 2 * THREADS        # keeps the pool busy, queues one behind
LEGIT_LOGIN_CONNS = 2
FLOOD_CONNS = 32
FLOOD_RATE = env_int("BENCH_FLOOD_RATE", 2000)
PROFILE = os.environ.get("BENCH_PROFILE", "auto")
TAG = os.environ.get("BENCH_TAG", "")
# the Redis timeout of the gateway profiled under callgrind
PROFILE_REDIS_TIMEOUT = os.environ.get("BENCH_PROFILE_REDIS_TIMEOUT", "60s")
USERS = 64                       # accounts for the login load
STUFF_USERS = 128                # legitimate users during the stuffing:
                                 # < 10 logins each per 15 min (the default
                                 # per-account window) even with extra rounds
VICTIMS = 16                     # accounts the credential stuffing targets
LEGIT_PACE_MS = 200              # each legitimate login connection waits
# Login throttle of the "login" block: far above what the bench offers, so
# that the limiter's Redis work is done but never refuses; windows that no
# default uses, so its counters are not the other blocks' counters.
NO_LIMIT = "100000000 7s"

TARGETS = {
    "validate": 0.95,            # validated req/s / plain proxy req/s
    "roundtrips": 1.0,           # Redis round trips per validated request
    "cached_cmds": 0.01,         # Redis commands per validated request
                                 # with the session cache
    "revocation_p99_ms": 5.0,    # revoking reply to refusal elsewhere
    "login": 0.9,                # logins/s / raw argon2id verify rate
    "stuffing": 0.8,             # validated req/s during flood / without
}
LOOKUP_HMGETS = 2                # per validation, pipelined: the session
                                 # and the user it names


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
