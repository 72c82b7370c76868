# The two commands: `make run` (serve the demo on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := traceability

# QR codes, claim links and sample URLs carry PUBLIC_BASE_URL. Unless it is set, `make run`
# uses the address it serves on; bound to every interface (HOST=0.0.0.0), the machine's
# address on its network, which a phone on the same network reaches (127.0.0.1 without one).
# connect() on a UDP socket only picks the route: no packet is sent.
NETWORK_ADDRESS = $(shell $(PYTHON) -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(("192.0.2.1", 9)); print(s.getsockname()[0])' 2>/dev/null || echo 127.0.0.1)
ifeq ($(origin PUBLIC_BASE_URL),undefined)
PUBLIC_BASE_URL := http://$(if $(filter 0.0.0.0,$(HOST)),$(NETWORK_ADDRESS),$(HOST)):$(PORT)
endif
RUN_ENV = APP_ENV=$${APP_ENV:-development} PUBLIC_BASE_URL='$(PUBLIC_BASE_URL)'

.PHONY: run test install install-dev translations demo bench clean

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

# The setup part of `make run`. .flaskenv (read by the `flask` command, never by gunicorn;
# what the environment sets wins) makes the README's `flask` commands, run later from any
# terminal, use the settings this demo was served with.
demo: install
	@printf '%s\n' '# Written by `make run`, for the `flask` command (README, "Configuration").' \
	  'FLASK_APP=traceability' "APP_ENV=$${APP_ENV:-development}" \
	  'PUBLIC_BASE_URL=$(PUBLIC_BASE_URL)' > .flaskenv
	$(RUN_ENV) $(BIN)/flask db upgrade heads
	$(RUN_ENV) $(BIN)/flask demo-load

run: demo
	@echo
	@echo "OCOP Trace: open $(PUBLIC_BASE_URL)/ (serving on $(HOST):$(PORT); Ctrl-C stops it)"
	@echo "  demo sign-ins:        $(BIN)/flask --app traceability demo-accounts"
	@echo "  sample codes to scan: $(BIN)/flask --app traceability demo-samples"
	@echo "  QR codes and links carry $(PUBLIC_BASE_URL) (PUBLIC_BASE_URL)"
	@echo
	$(RUN_ENV) $(BIN)/gunicorn --workers 2 --bind $(HOST):$(PORT) wsgi:app

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
	rm -rf $(VENV) instance/*.sqlite3 .flaskenv
