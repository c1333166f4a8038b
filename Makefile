# One entry for every task, used the same way by people and by CI.
# Each target creates the virtual environment itself on first use.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint bench evaluate services schemas clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: this exact build lies on disk; another one downloads gigabytes.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/anomstream demo

test: $(STAMP)
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow and not integration"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The benchmark suite (docs/BENCHMARKS.md): the worker against a raw consumer
# and a plain Faust agent in one run, latency, Redis cost, model speed; then
# the decode micro-benchmark and the bad-message flood (docs/RELIABILITY.md).
# `anomstream bench --quick` is a smoke test.
bench: $(STAMP)
	$(BIN)/anomstream bench --out out/bench.json
	$(BIN)/python -m bench.decode --repeat 5 --out out/bench-decode.json
	$(BIN)/python -m bench.bad_flood --out out/bench-flood.json

# Detection quality on injected anomalies, baselines in the same run (docs/QUALITY.md).
evaluate: $(STAMP)
	$(BIN)/anomstream evaluate --json docs/quality.json --markdown docs/QUALITY.md

services: $(STAMP)
	$(BIN)/anomstream services

schemas: $(STAMP)
	$(BIN)/anomstream schemas schemas/json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
