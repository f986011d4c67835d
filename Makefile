# Two commands for a fresh clone (python3, make, git and node are all it needs):
#   make demo   runs an example workflow on the embedded cloud and prints its result
#   make test   runs the whole test suite
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= python3

.PHONY: demo test lint bench synth clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

demo: $(BIN)/.installed
	$(BIN)/sfnflow run examples/orders.yaml

test: $(BIN)/.installed node_modules/.installed
	$(BIN)/pytest -n auto

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks.compile

synth: $(BIN)/.installed node_modules/.installed
	$(BIN)/sfnflow synth --stage $(or $(STAGE),dev)

clean:
	rm -rf $(VENV) node_modules .pytest_cache
