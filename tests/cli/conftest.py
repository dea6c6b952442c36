"""The command line run in this process through its real entry point (`flows.cli.main`), which is
fast enough to try every command and every mistake; tests/cli/test_processes.py runs it as real
subprocesses."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lotse.flows.cli import main
from lotse.tasks.context import Context
from tests.tables import dump


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def error(self) -> str:
        """The one `error:` line; fails if stderr holds anything else."""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), self.err
        assert "Traceback" not in self.err
        return lines[0]


Lotse = Callable[..., Outcome]


@pytest.fixture
def lotse(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Lotse:
    """`lotse(*args)` runs one command on the database under `home`."""
    for name in list(os.environ):
        if name.startswith("LOTSE_") or name == "PREFECT_API_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOTSE_HOME", str(home))

    def run(*args: str, env: dict[str, str] | None = None) -> Outcome:
        return in_process(monkeypatch, capsys, args, env or {})

    return run


def in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
    env: dict[str, str],
) -> Outcome:
    """One command through `flows.cli.main` in this process, with `env` set for its duration."""
    capsys.readouterr()
    with monkeypatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.setattr(sys, "argv", ["lotse", *args])
        try:
            main()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


@pytest.fixture
def tables(home: Path) -> Callable[[], dict[str, list[tuple[Any, ...]]]]:
    """Every row of the database under `home`, to compare before and after a command."""
    return lambda: dump(f"sqlite:///{home / 'lotse.db'}")


@pytest.fixture
def case_ref(alliance: Context, lotse: Lotse) -> str:
    """One pflege case of Klinik Nord, opened through the command line."""
    opened = lotse("case", "add", "--given-name", "Maricel", "--family-name", "Dalisay",
                   "--nationality", "PHL", "--employer", "klinik-nord", "--json")
    assert opened.code == 0, opened.err
    return str(opened.json()["ref"])
