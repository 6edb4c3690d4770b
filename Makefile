# cocreate — `make run` serves a demo on SQLite; `make test` installs and passes the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
LOCALE_DIR := src/cocreate/locale
CATALOGS := $(wildcard $(LOCALE_DIR)/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)
export COCREATE_DATABASE_URL ?= sqlite:///cocreate.db

.PHONY: run install test test-postgres wheel-check bench lint audit format catalogs messages clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml Makefile | $(PY)
	$(PY) -m pip install --quiet -e ".[dev,browser,postgres,redis,pdf]"
	touch $@

install: $(VENV)/.installed catalogs

# Compiled catalogs are build output: made from the .po files, never committed (wheels
# and editable installs compile them too, in hatch_build.py; this keeps them current).
$(LOCALE_DIR)/%/LC_MESSAGES/messages.mo: $(LOCALE_DIR)/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d $(LOCALE_DIR) -D messages -l $* 2>&1 | tail -1

catalogs: $(COMPILED)

# The demo, served on the local network: phones on the same Wi-Fi join at this machine's
# address there, which the join links and QR codes carry (`cocreate serve` alone listens
# on 127.0.0.1). Each run gives the demo facilitator a new password, printed.
run: install
	$(BIN)/cocreate db upgrade
	$(BIN)/cocreate demo --lan
	$(BIN)/cocreate serve --lan

# Two workers: each test has its own app and database (and a server and port of its own
# when it needs the wire), and CI has two cores. The tests of a worker share one event
# loop and one Chromium (a fresh browser context per test); the longest start first.
TEST_WORKERS ?= 2

test: install
	$(BIN)/pytest -n $(TEST_WORKERS)

# The same suite on PostgreSQL (its tables are emptied per test, by DELETE over one
# connection per worker; its schema `public` is rebuilt when not at the newest migration),
# with live fan-out through Redis. Each worker works in a database of its own, named after
# the given one (test_gw0, test_gw1).
test-postgres: install
	COCREATE_TEST_ON=postgres \
	COCREATE_TEST_DATABASE_URL=$${COCREATE_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
	COCREATE_TEST_REDIS_URL=$${COCREATE_TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(BIN)/pytest -n $(TEST_WORKERS)

# The wheel alone (as `pip install .` or `pipx install` build it) migrates, makes the demo
# and serves it in French and English; needs PyPI for the build and the dependencies.
wheel-check:
	.ci/wheel-smoke

# Load benchmark of one live session (never part of `make test`): N=1000 by default.
N ?= 1000
bench: install
	$(PY) bench/live.py --participants $(N)

# Known vulnerabilities in the installed versions, from PyPI's and OSV's databases (it
# needs to reach them: not part of .ci/run, whose machines cannot; see SECURITY.md).
audit: install
	$(PY) -m pip install --quiet pip-audit
	$(BIN)/pip-audit --skip-editable --strict

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Extract every translatable string and merge it into the catalogs (then translate them).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output -k N_ -o $(LOCALE_DIR)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) $(COMPILED) .pytest_cache .mypy_cache .ruff_cache
