# Tejido: `make run` starts the whole platform, `make test` runs the whole test suite.
# Only Python 3.11 and make are needed: uv is installed into .tejido-tools/ on first use.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
TOOLS := .tejido-tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.8
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
VENV := .venv
STAMP := $(VENV)/.tejido-synced

.PHONY: run test test-postgres lint format typecheck bench clean install

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(STAMP): $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages
	@touch $@

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/tejido up

test: $(STAMP)
	$(VENV)/bin/python -m pytest --durations=15 $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs/common/src libs/cli/src services/*/src

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(VENV)/bin/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .tejido
