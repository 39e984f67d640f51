# GRU from Scratch: build, test and edit the book.
#
# Every target installs what it needs first: Python packages into .venv (pinned in
# requirements.txt), the JavaScript the site serves itself into _vendor/ (tools/vendor_assets.sh)
# and, for `make test`, Chromium (apt-get). Nothing is installed outside the repository except
# Chromium. `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.installed-requirements
LAB_STAMP := $(VENV)/.installed-lab
VENDOR_STAMP := _vendor/.installed
CHROMIUM := /usr/bin/chromium
HTML := _build/html

# The environment of every command below: the venv first on PATH, Jupyter and IPython
# settings kept inside the venv (so a kernel or profile installed for the user elsewhere can't
# change what the notebooks do), one BLAS thread (the book's matrices are small: with two
# threads, small products slow down badly when the other core is busy).
export PATH := $(CURDIR)/$(BIN):$(PATH)
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
export JUPYTER_DATA_DIR := $(CURDIR)/$(VENV)/share/jupyter
export JUPYTER_CONFIG_DIR := $(CURDIR)/$(VENV)/etc/jupyter
export JUPYTER_PLATFORM_DIRS := 1
export IPYTHONDIR := $(CURDIR)/$(VENV)/etc/ipython
export MPLCONFIGDIR := $(CURDIR)/$(VENV)/etc/matplotlib
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export OPENBLAS_NUM_THREADS := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

NOTEBOOKS = $(shell find book -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' -not -path '*/_build/*' | sort)

# Unit tests (tests/, plain pytest) and every notebook in book/ (strict nbval: each stored
# output must come out again), in one run on two workers; `--dist loadfile` keeps a notebook's
# cells on one worker. Notebooks under tests/ are fixtures, not tests.
PYTEST_MAIN := pytest -n 2 --dist loadfile --nbval \
	--nbval-sanitize-with tests/nbval_sanitize.cfg \
	--ignore=tests/browser --ignore-glob='tests/*.ipynb' \
	tests book

.PHONY: help venv vendor chromium book test lint pytest check-notebooks browser-test lab \
	rerun-check lab-check student \
	notebooks notebook clean distclean

help:
	@echo "make book       build the book into $(HTML) (strict: any warning or failing cell fails)"
	@echo "make test       everything CI runs: lint, unit tests, notebooks (nbval), strict build,"
	@echo "                browser test of every page"
	@echo "make lab        JupyterLab on book/, with widgets"
	@echo "make notebooks  re-run every notebook in book/ and store its outputs"
	@echo "make notebook NB=book/name.ipynb   the same for one notebook"
	@echo "make student    the student edition: the notebooks without their solution cells,"
	@echo "                in _build/student/"
	@echo "make clean      remove build outputs; make distclean also removes .venv and _vendor"

# --- installation -------------------------------------------------------------------------

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned Python packages into $(VENV) (about a minute the first time)"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

vendor: $(VENDOR_STAMP)

$(VENDOR_STAMP): tools/vendor_assets.sh tools/assets/widgets-setup.js
	bash tools/vendor_assets.sh
	@touch $@

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "Installing Chromium (apt-get)"; \
		SUDO=""; if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; fi; \
		$$SUDO apt-get update -q; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; \
	fi

$(LAB_STAMP): requirements-lab.txt $(VENV_STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-lab.txt
	@touch $@

# --- the book -----------------------------------------------------------------------------

# --all: re-read every page, so every notebook runs again with the current gru_lib and every
# warning is reported again (an incremental build would skip unchanged pages and their warnings).
book: venv vendor
	jupyter-book build . --all -W -n --keep-going

# --- tests --------------------------------------------------------------------------------

test: venv vendor chromium
	@$(MAKE) lint
	@$(MAKE) check-notebooks
	@$(MAKE) pytest
	@$(MAKE) student
	@$(MAKE) book
	@$(MAKE) browser-test
	@$(MAKE) rerun-check
	@$(MAKE) lab-check

# `make notebooks` must store byte-identical files when nothing changed: re-execute one notebook
# (with a plot and training): clear its outputs in a copy beside it, run the copy with
# `make notebook`, and compare the bytes with the committed file.
rerun-check: venv
	@copy=$$(mktemp -p book --suffix .ipynb); trap 'rm -f "$$copy"' EXIT; \
	python -c 'import sys, nbformat; nb = nbformat.read(sys.argv[1], 4); \
		[c.update(outputs=[], execution_count=None) for c in nb.cells if c.cell_type == "code"]; \
		nbformat.write(nb, sys.argv[2])' book/quick_tour.ipynb "$$copy"; \
	$(MAKE) notebook NB="$$copy" >/dev/null 2>&1 || { echo "rerun-check: execution failed" >&2; exit 1; }; \
	if cmp -s book/quick_tour.ipynb "$$copy"; then \
		echo "rerun-check: re-executing book/quick_tour.ipynb gives the same bytes"; \
	else echo "rerun-check: book/quick_tour.ipynb changed when re-executed" >&2; exit 1; fi

# What `make lab` installs must work: JupyterLab starts and has the widgets extension.
lab-check: $(LAB_STAMP)
	jupyter lab --version
	jupyter labextension list 2>&1 | grep -q "@jupyter-widgets/jupyterlab-manager.*enabled"
	@echo "lab-check: JupyterLab and the widgets extension are installed"

lint: venv
	ruff check .

# Every notebook in book/ must be listed in _toc.yml and stored with its outputs: nbval only
# compares cells that have stored outputs, so a notebook saved unexecuted would test nothing.
check-notebooks: venv
	python tools/check_notebooks.py

# pytest exits 5 when it collects nothing: fine only while there is nothing to collect.
pytest: venv
	@status=0; $(PYTEST_MAIN) || status=$$?; \
	if [ $$status -eq 5 ]; then \
		if [ -z "$(NOTEBOOKS)" ] && [ -z "$$(find tests -name 'test_*.py' -not -path 'tests/browser/*')" ]; then \
			echo "pytest: no unit tests and no notebooks yet"; \
		else \
			echo "pytest collected nothing although there are tests or notebooks" >&2; exit 5; \
		fi; \
	elif [ $$status -ne 0 ]; then exit $$status; fi

# Needs the built book ($(HTML)) and Chromium; screenshots go to artifacts/screenshots/.
browser-test: venv chromium
	BOOK_BROWSER_TESTS=1 pytest tests/browser -p no:cacheprovider -rA

# --- editing ------------------------------------------------------------------------------

lab: $(LAB_STAMP)
	jupyter lab --ServerApp.root_dir=book $$(if [ "$$(id -u)" -eq 0 ]; then echo --allow-root; fi)

notebooks: venv
	@if [ -z "$(NOTEBOOKS)" ]; then echo "no notebooks in book/"; \
	else python tools/execute_notebooks.py $(NOTEBOOKS); fi

notebook: venv
	@if [ -z "$(NB)" ]; then echo "usage: make notebook NB=book/name.ipynb" >&2; exit 2; fi
	python tools/execute_notebooks.py $(NB)

# The student edition: copies of the notebooks with the cells tagged `solution` removed
# (nbconvert's TagRemovePreprocessor), for an instructor to hand out.
student: venv
	python tools/make_student.py

# --- cleaning -----------------------------------------------------------------------------

clean:
	rm -rf _build artifacts .pytest_cache .ruff_cache .hypothesis tests/browser/.pytest_cache
	find . -name __pycache__ -type d -not -path './.venv/*' -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -not -path './.venv/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) _vendor
