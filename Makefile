# ngx_clientauth: `make` builds the module and clientauthctl, `make test` runs
# every test, `make fuzz` the fuzzers, `make demo` runs the demo gateway,
# `make bench` the benchmarks, `make screenshots` the pictures of the pages
# (docs/screenshots/).
# Each target installs the Debian packages it needs (scripts/ensure-packages).

BUILD      := build
MODULE     := $(BUILD)/nginx/objs/ngx_http_clientauth_module.so
ASAN_MOD   := $(BUILD)/asan/nginx/objs/ngx_http_clientauth_module.so
CTL        := $(BUILD)/clientauthctl
LIB_DIR    := ngx_clientauth/lib
LIB_SRCS   := $(wildcard $(LIB_DIR)/*.c)
LIB_HDRS   := $(wildcard $(LIB_DIR)/*.h)
MOD_FILES  := config $(wildcard ngx_clientauth/*.c ngx_clientauth/*.h) \
              $(LIB_SRCS) $(LIB_HDRS)
CTL_SRCS   := $(wildcard ngx_clientauth/clientauthctl/*.c)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_OBJS  := $(patsubst $(LIB_DIR)/%.c,$(BUILD)/fuzz/lib/%.o,$(LIB_SRCS))

CC         ?= cc
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Werror -Wno-unused-parameter -Wpointer-arith
LIBS       := -lhiredis -lsodium -lcrypt
PYTHON     := /usr/bin/python3

# libFuzzer: every target for FUZZ_SECONDS each; `make test` gives all of
# them together about FUZZ_CI_BUDGET seconds (shared, at most FUZZ_SECONDS
# each), whatever the number of targets.
FUZZ_CC        := clang
FUZZ_CFLAGS    := -fsanitize=fuzzer,address,undefined \
                  -fno-sanitize-recover=all -g -O1
FUZZ_SECONDS   ?= 10
FUZZ_CI_BUDGET ?= 75

BUILD_PKGS := gcc make nginx nginx-dev libhiredis-dev libsodium-dev \
              libcrypt-dev libpcre2-dev libssl-dev zlib1g-dev
FUZZ_PKGS  := $(BUILD_PKGS) clang
TEST_PKGS  := $(FUZZ_PKGS) libcmocka-dev redis-server redis-tools \
              redis-sentinel \
              python3-pytest python3-requests gdb chromium chromium-driver \
              python3-selenium
BENCH_PKGS := $(TEST_PKGS) wrk gnuplot-nox libjemalloc2 libjemalloc-dev \
              valgrind

.PHONY: all deps fuzz-deps test-deps bench-deps module ctl unit fuzz \
        fuzz-ci integration test module-asan test-asan test-valgrind demo \
        bench soak screenshots clean

all: module ctl

deps:
	@scripts/ensure-packages $(BUILD_PKGS)

fuzz-deps:
	@scripts/ensure-packages $(FUZZ_PKGS)

test-deps:
	@scripts/ensure-packages $(TEST_PKGS)

bench-deps:
	@scripts/ensure-packages $(BENCH_PKGS)

module: deps $(MODULE)

$(MODULE): $(MOD_FILES)
	scripts/build-module

# The module with AddressSanitizer and UBSan, for `make test-asan`.
module-asan: deps $(ASAN_MOD)

$(ASAN_MOD): $(MOD_FILES)
	scripts/build-module --sanitize

ctl: deps $(CTL)

$(CTL): $(CTL_SRCS) $(wildcard ngx_clientauth/clientauthctl/*.h) $(LIB_SRCS) $(LIB_HDRS)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) $(WARN) -I$(LIB_DIR) -o $@ $(CTL_SRCS) $(LIB_SRCS) $(LIBS)

$(BUILD)/unit/%: tests/unit/%.c $(LIB_SRCS) $(LIB_HDRS)
	@mkdir -p $(BUILD)/unit
	$(CC) $(CFLAGS) $(WARN) -fsanitize=address,undefined -I$(LIB_DIR) \
	    -o $@ $< $(LIB_SRCS) $(LIBS) -lcmocka

unit: test-deps $(UNIT_BINS)
	@failed=0; for t in $(UNIT_BINS); do $$t || failed=1; done; \
	    exit $$failed

# The library is compiled once with the sanitizers and coverage; each target
# is its own binary.
$(BUILD)/fuzz/lib/%.o: $(LIB_DIR)/%.c $(LIB_HDRS)
	@mkdir -p $(BUILD)/fuzz/lib
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) -I$(LIB_DIR) -c -o $@ $<

$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) -I$(LIB_DIR) -Itests/fuzz \
	    -o $@ $< $(FUZZ_OBJS) $(LIBS)

.SECONDARY: $(FUZZ_OBJS)

fuzz: fuzz-deps $(FUZZ_BINS)
	@scripts/run-fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_BINS)

fuzz-ci: fuzz-deps $(FUZZ_BINS)
	@scripts/run-fuzz --seconds $(FUZZ_SECONDS) --budget $(FUZZ_CI_BUDGET) \
	    $(FUZZ_BINS)

integration: test-deps module ctl
	$(PYTHON) -m pytest tests/integration -q -p no:cacheprovider

# The whole integration suite against the sanitized module, in Debian's
# nginx with libasan preloaded (tests/integration/helpers.py, CA_SANITIZE):
# about the plain suite's time, so `make test` runs both.  It runs with the
# session cache off (CA_SESSION_CACHE=off), the plain run with it on (the
# default): every test sees both read paths without a third run.
test-asan: test-deps module-asan ctl
	CA_SANITIZE=1 CA_SESSION_CACHE=off $(PYTHON) -m pytest tests/integration \
	    -q -p no:cacheprovider

# the session cache (issue 11): invalidations, connections killed, the
# read/invalidate and tracking races, a reload of two workers
VG_CACHE_TESTS := \
    test_session_cache.py::test_revocation_is_refused_by_every_worker_of_every_gateway \
    test_session_cache.py::test_flushall_empties_every_cache \
    test_session_cache.py::test_killed_connection_flushes_and_caching_resumes \
    test_session_cache.py::test_a_reply_older_than_its_invalidation_is_not_cached \
    test_session_cache.py::test_a_tracking_reply_older_than_the_subscriber_is_not_trusted \
    test_session_cache.py::test_reload_gives_the_caches_back_and_the_new_workers_stay_exact

# A few representative flows with nginx under valgrind memcheck: session
# validation, login, logout, reset, clients gone mid-flow (fails on invalid
# accesses, uninitialised values and definite leaks).
VG_TESTS   := \
    test_session.py::test_valid_session_reaches_the_portal_with_the_owners_identity \
    test_session.py::test_forged_token_is_refused \
    test_session.py::test_malformed_cookie_is_refused_without_asking_redis \
    test_session.py::test_user_without_the_permission_gets_403 \
    test_session.py::test_logout_deletes_the_session_and_clears_the_cookie \
    test_session.py::test_browser_logout_goes_back_to_the_login_page \
    test_login_basic.py::test_api_client_logs_in_with_a_form \
    test_login_basic.py::test_api_client_logs_in_with_a_json_body \
    test_login_basic.py::test_login_page_is_served_to_browsers \
    test_login_basic.py::test_wrong_password_and_unknown_account_get_the_same_answer \
    test_login_basic.py::test_malformed_login_gets_400_and_changes_nothing \
    test_reset.py::test_link_message_and_the_token_at_rest \
    test_reset.py::test_unknown_link_is_410 \
    test_reset.py::test_malformed_request_is_400_and_changes_nothing \
    test_reset.py::test_confirm_replaces_the_password_and_ends_every_session \
    test_hostile_clients.py::test_client_gone_while_its_redis_command_is_in_flight \
    $(VG_CACHE_TESTS)

test-valgrind: bench-deps module ctl
	cd tests/integration && CA_VALGRIND=1 $(PYTHON) -m pytest -q \
	    -p no:cacheprovider $(VG_TESTS)

# fuzz first: the runners' summaries close the output
test: fuzz-ci unit integration test-asan

demo: test-deps module ctl
	scripts/demo

bench: bench-deps module ctl
	bench/run

# One gateway under 10 million validated requests and 100,000 logins,
# worker RSS and descriptors sampled (bench/soak; about 6 minutes).
soak: bench-deps module ctl
	bench/soak

# PNGs of the pages of two demo brands in two languages, desktop and 360 px.
screenshots: test-deps module ctl
	scripts/screenshots

clean:
	rm -rf $(BUILD)

# High availability (issue 12): the HA example of lua-free-config/ha/ on
# loopback (DEMO_CHECK=1: scripted failover check), and the failover
# benchmark (bench/ha.py, results in bench/results/).
.PHONY: demo-ha bench-ha

demo-ha: test-deps module ctl
	scripts/demo-ha $(if $(filter 1,$(DEMO_CHECK)),--check)

bench-ha: bench-deps module ctl
	$(PYTHON) bench/ha.py
