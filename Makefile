# SPDX-License-Identifier: GPL-2.0
#
# mxguard build. Everything goes to build/ (out of tree).
#
#   make            build build/mxguard (the XDP object is embedded as a skeleton)
#   make test       install missing packages, build, run every suite
#   make run        install missing packages, build, run the daemon on the
#                   default-route interface with the built-in defaults
#   make bench      speed and memory figures, each beside its alternative
#   make deb        the Debian package in build/ (debian/, dpkg-buildpackage)
#   make fuzz       libFuzzer targets with ASan+UBSan, each run FUZZ_TIME seconds
#   make V=1        show the commands
#
# BPF headers: the XDP program includes the kernel UAPI headers
# (linux/if_ether.h, linux/ip.h, ...) rather than a generated vmlinux.h.
# It only needs wire formats and BPF map/helper definitions, which the UAPI
# headers define exactly; and include/mxguard.h is compiled by both clang
# -target bpf and gcc, which works with UAPI headers but not with vmlinux.h
# (it clashes with libc). No CO-RE relocations are needed: XDP reads packet
# bytes, not kernel structs.

.DELETE_ON_ERROR:
.SUFFIXES:

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  ?= 0.1.0
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	    -Wmissing-prototypes -Wno-unused-parameter

# Program sections are global functions by design: no prototype warnings there.
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	      $(filter-out -Wmissing-prototypes,$(WARNINGS)) -Iinclude -I$(BUILD) \
	      $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))

LIBS_PC := libxdp libbpf libelf zlib libpcre2-8 libsystemd openssl hiredis
CFLAGS  ?= -O2 -g
# user/ holds one folder per layer (README: Layout); each is on the include path.
USER_DIRS := lib detect logs policy fleet kernel daemon cmd
USER_INC  := $(addprefix -Iuser/,$(USER_DIRS))

CFLAGS  += -DMXG_VERSION=\"$(VERSION)\" -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -Iinclude $(USER_INC) -I$(BUILD) \
	   $(shell $(PKG_CONFIG) --cflags $(LIBS_PC) 2>/dev/null)
LDLIBS  += $(shell $(PKG_CONFIG) --libs $(LIBS_PC) 2>/dev/null || \
	     echo -lxdp -lbpf -lelf -lz -lpcre2-8 -lsystemd -lssl -lcrypto -lhiredis) -lpthread

BPF_SRC  := bpf/mxguard.bpf.c
BPF_OBJ  := $(BUILD)/mxguard.bpf.o
SKEL     := $(BUILD)/mxguard.skel.h

USER_SRC := $(wildcard $(addsuffix /*.c,$(addprefix user/,$(USER_DIRS))))
USER_OBJ := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRC))
MAIN_OBJ := $(BUILD)/user/cmd/main.o
LIB_OBJ  := $(filter-out $(MAIN_OBJ),$(USER_OBJ))
LIB      := $(BUILD)/libmxguard.a
BIN      := $(BUILD)/mxguard

TEST_LIB_OBJ := $(BUILD)/tests/lib/test.o
TEST_SRC := $(wildcard tests/unit/test_*.c tests/bpf/test_*.c)
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

.PHONY: all
all: $(BIN)

$(BPF_OBJ): $(BPF_SRC) | $(BUILD)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name mxguard_bpf > $@

$(BUILD)/user/%.o: user/%.c $(SKEL)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%.o: tests/%.c $(SKEL)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib -MMD -MP -c $< -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_LIB_OBJ) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# test_logtime runs user/detect/logtime.c under UBSan: the bugs it guards against
# are signed overflows on attacker-given digits, which only a sanitizer sees.
UBSAN := -fsanitize=undefined -fno-sanitize-recover=undefined
$(BUILD)/tests/unit/logtime_ubsan.o: user/detect/logtime.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(UBSAN) -MMD -MP -c $< -o $@

$(BUILD)/tests/unit/test_logtime: $(BUILD)/tests/unit/test_logtime.o \
		$(BUILD)/tests/unit/logtime_ubsan.o $(TEST_LIB_OBJ) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $(UBSAN) -o $@ $^ $(LDLIBS)

$(BUILD):
	$(Q)mkdir -p $@

BENCH_SRC := $(wildcard tests/bpf/bench_*.c tests/bench/bench_*.c)
BENCH_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(BENCH_SRC))

# The flood bench's own XDP programs (generator, floors, probes), as a skeleton.
FLOOD_SKEL := $(BUILD)/tests/bench/flood.skel.h
$(BUILD)/tests/bench/flood.bpf.o: tests/bench/flood.bpf.c | $(BUILD)
	@mkdir -p $(dir $@)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(FLOOD_SKEL): $(BUILD)/tests/bench/flood.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name flood_bpf > $@

$(BUILD)/tests/bench/bench_flood.o: $(FLOOD_SKEL)

MAN5    := $(BUILD)/mxguard.conf.5
EXAMPLE := $(BUILD)/mxguard.conf.example
BASHCOMP := $(BUILD)/mxguard.bash

# mxguard.conf(5) and the example config come from the config table itself,
# the bash completion from the command and option tables.
.PHONY: docs
docs: $(MAN5) $(EXAMPLE) $(BASHCOMP)

$(BASHCOMP): $(BIN)
	$(call msg,GEN,$@)
	$(Q)$(BIN) completion bash >$@

$(MAN5): man/mxguard.conf.5.in $(BIN)
	$(call msg,GEN,$@)
	$(Q)$(BIN) check-config --reference --man >$@.keys
	$(Q)sed -e '/^@KEYS@$$/{r $@.keys' -e 'd}' $< >$@
	$(Q)rm -f $@.keys

$(EXAMPLE): $(BIN)
	$(call msg,GEN,$@)
	$(Q){ echo '# mxguard config: every key with its default, commented out. See mxguard.conf(5).'; \
	      echo; $(BIN) check-config --reference; } >$@

.PHONY: install
install: $(BIN) $(MAN5) $(EXAMPLE) $(BASHCOMP)
	$(Q)DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' BUILD='$(BUILD)' scripts/install.sh

.PHONY: tests
tests: $(BIN) $(TEST_BIN) $(BENCH_BIN) docs

# make and make run need the build packages only; the test targets also
# install fail2ban, nftables and a real Postfix (meant for test machines).
.PHONY: deps test-deps
deps:
	$(Q)scripts/deps.sh

test-deps:
	$(Q)scripts/deps.sh --test

.PHONY: test
test: test-deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)BUILD=$(BUILD) tests/run.sh

.PHONY: run
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/run-default.sh $(BIN)

.PHONY: demo
demo: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

.PHONY: bench
bench: test-deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)BUILD=$(BUILD) tests/bench/run.sh

# libFuzzer targets (tests/fuzz/fuzz_*.c). The user/ sources they reach
# are compiled again with clang and the sanitizers into their own archive,
# so ASan and UBSan see inside the code under test, not only the harness.
# `make fuzz` builds them and runs each for FUZZ_TIME seconds over its seed
# corpus and regression inputs; tests/live/test_fuzz.sh runs them briefly.
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_TIME   ?= 60
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all \
	       -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 -g $(FUZZ_SAN) -DMXG_VERSION=\"$(VERSION)\" -std=gnu11 \
	       $(WARNINGS) -D_GNU_SOURCE -Iinclude $(USER_INC) -I$(BUILD) \
	       $(shell $(PKG_CONFIG) --cflags $(LIBS_PC) 2>/dev/null)
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN    := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRC))
FUZZ_OBJ    := $(patsubst user/%.c,$(FUZZ_DIR)/user/%.o,$(filter-out user/cmd/main.c,$(USER_SRC)))
FUZZ_LIB    := $(FUZZ_DIR)/libmxguard-fuzz.a

$(FUZZ_DIR)/user/%.o: user/%.c $(SKEL)
	@mkdir -p $(dir $@)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -MF $@.d $< \
		$(FUZZ_LIB) -o $@ $(LDLIBS)

.PHONY: fuzz-build fuzz
fuzz-build: $(FUZZ_BIN)

# make test runs them briefly (tests/live/test_fuzz.sh): build them with the
# rest. Here, not on the tests: line above, where FUZZ_BIN is still empty.
tests: $(FUZZ_BIN)

fuzz: fuzz-build
	$(Q)BUILD=$(BUILD) FUZZ_TIME=$(FUZZ_TIME) FUZZ_CORPUS=keep tests/fuzz/run.sh

# make deb: the Debian package (debian/), built by dpkg-buildpackage -b in
# a copy of the tree under $(BUILD)/deb/: dpkg-buildpackage writes its
# results beside the source directory, and nothing may land outside the
# checkout; the copy also keeps debian/ free of build leftovers. The .deb
# is copied to $(BUILD)/, and lintian reports on it when it is installed
# (with TMPDIR in the build tree: lintian leaves temp files behind).
DEB_CHANGELOG_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
DEB_ARCH = $(shell dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null)
DEB_TOP  := $(BUILD)/deb
DEB_SRC  := $(DEB_TOP)/mxguard-$(VERSION)

.PHONY: deb
deb:
	$(Q)if [ "$(DEB_CHANGELOG_VERSION)" != "$(VERSION)" ]; then \
		echo "make deb: debian/changelog is at version '$(DEB_CHANGELOG_VERSION)', the Makefile at $(VERSION): add a changelog entry" >&2; \
		exit 2; fi
	$(Q)rm -rf $(DEB_TOP) && mkdir -p $(DEB_SRC)
	$(call msg,COPY,$(DEB_SRC))
	$(Q)tar --exclude=./.git --exclude=./build --exclude='./build-*' \
		--exclude='./$(patsubst ./%,%,$(BUILD))' \
		-cf - . | tar -C $(DEB_SRC) -xf -
	$(call msg,DPKG-BP,$(DEB_TOP))
	$(Q)cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b -J2 >../build.log 2>&1 || \
		{ tail -30 ../build.log >&2; echo "make deb: dpkg-buildpackage failed, log in $(DEB_TOP)/build.log" >&2; exit 1; }
	$(Q)cp $(DEB_TOP)/mxguard_$(VERSION)_$(DEB_ARCH).deb $(BUILD)/
	$(Q)rm -rf $(DEB_SRC)
	$(call msg,DEB,$(BUILD)/mxguard_$(VERSION)_$(DEB_ARCH).deb)
	$(Q)if command -v lintian >/dev/null; then \
		mkdir -p $(DEB_TOP)/lintian-tmp; \
		TMPDIR=$(DEB_TOP)/lintian-tmp lintian --info \
			$(BUILD)/mxguard_$(VERSION)_$(DEB_ARCH).deb || true; \
		rm -rf $(DEB_TOP)/lintian-tmp; fi

.PHONY: clean
clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

.PHONY: help
help:
	@echo 'Targets:'
	@echo '  all (default)  build $(BIN)'
	@echo '  test           install missing packages (scripts/deps.sh --test), build, run all tests'
	@echo '  run            build and run the daemon on the default-route interface'
	@echo '  deb            the Debian package $(BUILD)/mxguard_$(VERSION)_ARCH.deb (dpkg-buildpackage, debian/)'
	@echo '  bench          benchmarks, each figure beside its alternative'
	@echo '  fuzz           build the libFuzzer targets, run each FUZZ_TIME seconds (default 60)'
	@echo '  install        binary, systemd unit, config, man pages, fail2ban action, bash completion (DESTDIR, PREFIX=/usr/local)'
	@echo '  docs           generate mxguard.conf(5), the example config and the bash completion from the tables'
	@echo '  demo           a narrated attack on a real Postfix, blocked live by mxguard'
	@echo '  deps           install the Debian packages building and running need'
	@echo '  test-deps      also those of the tests, bench and demo (Postfix, fail2ban, nftables)'
	@echo '  clean          remove $(BUILD)/'
	@echo 'Variables: V=1 (show commands), BUILD=dir, CC, CLANG, BPFTOOL, FUZZ_TIME'

-include $(wildcard $(BUILD)/*.d $(BUILD)/user/*/*.d $(BUILD)/tests/*/*.d \
		    $(FUZZ_DIR)/*.d $(FUZZ_DIR)/user/*/*.d)
