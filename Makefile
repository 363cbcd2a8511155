# Loads: build, test, install.  `make V=1` shows full commands.
#
#   make            build build/loads-runner and build/loads-echo
#   make demo       the main job: an example load test against the bundled server
#   make test       the whole suite (unit + end-to-end); TEST=name runs one
#   make asan       the same build with ASan + UBSan and the ucontext switch,
#                   into build-asan/; `make asan test` runs the suite under it
#   make lint       cppcheck and clang-tidy on the C, shellcheck on the scripts
#   make fuzz       libFuzzer targets of the runner's parsers (tests/fuzz), built
#                   with clang into build-fuzz/, FUZZ_SECONDS (20) each
#   make install    PREFIX=/usr/local by default (DESTDIR honoured): programs,
#                   loads.h, loads.pc, man pages (man/)
#   make deps       install missing Debian packages (scripts/deps)

PREFIX  ?= /usr/local
BUILD   ?= build
VERSION := 0.1.0

CC      ?= cc
PKGS    := libcurl libuv libwebsockets
OPT     ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wno-format-truncation -Werror
CFLAGS  += -std=gnu11 $(OPT) $(WARN) -Iinclude -I. -D_GNU_SOURCE \
           -DLOADS_VERSION='"$(VERSION)"' $(EXTRA_CFLAGS)
LDFLAGS += $(EXTRA_LDFLAGS)
LIBS    := -lcurl -lssl -lcrypto -luv -lwebsockets -lncursesw -lzmq -lczmq -lmsgpackc -ljansson \
           -ldl -lm -lpthread -lrt

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Everything but the programs' main files goes into every program.
# cluster/broker.c and cluster/agent.c are the main files of loads-broker
# and loads-agent.
CLUSTER_MAINS := cluster/broker.c cluster/agent.c
CORE_SRCS   := $(sort $(wildcard base/*.c http/*.c ws/*.c shm/*.c worker/*.c tui/*.c web/*.c)) \
               $(filter-out $(CLUSTER_MAINS),$(sort $(wildcard cluster/*.c))) \
               $(filter-out runner/main.c,$(sort $(wildcard runner/*.c)))
CORE_OBJS   := $(CORE_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS   := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJS   := $(UNIT_SRCS:%.c=$(BUILD)/%.o)
DEPS        := $(CORE_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BUILD)/runner/main.d \
               $(BUILD)/examples/echo_server.d $(CLUSTER_MAINS:%.c=$(BUILD)/%.d)

.PHONY: all deps deps-check demo test asan fuzz install uninstall clean format lint bench
all: deps-check $(BUILD)/loads-runner $(BUILD)/loads-echo $(BUILD)/unit-tests \
     $(BUILD)/loads-broker $(BUILD)/loads-agent

# deps-check is cheap when everything is there; `make deps` forces it.
deps-check:
	$(Q)scripts/deps --check-or-install
deps:
	$(Q)scripts/deps

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The runner exports the public API (loads_*) so that test modules, built
# as shared objects without any library, resolve it when loaded.
$(BUILD)/loads-runner: $(BUILD)/runner/main.o $(CORE_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS)

# The agent loads test modules too, so it exports the API as the runner does.
$(BUILD)/loads-agent: $(BUILD)/cluster/agent.o $(CORE_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS)

$(BUILD)/loads-broker: $(BUILD)/cluster/broker.o $(CORE_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/loads-echo: $(BUILD)/examples/echo_server.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lwebsockets -luv

$(BUILD)/unit-tests: $(UNIT_OBJS) $(CORE_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS)

demo: all
	$(Q)BUILD=$(BUILD) scripts/demo

test: all
	$(Q)BUILD=$(BUILD) tests/run $(TEST)

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DLOADS_UCONTEXT" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" $(filter-out asan,$(MAKECMDGOALS))

# The parsers' libFuzzer targets, their objects built with the same flags.
FUZZ_SECONDS ?= 20
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_SAN     := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -std=gnu11 -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -DLOADS_UCONTEXT \
                $(filter-out -Wno-format-truncation,$(WARN)) -Iinclude -I. \
                -D_GNU_SOURCE -DLOADS_VERSION='"$(VERSION)"'
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_OBJS    := $(FUZZ_BUILD)/runner/cli.o $(FUZZ_BUILD)/runner/module.o \
                $(FUZZ_BUILD)/shm/shm.o $(FUZZ_BUILD)/base/buf.o $(FUZZ_BUILD)/http/url.o \
                $(FUZZ_BUILD)/http/h1.o $(FUZZ_BUILD)/http/cookie.o \
                $(FUZZ_BUILD)/cluster/proto.o $(FUZZ_BUILD)/shm/delta.o \
                $(FUZZ_BUILD)/shm/hist.o $(FUZZ_BUILD)/shm/recent.o $(FUZZ_BUILD)/worker/jpath.o \
                $(FUZZ_BUILD)/base/csv.o \
                $(FUZZ_BUILD)/shm/threshold.o $(FUZZ_BUILD)/worker/arrival.o \
                $(FUZZ_BUILD)/web/http.o
.SECONDARY: $(FUZZ_OBJS) $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/tests/fuzz/fuzz_%.o)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
	$(Q)FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

# The websocket receive path runs the glue on a loop, with lws, against a
# server thread: more objects and libraries than the parsers' targets.
FUZZ_WS_OBJS := $(FUZZ_BUILD)/ws/ws.o $(FUZZ_BUILD)/base/vu.o $(FUZZ_BUILD)/base/coro.o \
                $(FUZZ_BUILD)/base/buf.o $(FUZZ_BUILD)/shm/shm.o
.SECONDARY: $(FUZZ_WS_OBJS)
$(FUZZ_BUILD)/fuzz_ws: $(FUZZ_BUILD)/tests/fuzz/fuzz_ws.o $(FUZZ_WS_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ -lwebsockets -luv -lssl -lcrypto -lpthread -lrt -lm

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ -lcurl -lmsgpackc -ljansson -ldl -lrt -lm

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 644 man/loads-runner.1 man/loads-broker.1 man/loads-agent.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/loads.h.3 $(DESTDIR)$(PREFIX)/share/man/man3/loads.h.3
	install -m 755 $(BUILD)/loads-runner $(DESTDIR)$(PREFIX)/bin/loads-runner
	install -m 755 $(BUILD)/loads-broker $(DESTDIR)$(PREFIX)/bin/loads-broker
	install -m 755 $(BUILD)/loads-agent $(DESTDIR)$(PREFIX)/bin/loads-agent
	install -m 644 include/loads.h $(DESTDIR)$(PREFIX)/include/loads.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	  scripts/loads.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/loads.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/loads-runner $(DESTDIR)$(PREFIX)/include/loads.h \
	  $(DESTDIR)$(PREFIX)/bin/loads-broker $(DESTDIR)$(PREFIX)/bin/loads-agent \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/loads.pc \
	  $(DESTDIR)$(PREFIX)/share/man/man1/loads-runner.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man1/loads-broker.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man1/loads-agent.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man3/loads.h.3

format:
	clang-format -i include/*.h runner/*.[ch] base/*.[ch] http/*.[ch] ws/*.[ch] \
	  worker/*.[ch] shm/*.[ch] tui/*.[ch] web/*.[ch] cluster/*.[ch] examples/*.c tests/unit/*.[ch]

# clang-tidy, one process per file, as many at a time as there are cores.
TIDY_SRCS := $(CORE_SRCS) runner/main.c $(CLUSTER_MAINS)
tidy/%:
	@$(if $(Q),echo "  TIDY    $*")
	$(Q)clang-tidy --quiet $* -- $(filter-out -Wno-format-truncation,$(CFLAGS))

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem -Iinclude -I. \
	  -iexamples/js runner base http ws worker shm tui web cluster examples
	$(Q)$(MAKE) --no-print-directory -j"$$(nproc)" $(TIDY_SRCS:%=tidy/%)
	shellcheck -S warning -x tests/run tests/lib.sh tests/e2e/*.sh tests/e2e/*.bash \
	  tests/fuzz/run scripts/deps scripts/demo scripts/bench scripts/bench-cluster scripts/bench-rate \
	  scripts/soak .ci/run

bench: all
	scripts/bench

clean:
	rm -rf build build-asan build-fuzz

-include $(DEPS)
-include $(wildcard $(FUZZ_BUILD)/*/*.d $(FUZZ_BUILD)/*/*/*.d)
