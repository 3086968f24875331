# Two commands matter: `make run` and `make test`. Both create .venv on first use and are
# fast the second time (stamps below skip what is already installed).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
PIP := $(VENV)/bin/pip
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1

.PHONY: run serve install test lint unit bench clean-data

# The install steps live in scripts/install.sh, the same script the Dockerfile runs (CPU
# PyTorch first, the SmolLM2 GGUF, llama-cpp-python compiled once and cached, then `pip install -e .`).
$(VENV)/.installed: pyproject.toml
	PYTHON=$(PYTHON) bash scripts/install.sh --venv $(VENV)
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e '.[test]'
	@# the browser tests drive Debian's Chromium (Playwright cannot download its own here)
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/vraagbaak ingest demo/kb --collection demo
	$(BIN)/vraagbaak ingest demo/kb-nl --collection demo-nl --language nl
	$(BIN)/vraagbaak grants add demo --everyone
	$(BIN)/vraagbaak grants add demo-nl --everyone
	@# the first run prints the admin's generated password once; later runs leave it alone
	$(BIN)/vraagbaak users create admin --role admin --generate-password --if-missing
	@# the admin page may create collections from folders under demo/ (any folder: set it yourself)
	VRAAGBAAK_INGEST__DOCUMENT_ROOTS='["$(CURDIR)/demo"]' $(BIN)/vraagbaak serve --host 127.0.0.1 --port 8000

serve: install
	$(BIN)/vraagbaak serve

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy app ingest models prompts eval tests bench

test: lint
	$(BIN)/pytest -q

unit: $(VENV)/.installed-test
	$(BIN)/pytest -q -m "not slow"

bench: $(VENV)/.installed-test
	$(PIP) install --quiet -e '.[bench]' torch==2.13.0
	$(PY) -m bench.run_all

clean-data:
	rm -rf data
