# The two commands: `make run` (everything on a laptop, no configuration) and `make test`.
# Honours HMS_PORT, DATABASE_URL, REDIS_URL, HMS_DEMO_DATA (and every HMS_* setting of hms/config.py).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALL_STAMP := $(VENV)/.stamp-install
NPM_STAMP := frontend/node_modules/.stamp-npm-ci
PG_TEST_DB ?= test
PG_TEST_URL := postgresql+psycopg://postgres@127.0.0.1:5432/$(PG_TEST_DB)

export FLASK_APP := hms
# Let Python cache bytecode in __pycache__ (ignored by git) even where PYTHONDONTWRITEBYTECODE is set, as on our CI
# machine: make test starts ~20 Python processes (xdist workers, gunicorn, Celery, schemathesis) and each compiled
# every module again; collecting the suite took 8 s a worker instead of 3 s.
unexport PYTHONDONTWRITEBYTECODE
HMS_PORT ?= 5000
HMS_DEMO_DATA ?= 1
# One web process per core: the cache is shared across processes (Redis, or without it instance/cache.sqlite3).
WEB_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
export HMS_PORT HMS_DEMO_DATA WEB_WORKERS

BANNER_LINE := !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
CHROMIUM_BANNER = if [ ! -x /usr/bin/chromium ]; then \
	echo; echo "$(BANNER_LINE)"; \
	echo "!!  BROWSER TESTS SKIPPED: /usr/bin/chromium is missing (apt-get install chromium)  !!"; \
	echo "$(BANNER_LINE)"; echo; fi
# WeasyPrint needs pango (a system library); without it the PDF tests skip, and say so here too.
PDF_BANNER = if ! $(BIN)/python -c "import weasyprint" >/dev/null 2>&1; then \
	echo; echo "$(BANNER_LINE)"; \
	echo "!!  PDF TESTS SKIPPED: WeasyPrint cannot load pango (apt-get install libpango-1.0-0)          !!"; \
	echo "$(BANNER_LINE)"; echo; fi

.PHONY: help run test test-unit test-pg fuzz lint mutation bench setup venv frontend db demo-data
FUZZ_EXAMPLES ?= 100

help:
	@echo "make run      set up (venv, packages, front end, database, demo data) and start web + worker + beat"
	@echo "make test     same set-up, then the SPA's unit tests (vitest) and the whole suite on SQLite (browser tests need /usr/bin/chromium)"
	@echo "make test-unit the SPA's unit tests only (vitest, offline after npm ci)"
	@echo "make test-pg  the suite on PostgreSQL ($(PG_TEST_URL))"
	@echo "make fuzz     a deeper schemathesis run (FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) per operation; HMS_TEST_DATABASE_URL for PostgreSQL)"
	@echo "make lint     ruff check and format --check, mypy on hms, duplicate-code check (jscpd, .jscpd.json)"
	@echo "make bench    serve a generated hospital as make run does and load it over HTTP (BENCH_ARGS, bench/README.md)"
	@echo "make mutation mutation testing of the scheduling and account rules (slow; not part of make test)"

# ---- set-up ------------------------------------------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(INSTALL_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(INSTALL_STAMP)

ifneq ($(wildcard frontend/package.json),)
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	$(wildcard frontend/index.html frontend/vite.config.* frontend/package.json)

$(NPM_STAMP): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: $(NPM_STAMP) $(FRONTEND_SOURCES)
	cd frontend && npm run build
	touch $@

frontend: frontend/dist/index.html
else
frontend:
	@echo "no frontend/package.json: skipping the front-end build"
endif

setup: venv frontend

db: setup
	$(BIN)/flask db upgrade

demo-data: db
	$(BIN)/flask demo-data

# ---- the two commands --------------------------------------------------------------------------------------

run: db
	@if [ "$(HMS_DEMO_DATA)" = "1" ]; then $(BIN)/flask demo-data; fi
	@$(BIN)/flask ensure-admin
	@echo
	@echo "  Hospital Management System: http://127.0.0.1:$(HMS_PORT)/   (API docs: /api/docs)"
	@if [ "$(HMS_DEMO_DATA)" = "1" ]; then \
		echo "  Demo logins:  admin / admin123   dr.asha / doctor123   patient1 / patient123"; \
		echo "                (14 doctors dr.<name>, patients patient1..patient45; HMS_ADMIN_PASSWORD overrides admin's)"; fi
	@echo "  Stop with Ctrl-C."
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/python scripts/supervise.py Procfile

# The suite runs on every core with pytest-xdist (TEST_WORKERS=auto; a number, or 0 for one process), each worker on
# its own SQLite file or PostgreSQL database; the browser tests always run after it in one process (one live server,
# one chromium). worksteal: the long tests (fuzz, workers, faults) are collected first and an idle worker takes the
# waiting tests of a busy one, so the run does not end with one worker alone on a long tail.
TEST_WORKERS ?= auto
XDIST := -n $(TEST_WORKERS) $(if $(filter 0,$(TEST_WORKERS)),,--dist worksteal)

test: setup
	@$(CHROMIUM_BANNER); $(PDF_BANNER)
	@status=0; (cd frontend && npm test --silent) || status=$$?; \
		$(BIN)/python -m pytest -q $(XDIST) -m "not browser" || status=$$?; \
		$(BIN)/python -m pytest -q -m browser || status=$$?; $(CHROMIUM_BANNER); $(PDF_BANNER); exit $$status

# The SPA's shared composables and components (frontend/tests/unit); the pages are covered by tests/browser.
test-unit: $(NPM_STAMP)
	cd frontend && npm test --silent

test-pg: venv
	@$(BIN)/python -c "import psycopg; c = psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', \
		autocommit=True); c.execute('select 1 from pg_database where datname = %s', ('$(PG_TEST_DB)',)).fetchone() \
		or c.execute('create database "$(PG_TEST_DB)"')"
	HMS_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q $(XDIST) -m "not browser"

# The fuzz test also runs (smaller) in make test and make test-pg; this one digs deeper with another seed.
fuzz: venv
	HMS_FUZZ_EVERY_ROLE=1 HMS_FUZZ_MAX_EXAMPLES=$(FUZZ_EXAMPLES) HMS_FUZZ_SEED=$${HMS_FUZZ_SEED:-$$(date +%Y%m%d)} \
		$(BIN)/python -m pytest -q -m fuzz

# jscpd (.jscpd.json): runs of 6+ lines repeated across hms/ and frontend/src fail the lint above the threshold.
lint: venv $(NPM_STAMP)
	$(BIN)/ruff check hms tests scripts bench
	$(BIN)/ruff format --check hms tests scripts bench
	$(BIN)/mypy hms
	frontend/node_modules/.bin/jscpd --config .jscpd.json

# Not part of `make test`: mutants of the scheduling and account rules (and of each business write's commit)
# must each make the tests fail. MUTATION_ARGS="--sample 66" keeps every commit mutant and exactly 66 others.
MUTATION_ARGS ?=
mutation: venv
	$(BIN)/python scripts/mutate.py $(MUTATION_ARGS)

# Not part of `make test`: the application served as `make run` serves it, on a generated hospital, under load.
# BENCH_ARGS="--appointments 200000 --json run.json"; see bench/README.md.
BENCH_ARGS ?=
bench: venv
	$(BIN)/python bench/load.py $(BENCH_ARGS)
