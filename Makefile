# sciml-flows: `make run` and `make test` are the whole set-up on a fresh machine.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
export PREFECT_HOME ?= $(CURDIR)/.prefect
export SCIML_DATA_DIR ?= $(CURDIR)/data
export PYTHONUNBUFFERED := 1
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: install browser run test test-all bench serve lint docs clean

$(PY):
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PIP) install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

browser:  ## Debian's chromium, for the browser test of the Prefect UI (tests/e2e/test_ui.py); needs root
	@command -v chromium >/dev/null || (export DEBIAN_FRONTEND=noninteractive && apt-get update && apt-get install -y chromium)

run: install  ## the whole default pipeline on the embedded fast defaults
	$(PY) -m sciml.cli run pipeline

test: install browser  ## the test suite (fast unit tests + end-to-end flow and Prefect-server tests)
	$(PY) -m pytest -n 2 --dist loadgroup -q

test-all: install browser  ## also the slow (paper-profile) tests
	$(PY) -m pytest -n 2 --dist loadgroup -q -m ''

$(VENV)/.bench-installed: $(STAMP)
	$(PIP) install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.bench-installed  ## speed/accuracy goals (with the `bench` extra: dysts) -> benchmarks/RESULTS.md
	$(PY) -m benchmarks.run_all

serve: install  ## local Prefect server (SQLite, 127.0.0.1) with its UI + every deployment
	$(PY) -m sciml.cli serve

lint: install
	$(VENV)/bin/ruff check .

docs: install  ## the documentation site (MkDocs + mkdocstrings), built strictly into site/
	$(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf data .prefect .pytest_cache
