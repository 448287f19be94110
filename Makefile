# smsarchive: `make demo` and `make test` are all a newcomer needs (see README.md).
PYTHON ?= python3
# uv on PATH, else the uv module of $(PYTHON), else one installed into .uv-bootstrap by pip
# (--target: allowed even where the system Python is "externally managed", as on Debian 12,
# and touches nothing outside that folder); quoted, as a clone's path may hold spaces
UV_BOOTSTRAP := $(CURDIR)/.uv-bootstrap
UV := $(shell command -v uv 2>/dev/null \
	|| ($(PYTHON) -m uv --version >/dev/null 2>&1 && echo "$(PYTHON) -m uv") \
	|| echo "'$(UV_BOOTSTRAP)/bin/uv'")
VENV := .venv
RUN := $(UV) run --locked --no-sync

.DEFAULT_GOAL := help
.PHONY: help install demo test lint typecheck fmt bench sandbox clean chromium

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# --compile-bytecode and compileall: each command then starts about a second sooner where
# Python may not write its own .pyc files (PYTHONDONTWRITEBYTECODE, read-only installs). A
# source edited later is compiled in memory as usual: a stale .pyc is never used.
$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 \
		|| $(PYTHON) -m pip install --quiet --target "$(UV_BOOTSTRAP)" uv \
		|| { echo "error: uv is missing and $(PYTHON) -m pip cannot install it: install uv" \
			"(https://docs.astral.sh/uv/) or pip (Debian: apt install python3-pip), then rerun" >&2; \
			exit 1; }
	$(UV) sync --locked --compile-bytecode
	@$(RUN) python -m compileall -q flows extract transform warehouse >/dev/null
	@touch $@

install: $(VENV)/.synced ## install uv (if missing, into .uv-bootstrap) and the locked dependencies into .venv

demo: install ## run the pipeline on the built-in VoIP.ms sandbox and print where the results are
	$(RUN) smsarchive demo

# Two workers, each taking whole test files (a file's fixtures are set up once): most of the
# suite's time is waiting (on Prefect servers, serve's timings, child processes), which two
# workers overlap: 7 to 8.5 minutes here against 13 for one. TEST_WORKERS=0 runs them in one.
TEST_WORKERS ?= 2
test: install lint typecheck chromium ## lint, type-check and run the whole test suite
	$(RUN) pytest -n $(TEST_WORKERS) --dist loadfile

# The report's browser test needs Chromium; without it that test is skipped, never failed.
chromium: ## install headless Chromium (Debian apt) for the report's browser test, when possible
	@command -v chromium >/dev/null 2>&1 \
		|| (apt-get update -qq && apt-get install -y -qq chromium) \
		|| echo "chromium unavailable: browser tests will be skipped"

lint: install ## ruff: lint and formatting check
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: install ## mypy --strict on the packages
	$(RUN) mypy

fmt: install ## format and auto-fix
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

sandbox: install ## serve the VoIP.ms sandbox on http://127.0.0.1:8765
	$(RUN) smsarchive sandbox --port 8765

bench: install ## the archive-scale benchmark (see benchmarks/README.md)
	$(RUN) python -m benchmarks.run

clean: ## remove the venv and caches (not ./data)
	rm -rf $(VENV) .uv-bootstrap .pytest_cache .mypy_cache .ruff_cache .hypothesis
