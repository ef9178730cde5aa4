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

# --compile-bytecode: each stage, task and test runs in a new process; without .pyc files
# (PYTHONDONTWRITEBYTECODE, a read-only venv) each would compile Airflow, dbt and Great
# Expectations from source again: the quality gate spent 14 of its 16 s importing GX
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --compile-bytecode --python $(PYTHON)
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
	$(BIN)/python -m sqwh.sqllint  # sqlfluff, dbt templater (dbt/.sqlfluff); starts the embedded warehouse if needed

format: install
	$(BIN)/ruff check --fix plugins dags tests
	$(BIN)/ruff format plugins dags tests
	$(BIN)/python -m sqwh.sqllint --fix

warehouse-stop: install
	$(BIN)/sqwh warehouse stop

clean: warehouse-stop
	rm -rf .sqwh

bench-ingest: install
	$(BIN)/python benchmarks/bench_ingest.py $(BENCH_ARGS)

# --- benchmark of the whole chain (issue 8): make bench [BENCH_ARGS="--scale 0.1"] ---------
.PHONY: bench
bench: install  ## province-scale half year (--scale 1 = ~70 M rows) + one more day, per stage
	$(BIN)/python benchmarks/bench_chain.py $(BENCH_ARGS)

# --- Airflow (issue 6): the local scheduler stack, the dbt manifest for cosmos ------------
AIRFLOW_PORT ?= 8080
.PHONY: dbt-manifest airflow airflow-up airflow-down airflow-status airflow-backfill

dbt-manifest: install  ## dbt parse -> dbt/target/cosmos/manifest.json (read by the build_marts DAG)
	$(BIN)/python -c "from sqwh.dbt_tasks import ensure_manifest; print(ensure_manifest())"

airflow: install  ## api-server + scheduler + dag-processor + triggerer in the foreground (Ctrl-C stops)
	$(BIN)/python -m sqwh.airflow_stack up --port $(AIRFLOW_PORT) --foreground

airflow-up: install  ## the same, in the background
	$(BIN)/python -m sqwh.airflow_stack up --port $(AIRFLOW_PORT)

airflow-down: install
	$(BIN)/python -m sqwh.airflow_stack down

airflow-status: install
	$(BIN)/python -m sqwh.airflow_stack status --port $(AIRFLOW_PORT)

airflow-backfill: install  ## rebuild a past half year with Airflow's backfill: make airflow-backfill PERIOD=2019H1
	$(BIN)/python -m sqwh.airflow_stack backfill --period $(PERIOD) --port $(AIRFLOW_PORT)

# --- BI (issue 11): Apache Superset 6.1 on the published marts, as bi_reader ----------------
.PHONY: bi bi-stop bi-status

bi: install  ## Superset in .bi/venv (from bi/requirements.lock), dashboard imported, on 127.0.0.1:8088
	$(BIN)/python -m sqwh.bi.cli up

bi-stop: install
	$(BIN)/python -m sqwh.bi.cli down

bi-status: install
	$(BIN)/python -m sqwh.bi.cli status

# --- Reliability (issue 10): the fault catalogue as tests, and the matrix they prove -------
RELIABILITY_XML ?= .sqwh/reliability/junit.xml
.PHONY: reliability

reliability: install  ## every test of tests/reliability/cases.yml, then docs/reliability.md (fails if a case did not run)
	@mkdir -p $(dir $(RELIABILITY_XML))
	$(BIN)/python -m pytest -p no:cacheprovider --junitxml=$(RELIABILITY_XML) $(PYTEST_ARGS) \
		tests/reliability/test_case_map.py $$($(BIN)/python -m tests.reliability.matrix ids); \
	status=$$?; \
	$(BIN)/python -m tests.reliability.matrix render --junit $(RELIABILITY_XML) --out docs/reliability.md || status=1; \
	exit $$status
