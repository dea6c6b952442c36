"""The real `lotse` command line in subprocesses: exit codes, one error line and no traceback, and
read-only commands that never import Prefect."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_lotse
from tests.tables import dump

READ_ONLY = [
    ["case", "list"], ["case", "list", "--json"],
    ["case", "show", "{ref}"], ["case", "show", "{ref}", "--json"],
    ["process", "list"], ["process", "show", "pflege"], ["actor", "list"], ["actor", "list", "--json"],
]
PROBE = """
import json, os, sys
from lotse.flows.cli import main
codes = []
for words in json.loads(sys.argv[1]):
    sys.argv = ["lotse", *words]
    try:
        main()
    except SystemExit as stop:
        codes.append(stop.code)
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"prefect", "fastapi", "uvicorn", "alembic"})
with open(os.environ["PROBE_OUT"], "w") as out:
    json.dump({"codes": codes, "heavy": heavy}, out)
"""


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A database with a few actors and one case, made through the real command line."""
    home = tmp_path_factory.mktemp("cli") / "home"
    assert run_lotse(home, "init").returncode == 0
    for args in (["koord", "--name", "Koordination", "--role", "coordinator"],
                 ["klinik-nord", "--name", "Klinik Nord", "--role", "employer", "--region", "SE-Nord"],
                 ["vermittlung", "--name", "Vermittlung", "--role", "agency"]):
        assert run_lotse(home, "actor", "add", *args).returncode == 0
    opened = run_lotse(home, "case", "add", "--given-name", "Priya", "--family-name", "Nair",
                       "--nationality", "IND", "--employer", "klinik-nord", "--json")
    assert opened.returncode == 0, opened.stderr
    return home, json.loads(opened.stdout)["ref"]


def test_a_case_is_changed_and_shown_by_the_real_command_line(populated: tuple[Path, str]) -> None:
    home, ref = populated
    ticked = run_lotse(home, "case", "done", ref, "employment_contract", "--by", "klinik-nord")
    assert ticked.returncode == 0 and ticked.stderr == ""
    shown = run_lotse(home, "case", "show", ref, "--json")
    assert shown.returncode == 0
    data = json.loads(shown.stdout)
    assert data["ref"] == ref and data["stage"] == "recruited"
    assert [i["done"] for i in data["checklist"] if i["id"] == "employment_contract"] == [True]
    assert [h["action"] for h in data["history"]] == ["open", "set", "done"]


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["case", "advance", "{ref}", "apply_visa", "--by", "klinik-nord"], 1, "needs checklist item"),
        (["case", "advance", "{ref}", "apply_visa", "--by", "ghost"], 1, "unknown actor 'ghost'"),
        (["case", "show", "SE-1900-0001"], 1, "unknown case"),
        (["case", "set", "{ref}", "arrival_date=1.5.26", "--by", "koord"], 2, "not a date between"),
        (["case", "set", "{ref}", "arrival_date", "--by", "koord"], 2, "is not KEY=VALUE"),
        (["case", "advance", "{ref}"], 2, "Missing argument"),
        (["case", "frobnicate"], 2, "No such command"),
    ],
    ids=["requirements", "unknown actor", "unknown ref", "wrong type", "bad assignment", "usage", "command"],
)
def test_a_mistake_in_a_real_process_is_one_line_and_an_exit_code(
    populated: tuple[Path, str], args: list[str], code: int, text: str
) -> None:
    home, ref = populated
    before = dump(f"sqlite:///{home / 'lotse.db'}")
    result = run_lotse(home, *[a.replace("{ref}", ref) for a in args])
    assert result.returncode == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert dump(f"sqlite:///{home / 'lotse.db'}") == before


def test_a_database_not_initialised_is_exit_1_in_a_real_process(tmp_path: Path) -> None:
    result = run_lotse(tmp_path / "empty", "case", "list")
    assert result.returncode == 1 and result.stderr.startswith("error: ") and "lotse init" in result.stderr
    assert not (tmp_path / "empty" / "lotse.db").exists()


def test_read_only_commands_do_not_import_prefect(populated: tuple[Path, str], tmp_path: Path) -> None:
    """All of them run in one interpreter: what none of them imported, no single one did."""
    home, ref = populated
    out = tmp_path / "probe.json"
    commands = [[a.replace("{ref}", ref) for a in args] for args in READ_ONLY]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(commands)], capture_output=True, text=True, timeout=60,
        env={"LOTSE_HOME": str(home), "PROBE_OUT": str(out), "PATH": "/usr/bin:/bin"},
    )
    probe = json.loads(out.read_text())
    assert probe["codes"] == [0] * len(commands), result.stderr
    assert probe["heavy"] == [], f"read-only commands imported {probe['heavy']}"
