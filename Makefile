PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/r2k $(ARGS)

test: lint
	$(BIN)/python -m pytest -n auto --maxprocesses=4

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# every bench, each figure with its target (under 10 minutes on 2 cores; R2K_BENCH_SCALE=0.3 for
# a quick look)
bench: $(STAMP)
	$(BIN)/python bench/ingest.py --ticks 200000 --provider-ticks 60000 --repeat 3
	$(BIN)/python bench/alerts.py --runs 5
	$(BIN)/python bench/relay.py
	$(BIN)/python bench/screen.py
	$(BIN)/python bench/desk.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
