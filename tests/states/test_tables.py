"""The Core tables (states/tables.py): loaded from the cache they are the tables the SQLModel
classes define, to the last column, key and index, on SQLite and PostgreSQL; every table module
is part of the cache's key; and a read-only command started cold builds no class at all."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

from lotse.states import records, tables


def ddl(table: object) -> list[str]:
    """The table's DDL, with its indexes, for both databases."""
    out = []
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        out.append(str(CreateTable(table).compile(dialect=dialect)))  # type: ignore[arg-type]
        out += sorted(str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes)  # type: ignore[attr-defined]
    return out


def test_the_cached_tables_are_the_classes_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "_tables", None)
    monkeypatch.setattr(tables, "_folder", tmp_path)
    written = dict(tables._loaded())  # first: built from the classes, and kept
    assert [p.name.split("-")[0] for p in tmp_path.iterdir()] == ["tables"]
    monkeypatch.setattr(tables, "_tables", None)
    loaded = tables._loaded()  # as a new process: from the cache
    records.register_all()
    classes = SQLModel.metadata.tables
    assert sorted(loaded) == sorted(classes) == sorted(written)
    assert len(loaded) >= 22
    for name, table in loaded.items():
        assert table is not classes[name]  # unpickled, not the class's own
        assert ddl(table) == ddl(classes[name]), name
        assert {fk.target_fullname for fk in table.foreign_keys} == {
            fk.target_fullname for fk in classes[name].foreign_keys}


def test_every_table_module_is_part_of_the_key() -> None:
    states = Path(records.__file__).parent
    modules = {p.name for p in states.glob("*_records.py")} | {"records.py", "column_types.py"}
    assert {p.name for p in tables._DEFINED_BY} == modules
    defined = {m.removesuffix(".py") for m in modules} - {"records", "column_types"}
    assert set(records.ELSEWHERE.values()) == defined


def test_a_changed_table_module_builds_the_tables_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[int] = []
    real = tables._from_classes
    monkeypatch.setattr(tables, "_from_classes", lambda: built.append(1) or real())
    for _ in range(2):
        monkeypatch.setattr(tables, "_tables", None)
        monkeypatch.setattr(tables, "_folder", tmp_path)
        tables._loaded()
    assert built == [1]
    changed = tmp_path / "outbox_records.py"
    changed.write_text("# another Lotse's outbox\n")
    monkeypatch.setattr(tables, "_DEFINED_BY", [*tables._DEFINED_BY, changed])
    monkeypatch.setattr(tables, "_tables", None)
    tables._loaded()
    assert built == [1, 1]


def test_without_a_cache_the_tables_are_the_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "_tables", None)
    monkeypatch.setattr(tables, "_folder", None)
    assert tables.cases is records.CaseRecord.__table__  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="no table 'case'"):
        tables.case  # noqa: B018


def test_a_read_only_command_started_cold_builds_no_class(tmp_path: Path) -> None:
    """What the Core tables are for (issue 15): `case list`, `case show` and `actor list` read by
    them, so once the cache is written a command builds none of the 22 SQLModel classes."""
    home = tmp_path / "home"
    env = {**os.environ, "LOTSE_HOME": str(home)}
    for name in ("LOTSE_PROCESS_DIR", "LOTSE_REGIONS_FILE", "LOTSE_DATABASE_URL"):
        env.pop(name, None)
    lotse = [sys.executable, "-m", "lotse.flows.cli"]
    subprocess.run([*lotse, "init", "--demo"], env=env, check=True, capture_output=True)
    ref = subprocess.run([*lotse, "case", "list"], env=env, check=True, capture_output=True,
                         text=True).stdout.splitlines()[1].split()[0]
    report = ("import atexit, sys; from sqlmodel import SQLModel; "
              "atexit.register(lambda: print(sorted(SQLModel.metadata.tables), file=sys.stderr)); "
              "sys.argv = ['lotse', *sys.argv[1:]]; from lotse.flows.cli import main; main()")
    for command in (["case", "list"], ["case", "show", ref], ["actor", "list"], ["process", "list"]):
        run = subprocess.run([sys.executable, "-c", report, *command], env=env, capture_output=True,
                             text=True)
        assert run.returncode == 0, run.stderr
        assert run.stderr.strip().splitlines()[-1] == "[]", (command, run.stderr)
        assert ref in run.stdout or command[0] != "case"
    kept = next((home / "cache").glob("tables-*.pickle"))
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    assert "cases" in pickle.loads(kept.read_bytes()).tables
