# Two commands do everything on a fresh machine:
#   make run   set up .venv and launch on built-in demo data
#   make test  set up .venv and pass the checks and tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= demo
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test lint typecheck contracts pytest bench demo docs clean check-python model

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || { \
	  echo "Screener needs Python 3.11 or newer as '$(PYTHON)'."; \
	  echo "Install it (Debian/Ubuntu: apt-get install python3 python3-venv) or run: make PYTHON=python3.11 ..."; \
	  exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	  echo "Python's venv module is missing. Debian/Ubuntu: apt-get install python3-venv"; exit 1; }

$(STAMP): pyproject.toml | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Until the workstation UI lands, `make run` builds the demo stream and says where it is.
run: $(STAMP)
	@if [ ! -f $(DEMO)/manifest.json ]; then \
	  $(BIN)/screener demo --out $(DEMO) --bags 20 --cargo 1 --seed 1; fi
	@echo
	@echo "Demo scans are in $(DEMO)/ (list: $(DEMO)/manifest.json). Look at one with:"
	@echo "  $(BIN)/screener scan info $(DEMO)/bag-0001.h5"

demo: $(STAMP)
	$(BIN)/screener demo --out $(DEMO) --bags 200 --cargo 2 --seed 1

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck contracts pytest

bench: $(STAMP)
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/detect.py

# Reproduces models/: train on simulated bags (about 85 min on 2 cores), evaluate with
# `screener eval-detector`, write models/MODEL_CARD.md. PyTorch is a dev-only extra.
model: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,train]'
	$(BIN)/python -m training.train --out models --seed 0 --checkpoint
	$(BIN)/python -m training.run_evaluations --models models
	$(BIN)/python -m training.model_card --models models

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
