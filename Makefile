# Two entry points a fresh machine needs (see README):
#   make run   set up and run reviewbot's main job on the embedded default (SQLite)
#   make test  set up and pass the tests (SQLite and PostgreSQL)
PY       ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
SHARED   ?= $(abspath ..)/shared
CORPUS   := $(SHARED)/corpus/linux-rdma-2025.git
DB       ?= sqlite:///reviewbot.db

.PHONY: run test venv system lint bench wheel installed smoke

$(BIN)/reviewbot: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/reviewbot

# Debian packages and services the tests use; needs root (CI runs as root).
system:
	@if [ "$$(id -u)" = 0 ]; then bash .ci/system-setup > .ci/.pg-url; \
	else echo "not root: skipping apt/PostgreSQL setup (.ci/system-setup)"; : > .ci/.pg-url; fi

# The main job on the embedded default: ingest linux-rdma into SQLite, route every
# series with MAINTAINERS and show the INFINIBAND backlog. With the shared corpus
# (the 2025 archive) the backlog is shown as of its last day; without it, the
# last 30 days of lore.kernel.org are fetched and the backlog is as of now.
MAINTAINERS_FILE := $(SHARED)/kernel/MAINTAINERS
run: venv
	$(BIN)/reviewbot --db $(DB) db upgrade
	@if [ -d "$(CORPUS)" ]; then \
	  $(BIN)/reviewbot --db $(DB) ingest --epoch $(CORPUS) --list linux-rdma; \
	else \
	  $(BIN)/reviewbot --db $(DB) ingest --lore https://lore.kernel.org/linux-rdma --list linux-rdma; \
	fi
	$(BIN)/reviewbot --db $(DB) stats
	@export REVIEWBOT_MAINTAINERS="$${REVIEWBOT_MAINTAINERS:-$(MAINTAINERS_FILE)}"; \
	if [ ! -f "$$REVIEWBOT_MAINTAINERS" ]; then \
	  echo "no MAINTAINERS at $$REVIEWBOT_MAINTAINERS: set REVIEWBOT_MAINTAINERS to route series"; \
	  $(BIN)/reviewbot --db $(DB) queue | head -n 40; \
	elif [ -d "$(CORPUS)" ]; then \
	  $(BIN)/reviewbot --db $(DB) queue --subsystem 'INFINIBAND SUBSYSTEM' --as-of 2025-12-31 | head -n 60; \
	else \
	  $(BIN)/reviewbot --db $(DB) queue --subsystem 'INFINIBAND SUBSYSTEM' | head -n 60; \
	fi

# The wheel, installed into a fresh venv as a user would (not editable), then a smoke
# test from an unrelated directory; tests/test_installed*.py run against this copy.
DIST      := build/dist
INSTALLED := build/installed
wheel: venv
	rm -rf $(DIST)
	$(BIN)/pip wheel -q --no-deps -w $(DIST) .

installed: wheel
	rm -rf $(INSTALLED)
	$(PY) -m venv $(INSTALLED)
	$(INSTALLED)/bin/pip install -q --disable-pip-version-check $(DIST)/reviewbot-*.whl
	$(MAKE) --no-print-directory smoke

smoke:
	@tmp=$$(mktemp -d) && cd $$tmp && export HOME=$$tmp PATH=$(abspath $(INSTALLED))/bin:$$PATH \
	  && reviewbot --version && reviewbot policy check >/dev/null && reviewbot db upgrade \
	  && reviewbot health && test -f $$tmp/.local/state/reviewbot/reviewbot.db \
	  && test -z "$$(ls $$tmp)" && rm -rf $$tmp && echo "smoke test of the installed wheel: OK"

test: system venv installed
	REVIEWBOT_TEST_PG_URL="$${REVIEWBOT_TEST_PG_URL:-$$(tail -n 1 .ci/.pg-url)}" \
	REVIEWBOT_INSTALLED=$(abspath $(INSTALLED))/bin/reviewbot \
	  $(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile

lint: venv
	$(BIN)/ruff check reviewbot tests bench
	$(BIN)/mypy

bench: venv
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/route.py
