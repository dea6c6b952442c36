"""`lotse backup FILE`: a consistent copy while writers run, restored and checked by `lotse doctor`;
every refusal is one error line and leaves no file behind."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import threading
from collections import namedtuple
from pathlib import Path

import pytest

from lotse.states import schema
from lotse.tasks import backup as backups
from lotse.tasks import casework, demo
from lotse.tasks.context import Context
from tests.cli.conftest import Lotse
from tests.cli.test_doctor import notified_roles, route_file
from tests.conftest import run_lotse
from tests.postgres import fresh_database


def made(lotse: Lotse) -> None:
    outcome = lotse("init", "--demo")
    assert outcome.code == 0, outcome.err


def refs(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {ref for (ref,) in connection.execute("SELECT ref FROM cases")}


def test_a_backup_is_a_private_copy_and_says_what_it_holds(lotse: Lotse, home: Path, tmp_path: Path) -> None:
    made(lotse)
    file = tmp_path / "backups" / "lotse-2026-03-02.db"
    file.parent.mkdir()
    outcome = lotse("backup", str(file))
    assert outcome.code == 0, outcome.err
    assert outcome.out.startswith(f"backup of sqlite:///{home / 'lotse.db'} written to {file}: ")
    assert f"schema {schema.head()}, 32 cases, {len(demo.ACTORS)} actors" in outcome.out
    assert stat.S_IMODE(file.stat().st_mode) == 0o600  # names of people: for its owner only
    assert os.listdir(file.parent) == [file.name]
    assert refs(file) == refs(home / "lotse.db")


def test_a_backup_never_overwrites_a_file(lotse: Lotse, tmp_path: Path) -> None:
    made(lotse)
    file = tmp_path / "lotse.db.bak"
    file.write_text("yesterday's backup")
    outcome = lotse("backup", str(file))
    assert outcome.code == 2
    assert outcome.error == f"error: {file} exists; a backup never overwrites one: choose a new name"
    assert file.read_text() == "yesterday's backup"
    assert sorted(os.listdir(tmp_path)) == sorted(["lotse-home", "lotse.db.bak"])


def test_a_backup_into_a_folder_that_does_not_exist_is_refused(lotse: Lotse, tmp_path: Path) -> None:
    made(lotse)
    outcome = lotse("backup", str(tmp_path / "nowhere" / "lotse.db"))
    assert outcome.code == 2
    assert outcome.error == f"error: the folder {tmp_path / 'nowhere'} does not exist"
    assert not (tmp_path / "nowhere").exists()


def test_a_backup_that_would_not_fit_on_the_disk_is_refused_before_it_starts(
    lotse: Lotse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made(lotse)
    folder = tmp_path / "small-disk"
    folder.mkdir()
    monkeypatch.setattr(backups.shutil, "disk_usage", lambda _path: namedtuple("U", "total used free")(
        10_000_000, 9_990_000, 10_000))
    outcome = lotse("backup", str(folder / "lotse.db"))
    assert outcome.code == 2
    assert outcome.error.startswith("error: the disk is full: the copy needs ")
    assert os.listdir(folder) == []


def test_a_disk_that_fills_up_during_the_copy_leaves_no_half_written_file(
    lotse: Lotse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made(lotse)
    folder = tmp_path / "filling-disk"
    folder.mkdir()

    def pages_then_full(live: sqlite3.Connection, copy: sqlite3.Connection) -> None:
        live.backup(copy)  # the pages land in the partial file, then the disk is full
        assert any(path.stat().st_size > 0 for path in folder.iterdir())
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(backups, "copy_pages", pages_then_full)
    outcome = lotse("backup", str(folder / "lotse.db"))
    assert outcome.code == 2
    assert outcome.error == f"error: the disk is full at {folder}; nothing was written"
    assert os.listdir(folder) == []


def test_without_a_database_there_is_nothing_to_back_up(lotse: Lotse, home: Path, tmp_path: Path) -> None:
    outcome = lotse("backup", str(tmp_path / "lotse.db.bak"))
    assert outcome.code == 1
    assert outcome.error == f"error: no Lotse database at {home / 'lotse.db'}; nothing to back up"
    assert not (tmp_path / "lotse.db.bak").exists() and not home.exists()


def test_without_pg_dump_the_command_to_run_is_printed_without_the_password(
    lotse: Lotse, tmp_path: Path
) -> None:
    url = "postgresql+psycopg://lotse:s3cret-pw@db.allianz.example:5432/lotse"
    file = tmp_path / "lotse.dump"
    outcome = lotse("backup", str(file), env={"LOTSE_DATABASE_URL": url, "PATH": str(tmp_path)})
    assert outcome.code == 2
    assert outcome.error.endswith(
        f"pg_dump --format=custom --no-password --file={file} "
        "--dbname=postgresql://lotse@db.allianz.example:5432/lotse")
    assert "s3cret-pw" not in outcome.err + outcome.out
    assert not file.exists()


def test_a_backup_taken_during_concurrent_writes_restores_every_change_committed_before_it(
    alliance: Context, home: Path, tmp_path: Path
) -> None:
    committed: list[tuple[str, str]] = []  # ("opened" | "ticked", ref), appended after each commit
    started, stop = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        number = 0
        try:
            while not stop.is_set():
                number += 1
                ref = casework.open_case(alliance, given_name=f"Writer{number}", family_name="Test",
                                         nationality="PHL", employer="klinik-nord")
                committed.append(("opened", ref))
                casework.tick(alliance, ref, ["employment_contract"], by="koord")
                committed.append(("ticked", ref))
                if number == 10:
                    started.set()
        except BaseException as exc:  # shown by the test, not lost in the thread
            failures.append(exc)
            started.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert started.wait(timeout=60)
        before = list(committed)
        result = run_lotse(home, "backup", str(tmp_path / "lotse-backup.db"))
        during = len(committed) - len(before)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not failures, failures
    assert result.returncode == 0, result.stderr
    assert during > 0, "the writer did not commit while the backup ran"

    restored = tmp_path / "restored-home"
    restored.mkdir(mode=0o700)
    os.replace(tmp_path / "lotse-backup.db", restored / "lotse.db")
    with sqlite3.connect(restored / "lotse.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        cases = {ref for (ref,) in connection.execute("SELECT ref FROM cases")}
        ticked = {ref for (ref,) in connection.execute(
            "SELECT c.ref FROM case_items i JOIN cases c ON c.id = i.case_id "
            "WHERE i.item = 'employment_contract' AND i.done")}
    assert {ref for what, ref in before if what == "opened"} <= cases
    assert {ref for what, ref in before if what == "ticked"} <= ticked
    assert cases <= {ref for what, ref in committed if what == "opened"}  # nothing half-made
    assert f", {len(cases)} cases, " in result.stdout

    routes = route_file(tmp_path, notified_roles())
    # The key comes back with the restore too (here: the variable), or the links sent before are dead.
    env = {"LOTSE_NOTIFY_CONFIG": str(routes), "LOTSE_SECRET_KEY": "k" * 40}
    doctor = run_lotse(restored, "doctor", env=env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    database = f"ok    database: sqlite:///{restored / 'lotse.db'} schema {schema.head()} (current)"
    assert doctor.stdout.splitlines()[0] == database


@pytest.mark.postgres
def test_a_postgresql_backup_restores_with_pg_restore_into_another_database(tmp_path: Path) -> None:
    with fresh_database() as live, fresh_database() as spare:
        home = tmp_path / "home"
        assert run_lotse(home, "init", "--demo", env={"LOTSE_DATABASE_URL": live}).returncode == 0
        file = tmp_path / "lotse.dump"
        result = run_lotse(home, "backup", str(file), env={"LOTSE_DATABASE_URL": live})
        assert result.returncode == 0, result.stderr
        held = f"schema {schema.head()}, 32 cases, {len(demo.ACTORS)} actors (pg_dump custom format"
        assert held in result.stdout
        assert stat.S_IMODE(file.stat().st_mode) == 0o600

        libpq = spare.replace("postgresql+psycopg://", "postgresql://")
        restore = ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq}", str(file)]
        restored = subprocess.run(restore, capture_output=True, text=True, timeout=120)
        assert restored.returncode == 0, restored.stderr
        assert cases_in(spare) == cases_in(live) and len(cases_in(spare)) == 32

        routes = route_file(tmp_path, notified_roles())
        doctor = run_lotse(home, "doctor", env={"LOTSE_DATABASE_URL": spare,
                                                "LOTSE_NOTIFY_CONFIG": str(routes)})
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr


def cases_in(url: str) -> set[tuple[str, str, int]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {tuple(row) for row in connection.execute(text("SELECT ref, stage, version FROM cases"))}
    finally:
        engine.dispose()
