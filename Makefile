# mgmtd - build, run and test.
#
#   make          build build/mgmtd (and the static library the tests link)
#   make run      install what is missing, build, serve on 127.0.0.1:8080 (dev config + seed)
#   make test     install what is missing, build, run every suite
#   make deps     install the Debian packages the build and the tests need
#   make format   clang-format every C file in place

# Every Debian package the build, `make run` and `make test` use.
DEB_PACKAGES := build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev \
	libsodium-dev libjwt-dev libinih-dev libssl-dev libcurl4-openssl-dev libcmocka-dev sqlite3 \
	openssl curl \
	python3 python3-pytest python3-requests python3-jwt python3-cryptography

PKGS := libmicrohttpd jansson sqlite3 libsodium libjwt inih openssl libcurl

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

# SANITIZE=address,undefined builds everything into its own directory.
ifneq ($(SANITIZE),)
BUILD := build/sanitize
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

LIB_SRCS := $(filter-out server/main.c,$(wildcard server/*.c))
LIB_OBJS := $(patsubst server/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(BUILD)/obj/schema.o
MIGRATIONS := $(sort $(wildcard schema/[0-9][0-9][0-9][0-9]_*.sql))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps run test unit integration format clean

all: $(BUILD)/mgmtd

$(BUILD)/obj/%.o: server/%.c $(wildcard server/*.h) | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/schema.c: $(MIGRATIONS) tests/tools/embed-schema.sh | $(BUILD)/obj
	sh tests/tools/embed-schema.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/schema.o: $(BUILD)/schema.c server/schema.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libmgmtd.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/mgmtd: $(BUILD)/obj/main.o $(BUILD)/libmgmtd.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmgmtd.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libmgmtd.a $(LIBS) -lcmocka

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

# Checks first and does nothing when every package is there; apt-get update
# runs once, only when something must be installed.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

run: deps
	$(MAKE) $(BUILD)/mgmtd
	mkdir -p var && chmod 0700 var
	$(BUILD)/mgmtd serve --config config/dev.ini --seed config/dev-seed.json

unit: $(UNIT_BINS)
	@pass=0; fail=0; for t in $(UNIT_BINS); do \
		if $$t; then pass=$$((pass+1)); else fail=$$((fail+1)); echo "FAILED: $$t"; fi; \
	done; echo "unit suites: $$pass passed, $$fail failed"; [ $$fail = 0 ]

integration: $(BUILD)/mgmtd
	MGMTD_BIN=$(abspath $(BUILD)/mgmtd) $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) integration

format:
	clang-format -i server/*.c server/*.h tests/unit/*.c

clean:
	rm -rf build
