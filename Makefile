# 善治 Shanzhi. `make run` serves the demo county; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := shanzhi/web/static/vendor
PG_URL ?= postgresql://postgres@127.0.0.1:5432/shanzhi
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install assets migrate demo serve lint typecheck pytest pytest-sqlite pytest-postgres browser sqlite-and-browser clean bench screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) assets

# htmx and ECharts from npm, copied into static files; nothing third-party is committed.
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	touch $@

assets: $(VENDOR)/.installed

migrate: install
	$(BIN)/shanzhi migrate --noinput

demo: migrate
	$(BIN)/shanzhi demo load

serve: install
	$(BIN)/shanzhi collectstatic --noinput --verbosity 0
	$(BIN)/shanzhi run_huey --workers 2 & HUEY_PID=$$!; \
	trap "kill $$HUEY_PID 2>/dev/null" EXIT INT TERM; \
	$(BIN)/gunicorn shanzhi.config.wsgi:application --bind $(HOST):$(PORT) --workers 3 --access-logfile -

run: demo serve

lint: install
	$(BIN)/ruff check shanzhi bench
	$(BIN)/ruff format --check shanzhi bench

typecheck: install
	$(BIN)/mypy shanzhi bench

pytest-sqlite: install
	env -u DATABASE_URL $(BIN)/pytest -m "not browser"

pytest-postgres: install
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not browser"

# Debian's chromium (and CJK fonts, so the Chinese UI renders), driven by Playwright;
# installed by the project when missing.
browser: install
	@if ! command -v chromium >/dev/null || ! fc-list :lang=zh | grep -q .; then \
	  apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; fi
	env -u DATABASE_URL $(BIN)/pytest -m browser

# The PostgreSQL pass and the SQLite passes (unit, then browser) share no database, so they run side
# by side on the two cores; -O prints each one's output whole when it ends. `check` first creates
# var/secret_key, which both would otherwise race to write.
test: lint typecheck
	$(BIN)/shanzhi check >/dev/null
	$(MAKE) --no-print-directory -j2 -O pytest-postgres sqlite-and-browser

sqlite-and-browser: install
	$(MAKE) --no-print-directory pytest-sqlite
	$(MAKE) --no-print-directory browser

# Every demo account's home page at desktop and phone size, normal and elder mode, into
# var/screenshots/ (git-ignored); a throwaway SQLite database with the demo county (docs/ui.md).
screenshots: install
	@if ! command -v chromium >/dev/null || ! fc-list :lang=zh | grep -q .; then \
	  apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; fi
	env -u DATABASE_URL $(BIN)/shanzhi screenshots

# Each benchmark sets up its own throwaway database and prints its figures (see bench/README.md).
bench: install
	@for script in bench/*_bench.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .mypy_cache .ruff_cache .pytest_cache
