# ngx_clientauth: `make` builds the module and clientauthctl, `make test` runs
# every test, `make fuzz` the fuzzers, `make demo` runs the demo gateway,
# `make bench` the benchmarks, `make screenshots` the pictures of the pages
# (docs/screenshots/).
# Each target installs the Debian packages it needs (scripts/ensure-packages).

BUILD      := build
MODULE     := $(BUILD)/nginx/objs/ngx_http_clientauth_module.so
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
              python3-pytest python3-requests gdb chromium chromium-driver \
              python3-selenium
BENCH_PKGS := $(TEST_PKGS) wrk gnuplot-nox libjemalloc2 libjemalloc-dev \
              valgrind

.PHONY: all deps fuzz-deps test-deps bench-deps module ctl unit fuzz \
        fuzz-ci integration test demo bench screenshots clean

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

# fuzz first: the runners' summaries close the output
test: fuzz-ci unit integration

demo: test-deps module ctl
	scripts/demo

bench: bench-deps module ctl
	bench/run

# PNGs of the pages of two demo brands in two languages, desktop and 360 px.
screenshots: test-deps module ctl
	scripts/screenshots

clean:
	rm -rf $(BUILD)
