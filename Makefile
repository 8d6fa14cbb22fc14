# Entry points: `make run` (set up, build, run the default topology) and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOVL_WERROR=ON
# The test, sanitizer and fuzz builds are three trees of the same sources: ccache (installed by
# scripts/install-deps) keeps rebuilds cheap.
CCACHE := $(if $(shell command -v ccache),\
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
# Paths relative to the checkout, so that another clone of the same sources hits the cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
SANITIZE_BUILD ?= build-sanitize
# -O1 (ASan's own advice) and line tables only: the sanitized tree compiles in about half the
# time of -O2 -g, and reports still name file:line.
SANITIZE_OPT ?= -O1 -g1 -DNDEBUG
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 300
# Any ASan or UBSan report fails the test that saw it (CMakeLists.txt: -fno-sanitize-recover).
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1

.PHONY: deps build run test sanitize fuzz fuzz-build fuzz-seeds bench format clean

deps:
	scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) $(CCACHE) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/harness/harness run topologies/local.yaml

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# The unit and over-the-wire suites under ASan + UBSan: everything but the VM tests and the
# harness end-to-end runs (labels vm, e2e, browser), which keeps CI within its 45 minutes.
sanitize: deps
	cmake -S . -B $(SANITIZE_BUILD) $(CMAKE_FLAGS) $(CCACHE) -DOVL_SANITIZE=ON \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$(SANITIZE_OPT)" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$(SANITIZE_OPT)" \
	  >/dev/null
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && $(SANITIZER_ENV) ctest --output-on-failure -j $(JOBS) --timeout 900 -LE "vm|e2e|browser"

# The libFuzzer targets of tests/fuzz/, FUZZ_SECONDS each (docs/fuzzing.md).
fuzz: fuzz-build
	$(SANITIZER_ENV) scripts/run-fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-build: deps
	CC=clang-16 CXX=clang++-16 cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DOVL_FUZZ=ON $(CCACHE) >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz make_seeds

# Rewrites the generated seeds of tests/fuzz/corpus (tests/fuzz/make_seeds.cc).
fuzz-seeds: fuzz-build
	$(FUZZ_BUILD)/tests/fuzz/make_seeds tests/fuzz/corpus

bench: build
	scripts/run-benchmarks $(BUILD)

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(FUZZ_BUILD)
