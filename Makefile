# ngx_clientauth: `make` builds the module and clientauthctl, `make test` runs
# every test, `make demo` runs the demo gateway, `make bench` the benchmarks,
# `make screenshots` the pictures of the pages (docs/screenshots/).
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

CC         ?= cc
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Werror -Wno-unused-parameter -Wpointer-arith
LIBS       := -lhiredis -lsodium -lcrypt
PYTHON     := /usr/bin/python3

BUILD_PKGS := gcc make nginx nginx-dev libhiredis-dev libsodium-dev \
              libcrypt-dev libpcre2-dev libssl-dev zlib1g-dev
TEST_PKGS  := $(BUILD_PKGS) libcmocka-dev redis-server redis-tools \
              python3-pytest python3-requests chromium chromium-driver \
              python3-selenium
BENCH_PKGS := $(TEST_PKGS) wrk gnuplot-nox libjemalloc2 libjemalloc-dev \
              valgrind

.PHONY: all deps test-deps bench-deps module ctl unit integration test \
        demo bench screenshots clean

all: module ctl

deps:
	@scripts/ensure-packages $(BUILD_PKGS)

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

integration: test-deps module ctl
	$(PYTHON) -m pytest tests/integration -q -p no:cacheprovider

test: unit integration

demo: test-deps module ctl
	scripts/demo

bench: bench-deps module ctl
	bench/run

# PNGs of the pages of two demo brands in two languages, desktop and 360 px.
screenshots: test-deps module ctl
	scripts/screenshots

clean:
	rm -rf $(BUILD)
