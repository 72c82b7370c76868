# The two commands: `make run` (serve the demo on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := traceability

.PHONY: run test install install-dev translations migrate demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d traceability/translations

run: install
	APP_ENV=$${APP_ENV:-development} $(BIN)/flask db upgrade heads
	APP_ENV=$${APP_ENV:-development} $(BIN)/flask demo-load
	APP_ENV=$${APP_ENV:-development} $(BIN)/gunicorn --workers 2 --bind $(HOST):$(PORT) wsgi:app

# TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres make test  runs it on PostgreSQL.
# The browser walks (tests/browser) drive Debian's Chromium; without it they fail, and this says why.
CHROMIUM ?= /usr/bin/chromium
test: install-dev
	@test -x "$(CHROMIUM)" || echo "make test: no Chromium at $(CHROMIUM): the browser tests will fail." \
		"Install it with: sudo apt-get install chromium (or set CHROMIUM=/path/to/chromium)" >&2
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: install-dev
	$(BIN)/python bench/labels.py
	$(BIN)/python bench/trace.py

clean:
	rm -rf $(VENV) instance/*.sqlite3
