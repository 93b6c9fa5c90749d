# riptide: `make run` serves www/ on http://127.0.0.1:8080; `make test` runs every test.
BUILD      ?= build
BUILD_SAN  ?= build-sanitize
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc)

.PHONY: all run test build deps test-unit test-integration test-sanitize fuzz clean bench

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/riptide --root www --listen 127.0.0.1:8080

FUZZ_SECONDS ?= 120

# Everything CI runs: the fuzz targets briefly, the whole suite under ASan+UBSan, then the
# whole suite on the release build (last, so that ctest's summary is the closing line).
test: build
	scripts/fuzz.sh 5
	$(MAKE) --no-print-directory test-sanitize
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

test-integration: build
	cd $(BUILD) && ctest --output-on-failure -L integration

# The streaming tests move less data under the sanitizers (they are 3-5x slower there).
test-sanitize: deps
	@[ -f $(BUILD_SAN)/build.ninja ] || cmake -S . -B $(BUILD_SAN) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRIPTIDE_SANITIZE=ON
	cmake --build $(BUILD_SAN) -j $(JOBS)
	cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    RIPTIDE_PROXY_STREAM_BYTES=67108864 RIPTIDE_PROXY_UPLOAD_BYTES=33554432 \
	    ctest --output-on-failure -j $(JOBS)

fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

bench: build
	bench/run.sh

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
