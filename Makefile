# Two commands do all the set-up: `make demo` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DIR ?= demo-output

.PHONY: install demo test lint clean screenshots bench-dashboard

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# With a display the dashboard opens; where Qt cannot open a window (no display, or a fresh Debian
# without the xcb libraries Qt needs) it says so in one line, naming the packages, and runs
# offscreen on a 1366×768 screen, saving what it showed to $(DEMO_DIR)/dashboard.png and
# dashboard-patient.png.
demo: install
	$(BIN)/stabmon dashboard --simulate --subject DEMO01 --data-dir $(DEMO_DIR) \
		--settings $(DEMO_DIR)/dashboard-settings.json --run 00-quick-stance --patient-view \
		--screenshot $(DEMO_DIR)/dashboard.png
	$(BIN)/stabmon report "$$(ls -t $(DEMO_DIR)/sub-DEMO01/*.h5 | head -1)" -o $(DEMO_DIR)/report.html --data-dir $(DEMO_DIR)

# Lint first (ruff, well under a second: CI runs only this target, so a lint failure must fail it),
# then types (mypy, settings in pyproject.toml, cached in .mypy_cache: seconds once warm), then
# one pytest worker per core; tests that publish on LSL share a worker (their stream names would meet),
# and so do the tests of a module that share a module-scoped fixture (tests/conftest.py), built once.
test: lint
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n auto --dist loadgroup --durations=20

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(DEMO_DIR) build *.egg-info

screenshots: install
	xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python scripts/screenshots.py
	xvfb-run -a -s "-screen 0 1366x768x24" $(BIN)/python scripts/screenshots.py --main-only main-window-1366x768.png
	xvfb-run -a -s "-screen 0 1920x1080x24" $(BIN)/python scripts/screenshots.py --main-only main-window-1920x1080.png --fill-screen
	xvfb-run -a -s "-screen 0 1366x768x24" $(BIN)/python scripts/patient_screenshots.py 1366x768
	xvfb-run -a -s "-screen 0 1920x1080x24" $(BIN)/python scripts/patient_screenshots.py 1920x1080
	xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python scripts/clinical_screenshots.py
