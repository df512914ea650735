# Two commands: `make run` serves the app on SQLite with sample data (and runs its job worker);
# `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# `make run` is a local development server on plain http.
RUN_ENV := PLACEMENTS_ENV=development SESSION_COOKIE_SECURE=0 FLASK_APP=wsgi

.PHONY: run test lint format setup setup-dev translations extract-messages migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt $(VENV)/.runtime-installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.runtime-installed translations
setup-dev: $(VENV)/.dev-installed translations

MO_FILES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

translations: $(MO_FILES)

# The catalogues carry no header (see extract-messages), which Babel reads as "fuzzy": compile them
# anyway. Single entries are never fuzzy (--no-fuzzy-matching).
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.runtime-installed
	$(BIN)/pybabel compile --use-fuzzy --statistics -d translations -l $*

# After changing user-facing text: extract, then translate the new entries in the .po files.
extract-messages: $(VENV)/.runtime-installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o translations/messages.pot --no-location --sort-output --omit-header --no-wrap .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --omit-header --no-wrap

migrate: setup
	$(RUN_ENV) $(BIN)/flask db upgrade

# The job worker (imports, sending e-mail, the day's notices) starts in the background and stops
# with gunicorn.
run: migrate
	$(RUN_ENV) $(BIN)/flask demo --if-empty
	@echo "Serving http://$(HOST):$(PORT)/ (demo accounts: instance/demo-accounts.txt), with a job worker"
	@$(RUN_ENV) $(BIN)/flask jobs work & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(RUN_ENV) $(BIN)/gunicorn --workers 2 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

# One test process per core (pytest-xdist); each gets its own databases. TEST_PROCESSES=0
# runs everything in one process.
TEST_PROCESSES ?= auto
test: setup-dev lint
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadscope $(PYTEST_ARGS)

# Static checks: ruff (errors, bugbear, security rules, lines <= 120), ruff's formatting,
# and bandit (no high-severity findings). `make format` rewrites the files ruff would change.
lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -c pyproject.toml -r placements --severity-level high

format: setup-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache
