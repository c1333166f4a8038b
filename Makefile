# One entry for every task, used the same way by people and by CI.
# Each target creates the virtual environment itself on first use.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint bench services schemas clean

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

# Micro-benchmarks so far: message decoding and the model (the end-to-end
# suite with baselines in the same run is the performance issue's).
bench: $(STAMP)
	mkdir -p out
	$(BIN)/python -m bench.decode --out out/bench-decode.json
	$(BIN)/python -m bench.model --out out/bench-model.json

services: $(STAMP)
	$(BIN)/anomstream services

schemas: $(STAMP)
	$(BIN)/anomstream schemas schemas/json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
