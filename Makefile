# Token Ledger — the two README commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-month test-bi lint prices clean

setup: $(STAMP)

# the lock names every package at its version: nothing to resolve (pip check confirms it);
# pip compiles one file at a time, compileall on every core (44 s in all, against 55 s)
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-compile -r requirements.lock
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m pip check --disable-pip-version-check
	touch $(STAMP)

demo: setup
	$(BIN)/token-ledger demo

lint: setup
	$(BIN)/ruff check scripts tests/python
	$(BIN)/sqlfluff lint models macros tests --dialect duckdb --processes 0

# the project's modules compiled ahead: the suite starts about 400 Python processes, and where
# PYTHONDONTWRITEBYTECODE is set each would otherwise compile them again (0.2-0.3 s each)
test: setup lint
	$(BIN)/python -m compileall -q scripts/token_ledger
	$(BIN)/python -m pytest

# 720 hourly runs over a generated month (40-70 minutes; not part of `make test`)
test-month: setup
	$(BIN)/python -m pytest -m month -n 0

# the Superset recipe of docs/bi.md in a throwaway venv (about 3 minutes; not part of `make test`)
test-bi: setup
	$(BIN)/python -m pytest -m bi -n 0

prices: setup
	$(BIN)/python -m token_ledger.prices

clean:
	rm -rf $(VENV) warehouse target logs dbt_packages
