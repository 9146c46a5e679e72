# Model Walkthroughs. On a fresh machine with Python 3.11:
#   make html    build the site into docs/_build/html
#   make test    run the whole test suite
# Both create .venv in the repository root when no virtualenv is active, and
# install the project with its docs and test extras into it at the exact versions of
# requirements/lock.txt (once per change of pyproject.toml or the lock). After that,
# nothing here reaches the network.
#   make lock    regenerate requirements/lock.txt (after adding a package to pyproject.toml)
#   make repro   cold builds under torch's portable and AVX2 CPU kernels (not in CI)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),$(CURDIR)/.venv)
BIN := $(VENV)/bin
STAMP := $(VENV)/.refmodels-installed
# -W: warnings are errors; -T: full tracebacks; -j 2: two pages execute at once.
SPHINXOPTS ?= -W --keep-going -T -j 2
BUILDDIR ?= docs/_build

.PHONY: html test bench bench-report bench-rl clean install lock repro

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

LOCK := requirements/lock.txt

$(STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -c $(LOCK) -e '.[docs,test]'
	touch $@

install: $(STAMP)

html: $(STAMP)
	$(BIN)/sphinx-build -b html docs $(BUILDDIR)/html -d $(BUILDDIR)/doctrees $(SPHINXOPTS)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

# The lock: every package of every extra at an exact version, resolved by pip-tools
# with the pins of requirements/pins.txt (torch as CI has it). Regenerate it in the
# same change that adds or bumps a dependency.
lock: | $(BIN)/python
	$(BIN)/python -m pip install pip-tools
	rm -f $(LOCK)
	$(BIN)/pip-compile --quiet --extra compare --extra docs --extra test --extra bench \
		--strip-extras --no-emit-index-url --no-emit-find-links -c requirements/pins.txt \
		-o $(LOCK) pyproject.toml
	sed -i '/^refmodels @ file:/d; s#^    pip-compile .*#    make lock   (pip-compile over pyproject.toml with requirements/pins.txt)#' $(LOCK)

# The whole site from a cold cache under each of torch's CPU kernel sets, each in its
# own build directory: every assert must hold on the portable and the AVX2 code paths.
repro: $(STAMP)
	@for cap in default avx2; do \
		rm -rf docs/_build/repro-$$cap docs/gallery docs/sg_execution_times.rst; \
		echo "== cold build with ATEN_CPU_CAPABILITY=$$cap"; \
		start=$$(date +%s); \
		ATEN_CPU_CAPABILITY=$$cap DOCS_CACHE_DIR=$(CURDIR)/docs/_build/repro-$$cap/.jupyter_cache \
		REFMODELS_ARTIFACTS=$(CURDIR)/docs/_build/repro-$$cap/artifacts \
			$(BIN)/sphinx-build -b html docs docs/_build/repro-$$cap/html -d docs/_build/repro-$$cap/doctrees $(SPHINXOPTS) || exit 1; \
		echo "== ATEN_CPU_CAPABILITY=$$cap: passed in $$(( $$(date +%s) - start )) s"; \
	done
	rm -rf docs/gallery docs/sg_execution_times.rst

bench-report: $(STAMP)
	$(BIN)/python benchmarks/bench.py --report

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

# refmodels.rl against Stable-Baselines3 (installs the bench extra; ~30 min on 2 cores)
bench-rl: $(STAMP)
	$(BIN)/python -m pip install -e '.[bench]'
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/rl_sb3.py

clean:
	rm -rf $(BUILDDIR) docs/gallery docs/sg_execution_times.rst
