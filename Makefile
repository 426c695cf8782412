# The two entry points README.md promises: `make demo` and `make test`.
# Each creates .venv and installs what it needs first, so they work on a
# fresh machine with nothing but Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= gevent

.PHONY: demo test lint docs venv bench bench-server clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,gevent,docs]'
	touch $(STAMP)

venv: $(STAMP)

DEMO_DIR ?= build/demo

# Scaffold a fresh project with `digwebs new` (replacing an earlier demo) and
# serve it with `digwebs serve` until Ctrl-C.
demo: $(STAMP)
	mkdir -p $(dir $(DEMO_DIR))
	$(VENV)/bin/digwebs new $(notdir $(DEMO_DIR)) --no-input --force --output-dir $(dir $(DEMO_DIR))
	cd $(DEMO_DIR) && ../../$(VENV)/bin/digwebs serve --workers $(WORKERS) --host $(HOST) --port $(PORT)

# The documentation site (docs/, Sphinx with furo) as HTML in build/docs/;
# -W: a warning (a broken reference, a page in no toctree, a docstring autodoc
# cannot read) fails the build. -E: every page read again, so no stale page
# hides a warning.
docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -E -q -b html docs build/docs

# Lint and types (the whole code base, benchmarks too), then the docs, whose
# examples run in the suite (tests/test_docs_examples.py), then the suite.
lint: $(STAMP)
	$(VENV)/bin/ruff check digwebs digwebs_cli tests benchmarks
	$(VENV)/bin/ruff format --check digwebs digwebs_cli tests benchmarks
	$(VENV)/bin/mypy --strict digwebs digwebs_cli

test: $(STAMP) lint docs
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/inproc.py

# Real servers under load: needs wrk (apt-get install -y wrk).
bench-server: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/server.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
