# Compliance Hub: `make help` lists the targets. Everything runs from the project's own venv.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.DEFAULT_GOAL := help
.PHONY: help install demo lint check test schema bench-authz

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/hub: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@

install: $(BIN)/hub  ## create .venv and install the hub with its test tools

demo: install  ## demo data on the embedded database (or DATABASE_URL), tokens, GraphiQL
	$(BIN)/hub demo

lint: install  ## ruff
	$(BIN)/ruff check hub tests bench migrations
	$(BIN)/ruff format --check hub tests bench

check: install  ## mypy (strict) over hub/
	$(BIN)/mypy

test: lint check  ## lint, types, then every test against a real PostgreSQL
	$(BIN)/pytest --cov --cov-report=term --durations=12 $(PYTEST_ARGS)

bench-authz: install  ## consent checks, catch-up, revoke and memory at 100,000 grants
	$(BIN)/python bench/authz_bench.py

schema: install  ## export schema/schema.graphql from the code
	$(BIN)/python -m hub.graphql.export > schema/schema.graphql
