# The two set-up commands of the README. Each creates .venv and installs kenmap when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast check bench system

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Leaflet from npm (inlined into offline map pages); Chromium and CJK fonts from Debian.
system:
	bash scripts/setup-system.sh

setup: $(STAMP) system

demo: setup
	$(BIN)/kenmap demo

check: setup
	$(BIN)/ruff check kenmap tests bench data
	$(BIN)/mypy
	$(BIN)/lint-imports

test: check
	$(BIN)/python -m pytest

# The quick lane while working: no real data, no browser, nothing slow (CI runs `make test`).
test-fast: setup
	$(BIN)/python -m pytest -m "not real and not browser and not slow" -q

bench: setup
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_population.py
	$(BIN)/python bench/bench_coverage.py
	$(BIN)/python bench/bench_maps.py
	$(BIN)/python bench/bench_server.py
	$(BIN)/python bench/bench_siting.py
	$(BIN)/python bench/bench_house.py
	$(BIN)/python bench/bench_load.py
	$(BIN)/python bench/bench_hostile.py
