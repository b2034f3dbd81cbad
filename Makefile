# The README's commands. Everything installs into .venv/ at the repository root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST := $(BIN)/python -m pytest

.PHONY: setup demo test test-under-load test-unit test-emulator test-integration test-e2e lint typecheck bench clean
.PHONY: check generate check-generated lint-chart validate-manifests validate-examples hadolint
.PHONY: lock check-locks

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/install-k8s-tools.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[trainer,demo,plots,onnx,local,dev]'
	bash scripts/install-k8s-tools.sh $(VENV)
	touch $(STAMP)

demo: setup
	VENV=$(VENV) bash scripts/demo.sh

test: setup lint typecheck check test-unit test-emulator test-integration test-e2e

# The whole `make test` with two CPU-burning processes alongside (a busy machine); the burners always die.
test-under-load: setup
	bash scripts/with-cpu-load.sh -n 2 $(MAKE) test

test-unit: setup
	$(PYTEST) tests/unit

test-emulator: setup
	$(PYTEST) tests/emulator

test-integration: setup
	$(PYTEST) tests/integration

test-e2e: setup
	$(PYTEST) tests/e2e

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The packages, then the test helpers and bench/, then one run per test folder: pytest imports test files
# as top-level modules (no __init__.py; each folder and tests/ on sys.path) and several folders have a
# conftest.py.
TYPED_TEST_DIRS := tests/unit tests/emulator tests/integration tests/e2e
typecheck: setup
	$(BIN)/mypy
	$(BIN)/mypy $(wildcard tests/*.py) bench
	for dir in $(TYPED_TEST_DIRS); do $(BIN)/mypy $$dir || exit 1; done

# Shipping checks (chart, manifests, examples, Dockerfile, generated files); part of `make test`.
check: check-generated lint-chart validate-manifests validate-examples hadolint check-locks

# Rewrites manifests/crd.yaml, manifests/install.yaml, the chart's CRD and the README field reference.
generate: setup
	$(BIN)/python scripts/generate.py

check-generated: setup
	$(BIN)/python scripts/generate.py --check

lint-chart: setup
	$(BIN)/helm lint --strict charts/mnft-operator
	$(BIN)/helm lint --strict charts/mnft-operator --set 'watchNamespaces={team-a,team-b}'

# Built-in objects (chart output, manifests) against the Kubernetes versions we support.
validate-manifests: setup
	$(BIN)/python scripts/check_manifests.py

# MobileNetFineTune examples against our CRD schema and CEL rules; invalid ones must be rejected.
validate-examples: setup
	$(BIN)/python scripts/check_examples.py

hadolint: setup
	$(BIN)/hadolint Dockerfile

# The images' hash-locked dependencies (requirements/*.txt), resolved from PyPI for every platform and
# Python >= 3.11. Keeps existing pins that pyproject.toml still allows; `make lock UPGRADE=--upgrade`
# moves everything to the newest allowed versions.
LOCK := $(BIN)/uv pip compile --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command 'make lock' $(UPGRADE)
lock: setup
	$(LOCK) pyproject.toml -o requirements/operator.txt
	$(LOCK) pyproject.toml --extra trainer --extra demo --extra plots --extra onnx -o requirements/trainer.txt
	$(BIN)/python scripts/check_locks.py --print-build-requires | $(LOCK) - -o requirements/build.txt
	$(BIN)/python scripts/check_locks.py

# Offline: every lock line is pinned and hashed, and pins exactly pyproject.toml's requirements.
check-locks: setup
	$(BIN)/python scripts/check_locks.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
