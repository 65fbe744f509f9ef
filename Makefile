# callcoach build, provisioning and test entry points.
#
#   make run    installs what is missing, provisions the model, builds the
#               demo corpus and index, and starts callcoach
#   make test   the same set-up, then every test
#
# Portable binaries: ggml is built without -march=native unless NATIVE=1.

SHELL := /bin/bash
CARGO ?= cargo
NATIVE ?= 0
export GGML_NATIVE := $(if $(filter 1,$(NATIVE)),ON,OFF)

APT_PACKAGES := cmake libclang-dev espeak-ng sox libsox-fmt-all ffmpeg fonts-noto-cjk python3-pip
# The dev profile builds dependencies with full optimisation (Cargo.toml),
# so tests and `make run` share one build; `make release` builds the
# fully optimised binary into target/release.
BIN := target/debug/callcoach
MODEL := models/ggml-tiny.en.bin

.PHONY: all deps build release model model-base model-minilm fixtures corpus test run lint bench clean

all: build

## Installs missing system packages (apt-get as root; otherwise prints the command).
deps:
	@missing=""; \
	for pkg in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing system packages:$$missing"; \
	    echo "run: sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

build: deps
	$(CARGO) build --bin callcoach

release: deps
	$(CARGO) build --release --bin callcoach

## Provisions the English tiny.en model (cached under models/cache).
model: build
	$(BIN) model install tiny.en

## Provisions the multilingual base model, needed for Mandarin.
model-base: build
	$(BIN) model install base

## Provisions the all-MiniLM-L6-v2 sentence encoder used for classification.
model-minilm: build
	$(BIN) model install minilm

## Generates the audio fixtures of the test suite.
fixtures: deps
	bash tests/fixtures/generate.sh

## Synthesises the demo corpus snippets and builds the search index.
corpus: build
	bash scripts/synth-snippets.sh
	$(BIN) kb build --corpus corpus

## Mandarin tests need the multilingual base model and the classifier tests
## the sentence encoder, so the suite provisions all three.
test: model model-base model-minilm fixtures corpus
	$(CARGO) test --no-fail-fast --lib --bins --tests -- --test-threads=2

run: model corpus
	$(BIN) demo

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

bench: model
	$(CARGO) bench

clean:
	$(CARGO) clean
