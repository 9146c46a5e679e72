# Model Walkthroughs. On a fresh machine with Python 3.11:
#   make html    build the site into docs/_build/html
#   make test    run the whole test suite
# Both create .venv in the repository root when no virtualenv is active, and
# install the project with its docs and test extras into it (once per change of
# pyproject.toml). After that, nothing here reaches the network.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),$(CURDIR)/.venv)
BIN := $(VENV)/bin
STAMP := $(VENV)/.refmodels-installed
# -W: warnings are errors; -T: full tracebacks; -j 2: two pages execute at once.
SPHINXOPTS ?= -W --keep-going -T -j 2
BUILDDIR ?= docs/_build

.PHONY: html test bench bench-rl clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[docs,test]'
	touch $@

install: $(STAMP)

html: $(STAMP)
	$(BIN)/sphinx-build -b html docs $(BUILDDIR)/html -d $(BUILDDIR)/doctrees $(SPHINXOPTS)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

# refmodels.rl against Stable-Baselines3 (installs the bench extra; ~30 min on 2 cores)
bench-rl: $(STAMP)
	$(BIN)/python -m pip install -e '.[bench]'
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/rl_sb3.py

clean:
	rm -rf $(BUILDDIR) docs/gallery docs/sg_execution_times.rst
