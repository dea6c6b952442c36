# Lotse: `make demo` runs the demo alliance on the embedded default (SQLite, local Prefect
# server); `make test` runs the whole suite. Both create .venv on a fresh machine.

VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin

.PHONY: demo test install bytecode lock lint browser office benchmark clean

LOCK    = requirements.lock

# Every dependency at the version in the lock file (tested together, hashes checked), then
# Lotse itself on top without resolving anything again.
$(BIN)/lotse: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	@# setuptools' note that a folder named `lotse` would shadow the package: there is none.
	PYTHONWARNINGS="ignore:Editable installation" \
	  $(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

install: $(BIN)/lotse

# Lotse's own modules compiled once: where PYTHONDONTWRITEBYTECODE is set (as on CI), Python still
# reads bytecode but never writes it, and every command started cold compiled ~100 modules again
# (about half its start-up beyond the libraries). Stale files are ignored by Python, not trusted.
bytecode: install
	$(BIN)/python -m compileall -q -j 0 config desk flows notifications states tasks >/dev/null

# Refresh the lock after changing a range in pyproject.toml, or to take new releases; then
# run `make test` on it before committing both files.
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra test --extra postgres --extra dev \
	  --python-version 3.11 --generate-hashes --upgrade --quiet -o $(LOCK)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)

demo: bytecode
	$(BIN)/lotse init --demo
	@echo "database and state: $${LOTSE_HOME:-.lotse}/"
	$(BIN)/lotse up --demo

# Debian's chromium for the browser check; skipped (not failed) where it cannot be installed.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	  echo "note: chromium not installed; the browser check will be skipped"; }

# LibreOffice without a display, to render the workbook of `lotse report --xlsx` to PDF; skipped
# (not failed) where it cannot be installed.
office:
	@command -v soffice >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && apt-get install -y -qq libreoffice-calc-nogui >/dev/null) || \
	  echo "note: LibreOffice not installed; the workbook's PDF check will be skipped"; }

lint: install
	$(BIN)/ruff check .

test: bytecode browser office lint
	$(BIN)/pytest -q

# Every benchmark runs, a missed goal included (each prints its figures beside its floor and exits
# non-zero when it misses its goal); the target fails at the end if any did.
BENCHMARKS = advance_case enrol_cohort check_deadlines deliver_outbox read_commands case_list \
             case_overviews answer_links process_migration advance_throughput

benchmark: bytecode
	@missed=""; for name in $(BENCHMARKS); do \
	  $(BIN)/python benchmarks/$$name.py || missed="$$missed $$name"; \
	done; \
	if [ -n "$$missed" ]; then echo "goal missed or benchmark failed:$$missed"; exit 1; fi

clean:
	rm -rf $(VENV) .lotse .pytest_cache .ruff_cache .hypothesis
