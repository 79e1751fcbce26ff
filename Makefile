# supervisord — plain GNU make.  `make demo` and `make check` are all a newcomer needs:
# each first installs the missing Debian packages it needs (DEPS_demo, DEPS_check; as
# root), and nothing more.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
# systemd looks for units in /usr/local/lib/systemd/system too.
UNITDIR    ?= $(PREFIX)/lib/systemd/system
# supervisord reads /etc/supervisord.conf by default, wherever PREFIX is.
SYSCONFDIR ?= /etc
LOGDIR     ?= /var/log/supervisord
DOCDIR     ?= $(PREFIX)/share/doc/supervisord
# bash-completion looks in $XDG_DATA_DIRS (/usr/local/share:/usr/share)/bash-completion/completions.
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR    ?=
CC         ?= cc
PKG_CONFIG ?= pkg-config
PACKAGES   := libconfuse libsystemd

# Evaluated when a recipe runs (recursive `=`), so that `deps` can install pkg-config and
# the libraries before the first compiler command needs their flags.
PKG_CFLAGS  = $(shell $(PKG_CONFIG) --cflags $(PACKAGES))
PKG_LIBS    = $(shell $(PKG_CONFIG) --libs $(PACKAGES))
# supervisorctl needs only libconfuse: libsystemd and the six libraries it pulls in
# would double the time its exec takes (about 1 ms), on every command.
CTL_LIBS    = $(shell $(PKG_CONFIG) --libs libconfuse)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS   = $(shell $(PKG_CONFIG) --libs check)

OPTFLAGS   ?= -O2 -g
WARNFLAGS  := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes
ALL_CFLAGS  = $(OPTFLAGS) $(WARNFLAGS) $(SANFLAGS) -D_GNU_SOURCE -DSUPERVISORD_VERSION=\"$(VERSION)\" \
              -Isupervisord $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

# Build directory: objects and test binaries.  The sanitizer build uses its own.
B          ?= build
BINDIR     ?= supervisord

# Every module but the two programs' main files is shared by the daemon and the tests.
CORE_SRCS  := $(filter-out main.c supervisorctl.c ctl_xmlrpc.c,$(notdir $(wildcard supervisord/*.c)))
CORE_OBJS  := $(CORE_SRCS:%.c=$(B)/%.o)
# The HTTP front-end's modules (supervisord/http/): they parse hostile input, so the root
# daemon never links them, and they alone need expat.
# main.c and rpc.c are supervisord-http's own (the front-end program, started by
# supervisord as an unprivileged user; main.c provides rpc.c's native_request), with
# libmicrohttpd; the tests link the other modules.
HTTPD_ONLY := supervisord/http/main.c supervisord/http/rpc.c supervisord/http/web.c
HTTP_OBJS  := $(patsubst supervisord/http/%.c,$(B)/http/%.o,$(filter-out $(HTTPD_ONLY),$(wildcard supervisord/http/*.c)))
HTTP_LIBS   = $(shell $(PKG_CONFIG) --libs expat)
HTTPD_LIBS  = $(shell $(PKG_CONFIG) --libs expat libmicrohttpd)
# What the front-end shares with the core: the line protocol's parsing, and no more.
HTTPD_OBJS := $(B)/http/main.o $(B)/http/rpc.o $(B)/http/web.o $(B)/http/assets.o $(HTTP_OBJS) $(B)/protocol.o $(B)/names.o $(B)/printable.o $(B)/util.o
CTL_OBJS   := $(B)/supervisorctl.o $(B)/ctl_xmlrpc.o $(B)/protocol.o $(B)/names.o $(B)/printable.o $(B)/util.o $(B)/config.o $(B)/model.o $(B)/ini_config.o $(B)/ini.o $(B)/cmdline.o $(B)/eventtype.o

# Every tests/test_*.c is one test program (Check unit tests and integration tests alike).
TESTS      := $(basename $(notdir $(wildcard tests/test_*.c)))
TEST_BINS  := $(TESTS:%=$(B)/tests/%)

# Every tests/fuzz/fuzz_TARGET.c is a libFuzzer target.  `make check` replays its corpus
# (tests/fuzz/corpus/TARGET/) through replay_TARGET, built with the normal compiler from
# tests/fuzz/replay.c; `make fuzz` fuzzes each target with clang for FUZZ_SECONDS.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BINS  := $(FUZZ_TARGETS:%=$(B)/fuzz/replay_%)
FUZZ_SECONDS ?= 60

# The Debian packages each target needs, installed by `deps-TARGET` when missing: the
# demo only builds; the tests add Check, systemd (systemd-notify and
# systemd-socket-activate), python3 (the benchmark smoke run, the script tests and the reference readings of
# test_ini and test_xmlrpc) and
# socat (the man pages' examples); supervisor (its childutils, which test_listener's
# event listeners are written with); clang with libclang-rt-dev (libFuzzer, a recommends of
# clang) only for `make fuzz`, valgrind only for `make check-valgrind`.
DEPS_demo     := gcc libc6-dev make pkg-config libconfuse-dev libsystemd-dev
# libexpat1-dev, libmicrohttpd-dev: the HTTP front-end (supervisord/http/); supervisor
# (Python's supervisorctl and supervisord) and prometheus-node-exporter: its clients in
# test_http; ansible: its community.general.supervisorctl module on our supervisorctl in
# test_ansible.py.
DEPS_check    := $(DEPS_demo) libexpat1-dev libmicrohttpd-dev check systemd python3 socat supervisor \
                 prometheus-node-exporter ansible
DEPS_fuzz     := $(DEPS_demo) clang libclang-rt-dev
DEPS_valgrind := $(DEPS_check) valgrind
# The web page in a real browser (tests/browser/test_web.py): Debian's chromium, its
# chromedriver and Python's selenium, for `make check-browser` only.
DEPS_browser  := $(DEPS_check) chromium chromium-driver python3-selenium

.PHONY: all check check-asan check-browser run-tests run-browser install install-strip clean deps deps-demo deps-check deps-fuzz deps-valgrind deps-browser demo

all: $(BINDIR)/supervisord $(BINDIR)/supervisorctl $(BINDIR)/supervisord-http

$(B)/%.o: supervisord/%.c supervisord/*.h | $(B)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/http/%.o: supervisord/http/%.c supervisord/http/*.h supervisord/*.h | $(B)/http
	$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags expat libmicrohttpd) -Isupervisord/http -c -o $@ $<

# Installation paths the programs name (main.c: the example config), rewritten (when
# make reads this file) only when they change, so that `make install PREFIX=/usr`
# rebuilds what names them and `make -q` still sees an unchanged build as up to date.
PATHS_H := \#define SUPERVISORD_EXAMPLE_CONFIG "$(DOCDIR)/supervisord.conf"
ifneq ($(file <$(B)/paths.h),$(PATHS_H))
$(shell mkdir -p $(B) && printf '%s\n' '$(PATHS_H)' > $(B)/paths.h)
endif
$(B)/main.o: $(B)/paths.h
$(B)/main.o: ALL_CFLAGS += -I$(B)

# The web page's files (supervisord/http/web/), embedded in supervisord-http by .incbin.
$(B)/http/assets.o: supervisord/http/assets.S $(wildcard supervisord/http/web/*) | $(B)/http
	$(CC) -c -o $@ $<

$(B)/tests/%.o: tests/%.c tests/*.h supervisord/*.h | $(B)/tests
	$(CC) $(ALL_CFLAGS) -Itests -Isupervisord/http $(CHECK_CFLAGS) -c -o $@ $<

$(B) $(B)/tests $(B)/http:
	mkdir -p $@

$(BINDIR)/supervisord: $(B)/main.o $(CORE_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BINDIR)/supervisord-http: $(HTTPD_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(HTTPD_LIBS)

$(BINDIR)/supervisorctl: $(CTL_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CTL_LIBS)

# Unit tests link the modules directly; integration tests drive the binaries.
$(B)/tests/%: $(B)/tests/%.o $(B)/tests/harness.o $(CORE_OBJS) $(HTTP_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS) $(HTTP_LIBS)

.PRECIOUS: $(B)/%.o $(B)/tests/%.o $(B)/http/%.o

# Example services the integration tests run (tests/helper_NAME.c, one file each): built
# next to the test programs, before any of them, since a test finds them beside itself.
TEST_HELPERS := $(patsubst tests/helper_%.c,$(B)/tests/helper_%,$(wildcard tests/helper_*.c))

$(B)/tests/helper_%: tests/helper_%.c supervisord/*.h | $(B)/tests
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

$(TEST_BINS): | $(TEST_HELPERS)

# Script tests (tests/test_*.py): the install, the Makefile's targets, the man pages'
# examples.  They get the build's B and BINDIR, to run make without building anew.
SCRIPT_TESTS := $(wildcard tests/test_*.py)

run-tests: all $(TEST_BINS) $(REPLAY_BINS) $(B)/bench/probe
	@failed=0; for t in $(TEST_BINS) $(REPLAY_BINS) $(SCRIPT_TESTS); do \
	    echo "== $$t"; \
	    case $$t in *.py) run="$(PYTHON) $$t";; *) run=$$t;; esac; \
	    SUPERVISORD=$(abspath $(BINDIR))/supervisord SUPERVISORCTL=$(abspath $(BINDIR))/supervisorctl \
	    SUPERVISORD_SANITIZED=$(if $(SANFLAGS),1,) SUPERVISORD_BUILD="B=$(B) BINDIR=$(BINDIR)" \
	        $$run || failed=$$((failed + 1)); \
	done; \
	echo "== $(BROWSER_TEST)"; \
	if $(BROWSER_PRESENT); then $(BROWSER_RUN) || failed=$$((failed + 1)); \
	else echo "   skipped: chromium, chromium-driver or python3-selenium is not installed (make check-browser installs them)"; fi; \
	echo "== benchmark smoke run (tests/bench/bench.py --smoke)"; \
	$(BENCH) --smoke --out $(B)/bench/smoke.md > /dev/null || failed=$$((failed + 1)); \
	if [ $$failed -ne 0 ]; then echo "$$failed test program(s) failed"; exit 1; fi

check: deps-check
	$(MAKE) run-tests

# The web page's browser test: run by `make check` too when its packages are there.  It
# needs Debian's /usr/bin/python3 (python3-selenium), whatever python3 is first on PATH.
BROWSER_TEST    := tests/browser/test_web.py
BROWSER_PRESENT  = test -x /usr/bin/chromium && test -x /usr/bin/chromedriver && /usr/bin/python3 -c 'import selenium' 2>/dev/null
BROWSER_RUN      = SUPERVISORD=$(abspath $(BINDIR))/supervisord SUPERVISORCTL=$(abspath $(BINDIR))/supervisorctl \
                   HELPER_HEARTBEAT=$(abspath $(B))/tests/helper_heartbeat /usr/bin/python3 $(BROWSER_TEST)

check-browser: deps-browser
	$(MAKE) run-browser

run-browser: all $(TEST_HELPERS)
	$(BROWSER_RUN)

check-asan: deps-check
	$(MAKE) run-tests B=build-asan BINDIR=build-asan OPTFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all"

# Fuzz targets and their corpus replays (see FUZZ_TARGETS).  `make fuzz` builds every
# module with clang and libFuzzer into build-fuzz/ and runs each target for FUZZ_SECONDS:
# what it learns goes to build-fuzz/fuzz/corpus-TARGET/, a crash to
# build-fuzz/fuzz/crash-TARGET-* (-close_fd_mask=1: libconfuse's scanner echoes some bad
# input to stdout).  Check a crash with `build/fuzz/replay_TARGET FILE`, fix
# it and keep the file in tests/fuzz/corpus/TARGET/ so that `make check` replays it.
$(B)/fuzz/%.o: tests/fuzz/%.c tests/fuzz/*.h supervisord/*.h | $(B)/fuzz
	$(CC) $(ALL_CFLAGS) -Isupervisord/http -c -o $@ $<

$(B)/fuzz:
	mkdir -p $@

# (ctl_xmlrpc.o: supervisorctl's reader of XML-RPC answers, for fuzz_ctlreply.)
$(B)/fuzz/replay_%: $(B)/fuzz/fuzz_%.o $(B)/fuzz/replay.o $(CORE_OBJS) $(HTTP_OBJS) $(B)/ctl_xmlrpc.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(HTTP_LIBS)

$(B)/fuzz/fuzzer_%: $(B)/fuzz/fuzz_%.o $(CORE_OBJS) $(HTTP_OBJS) $(B)/ctl_xmlrpc.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(HTTP_LIBS)

# fuzz_http runs the front-end itself: http/main.c (included), rpc.c, the web page's
# files (web.c, assets.S) and libmicrohttpd.
$(B)/fuzz/fuzz_http.o: supervisord/http/main.c supervisord/http/*.h
$(B)/fuzz/fuzz_http.o: ALL_CFLAGS += $(shell $(PKG_CONFIG) --cflags expat libmicrohttpd)
$(B)/fuzz/replay_http: $(B)/fuzz/fuzz_http.o $(B)/fuzz/replay.o $(B)/http/rpc.o $(B)/http/web.o $(B)/http/assets.o \
                       $(CORE_OBJS) $(HTTP_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(HTTPD_LIBS)
$(B)/fuzz/fuzzer_http: $(B)/fuzz/fuzz_http.o $(B)/http/rpc.o $(B)/http/web.o $(B)/http/assets.o $(CORE_OBJS) $(HTTP_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(HTTPD_LIBS)

.PRECIOUS: $(B)/fuzz/%.o

.PHONY: fuzz fuzz-run
fuzz: deps-fuzz
	$(MAKE) fuzz-run B=build-fuzz CC=clang OPTFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    SANFLAGS="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"

fuzz-run: $(FUZZ_TARGETS:%=$(B)/fuzz/fuzzer_%)
	@failed=0; for t in $(FUZZ_TARGETS); do \
	    echo "== fuzzing $$t for $(FUZZ_SECONDS) s"; \
	    mkdir -p $(B)/fuzz/corpus-$$t; \
	    $(B)/fuzz/fuzzer_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -close_fd_mask=1 -print_final_stats=1 \
	        -artifact_prefix=$(B)/fuzz/crash-$$t- $(B)/fuzz/corpus-$$t tests/fuzz/corpus/$$t \
	        || failed=$$((failed + 1)); \
	done; \
	if [ $$failed -ne 0 ]; then echo "$$failed fuzz target(s) failed: see $(B)/fuzz/crash-*"; exit 1; fi

# Every integration program (those that start the daemon) with the daemon under valgrind
# memcheck.  It fails on any error or definite leak ("==PID==" lines; "--PID--" ones are
# valgrind's own notes, such as a syscall it does not know) in the daemon's logs, one per
# daemon run in build-valgrind/valgrind/ (services are silent in the fork before exec), and
# on a failed test of the programs in VALGRIND_STRICT.  The others assert latencies in
# milliseconds, or set rlimits valgrind refuses (limit-nofile), so under valgrind their
# results are shown but only their valgrind logs count.
VALGRIND_TESTS   = $(basename $(notdir $(shell grep -l daemon_start tests/test_*.c)))
VALGRIND_STRICT := test_daemon test_reload test_supervision test_workers
VALGRIND        := valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
                   --errors-for-leak-kinds=definite --child-silent-after-fork=yes --num-callers=30

.PHONY: check-valgrind run-valgrind
check-valgrind: deps-valgrind
	$(MAKE) run-valgrind B=build-valgrind BINDIR=build-valgrind OPTFLAGS="-O1 -g"

run-valgrind: all $(VALGRIND_TESTS:%=$(B)/tests/%)
	@rm -rf $(B)/valgrind; mkdir -p $(B)/valgrind; failed=0; \
	for t in $(VALGRIND_TESTS); do \
	    echo "== $$t (supervisord under valgrind)"; \
	    SUPERVISORD=$(abspath $(BINDIR))/supervisord SUPERVISORCTL=$(abspath $(BINDIR))/supervisorctl \
	    SUPERVISORD_WRAPPER="$(VALGRIND) --log-file=$(abspath $(B))/valgrind/$$t.%p.log" \
	        $(B)/tests/$$t && continue; \
	    case " $(VALGRIND_STRICT) " in \
	    *" $$t "*) failed=$$((failed + 1));; \
	    *) echo "   $$t: not in VALGRIND_STRICT, only its valgrind logs count";; \
	    esac; \
	done; \
	runs=$$(ls $(B)/valgrind | wc -l); bad=$$(grep -l '^==[0-9]*==' $(B)/valgrind/*.log 2>/dev/null); \
	for log in $$(find $(B)/valgrind -name '*.log' -size +0c); do echo "== $$log"; cat $$log; done; \
	echo "valgrind: $$runs daemon runs, $$(echo $$bad | wc -w) with errors or definite leaks"; \
	if [ $$runs -eq 0 ] || [ -n "$$bad" ]; then failed=$$((failed + 1)); fi; \
	if [ $$failed -ne 0 ]; then echo "check-valgrind failed"; exit 1; fi

# The benchmark (tests/bench/, issue 7): our supervisord against Debian's supervisor, runit
# and s6 (installed when missing, as root) and the physical limits, for BENCH_N services;
# the table goes to stdout and $(B)/bench/results.md.  Slow (about 17 minutes on 2 cores) and noisy
# on a busy machine; `make check` runs a smoke version of it (N = 10, ours only).
PYTHON  ?= python3
BENCH_N ?= 100 1000
# More options for bench.py (e.g. BENCH_ARGS="--idle-seconds 10 --peer-max-n supervisor=1000").
BENCH_ARGS ?=
BENCH    = $(PYTHON) tests/bench/bench.py --probe $(B)/bench/probe \
           --supervisord $(BINDIR)/supervisord --supervisorctl $(BINDIR)/supervisorctl

$(B)/bench/probe: tests/bench/probe.c
	@mkdir -p $(B)/bench
	$(CC) $(OPTFLAGS) $(WARNFLAGS) -o $@ $<

.PHONY: bench
bench: all $(B)/bench/probe
	$(BENCH) $(BENCH_N:%=--n %) $(BENCH_ARGS) --out $(B)/bench/results.md

# Files `make install` writes outside $(SYSCONFDIR), as they will be on the target system
# (without DESTDIR): none may belong to a Debian package (Debian's supervisor ships
# /usr/bin/supervisord and /usr/bin/supervisorctl) unless FORCE=1.  DPKG_ADMINDIR asks
# another dpkg database (the tests use one of their own).
INSTALLED := $(PREFIX)/bin/supervisord $(PREFIX)/bin/supervisorctl $(PREFIX)/libexec/supervisord/supervisord-http $(PREFIX)/share/man/man1/supervisorctl.1 \
             $(PREFIX)/share/man/man5/supervisord.conf.5 $(PREFIX)/share/man/man8/supervisord.8 \
             $(DOCDIR)/supervisord.conf $(UNITDIR)/supervisord.service $(UNITDIR)/supervisord.socket \
             $(COMPLETIONDIR)/supervisorctl
DPKG_ADMINDIR ?=
FORCE      ?=
INSTALL_STRIP ?=

# `make install-strip`: the same, with the programs stripped of their symbols.
install-strip:
	$(MAKE) install INSTALL_STRIP=-s

install: all
	@if command -v dpkg > /dev/null && [ -z "$(FORCE)" ]; then \
	    owned=$$(dpkg $(if $(DPKG_ADMINDIR),--admindir=$(DPKG_ADMINDIR)) -S $(INSTALLED) 2>/dev/null \
	             | grep -v '^diversion '); \
	    if [ -n "$$owned" ]; then \
	        echo "install: would overwrite files of Debian packages:" >&2; \
	        echo "$$owned" | sed 's/^/    /' >&2; \
	        echo "install: remove the package, pick another PREFIX (the default is /usr/local), or run make install FORCE=1" >&2; \
	        exit 1; \
	    fi; \
	fi
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPLETIONDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -d -m 0750 $(DESTDIR)$(LOGDIR)
	install -m 0755 $(INSTALL_STRIP) $(BINDIR)/supervisord $(BINDIR)/supervisorctl $(DESTDIR)$(PREFIX)/bin/
	@# supervisord finds its HTTP front-end in ../libexec/supervisord/ beside its own directory.
	install -d $(DESTDIR)$(PREFIX)/libexec/supervisord
	install -m 0755 $(INSTALL_STRIP) $(BINDIR)/supervisord-http $(DESTDIR)$(PREFIX)/libexec/supervisord/
	install -m 0644 man/supervisorctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/supervisord.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 man/supervisord.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 conf/supervisord.conf $(DESTDIR)$(DOCDIR)/
	install -m 0644 conf/supervisorctl.bash-completion $(DESTDIR)$(COMPLETIONDIR)/supervisorctl
	@# The unit names the binary and the config where this install puts them.
	sed -e 's|/usr/local/bin/|$(PREFIX)/bin/|g' -e 's|-c /etc/supervisord.conf|-c $(SYSCONFDIR)/supervisord.conf|' \
	    conf/supervisord.service > $(DESTDIR)$(UNITDIR)/supervisord.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/supervisord.service
	install -m 0644 conf/supervisord.socket $(DESTDIR)$(UNITDIR)/
	@# What is in $(SYSCONFDIR) is the admin's: installed when missing, never overwritten.
	@for f in supervisord.conf:conf/etc-supervisord.conf logrotate.d/supervisord:conf/supervisord.logrotate; do \
	    target=$(DESTDIR)$(SYSCONFDIR)/$${f%%:*}; \
	    if [ -e "$$target" ]; then echo "install: keeping $$target"; continue; fi; \
	    echo "install: $$target (from $${f#*:})"; \
	    sed -e 's|/var/log/supervisord|$(LOGDIR)|g' -e 's|/usr/local/share/doc/supervisord|$(DOCDIR)|g' \
	        $${f#*:} > "$$target.new" && chmod 0644 "$$target.new" && mv "$$target.new" "$$target" || exit 1; \
	done

clean:
	rm -rf build build-asan build-fuzz build-valgrind $(BINDIR)/supervisord $(BINDIR)/supervisorctl

# Install what TARGET needs and is missing (as root), or say exactly what to run.
deps-demo deps-check deps-fuzz deps-valgrind deps-browser: deps-%:
	@missing=""; for p in $(DEPS_$*); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	    echo "deps: installing$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	    echo "deps: missing packages; run: sudo apt-get install -y$$missing" >&2; exit 1; \
	fi

# Everything the build and `make check` need.
deps: deps-check

demo: deps-demo
	$(MAKE) all
	@echo "supervisord running in the foreground on conf/demo.conf (Ctrl-C stops it)."
	@echo "From another terminal: $(BINDIR)/supervisorctl -s /tmp/supervisord-demo.sock status"
	$(BINDIR)/supervisord -n -c conf/demo.conf
