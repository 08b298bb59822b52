# The two commands a learner needs:  make lab   and   make test
# Both create .venv on first use and reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# JupyterLab refuses to run as root unless told (containers, CI)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test update lint typecheck generated unit notebooks node node-if-present bench stress clean help

help:
	@echo "make lab    set up .venv and open the course in JupyterLab (offline unless keys are set)"
	@echo "make test   set up .venv and run every check: ruff, mypy, pytest, nbval"
	@echo "make update keep your notebooks in my-work/, restore the course's, pull the latest course"
	@echo "make bench  run the benchmarks in benchmarks/"
	@echo "make stress run unit tests and notebooks 10 times under a parallel CPU load (flake hunt)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (llm-api-course)" >/dev/null
	@touch $(STAMP)

# The official Node.js SDKs (package-lock.json pins them) for the %%node cells of notebooks 01-03.
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: install Node.js 20 or newer with npm \
	(https://nodejs.org, or: sudo apt-get install nodejs npm), then run make again."; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

node: $(NODE_STAMP)

# make lab works without Node.js: the %%node cells then say, in one line, how to get it.
node-if-present:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(NODE_STAMP); \
	else echo "Node.js not found: the notebooks' Node.js cells will say how to install it."; fi

lab: $(STAMP) node-if-present
	$(BIN)/jupyter lab --ServerApp.root_dir=. $(ROOT_FLAG) $(LAB_ARGS) notebooks/00_setup.ipynb

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict course_helpers

# notebooks/ and exercises/ are built from sources: fail when a source changed without a rebuild
generated: $(STAMP)
	$(BIN)/python tools/build_notebooks.py --check
	$(BIN)/python tools/build_notebooks.py --dir solutions --check
	$(BIN)/python tools/make_exercises.py --check

# The offline environment (course_helpers/offline_env.py, which the notebook builder and the
# grader use too): simulated providers, no keys, no .env, no simulated latency, the course's
# IPython profile. nbval compares every committed output under it, whoever's machine runs it.
OFFLINE := $(BIN)/python -m course_helpers.offline_env --ipython-dir tools/ipython --

unit: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest -q -n 2 tests
	# every docstring example, offline (no key, no .env: they must not depend on the machine)
	$(OFFLINE) $(BIN)/python -m pytest -q -p no:cacheprovider --doctest-modules course_helpers

notebooks: $(STAMP) $(NODE_STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile \
	  --nbval --nbval-current-env --nbval-cell-timeout=120 \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks solutions

test: lint typecheck generated unit notebooks

# Saving a run notebook changes a file git tracks: keep the learner's copy, then pull.
update:
	$(PYTHON) tools/update_course.py

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Flaky tests show under load: 10 runs of `make unit notebooks` beside one CPU hog per core.
stress: $(STAMP)
	$(BIN)/python tools/stress.py $(STRESS_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .stress node_modules
