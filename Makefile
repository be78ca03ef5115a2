# Purser: `make run` runs the pipeline, `make test` runs every test, `make bench` the benchmarks.
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build test run bench chaos clean

# librdkafka comes from the system: install it when pkg-config cannot find it.
deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists rdkafka; then \
		echo "installing librdkafka-dev with apt"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq librdkafka-dev pkg-config; \
	fi

build: deps
	$(SWIFT) build

# Builds the executables first: some tests run them as separate processes.
test: build
	$(SWIFT) test

# `swift run` builds what `purser` needs, then runs the whole pipeline with its demo until Ctrl-C.
run: deps
	$(SWIFT) run purser run --demo

# Release builds; each benchmark prints its figures and the ratio to a baseline measured in the same run.
bench: deps
	$(SWIFT) build -c release --product KafkaBenchmark
	.build/release/KafkaBenchmark
	$(SWIFT) build -c release --product IngestBenchmark
	.build/release/IngestBenchmark
	$(SWIFT) build -c release --product WorkerBenchmark
	.build/release/WorkerBenchmark
	$(SWIFT) build -c release --product PipelineBenchmark
	.build/release/PipelineBenchmark

# Long (about 15 minutes): every chaos scenario with the executables as separate processes, each audited.
# CHAOS_FLAGS passes options, e.g. CHAOS_FLAGS="--scenario replay --rate 50".
chaos: build
	.build/debug/purser-chaos $(CHAOS_FLAGS)

clean:
	rm -rf .build
