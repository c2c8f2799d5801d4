# Two entry points do all the setup themselves on a fresh machine:
#   make demo   – the main job: `agora demo health` on the embedded default
#   make test   – lint, type-check and the whole test suite
# Both create .venv (Python 3.11) and install the pinned package on first use.
# `make test` also installs Debian's ipfs-cid (the reference for IPFS CIDs in
# tests/vault) with apt-get when it is missing; that step needs root.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out/health
DEMO_ARGS ?=

.PHONY: demo test lint typecheck pytest test-tools bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/agora ledger build
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/agora demo health --out $(OUT) $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

test-tools:
	@command -v ipfs_cid >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ipfs-cid >/dev/null; \
	} || { echo "make: ipfs_cid missing; run as root or: apt-get install ipfs-cid" >&2; exit 1; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	} || { echo "make: PostgreSQL missing; run as root or: apt-get install postgresql" >&2; exit 1; }

pytest: $(STAMP) test-tools
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/fl_pneumonia.py

clean:
	rm -rf $(VENV) out
