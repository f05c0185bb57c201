# Two commands on a fresh machine: `make run` and `make test`. Everything else is here too.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run migrate test lint format bench clean browser pgbouncer profile

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "StockFlow needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[embedded,dev,bench]'
	touch $(STAMP)

install: $(STAMP)

run: install ## migrate to head and serve on STOCKFLOW_HOST:STOCKFLOW_PORT
	exec $(BIN)/stockflow serve

migrate: install
	$(BIN)/stockflow migrate

test: install browser ## the whole suite, on the embedded PostgreSQL unless STOCKFLOW_TEST_DATABASE_URL is set
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests bench alembic
	$(BIN)/ruff format --check src tests bench alembic
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix src tests bench alembic
	$(BIN)/ruff format src tests bench alembic

bench: install pgbouncer ## QUICK=1 for the short run
	$(BIN)/python -m bench $(if $(QUICK),--quick,)

profile: install ## py-spy on the workers under the 32-client sale load: bench/results/profile/
	$(BIN)/python -m bench.profile

clean:
	rm -rf $(VENV) .stockflow .pytest_cache .mypy_cache .ruff_cache

.PHONY: soak
soak: install ## mixed load with database faults, then invariants (~1 min; docs/api-notes.md "Reliability")
	$(BIN)/python -m tests.soak
# Debian's chromium for the /docs browser test (tests/api/test_docs_browser.py). Never fails
# the build: without apt-get or root the test is skipped and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 && \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; }; }; \
	} || echo "make browser: chromium could not be installed; the browser test will be skipped"
pgbouncer: ## Debian's pgbouncer, for scripts/pgbouncer.sh and its smoke test
	command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || \
		(apt-get install -y pgbouncer || (apt-get update && apt-get install -y pgbouncer))
