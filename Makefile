# sendgrid-mirror — `make run` starts the mirror, `make test` runs every check CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.runtime

.PHONY: help run test lint check system-deps openapi bench bench-smtp bench-pg bench-scale clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Running needs the package alone (no byte-compiling up front: only what is imported gets compiled); the
# test extra (the browser driver, schemathesis, linters) is for `make test`.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --no-compile -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml plugins/pytest-sendgrid-mirror/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]" -e plugins/pytest-sendgrid-mirror
	touch $(STAMP) $(RUN_STAMP)

run: $(RUN_STAMP) ## run the mirror (HTTP 8090) on the embedded SQLite database in ./data
	$(BIN)/sgmirror serve

system-deps: ## install the system packages the test suite uses (PostgreSQL, Node), when run as root
	bash scripts/install-system-deps.sh

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) system-deps lint ## the whole suite: lint, unit, API on SQLite and PostgreSQL, SDK contract tests
	$(BIN)/pytest

WRK := @command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" -ne 0 ] || { echo "bench: installing wrk"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }

bench: $(STAMP) ## HTTP mail send (SQLite, 1 worker) vs bare FastAPI, and heavier bodies (BENCH_ARGS="--rounds 1")
	$(WRK)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-smtp: $(STAMP) ## SMTP relay vs a bare aiosmtpd sink, and HTTP mail send vs bare FastAPI (SQLite, 1 worker; BENCH_ARGS=...)
	$(WRK)
	$(BIN)/python -m bench.smtp $(BENCH_ARGS)

bench-pg: $(STAMP) ## both benchmarks on a throwaway PostgreSQL (Debian's binaries), 2 workers, bare app too
	$(WRK)
	$(BIN)/python -m bench.run --database postgresql --workers 2 $(BENCH_ARGS)
	$(BIN)/python -m bench.smtp --database postgresql --workers 2 $(BENCH_ARGS)

bench-scale: $(STAMP) ## searches and mail send, fresh store vs 1,000,000 messages (BENCH_ARGS="--messages 100000")
	$(WRK)
	$(BIN)/python -m bench.scale $(BENCH_ARGS)

openapi: $(STAMP) ## regenerate openapi.yaml from the app
	$(BIN)/sgmirror openapi > openapi.yaml

clean: ## remove the virtualenv and local data
	rm -rf $(VENV) data
