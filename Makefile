# Quickstart: `make demo` then `make test`. Both set up .venv on first use only.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cxmining-installed
# The CPU torch wheel lies in /opt/wheels on this workplace's machines; elsewhere pip uses its index.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check -q $(FIND_LINKS)

.PHONY: demo test venv lock lab clean-processed

venv: $(STAMP)

# Reinstalls only when the dependency declarations change.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip setuptools wheel
	$(PIP_INSTALL) -c requirements.lock torch==2.13.0
	$(PIP_INSTALL) -c requirements.lock -e '.[dev]'
	@touch $@

demo: $(STAMP)
	$(BIN)/cxmining demo

# JupyterLab on the project's environment; the notebooks' defaults read ../data/processed (run `make demo` first).
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) notebooks

test: $(STAMP)
	$(BIN)/python -m pytest -q

lock: $(STAMP)
	@{ echo '# Full pinned environment (pip freeze of a working .venv); `make` installs with -c requirements.lock.'; \
	   echo '# Regenerate with `make lock` after changing pyproject.toml dependencies.'; \
	   $(BIN)/python -m pip freeze --exclude-editable | grep -v '^cxmining'; } > requirements.lock.tmp
	@mv requirements.lock.tmp requirements.lock

clean-processed:
	rm -rf data/processed/external data/processed/internal
