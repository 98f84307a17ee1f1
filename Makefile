# The two commands a new machine needs: `make run` and `make test`.
VENV    := .venv
BIN     := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
DEV     := $(VENV)/.dev-installed

.PHONY: run test lint bench demo clean

$(BIN)/python:
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(RUNTIME)

## Serve the exchange on http://127.0.0.1:8000 (embedded SQLite under var/ unless DATABASE_URL is set).
## A fresh embedded database is first seeded with the demo exchange, unless TECHX_DEMO=0.
run: $(RUNTIME)
	@scripts/ensure-pdf
	@if [ "$${TECHX_DEMO:-1}" != "0" ] && [ -z "$${DATABASE_URL:-}" ] && [ ! -f var/techx.db ]; then \
		$(BIN)/techx demo; \
	fi
	TECHX_MAIL_DIR="$${TECHX_MAIL_DIR-var/mail}" $(BIN)/techx serve

## Seed the configured (fresh) database with the demo exchange and print the logins and a tour
demo: $(RUNTIME)
	$(BIN)/techx demo

## Lint, check the import contracts, and run the whole suite on SQLite and PostgreSQL, a worker per core
## (--dist loadscope keeps each module, and its server or demo fixtures, on one worker)
test: $(DEV)
	scripts/ensure-postgres
	scripts/ensure-browser
	scripts/ensure-pdf
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -n auto --dist loadscope

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || true
	$(BIN)/lint-imports

## Benchmarks (not tests): each prints its baseline, its result and their ratio
bench: $(DEV)
	scripts/ensure-postgres
	@for b in bench/*.py; do [ -f "$$b" ] || continue; echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

## The exchange on simulated hosts (cluster/README.md): three API hosts behind HAProxy, a replicated
## PostgreSQL, Redis and NATS, and faults during a live auction. Needs root; .ci/run calls it.
.PHONY: test-cluster
test-cluster: $(DEV)
	scripts/ensure-cluster
	$(BIN)/pytest -q -p no:randomly -p no:xdist cluster/
