# Two commands that work on a fresh machine with only Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test test-ui lint typecheck pytest bench bench-pipeline bench-stacks mutation clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/mock-gateway serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy tests/client/*.py

# Two workers (pytest-xdist): CI has 2 cores and the suite waits on servers and subprocesses
# as much as it computes. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
pytest: $(STAMP)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS)

test: lint typecheck pytest

# The inspector page in headless Chromium (Debian's: apt-get install -y chromium). `make test`
# runs these too when Chromium is installed; here a missing browser is an error, not a skip.
test-ui: $(STAMP)
	MOCK_GATEWAY_UI_TESTS=required $(BIN)/pytest -q tests/test_inspector_page.py

bench: $(STAMP)
	$(BIN)/python bench/bench_gateway.py

# what one call costs in the pure pipeline, without HTTP (a minute; bench/bench_pipeline.py)
bench-pipeline: $(STAMP)
	$(BIN)/python bench/bench_pipeline.py

bench-stacks: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/bench_stacks.py

# Mutation testing of the core and the request pipeline (minutes; not part of `make test`).
# MUTANTS='mock_gateway.core.wallet*' runs one module; MUTATION_CHILDREN=1 runs one test process
# at a time (default 2); the modules are [tool.mutmut] only_mutate in pyproject.toml.
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	$(BIN)/python mutation/run.py $(MUTANTS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants
