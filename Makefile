# The two commands: `make demo` (set up, then run the whole job on the bundled samples)
# and `make test` (set up, then lint, type-check and run every test with coverage).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(VENV)/.app

demo: $(VENV)/.app
	$(BIN)/python run_digest.py demo

system-packages:
	scripts/install-system-packages

test: $(VENV)/.test system-packages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy digest
	$(BIN)/python -m pytest --cov=digest --cov-report=term-missing:skip-covered

$(VENV)/.bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	touch $@ $(VENV)/.app

bench: $(VENV)/.bench
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/compose.py
	$(BIN)/python bench/send.py
	$(BIN)/python bench/schedule.py
	$(BIN)/python bench/collect.py
	$(BIN)/python bench/stories.py
	$(BIN)/python bench/quality.py

clean:
	rm -rf $(VENV) demo preview .coverage build
