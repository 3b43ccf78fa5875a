# Two commands do everything on a machine with only Python 3.11+ and make:
#   make demo   -- set up, then run the product on embedded defaults
#   make test   -- set up, then lint, type-check and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Four test processes on two cores: the suite mostly waits on subprocesses, sockets and
# emulated latency (one process per core kept the cores half idle: 15.3 CPU-min in 14.5 min).
PYTEST_ARGS ?= -n 4 --durations=60
ARGS ?=

.PHONY: install demo demo-workers demo-test test lint typecheck pytest bench bench-workers fuzz chaos format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Shopify, WooCommerce and API2Cart emulators -> Zoho Books emulator through the real CLI;
# state persists in .demo/ (a second run writes nothing; `rm -rf .demo` starts over).
demo: install
	$(BIN)/python -m demo

# The deployment walk without Docker (docs/deployment.md): the demo's merchants through two
# `ledgerbridge worker`s, beat and serve on the PostgreSQL and Redis of this machine; one worker
# SIGKILLed mid-run; the demo's reconciliation and the books checked in the Zoho emulator.
demo-workers: install
	$(BIN)/python -m demo.distributed $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy core connectors

pytest: install
	$(BIN)/pytest $(PYTEST_ARGS)

# The type check runs beside the tests (mypy uses one core while the tests start up); either
# failing fails the target, and mypy's report is printed after the tests'.
test: lint
	@$(BIN)/mypy core connectors > $(VENV)/mypy.log 2>&1 & typing=$$!; \
	$(BIN)/pytest $(PYTEST_ARGS); tests=$$?; \
	wait $$typing; typed=$$?; echo "mypy core connectors:"; cat $(VENV)/mypy.log; \
	test $$tests -eq 0 -a $$typed -eq 0

# The demo's test with its second run too (the second run writes nothing and prints no password);
# `make test` runs the first only, to keep CI under 15 minutes on two cores.
demo-test: install
	LEDGERBRIDGE_DEMO_TWICE=1 $(BIN)/pytest -n 0 tests/operator/test_demo.py

bench: install
	$(BIN)/python bench/run.py $(ARGS)

# The long fuzz run (docs/reliability.md): mappers, webhooks against a real `ledgerbridge
# serve`, YAML files, expressions, then the demo and the secrets check. `tests/fuzz` runs the
# same properties, bounded, in `make test`.  ARGS are passed on (e.g. ARGS="--requests 2000").
fuzz: install
	$(BIN)/python -m bench.fuzz $(ARGS)

# Distributed workers on PostgreSQL, Redis and RabbitMQ (docs/deployment.md): 2,000 orders,
# 20 merchants, 4 workers, books checked in the Zoho emulator.
bench-workers: install
	$(BIN)/python bench/bench_workers.py $(ARGS)

# The chaos harness, full set (every scenario on all nine source x policy pairs; long, not in
# CI): the real CLI killed and faulted against emulator processes. See docs/reliability.md.
chaos: install
	$(BIN)/python -m bench.chaos --full $(ARGS)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
