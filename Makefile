# Storekeeper — `make run` starts the local stack, `make test` runs every gate.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
SAM := $(TOOLS)/sam/bin/sam
# Python 3.13: on PATH, or under pyenv where this image keeps it.
PYTHON313 := $(shell for p in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13; do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE :=

.PHONY: help install run test lint format typecheck validate build bench openapi clients deploy clean fuzz chaos web chromium

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

UV := $(TOOLS)/uv/bin/uv
UV_VERSION := 0.13.9
REQUIREMENTS := requirements-dev.txt $(wildcard layers/*/requirements.txt) $(wildcard functions/*/requirements.txt)
tool_requirement = $(shell awk '$$1 == "$(1)" {print $$2}' requirements-tools.txt)

# uv installs in seconds what pip installs in a minute; it is bootstrapped with pip, pinned, in its own venv.
$(UV):
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found (PATH or ~/.pyenv/versions/3.13*)"; exit 1; }
	$(PYTHON313) -m venv $(TOOLS)/uv
	$(TOOLS)/uv/bin/pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"

$(BIN)/.installed: $(REQUIREMENTS) | $(UV)
	$(UV) venv -q --allow-existing --python $(PYTHON313) $(VENV)
	UV_COMPILE_BYTECODE=1 $(UV) pip install -q --python $(BIN)/python -r requirements-dev.txt
	touch $@

# Tools with pins that clash with the app's, each in a venv of its own (requirements-tools.txt).
$(TOOLS)/%/.installed: requirements-tools.txt | $(UV)
	$(UV) venv -q --allow-existing --python $(PYTHON313) $(TOOLS)/$*
	$(UV) pip install -q --python $(TOOLS)/$*/bin/python "$(call tool_requirement,$*)"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The web apps (web/, their own npm package): installed again only when their lockfile changes.
web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(BIN)/.installed $(TOOLS)/sam/.installed $(TOOLS)/localstripe/.installed $(TOOLS)/checkov/.installed $(TOOLS)/locust/.installed node_modules/.installed web/node_modules/.installed ## create .venv, the tool venvs in .tools/, node_modules/ and web/node_modules/

web: web/node_modules/.installed ## the storefront and console: types from docs/openapi.json, tsc --strict, eslint, vite build to web/dist
	cd web && npm run --silent gen && npm run --silent typecheck && npm run --silent lint && npm run --silent build

# The browser tests drive Debian's chromium through Playwright (never a browser Playwright downloads).
# A brand-new machine or CI gets it from apt (as root, or with passwordless sudo); where that is impossible
# the browser tests skip and say why.
CHROMIUM := /usr/bin/chromium
chromium: ## install Debian's chromium for the browser tests when it is missing
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "no apt-get: install Chromium at $(CHROMIUM) to run tests/browser (they will skip)"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "not root and no passwordless sudo: 'apt-get install chromium' to run tests/browser (they will skip)"; exit 0; fi; \
	echo "installing Debian's chromium for tests/browser (apt-get, about a minute)"; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null \
	  || echo "apt-get could not install chromium: tests/browser will skip"

run: $(BIN)/.installed $(TOOLS)/localstripe/.installed web ## start the local stack with demo data and the web apps at :8080 (Ctrl-C stops it)
	$(BIN)/python -m local run

test: install lint typecheck validate openapi-check clients build web chromium ## every gate: lint, types, template, OpenAPI drift, generated clients, build, web apps, tests (incl. tests/browser)
	$(BIN)/pytest -q

lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## fix what ruff can
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install ## mypy --strict over the layer, the functions, the local stack, the benchmarks and the tests
	$(BIN)/mypy

validate: install ## sam validate --lint, cfn-lint (template.yaml, web.yaml), checkov (skips and their reasons: .checkov.yaml), the state machines' ASL
	$(SAM) validate --lint --region eu-west-1
	$(BIN)/cfn-lint template.yaml web.yaml
	$(TOOLS)/checkov/bin/checkov --config-file .checkov.yaml
	for machine in statemachines/*.asl.json; do node_modules/.bin/asl-validator --json-path "$$machine" || exit 1; done

build: install ## sam build (arm64 wheels, no container) + compiled bytecode
	PATH="$(dir $(PYTHON313)):$$PATH" $(SAM) build --parallel --cached
	$(PYTHON313) -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build
	@for fn in .aws-sam/build/*Function; do \
	  ls $$fn/*/__pycache__/*.cpython-313.pyc >/dev/null 2>&1 || { echo "no bytecode in $$fn"; exit 1; }; \
	done; echo "build output carries Python 3.13 bytecode"

fuzz: install ## schemathesis over every route on a local stack (~3,000 requests; FUZZ_EXAMPLES=100 for a long run)
	FUZZ_RANDOM=1 FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-15} $(BIN)/pytest -q -s -p no:cacheprovider tests/e2e/test_fuzz.py

chaos: install ## the whole fault matrix: every Stripe call x fault x journey on a local stack (make test runs a subset)
	FAULT_MATRIX=full $(BIN)/pytest -q -s -p no:cacheprovider tests/e2e/test_fault_matrix.py

openapi: install ## regenerate docs/openapi.json from the code
	$(BIN)/python -m local.openapi > docs/openapi.json.tmp && mv docs/openapi.json.tmp docs/openapi.json

openapi-check: install
	@$(BIN)/python -m local.openapi | diff -u docs/openapi.json - \
	  || { echo "docs/openapi.json is stale: run 'make openapi'"; exit 1; }

clients: install ## generate Python and TypeScript clients from docs/openapi.json (build/clients); fail on any warning
	$(BIN)/python -m clients.check

bench: build web chromium ## benchmarks (tables on stdout), the storefront's JavaScript size and first product list included
	$(BIN)/python bench/web.py
	$(BIN)/python bench/cold_start.py --all
	$(BIN)/python bench/contention.py --models serial aws
	$(BIN)/python bench/hot_coupon.py
	$(BIN)/python bench/checkout.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/burst.py
	$(BIN)/python bench/load.py

deploy: build web ## deploy to AWS: the API (sam deploy, --guided the first time), the web apps' stack (web.yaml: S3 + CloudFront), their files and config.json
	$(BIN)/python -m local.deploy

clean:
	rm -rf .aws-sam .local build .pytest_cache .mypy_cache .ruff_cache web/dist
