# RNN Studio. `make demo` and `make test` set up everything from nothing (a venv, pinned installs,
# the built-in corpora) and then run. Python 3.11 is needed: numpy 1.23.5 (which mxnet 1.9.1
# requires) has no wheels for newer Pythons.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
HOME_DIR = $(CURDIR)/.home
export RNN_STUDIO_TEST_CORPORA = $(HOME_DIR)/corpora

.PHONY: setup demo gui test test-slow test-all test-bf16 lint bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "RNN Studio needs Python 3.11 (numpy 1.23.5 for mxnet 1.9.1 has no wheels for " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel

$(VENV)/.installed: $(BIN)/python pyproject.toml
	# gluonnlp 0.10.0 builds from source and needs Cython and numpy present at build time
	$(BIN)/python -m pip install -q numpy==1.23.5 Cython==3.0.12
	$(BIN)/python -m pip install -q --no-build-isolation gluonnlp==0.10.0
	$(BIN)/python -m pip install -q -e '.[test,onnx]'
	# optional (the bf16 training path): oneDNN's wheels; training works in fp32 without them
	-$(BIN)/python -m pip install -q -e '.[bf16]'
	touch $@

# the oneDNN RNN library (engine/native); when it cannot be built, this says why and goes on
engine/native/lib/libornn.so: engine/native/onednn_rnn.cpp engine/native/build.py $(VENV)/.installed
	$(BIN)/python -m engine.native.build onednn

# the sampler's lanes kernel (plain C, needs only gcc); without it sampling runs on numpy
engine/native/lib/liblanes.so: engine/native/lanes.c engine/native/build.py $(VENV)/.installed
	$(BIN)/python -m engine.native.build lanes

# corpora are built twice: into the tests' folder and into your own RNN_STUDIO_HOME (where the
# app and the CLI look), so nothing needs the network after setup
setup: $(VENV)/.installed engine/native/lib/libornn.so engine/native/lib/liblanes.so
	RNN_STUDIO_HOME=$(HOME_DIR) $(BIN)/rnn-studio corpora build all
	$(BIN)/rnn-studio corpora build all

# The main job: the desktop app where there is a display, else a headless demo
# (train a small Shakespeare model for two minutes, then sample from it).
demo: setup
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then $(BIN)/rnn-studio; else \
	  echo "no display: running the headless demo"; \
	  $(BIN)/rnn-studio runs delete demo >/dev/null 2>&1; \
	  $(BIN)/rnn-studio generator train --corpus shakespeare --out demo --minutes 2 --recipe; \
	  $(BIN)/rnn-studio generator sample demo --prime "ROMEO:" --length 400 --seed 1; fi

gui: setup
	$(BIN)/rnn-studio

# the default suite on two workers (pytest-xdist), one OpenMP thread each (tests/conftest.py);
# the slow suite stays on one process: its convergence tests train against the clock
TEST_WORKERS ?= 2
test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

test-slow: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m slow

# the bf16 training path (engine/native) on a CPU with AVX512_BF16 or AMX; elsewhere they skip
test-bf16: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -rs tests/test_onednn_layer.py

test-all: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m "slow or not slow"

lint: $(VENV)/.installed
	$(BIN)/ruff check .

bench: setup
	$(BIN)/rnn-studio bench --json

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache engine/native/lib
