# mgmtd - build, run and test.
#
#   make          build build/mgmtd and build/mgmtctl (and the static libraries the tests link)
#   make run      install what is missing, build, serve on 127.0.0.1:8080 (dev config + seed)
#   make test     install what is missing, build, run every suite: unit and integration,
#                 the same with the clock decades ahead, the same against an ASan+UBSan
#                 build, the container image built and driven, every fuzzer for 10 s
#   make check    unit and integration suites of one build (SANITIZE=... for a sanitized one);
#                 the integration suite runs twice, on SQLite and on PostgreSQL (BACKENDS=)
#   make clock-ahead  unit and integration suites with the wall clock of the tests and of
#                 every daemon CLOCK_AHEAD_YEARS (25) years ahead (libfaketime)
#   make deps     install the Debian and npm packages the build and the tests need
#   make deps-build  only the Debian packages building and running need (`make run` uses it)
#   make format   clang-format every C (and C++) file in place
#   make asan / make ubsan   sanitized builds (build/san-*); `make test SANITIZE=address,undefined`
#                 runs the unit and integration suites against one
#   make fuzz     every libFuzzer harness for FUZZ_SECONDS (60) each (build/fuzz)
#   make memcheck a short integration run with mgmtd under valgrind memcheck
#   make container-test  the Dockerfile built with podman and its image driven
#                 (tests/container/, docs/container.md)
#   make bench    mgmtd against a bare libmicrohttpd server (tests/bench/, docs/benchmarks.md)
#   make install  binaries, man pages, example config, systemd units, sysusers.d and
#                 tmpfiles.d snippets under $(DESTDIR)$(PREFIX) (PREFIX=/usr/local)
#   make uninstall  removes them again (the configuration in SYSCONFDIR stays)

# The Debian packages building mgmtd and mgmtctl and `make run` need (deps-build).
DEB_BUILD_PACKAGES := build-essential pkg-config libmicrohttpd-dev libjansson-dev \
	libsqlite3-dev libsodium-dev libjwt-dev libinih-dev libssl-dev libcurl4-openssl-dev \
	libgnutls28-dev libsystemd-dev libpq-dev
# Every Debian package the build, `make run` and `make test` use (deps).
DEB_PACKAGES := $(DEB_BUILD_PACKAGES) libcmocka-dev sqlite3 \
	openssl curl python3 python3-pytest python3-requests python3-jwt python3-cryptography nginx \
	clang libclang-rt-14-dev valgrind wrk faketime libre2-dev chromium chromium-driver \
	python3-selenium systemd prometheus jq gnutls-bin groff-base \
	man-db postgresql influxdb caddy podman runc debootstrap python3-yaml patroni \
	etcd-server haproxy

# Packages (package:service) whose postinst enables and starts a system service that
# nothing uses: the tests start their own etcd and HAProxy (tests/tools/patroni.py).
# `make deps` installs them with service starts refused (policy-rc.d) and, on a
# systemd host, disables the services of those it installed.
UNUSED_SERVICES := etcd-server:etcd haproxy:haproxy

# npm packages of the tests, pinned by tests/node/package-lock.json and installed
# into tests/node/node_modules with the machine's Node.js (20 or later) and npm.
NODE_DIR := tests/node

PKGS := libmicrohttpd jansson sqlite3 libsodium libjwt inih openssl libcurl gnutls libsystemd libpq

# The release this tree is; `mgmtd version` prints it with the libraries' versions.
VERSION := 0.11.0

CC ?= cc
PYTHON := /usr/bin/python3
BUILD ?= build

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wvla -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARNINGS) -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	-Iserver -I$(BUILD) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
ALL_LDFLAGS := $(LDFLAGS)

# SANITIZE=address,undefined builds everything into its own directory, one per
# combination, so that objects of two kinds never mix.
comma := ,
ifneq ($(SANITIZE),)
BUILD := build/san-$(subst $(comma),-,$(SANITIZE))
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

# What a sanitized process does on a report: stop at the first one, exit with a
# status nobody else uses, and look for leaks at exit. The integration suite also
# fails a test whose daemon log or CLI output holds a report (conftest.py).
SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:exitcode=86:abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87 \
	LSAN_OPTIONS=exitcode=88

LIB_SRCS := $(filter-out server/main.c,$(wildcard server/*.c))
LIB_OBJS := $(patsubst server/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(BUILD)/obj/schema.o \
	$(BUILD)/obj/schema_pg.o $(BUILD)/obj/ui_files.o
MIGRATIONS := $(sort $(wildcard schema/[0-9][0-9][0-9][0-9]_*.sql))
# mgmtctl, the influxctl look-alike client (server/ctl/): its own modules in
# build/libmgmtctl.a, plus the few server modules it shares, linked by name.
CTL_SRCS := $(filter-out server/ctl/main.c,$(wildcard server/ctl/*.c))
CTL_OBJS := $(patsubst server/ctl/%.c,$(BUILD)/obj/ctl/%.o,$(CTL_SRCS))
CTL_SHARED_OBJS := $(BUILD)/obj/util.o $(BUILD)/obj/timeutil.o
CTL_LIBS := $(shell pkg-config --libs jansson libcurl libsodium 2>/dev/null)

PG_MIGRATIONS := $(sort $(wildcard schema/postgres/[0-9][0-9][0-9][0-9]_*.sql))
UI_FILES := $(sort $(wildcard server/ui/*))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps deps-build deps-node run test check unit integration clock-ahead ui-screenshots format clean asan \
	ubsan sanitize fuzz fuzz-ci fuzz-build memcheck bench install uninstall container-test

all: $(BUILD)/mgmtd $(BUILD)/mgmtctl

$(BUILD)/obj/%.o: server/%.c $(wildcard server/*.h) | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/schema.c: $(MIGRATIONS) tests/tools/embed-schema.sh | $(BUILD)/obj
	sh tests/tools/embed-schema.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

# version.o alone knows the version and what it was built against.
$(BUILD)/obj/version.o: ALL_CFLAGS += -DMGMTD_VERSION='"$(VERSION)"' \
	-DMGMTD_BUILT_WITH='"$(foreach p,$(PKGS),$(p)=$(shell pkg-config --modversion $(p) 2>/dev/null))"'
$(BUILD)/obj/version.o: Makefile

$(BUILD)/obj/schema.o: $(BUILD)/schema.c server/schema.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/schema_pg.c: $(PG_MIGRATIONS) tests/tools/embed-schema.sh | $(BUILD)/obj
	sh tests/tools/embed-schema.sh --prefix postgres_schema $(PG_MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/schema_pg.o: $(BUILD)/schema_pg.c server/schema.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The Admin UI's files, embedded like the migrations (server/ui.h).
$(BUILD)/ui_files.c: $(UI_FILES) tests/tools/embed-ui.sh | $(BUILD)/obj
	sh tests/tools/embed-ui.sh $(UI_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/ui_files.o: $(BUILD)/ui_files.c server/ui.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libmgmtd.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/mgmtd: $(BUILD)/obj/main.o $(BUILD)/libmgmtd.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/obj/ctl/%.o: server/ctl/%.c $(wildcard server/ctl/*.h) $(wildcard server/*.h) | $(BUILD)/obj/ctl
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libmgmtctl.a: $(CTL_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/mgmtctl: $(BUILD)/obj/ctl/main.o $(BUILD)/libmgmtctl.a $(CTL_SHARED_OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(CTL_LIBS) -lpthread

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libmgmtctl.a $(BUILD)/libmgmtd.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libmgmtctl.a $(BUILD)/libmgmtd.a $(LIBS) -lcmocka

$(BUILD)/obj $(BUILD)/obj/ctl $(BUILD)/tests:
	mkdir -p $@

# Checks first and does nothing when every package is there; apt-get update
# runs once, only when something must be installed. deps-build: only what
# building and running need (`make run` does not install the tests' tools, nor
# their npm packages).
deps: DEPS_DEBS = $(DEB_PACKAGES)
deps-build: DEPS_DEBS = $(DEB_BUILD_PACKAGES)
deps deps-build:
	@missing=""; for p in $(DEPS_DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		policy=/usr/sbin/policy-rc.d; ours=; \
		if [ ! -e $$policy ]; then \
			printf '#!/bin/sh\nexit 101\n' | $$SUDO tee $$policy >/dev/null && \
			$$SUDO chmod 0755 $$policy && ours=1; \
		fi; \
		$$SUDO apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; rc=$$?; \
		if [ -n "$$ours" ]; then $$SUDO rm -f $$policy; fi; \
		for ps in $(UNUSED_SERVICES); do \
			case " $$missing " in *" $${ps%%:*} "*) \
				if [ -d /run/systemd/system ]; then \
					$$SUDO systemctl disable --now $${ps#*:} >/dev/null 2>&1 || true; \
				fi;; \
			esac; \
		done; \
		[ $$rc = 0 ]; \
	fi

# The tests' npm packages, for `make deps`, with the machine's own Node.js and npm.
deps: deps-node
deps-node:
	@if ! cmp -s $(NODE_DIR)/package-lock.json $(NODE_DIR)/node_modules/.installed-lock; then \
		command -v npm >/dev/null || { echo "npm is missing: install Node.js 20+ with npm"; exit 1; }; \
		echo "installing npm packages in $(NODE_DIR)"; \
		(cd $(NODE_DIR) && npm ci --no-audit --no-fund) && \
		cp $(NODE_DIR)/package-lock.json $(NODE_DIR)/node_modules/.installed-lock; \
	fi

run: deps-build
	$(MAKE) $(BUILD)/mgmtd $(BUILD)/mgmtctl
	mkdir -p var && chmod 0700 var
	$(BUILD)/mgmtd serve --config config/dev.ini --seed config/dev-seed.json

# INTEGRATION_TESTS: which integration tests `make integration` runs (all by default).
INTEGRATION_TESTS ?= tests/integration
# TEST_ENV: more environment for every test process (clock-ahead sets libfaketime there).
TEST_ENV ?=

# test_store_contract runs once per backend: beside a PostgreSQL server of its own.
unit: $(UNIT_BINS)
	@pass=0; fail=0; for t in $(UNIT_BINS); do \
		case $$t in *test_store_contract) run="$(PYTHON) tests/tools/pgserver.py --";; *) run=;; esac; \
		if $(SANITIZER_ENV) $(TEST_ENV) $$run $$t; then pass=$$((pass+1)); else fail=$$((fail+1)); echo "FAILED: $$t"; fi; \
	done; echo "unit suites: $$pass passed, $$fail failed"; [ $$fail = 0 ]

# The suite's window on RE2 (the engine of Go secret scanners), for the
# scanner expressions of docs/tokens.md (test_token_regex.py).
RE2FIND := build/tools/re2find
$(RE2FIND): tests/tools/re2find.cc
	mkdir -p $(dir $@)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -O2 -g -o $@ $< $(shell pkg-config --cflags --libs re2)

# The integration suite once per store backend (BACKENDS=postgres for one):
# the PostgreSQL pass starts a server of its own (tests/tools/pgserver.py;
# the server itself runs on the real clock, whatever TEST_ENV says) and
# removes it. Both passes run even when the first fails.
BACKENDS ?= sqlite postgres
integration: $(BUILD)/mgmtd $(BUILD)/mgmtctl $(RE2FIND)
	@rc=0; for b in $(BACKENDS); do echo "== integration suite, $$b store"; \
		$(SANITIZER_ENV) $(TEST_ENV) MGMTD_TEST_BACKEND=$$b MGMTD_BIN=$(abspath $(BUILD)/mgmtd) \
		MGMTD_SANITIZED=$(SANITIZE) MGMTCTL_BIN=$(abspath $(BUILD)/mgmtctl) \
		MGMTD_RE2FIND=$(abspath $(RE2FIND)) \
		$(PYTHON) -m pytest -q -p no:cacheprovider $(INTEGRATION_TESTS) $(PYTEST_ARGS) || rc=1; \
	done; exit $$rc

# The browser tests again, writing their screenshots into docs/ui/ (docs/ui.md
# shows them); a plain run writes them under build/ui-shots/.
ui-screenshots: $(BUILD)/mgmtd $(RE2FIND)
	$(MAKE) integration INTEGRATION_TESTS=tests/integration/test_ui.py BACKENDS=sqlite \
		TEST_ENV="MGMTD_UI_SHOTS=$(abspath docs/ui)"

# One build and its two suites.
check: all
	$(MAKE) unit
	$(MAKE) integration

# The guard against tests that pass only near today: the unit and integration
# suites with the wall clock of the test processes and of every daemon they
# start CLOCK_AHEAD_YEARS years ahead. libfaketime fakes the monotonic clock
# by the same offset (with it real, Python's sleeps fail under 0.9.10);
# durations stay right. The suite checks that the clock really moved
# (MGMTD_CLOCK_AHEAD_MIN_YEAR), so a preload that did nothing cannot pass.
CLOCK_AHEAD_YEARS ?= 25
# Every time mgmtd compares is its own clock's (the PostgreSQL server keeps
# the real one): the SQLite pass covers the calendar; the PostgreSQL pass
# would repeat it and double the time (CLOCK_AHEAD_BACKENDS="sqlite postgres"
# runs both).
CLOCK_AHEAD_BACKENDS ?= sqlite
FAKETIME_LIB = $(firstword $(wildcard /usr/lib/*/faketime/libfaketimeMT.so.1))

clock-ahead: all $(UNIT_BINS)
	@test -n "$(FAKETIME_LIB)" || { echo "libfaketime is missing: run make deps"; exit 1; }
	$(MAKE) unit integration BACKENDS="$(CLOCK_AHEAD_BACKENDS)" TEST_ENV="LD_PRELOAD=$(FAKETIME_LIB) FAKETIME=+$(CLOCK_AHEAD_YEARS)y \
		MGMTD_CLOCK_AHEAD_MIN_YEAR=$$(( $$(date -u +%Y) + $(CLOCK_AHEAD_YEARS) - 1 ))"

# Everything CI runs: the plain suites, the same with the clock decades
# ahead, the same suites against an address+undefined sanitized build, the
# container image (once), and every fuzzer for 30 s. With SANITIZE given,
# only that build's suites.
# The sanitized build's PostgreSQL pass: what that pass adds to the SQLite one
# is store_pg.c (the statements, the pool, the change channel, failover's
# bounds); everything above the store is the same code, run under the
# sanitizers in the SQLite pass. These files drive the store through every
# kind of row and change (SANITIZED_POSTGRES_TESTS=tests/integration for all).
SANITIZED_POSTGRES_TESTS ?= $(addprefix tests/integration/,test_postgres.py test_credcache.py \
	test_failover.py test_shared_commits.py test_mgmt_tokens.py test_db_tokens.py \
	test_databases.py test_tables.py test_users.py test_invites.py test_audit.py \
	test_attacks_audit.py test_authorize.py test_clusters.py test_restart_seed.py \
	test_seed_databases.py test_identity_upgrade.py test_testing_mode.py test_snapshots.py \
	test_webhook.py test_testing_named_faults.py test_token_expiry.py)

test: deps
ifeq ($(SANITIZE),)
	$(MAKE) check
	$(MAKE) clock-ahead
	$(MAKE) SANITIZE=address,undefined all unit
	$(MAKE) SANITIZE=address,undefined integration BACKENDS=sqlite
	$(MAKE) SANITIZE=address,undefined integration BACKENDS=postgres \
		INTEGRATION_TESTS="$(SANITIZED_POSTGRES_TESTS)"
	$(MAKE) container-test
	$(MAKE) fuzz-ci
else
	$(MAKE) check
endif

asan:
	$(MAKE) SANITIZE=address all

ubsan:
	$(MAKE) SANITIZE=undefined all

sanitize:
	$(MAKE) SANITIZE=address,undefined check

# ---- the container image ----
#
# The Dockerfile built as it is and its image driven (tests/container/, docs/container.md):
# podman as root on a storage of the test's own under build/container/, where the base
# image (debootstrap) and the build's layers stay for the next run. Once per `make test`;
# skipped, saying why, where no container engine can run.
container-test: $(BUILD)/mgmtd
	MGMTD_BIN=$(abspath $(BUILD)/mgmtd) $(PYTHON) -m pytest -q tests/container $(PYTEST_ARGS)

# ---- fuzzing (clang + libFuzzer) ----
#
# The server code is built again with clang into build/fuzz with ASan, UBSan
# and libFuzzer's coverage; each tests/fuzz/fuzz_<name>.c becomes
# build/fuzz/fuzz_<name> and runs over a copy of its committed corpus
# tests/fuzz/corpus/<name>/ (new finds go to build/fuzz/corpus/<name>/, crashes
# to tests/fuzz/artifacts/).

FUZZ_CC := clang
FUZZ_SECONDS ?= 60
FUZZ_DIR := build/fuzz
FUZZ_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-DMGMTD_FUZZING
FUZZ_CFLAGS := -std=gnu11 $(WARNINGS) -O1 -g $(FUZZ_FLAGS) -Iserver -Itests/fuzz -I$(FUZZ_DIR) \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_NAMES))
FUZZ_LIB_OBJS := $(patsubst server/%.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRCS)) $(FUZZ_DIR)/obj/schema.o \
	$(FUZZ_DIR)/obj/schema_pg.o $(FUZZ_DIR)/obj/ui_files.o $(FUZZ_DIR)/obj/harness.o
# mgmtctl's modules in their own archive: ctl/config.o and config.o would be
# one member of a single one.
FUZZ_CTL_OBJS := $(patsubst server/ctl/%.c,$(FUZZ_DIR)/obj/ctl/%.o,$(CTL_SRCS))
FUZZ_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

$(FUZZ_DIR)/obj/%.o: server/%.c $(wildcard server/*.h) | $(FUZZ_DIR)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/obj/ctl/%.o: server/ctl/%.c $(wildcard server/ctl/*.h) $(wildcard server/*.h) | $(FUZZ_DIR)/obj/ctl
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/obj/harness.o: tests/fuzz/harness.c tests/fuzz/harness.h $(wildcard server/*.h) | $(FUZZ_DIR)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/obj/schema.o: $(BUILD)/schema.c server/schema.h | $(FUZZ_DIR)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/obj/schema_pg.o: $(BUILD)/schema_pg.c server/schema.h | $(FUZZ_DIR)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/obj/ui_files.o: $(BUILD)/ui_files.c server/ui.h | $(FUZZ_DIR)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/libmgmtd.a: $(FUZZ_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/libmgmtctl.a: $(FUZZ_CTL_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libmgmtctl.a $(FUZZ_DIR)/libmgmtd.a tests/fuzz/harness.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_DIR)/libmgmtctl.a \
		$(FUZZ_DIR)/libmgmtd.a $(LIBS)

$(FUZZ_DIR)/obj $(FUZZ_DIR)/obj/ctl:
	mkdir -p $@

fuzz-build: $(FUZZ_BINS)

# Runs every harness for FUZZ_SECONDS; the first crash stops everything.
fuzz: fuzz-build
	@mkdir -p tests/fuzz/artifacts
	@for n in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$n; \
		echo "fuzz_$$n: $(FUZZ_SECONDS) s"; \
		$(FUZZ_ENV) $(FUZZ_DIR)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=tests/fuzz/artifacts/$$n- $(FUZZ_ARGS) \
			$(FUZZ_DIR)/corpus/$$n tests/fuzz/corpus/$$n 2>$(FUZZ_DIR)/$$n.log \
			|| { tail -80 $(FUZZ_DIR)/$$n.log; echo "FAILED: fuzz_$$n"; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^stat::new_units_added' $(FUZZ_DIR)/$$n.log; \
	done; echo "fuzz: $(words $(FUZZ_NAMES)) passed, 0 failed"

# The CI form: 10 s each, their corpora replayed first (make fuzz runs them 60 s).
fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=10

# ---- valgrind ----

# A short integration run with the daemon (and the offline CLI) under
# valgrind memcheck: any error or leak makes the process exit 99, which the
# suite reports. tests/valgrind.supp holds the documented library noise.
MEMCHECK_TESTS ?= tests/integration/test_mgmt_tokens.py tests/integration/test_users.py \
	tests/integration/test_auth_jwt.py tests/integration/test_restart_seed.py
memcheck: all
	MGMTD_BIN=$(abspath $(BUILD)/mgmtd) \
	MGMTD_WRAPPER="valgrind --tool=memcheck --quiet --error-exitcode=99 --leak-check=full \
		--show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
		--track-origins=yes --suppressions=$(abspath tests/valgrind.supp)" \
		$(PYTHON) -m pytest -q -p no:cacheprovider $(MEMCHECK_TESTS) $(PYTEST_ARGS)

# ---- benchmark ----

$(BUILD)/bench/bare: tests/bench/bare.c | $(BUILD)/obj
	mkdir -p $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBS)

$(BUILD)/bench/commits: tests/bench/commits.c | $(BUILD)/obj
	mkdir -p $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBS)

bench: deps
	$(MAKE) all $(BUILD)/bench/bare $(BUILD)/bench/commits
	$(PYTHON) tests/bench/run --build $(BUILD) $(BENCH_ARGS)

# ---- install ----
#
# PREFIX (/usr/local) and DESTDIR (a staging root, for packages and tests) as
# usual. The configuration goes to SYSCONFDIR: /etc for PREFIX=/usr, else
# PREFIX/etc; an existing mgmtd.ini is never overwritten. systemd reads units,
# sysusers.d and tmpfiles.d from PREFIX/lib too (/usr/local/lib/systemd/...).

PREFIX ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/mgmtd
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install
SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

install: all
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)
	$(INSTALL) -m 0755 $(BUILD)/mgmtd $(DESTDIR)$(BINDIR)/mgmtd
	if [ -x $(BUILD)/mgmtctl ]; then $(INSTALL) -m 0755 $(BUILD)/mgmtctl $(DESTDIR)$(BINDIR)/mgmtctl; fi
	$(INSTALL) -d -m 0755 $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(COMPLETIONDIR)
	$(INSTALL) -m 0644 docs/mgmtctl.1 $(DESTDIR)$(MANDIR)/man1/mgmtctl.1
	$(INSTALL) -m 0644 config/mgmtctl.bash $(DESTDIR)$(COMPLETIONDIR)/mgmtctl
	$(INSTALL) -m 0644 man/mgmtd.8 $(DESTDIR)$(MANDIR)/man8/mgmtd.8
	$(INSTALL) -m 0644 man/mgmtd.conf.5 $(DESTDIR)$(MANDIR)/man5/mgmtd.conf.5
	$(INSTALL) -m 0644 config/mgmtd.ini $(DESTDIR)$(DOCDIR)/mgmtd.ini.example
	$(INSTALL) -m 0644 config/nginx-data-plane.conf config/caddy-data-plane.Caddyfile README.md \
		$(DESTDIR)$(DOCDIR)/
	$(SUBST) systemd/mgmtd.service.in > $(DESTDIR)$(SYSTEMDDIR)/mgmtd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/mgmtd.service
	$(INSTALL) -m 0644 systemd/mgmtd.socket $(DESTDIR)$(SYSTEMDDIR)/mgmtd.socket
	$(INSTALL) -m 0644 systemd/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/mgmtd.conf
	$(SUBST) systemd/tmpfiles.conf.in > $(DESTDIR)$(TMPFILESDIR)/mgmtd.conf
	chmod 0644 $(DESTDIR)$(TMPFILESDIR)/mgmtd.conf
	$(INSTALL) -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/mgmtd
	if [ ! -e $(DESTDIR)$(SYSCONFDIR)/mgmtd/mgmtd.ini ]; then \
		sed -e 's|^data_dir = var$$|data_dir = /var/lib/mgmtd|' config/mgmtd.ini \
			> $(DESTDIR)$(SYSCONFDIR)/mgmtd/mgmtd.ini && \
		chmod 0640 $(DESTDIR)$(SYSCONFDIR)/mgmtd/mgmtd.ini; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mgmtd $(DESTDIR)$(BINDIR)/mgmtctl \
		$(DESTDIR)$(MANDIR)/man8/mgmtd.8 $(DESTDIR)$(MANDIR)/man5/mgmtd.conf.5 \
		$(DESTDIR)$(MANDIR)/man1/mgmtctl.1 $(DESTDIR)$(COMPLETIONDIR)/mgmtctl \
		$(DESTDIR)$(SYSTEMDDIR)/mgmtd.service $(DESTDIR)$(SYSTEMDDIR)/mgmtd.socket \
		$(DESTDIR)$(SYSUSERSDIR)/mgmtd.conf $(DESTDIR)$(TMPFILESDIR)/mgmtd.conf
	rm -rf $(DESTDIR)$(DOCDIR)
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/mgmtd (configuration) and /var/lib/mgmtd (data)"

format:
	clang-format -i server/*.c server/*.h server/ctl/*.c server/ctl/*.h tests/unit/*.c \
		tests/fuzz/*.c tests/fuzz/*.h $(wildcard tests/bench/*.c) tests/tools/re2find.cc

clean:
	rm -rf build
