# gridbus: build, run, check, bench, install.
#
# Sources are found by folder, so a new file needs no edit here:
#   proto/*.c          the codec, linked into the daemon and into libgridbus
#   daemon/*.c         gridbusd
#   clients/lib/*.c    libgridbus (static and shared)
#   clients/cli/*.c    the gridbus CLI
#   tests/lib/*.c      helpers shared by tests (daemon launcher, ...)
#   tests/unit/*.c     one Criterion binary per file, pure logic
#   tests/e2e/*.c      one Criterion binary per file, against the real gridbusd
# Everything is built twice: build/ (release) and build/asan/ (ASan + UBSan), and
# `make check` runs every test binary of both.

PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
VERSION  := 0.1.0

PKGS     := libevent libzmq msgpack lmdb libfyaml jansson libsystemd
TEST_PKGS := criterion
DEB_PKGS := pkg-config libevent-dev libzmq3-dev libmsgpack-dev liblmdb-dev libfyaml-dev \
            libjansson-dev libsystemd-dev libcriterion-dev systemd python3 python3-zmq \
            python3-msgpack clang libclang-rt-14-dev

CC       ?= cc
OPT      ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
DEFS     := -D_GNU_SOURCE -DGB_VERSION='"$(VERSION)"'
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS   = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)
INCS     := -Iproto -Iclients/lib -Idaemon -Itests/lib
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

PROTO_SRC  := $(wildcard proto/*.c)
DAEMON_SRC := $(wildcard daemon/*.c)
LIB_SRC    := $(wildcard clients/lib/*.c)
CLI_SRC    := $(wildcard clients/cli/*.c)
TLIB_SRC   := $(wildcard tests/lib/*.c)
UNIT_SRC   := $(wildcard tests/unit/*.c)
E2E_SRC    := $(wildcard tests/e2e/*.c)
BENCH_SRC  := $(wildcard tests/bench/*.c)
GEN_SRC    := $(wildcard tests/gen/*.c)

# $(call objs,BUILDDIR,SOURCES)
objs = $(patsubst %.c,$(1)/obj/%.o,$(2))

# The daemon's objects without main.c, so unit tests can link the modules.
DAEMON_LIB_SRC := $(filter-out daemon/main.c,$(DAEMON_SRC))

define variant
# $(1) = build dir, $(2) = extra flags
$(1)/obj/%.o: %.c
	@mkdir -p $$(dir $$@)
	@echo "  CC      $$@"
	@$$(CC) $$(OPT) $$(WARN) $$(DEFS) $(2) $$(INCS) $$(PKG_CFLAGS) $$(TEST_CFLAGS) -MMD -MP -c $$< -o $$@

$(1)/gridbusd: $(call objs,$(1),$(DAEMON_SRC) $(PROTO_SRC))
	$$(CC) $(2) -o $$@ $$^ $$(PKG_LIBS) -lm

$(1)/libgridbus.a: $(call objs,$(1),$(LIB_SRC) $(PROTO_SRC))
	@rm -f $$@
	ar rcs $$@ $$^

$(1)/gridbus: $(call objs,$(1),$(CLI_SRC)) $(1)/libgridbus.a
	$$(CC) $(2) -o $$@ $$^ $$(PKG_LIBS) -lm

$(1)/gridbus-gen: $(call objs,$(1),$(GEN_SRC)) $(1)/libgridbus.a
	$$(CC) $(2) -o $$@ $$^ $$(PKG_LIBS) -lm

$(1)/tests/unit/%: $(1)/obj/tests/unit/%.o $(call objs,$(1),$(DAEMON_LIB_SRC) $(TLIB_SRC)) $(1)/libgridbus.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(2) -o $$@ $$^ $$(PKG_LIBS) $$(TEST_LIBS) -lm

$(1)/tests/e2e/%: $(1)/obj/tests/e2e/%.o $(call objs,$(1),$(TLIB_SRC)) $(1)/libgridbus.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(2) -o $$@ $$^ $$(PKG_LIBS) $$(TEST_LIBS) -lm

$(1)/tests/bench/%: $(1)/obj/tests/bench/%.o $(call objs,$(1),$(TLIB_SRC)) $(1)/libgridbus.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(2) -o $$@ $$^ $$(PKG_LIBS) $$(TEST_LIBS) -lm -lpthread
endef

$(eval $(call variant,build,))
$(eval $(call variant,build/asan,$(SAN)))

# The shared library is release-only; position-independent objects of their own.
build/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(OPT) $(WARN) $(DEFS) -fPIC -fvisibility=hidden -DGB_BUILD_SHARED $(INCS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/libgridbus.so: $(patsubst %.c,build/pic/%.o,$(LIB_SRC) $(PROTO_SRC))
	$(CC) -shared -Wl,-soname,libgridbus.so.0 -Wl,--as-needed -o $@ $^ $(PKG_LIBS)

UNIT_BINS = $(patsubst tests/unit/%.c,$(1)/tests/unit/%,$(UNIT_SRC))
E2E_BINS  = $(patsubst tests/e2e/%.c,$(1)/tests/e2e/%,$(E2E_SRC))
BENCH_BINS = $(patsubst tests/bench/%.c,build/tests/bench/%,$(BENCH_SRC))

RELEASE := build/gridbusd build/gridbus build/libgridbus.a build/libgridbus.so build/gridbus-gen
ASAN    := build/asan/gridbusd build/asan/gridbus build/asan/gridbus-gen

.SECONDARY:

.PHONY: all deps run check check-release check-asan bench install uninstall clean format fuzz
all: deps-quiet
	@$(MAKE) --no-print-directory $(RELEASE)

# deps: installs the Debian packages whose pkg-config names are missing. As root it runs
# apt-get; otherwise it prints the exact line to run and stops.
deps:
	@missing=""; \
	for p in $(PKGS) $(TEST_PKGS); do pkg-config --exists $$p 2>/dev/null || missing="$$missing $$p"; done; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	/usr/bin/python3 -c 'import zmq, msgpack' 2>/dev/null || missing="$$missing python3-zmq"; \
	command -v clang >/dev/null 2>&1 || missing="$$missing clang"; \
	if [ -z "$$missing" ]; then echo "deps: all present"; exit 0; fi; \
	echo "deps: missing:$$missing"; \
	if [ "$$(id -u)" = 0 ]; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $(DEB_PKGS); \
	else \
		echo "deps: run as root:  apt-get install -y $(DEB_PKGS)"; exit 1; \
	fi

deps-quiet:
	@$(MAKE) --no-print-directory deps >/dev/null

run: all
	./build/gridbusd

check: deps-quiet
	@$(MAKE) --no-print-directory $(RELEASE) $(ASAN) $(call UNIT_BINS,build) $(call E2E_BINS,build) \
		$(call UNIT_BINS,build/asan) $(call E2E_BINS,build/asan)
	@CC="$(CC)" tests/run build build/asan

bench: all
	@$(MAKE) --no-print-directory $(BENCH_BINS)
	@tests/bench/run build

fuzz: deps-quiet
	@tests/fuzz/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(SYSCONFDIR)/gridbus \
		$(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 755 build/gridbusd $(DESTDIR)$(PREFIX)/sbin/gridbusd
	install -m 755 build/gridbus $(DESTDIR)$(PREFIX)/bin/gridbus
	install -m 644 clients/lib/gridbus.h $(DESTDIR)$(PREFIX)/include/gridbus.h
	install -m 644 build/libgridbus.a $(DESTDIR)$(PREFIX)/lib/libgridbus.a
	install -m 755 build/libgridbus.so $(DESTDIR)$(PREFIX)/lib/libgridbus.so.0
	ln -sf libgridbus.so.0 $(DESTDIR)$(PREFIX)/lib/libgridbus.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' clients/lib/gridbus.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/gridbus.pc
	install -m 644 conf/daidong.yaml $(DESTDIR)$(SYSCONFDIR)/gridbus/daidong.yaml
	[ -f $(DESTDIR)$(SYSCONFDIR)/gridbus/gridbusd.yaml ] || \
		install -m 644 conf/gridbusd.yaml $(DESTDIR)$(SYSCONFDIR)/gridbus/gridbusd.yaml
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' systemd/gridbusd.service.in \
		> $(DESTDIR)$(PREFIX)/lib/systemd/system/gridbusd.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/gridbusd $(DESTDIR)$(PREFIX)/bin/gridbus \
		$(DESTDIR)$(PREFIX)/include/gridbus.h $(DESTDIR)$(PREFIX)/lib/libgridbus.a \
		$(DESTDIR)$(PREFIX)/lib/libgridbus.so $(DESTDIR)$(PREFIX)/lib/libgridbus.so.0 \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/gridbus.pc $(DESTDIR)$(PREFIX)/lib/systemd/system/gridbusd.service

format:
	clang-format -i $(PROTO_SRC) $(DAEMON_SRC) $(LIB_SRC) $(CLI_SRC) $(TLIB_SRC) $(UNIT_SRC) \
		$(E2E_SRC) $(BENCH_SRC) $(wildcard proto/*.h daemon/*.h clients/*/*.h tests/lib/*.h) \
		$(wildcard tests/fuzz/*.c tests/fuzz/*.h) $(GEN_SRC)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
