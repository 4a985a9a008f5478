# MNIST Lab: `make run` sets everything up and serves the dashboard; `make test` sets up and runs every test.
# Each step leaves a stamp or checks its result, so a second call skips what is done.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# CI and fresh machines run as root; elsewhere system packages need sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: run test setup data system-packages browser lint bench bench-dashboard clean haproxy serve-school

run: setup
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: setup browser haproxy
	$(BIN)/python -m pytest -n 2 --dist loadgroup  # two test processes; the browser tests together in one

setup: $(VENV)/.installed data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(PIP) install --quiet --upgrade pip
	$(PIP) install -r requirements.txt
	touch $@

# Debian's package lists are empty on a fresh machine: fill them once, or apt-get finds nothing.
system-packages:
	@if command -v apt-get >/dev/null && ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then \
		$(SUDO) apt-get update; fi

# Fetching is idempotent: verified data is checked (checksums) and kept.
data: $(VENV)/.installed system-packages
	$(BIN)/python -m mnistlib fetch

# Browser tests drive Debian's Chromium with Playwright (no browser download).
browser: system-packages
	@command -v chromium >/dev/null && dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || \
		$(SUDO) apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-noto-color-emoji

# A school: WORKERS dashboard processes (ports 8601…) on one store, behind Debian's HAProxy on $(PORT), sticky by
# cookie; its config is written from deploy/haproxy.cfg.template into run/school/. Ctrl-C stops them all.
WORKERS ?= 4
serve-school: setup haproxy
	$(BIN)/python -m deploy.serve_school --workers $(WORKERS) --port $(PORT)

haproxy: system-packages
	@command -v haproxy >/dev/null || test -x /usr/sbin/haproxy || \
		$(SUDO) apt-get install -y --no-install-recommends haproxy

lint: $(VENV)/.installed
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python benchmarks/bench_training.py

# Cold start, browse latency, memory, live-training overhead, then a class of 20 browsers (about 15 min).
bench-dashboard: setup browser
	$(BIN)/python benchmarks/bench_dashboard.py
	$(BIN)/python benchmarks/bench_class.py

clean:
	rm -rf $(VENV) .pytest_cache
