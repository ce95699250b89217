# The two set-up commands of the README: `make demo` and `make test`. Each creates .venv and
# installs what it needs; only `make test` needs root (Chromium and CJK fonts from Debian, for
# the browser tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
ASSETS := node_modules/.package-lock.json

.PHONY: setup demo test test-fast check bench system wheel wheel-check

# kenmap with every optional part, editable (what `make demo` needs).
$(STAMP): pyproject.toml setup.py
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(BIN)/python -m pip install --quiet -e '.[all]'
	touch $(STAMP)

# The test, lint and benchmark tools (pyproject's dependency groups).
$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --group dev
	touch $(DEV_STAMP)

# Leaflet, its plugins and Swagger UI from the pinned npm packages (shipped in the wheel).
$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Chromium and CJK fonts from Debian, for the browser tests only.
system:
	bash scripts/setup-system.sh

setup: $(DEV_STAMP) $(ASSETS) system

demo: $(STAMP) $(ASSETS)
	$(BIN)/kenmap demo

check: setup
	$(BIN)/ruff check kenmap tests bench data setup.py
	$(BIN)/mypy
	$(BIN)/lint-imports

test: check wheel-check
	$(BIN)/python -m pytest

# The quick lane while working: no real data, no browser, nothing slow (CI runs `make test`).
test-fast: setup
	$(BIN)/python -m pytest -m "not real and not browser and not slow" -q

# The wheel, and the proof that it works outside this folder: installed in a fresh venv, the
# demo and the maps run from a temporary folder with no npm and no checkout.
wheel: $(STAMP) $(ASSETS)
	rm -rf dist
	$(BIN)/python -m pip wheel --quiet --no-deps -w dist .

wheel-check: wheel
	bash scripts/check-wheel.sh dist

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
	$(BIN)/python bench/bench_periods.py
	$(BIN)/python bench/bench_committee.py
