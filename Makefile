# ljail: a thin wrapper over meson + ninja. The build folder is ./build; commands land in build/<command>.
#   make            build
#   make check      install what the tests need (Debian, as root), build, run every test
#   make demo       install what the demo needs, build, run the seed tutorial demo
#   make bench      install the peers, build, run bench/run (ljail vs LXC, crun, bwrap, unshare)
#   make install    install commands into $(PREFIX)/sbin and man pages into $(PREFIX)/share/man
#   make fuzz       build the libFuzzer harnesses with clang and run each for FUZZ_SECONDS (default 60)
# SANITIZE=1 builds into ./build-san with AddressSanitizer, UBSan and LeakSanitizer.
PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?=
FUZZ ?=
FUZZ_SECONDS ?= 60

ifeq ($(SANITIZE),1)
BUILD ?= build-san
MESON_OPTS = -Db_sanitize=address,undefined -Db_lundef=false
else
BUILD ?= build
MESON_OPTS =
endif

.PHONY: all check demo install fuzz fuzz-build format clean deps-build deps-check deps-demo bench

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX) $(MESON_OPTS)

deps-build:
	scripts/deps.sh build

deps-check:
	scripts/deps.sh check

deps-demo:
	scripts/deps.sh demo

check: deps-check
	$(MAKE) all
	@if [ -n "$(FUZZ)" ]; then $(MAKE) fuzz-build; fi
	LJAIL_BUILD=$(CURDIR)/$(BUILD) LJ_FUZZ_SECONDS=$(FUZZ) LJ_FUZZ_BUILD=$(CURDIR)/build-fuzz tests/run

demo: deps-demo
	$(MAKE) all
	LJAIL_BUILD=$(CURDIR)/$(BUILD) examples/seed/demo.sh

# make bench: install the peers (lxc, crun, bubblewrap), build, and measure ljail against them
# (bench/run; BENCH_RUNS=N to change the number of runs). Table on stdout, JSON in $(BUILD)/bench.json.
bench:
	scripts/deps.sh bench
	$(MAKE) all
	LJAIL_BUILD=$(CURDIR)/$(BUILD) bench/run

install: all
	meson configure $(BUILD) --prefix=$(PREFIX) >/dev/null
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild

build-fuzz/build.ninja:
	CC=clang meson setup build-fuzz -Dfuzz=true -Dfault_injection=false \
		-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link

fuzz-build: build-fuzz/build.ninja
	ninja -C build-fuzz

fuzz: deps-check fuzz-build
	LJAIL_BUILD=$(CURDIR)/$(BUILD) LJ_FUZZ_SECONDS=$(FUZZ_SECONDS) LJ_FUZZ_BUILD=$(CURDIR)/build-fuzz tests/run fuzz

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz
