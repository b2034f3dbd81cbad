# The README's commands. Everything installs into .venv/ at the repository root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST := $(BIN)/python -m pytest

.PHONY: setup demo test test-unit test-integration test-e2e lint typecheck bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/install-k8s-tools.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[trainer,demo,local,dev]'
	bash scripts/install-k8s-tools.sh $(VENV)
	touch $(STAMP)

demo: setup
	VENV=$(VENV) bash scripts/demo.sh

test: setup lint typecheck test-unit test-integration test-e2e

test-unit: setup
	$(PYTEST) tests/unit

test-integration: setup
	$(PYTEST) tests/integration

test-e2e: setup
	$(PYTEST) tests/e2e

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
