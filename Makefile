# The two commands of the README:
#   make serve   installs the lab into .venv and runs `panel serve apps/` (with glibc's allocator for
#                Python's objects, so memory goes back after a class: see apps/sessions.py)
#   make test    installs the lab with its test tools (and Debian's chromium and nginx if missing) and runs
#                the whole suite: unit tests, browser tests, then the CUDA kernels on the simulator
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5006
# Numba's cache of a function is not invalidated when a kernel it calls changes in another file, so the
# cache folder is keyed on a hash of every kernel source: edited kernels always recompile.
KERNEL_HASH := $(shell cat kernels/*.py kernels/cpu/*.py kernels/cuda/*.py | cksum | cut -d" " -f1)
export NUMBA_CACHE_DIR := $(CURDIR)/.numba_cache/$(KERNEL_HASH)

.PHONY: serve test test-under-load install install-test system-tools lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

serve: install
	$(BIN)/python -m lab.warmup
	PYTHONMALLOC=malloc $(BIN)/panel serve apps/ --port $(PORT)

# Debian's chromium (browser tests) and nginx (the scale-out test), installed when missing
system-tools:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "installing Debian's$$missing for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "The browser tests need Debian's$$missing: run 'sudo apt-get install$$missing' and retry."; \
		exit 1; \
	fi

test: install-test system-tools
	$(BIN)/python -m pytest -q --ignore=tests/cuda tests
	NUMBA_ENABLE_CUDASIM=1 $(BIN)/python -m pytest -q tests/cuda

# the browser suite once with a CPU hog on every core (CI runs it after `make test`)
test-under-load: install-test system-tools
	$(BIN)/python tests/under_load.py --runs 1

lint: install-test
	$(BIN)/ruff check .

bench: install
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/landscape_grid.py

clean:
	rm -rf $(VENV) .numba_cache test-artifacts
