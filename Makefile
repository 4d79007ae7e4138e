# The two commands of the README: `make demo` and `make test`. Both create .venv when it is
# missing and are safe to run again (the install step reruns only when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_PIN := torch==2.13.0
STAMP := $(VENV)/.bci-app-installed

export MPLBACKEND ?= Agg

# The GUI tests once more on a real X server (Xvfb, Qt's xcb platform), the slow ones left to the
# offscreen pass, then the smoke test of `bci-app gui --demo` on it. `.ci/run` installs what it
# needs (the README's desktop section lists the packages).
ON_X11 := BCI_APP_TEST_QT_PLATFORM=xcb xvfb-run --auto-servernum \
	--server-args="-screen 0 1600x1000x24 -nolisten tcp"

.PHONY: demo test test-x11 lint format bench install clean-venv

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "bci-app needs Python >= 3.11"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# The exact torch pin first: it takes the CPU build; anything later that asks for torch is satisfied.
	$(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -e '.[gui,federated,dev]'
	@# PyPI's torchaudio is a CUDA build whose C++ extension cannot load beside CPU torch; without
	@# its shared libraries torchaudio falls back to pure Python, which braindecode needs.
	rm -f $(VENV)/lib/python3*/site-packages/torchaudio/lib/*.so
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/bci-app demo
	@# On a desktop, the clinician application then opens on the real recording, decoded live.
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then $(VENV)/bin/bci-app gui --demo; fi

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

test-x11: $(STAMP)
	$(ON_X11) $(PY) -m pytest -m "gui and not slow"
	$(ON_X11) $(PY) -m pytest tests/gui/test_desktop_on_x11.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) -m bench.baselines

clean-venv:
	rm -rf $(VENV)
