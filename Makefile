# Lotse: `make demo` runs the demo alliance on the embedded default (SQLite, local Prefect
# server); `make test` runs the whole suite. Both create .venv on a fresh machine.

VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin

.PHONY: demo test install lint browser benchmark clean

$(BIN)/lotse: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/lotse

demo: install
	$(BIN)/lotse init --demo
	@echo "database and state: $${LOTSE_HOME:-.lotse}/"
	$(BIN)/lotse up --demo

# Debian's chromium for the browser check; skipped (not failed) where it cannot be installed.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	  echo "note: chromium not installed; the browser check will be skipped"; }

lint: install
	$(BIN)/ruff check .

test: install browser lint
	$(BIN)/pytest -q

benchmark: install
	$(BIN)/python benchmarks/advance_case.py
	$(BIN)/python benchmarks/enrol_cohort.py
	$(BIN)/python benchmarks/check_deadlines.py
	$(BIN)/python benchmarks/deliver_outbox.py
	$(BIN)/python benchmarks/read_commands.py

clean:
	rm -rf $(VENV) .lotse .pytest_cache .ruff_cache .hypothesis
