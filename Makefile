# Two commands do all setup on a fresh machine with Python 3.11 and make:
#   make demo   environment + sample extracts + the whole chain, end to end
#   make test   environment + the test suite
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
PERIOD ?= 2019H1
SCALE ?= S
LANDING ?= .sqwh/landing

.PHONY: install demo test lint format warehouse-stop clean bench-ingest

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or make PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced

demo: install
	$(BIN)/sqwh generate --period $(PERIOD) --scale $(SCALE) --out $(LANDING)
	$(BIN)/sqwh run --landing $(LANDING) --period $(PERIOD)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check plugins dags tests
	$(BIN)/ruff format --check plugins dags tests

format: install
	$(BIN)/ruff check --fix plugins dags tests
	$(BIN)/ruff format plugins dags tests

warehouse-stop: install
	$(BIN)/sqwh warehouse stop

clean: warehouse-stop
	rm -rf .sqwh

bench-ingest: install
	$(BIN)/python benchmarks/bench_ingest.py $(BENCH_ARGS)
