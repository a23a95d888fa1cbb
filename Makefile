# GPUBROKER — the two commands: `make run` and `make test`. Both work on a fresh machine with only
# Python 3.11+ and make; everything else is installed into .venv from pyproject.toml.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= gpubroker.settings.development

.PHONY: run test install migrate demo serve lint typecheck schema check-schema bench bench-tools clean browser bench-load

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_benchmarks
	$(BIN)/python manage.py load_models
	$(BIN)/python manage.py load_demo_data

## make run: install, migrate, load benchmarks and demo data, serve HTTP + WebSocket with uvicorn
## (httptools + uvloop, redacted access log: apps/websocket_gateway/serve.py; --server daphne too)
run: demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py build_trusted_documents
	@$(BIN)/python -m gpubroker.web.announce http://$(HOST):$(PORT) & \
	exec $(BIN)/python -m apps.websocket_gateway.serve -b $(HOST) -p $(PORT) gpubroker.asgi:application

## make test: install and run the whole suite (on whatever DATABASE_URL / REDIS_URL say)
test: install
	DJANGO_SETTINGS_MODULE=gpubroker.settings.test $(BIN)/python -m pytest $(PYTEST_ARGS)

## make browser: Debian's chromium and nginx for the browser and deployment tests, and
## redis-server for the Redis restart test (apt, as root).
## Without them those tests skip on the embedded run; CI (.ci/run) installs them and requires them.
browser:
	@if command -v chromium >/dev/null 2>&1 && { command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx; } && command -v redis-server >/dev/null 2>&1; then \
		echo "chromium, nginx and redis-server are installed"; \
	else \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium nginx redis-server; \
	fi

## make bench-load: Locust for bench/load_fault.py (not needed by the tests)
bench-load: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

## make schema: regenerate graphql/schema.graphql from the live schema
schema: install
	$(BIN)/python manage.py export_schema schema --path graphql/schema.graphql

## make bench-tools: what bench/catalogue_bench.py needs beyond the dev install — wrk (Debian
## package; the load generator, pinned to the other core than the server) and the bench extra
## (granian, pyinstrument, py-spy). Installs wrk with apt-get when it is missing (root).
bench-tools: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	@command -v taskset >/dev/null || echo "taskset (util-linux) missing: the bench runs unpinned"

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
