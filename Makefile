# srkd: `make demo` and `make test` do all set-up on a fresh machine (Python >= 3.10 and make).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU wheel, installed unless the venv already has a torch: to use a GPU build, install it into .venv first
# (python3 -m venv .venv && .venv/bin/pip install torch --index-url https://download.pytorch.org/whl/cu124).
TORCH_PIN ?= torch==2.13.0
DEMO_OUT ?= runs/demo

.PHONY: install demo test test-browser lab sync export clean-nbs outputs readme docs-check docs bench

install: $(VENV)/.installed

$(VENV)/.installed: settings.ini setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c "import torch" 2>/dev/null && echo "srkd: using the torch already in $(VENV)" || $(BIN)/python -m pip install -q $(TORCH_PIN)
	$(BIN)/python -m pip install -q -e ".[dev,lab]"
	@touch $@

# The main job on the embedded default data (scikit-image's sample photos), through papermill: KDSR's teacher, then
# its distilled student, x4 blind SR under isotropic blur (the CPU recipe: a few minutes on two cores). The notebook's
# output streams to the terminal (progress lines and validation scores as they come) and ends with the results table, what its numbers
# mean and where the figures, weights and record went.
demo: install
	@mkdir -p $(DEMO_OUT)
	SRKD_PROGRESS=lines $(BIN)/papermill nbs/train_kdsr.ipynb $(DEMO_OUT)/train_kdsr.ipynb -p scale 4 -p out_dir $(abspath $(DEMO_OUT)) --cwd nbs \
	    --log-output --no-progress-bar

# Chapters and their in-place tests (nbdev_test), then the repository tests (pytest, last so its summary closes the log).
test: install
	$(BIN)/nbdev_test
	$(BIN)/python -m pytest tests

# JupyterLab in a real browser: a chapter and the evaluate notebook run to the end in headless Chromium without an error,
# and the comparison widget follows a click; screenshots go to runs/browser/. Installs Debian's chromium and
# chromium-driver (apt, as root) and selenium if they are missing. CI runs it after make test.
test-browser: install
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	    { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@$(BIN)/python -c "import selenium" 2>/dev/null || $(BIN)/python -m pip install -q "selenium>=4.10"
	SRKD_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/test_browser.py -v

# JupyterLab on the project's venv and kernel, at nbs/; notebooks saved from it are cleaned as nbdev_clean cleans them
# (lab/jupyter_server_config.py), so reading and running a chapter does not dirty git with metadata.
lab: install
	$(BIN)/jupyter lab --config=$(abspath lab/jupyter_server_config.py)

# Run notebooks (not chapters) and their py:percent twins in scripts/ (jupytext): after editing either side, bring the
# other up to date (the newer side wins); a run notebook not yet paired is paired here. A test checks the pairs agree.
RUN_NBS = $(filter-out nbs/index.ipynb,$(shell grep -L '#| default_exp' nbs/*.ipynb))
sync: install
	@for nb in $(RUN_NBS); do \
	    if grep -q '"formats": "ipynb,../scripts//py:percent"' $$nb; then $(BIN)/jupytext --quiet --sync $$nb; \
	    else $(BIN)/jupytext --quiet --set-formats ipynb,../scripts//py:percent \
	        --update-metadata '{"jupytext": {"notebook_metadata_filter": "-all"}}' $$nb; fi; \
	    $(BIN)/nbdev_clean --fname $$nb; done

export: install
	$(BIN)/nbdev_export

clean-nbs: install
	$(BIN)/nbdev_clean

# Execute the chapters in place, so that the docs site shows their figures and tables (Quarto does not run notebooks).
outputs: install
	$(BIN)/srkd_site outputs

readme: install
	$(BIN)/srkd_site readme

# Everything up to Quarto's render: notebooks processed into _proc/, the results page generated, links checked.
docs-check: install
	$(BIN)/srkd_site check

# The full site; needs the quarto binary (https://quarto.org), which nbdev would otherwise try to download.
docs: install
	@command -v quarto >/dev/null || { echo "make docs needs Quarto on PATH"; exit 1; }
	$(BIN)/nbdev_docs

bench: install
	@mkdir -p runs/bench
	$(BIN)/papermill nbs/bench.ipynb runs/bench/bench.ipynb -p out_dir $(abspath runs/bench) --cwd nbs
