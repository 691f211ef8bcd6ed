# Daily loop: make up | test | fmt | lint | typecheck | bench | proto | lock
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROTO_SRC := $(wildcard proto/zuhur/v1/*.proto)
# Descriptor set with source info: the proto comments, which the gateway turns into its OpenAPI.
PROTO_DOCS := zuhur/v1/descriptors.binpb
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba_cache

.PHONY: help venv up test browser test-unit test-integration lint fmt typecheck proto proto-check \
        compose-check k8s-check warm bench load lock clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# The dev tools (requirements.in, pinned in the lock), then the zuhur package itself,
# editable, its runtime dependencies constrained to the same pins.
$(STAMP): requirements.lock requirements-runtime.in pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.lock
	$(PY) -m pip install --disable-pip-version-check -q -c requirements.lock -e .
	touch $(STAMP)

venv: $(STAMP)  ## create .venv from requirements.lock

up: $(STAMP)  ## run redis, simulation, fitting and gateway on loopback (Ctrl-C stops all)
	$(VENV)/bin/honcho -f deploy/local/Procfile -d $(CURDIR) start

test: $(STAMP) proto-check lint typecheck compose-check k8s-check warm  ## everything CI runs
	$(PY) -m pytest

warm: $(STAMP)  ## compile every numba kernel into NUMBA_CACHE_DIR (only the first run compiles)
	$(PY) -m services.warm

test-unit: $(STAMP)  ## tests that start no processes
	$(PY) -m pytest -m "not integration"

test-integration: $(STAMP)  ## tests against the real processes
	$(PY) -m pytest -m integration

browser:  ## install Debian's chromium for the browser tests (they skip without it)
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
	    echo "chromium: $$(command -v chromium || command -v chromium-browser)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq chromium; \
	else \
	    echo "no chromium and no root apt-get: browser tests will skip (apt-get install -y chromium)"; \
	fi

lint: $(STAMP)  ## ruff lint + format check + dead code (vulture, see vulture_whitelist.py)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/vulture

fmt: $(STAMP)  ## format and autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)  ## mypy on our packages
	$(VENV)/bin/mypy

proto: $(STAMP)  ## regenerate Python code (+ .pyi stubs, descriptor set with comments) from proto/
	$(PY) -m grpc_tools.protoc -I proto --python_out=proto --pyi_out=proto \
	    --grpc_python_out=proto --include_source_info --descriptor_set_out=proto/$(PROTO_DOCS) \
	    $(PROTO_SRC)

proto-check: $(STAMP)  ## fail when generated code is stale
	@tmp=$$(mktemp -d) && \
	$(PY) -m grpc_tools.protoc -I proto --python_out=$$tmp --pyi_out=$$tmp \
	    --grpc_python_out=$$tmp --include_source_info --descriptor_set_out=$$tmp/$(PROTO_DOCS) \
	    $(PROTO_SRC) && \
	for f in $$(cd $$tmp && find . -type f); do \
	    cmp -s $$tmp/$$f proto/$$f || { echo "stale generated code: proto/$$f (run make proto)"; exit 1; }; \
	done && \
	for f in $$(cd proto && find . -name '*_pb2*.py*' -o -name '*.binpb'); do \
	    test -f $$tmp/$$f || { echo "generated file without a proto: proto/$$f"; exit 1; }; \
	done && rm -rf $$tmp && echo "generated code is up to date"

compose-check: $(STAMP)  ## validate docker-compose.yml against the Compose Specification schema
	$(PY) -m deploy.compose_check docker-compose.yml

k8s-check: $(STAMP)  ## render deploy/k8s kustomizations, validate against the k8s schemas
	$(PY) -m deploy.k8s_check

bench: $(STAMP)  ## speed benchmarks with peers measured in the same run
	$(PY) -m tests.bench.bench_percolation
	$(PY) -m tests.bench.bench_overhead
	$(PY) -m tests.bench.bench_chinchilla

# Load test against a running stack (`make up`): LOAD_USERS users for LOAD_TIME, headless;
# Locust's CSV stats and HTML report land in .load/ (gitignored).
LOAD_USERS ?= 8
LOAD_TIME ?= 30s
LOAD_HOST ?= http://127.0.0.1:$${ZUHUR_GATEWAY_PORT:-8000}
load: $(STAMP)  ## bounded Locust run (gateway over HTTP + engine over gRPC), report in .load/
	mkdir -p .load
	$(PY) -m locust -f deploy/load/locustfile.py --headless --host $(LOAD_HOST) \
	    --users $(LOAD_USERS) --spawn-rate $(LOAD_USERS) --run-time $(LOAD_TIME) \
	    --stop-timeout 30 --csv .load/zuhur --html .load/report.html

lock:  ## re-pin requirements.lock from requirements.in
	uv pip compile requirements.in -o requirements.lock --python-version 3.11 -q

clean:
	rm -rf $(VENV) .numba_cache .mypy_cache .ruff_cache .pytest_cache
