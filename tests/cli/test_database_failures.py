"""A failing database is one `error:` line, exit 1, nothing written, never a traceback: a SQLite
file locked by another writer past the busy timeout, a full disk, a PostgreSQL connection killed
in the middle of a command, a server that is not there, and a value too wide for its column."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from lotse.config.settings import Settings
from lotse.states import database_failures, schema
from lotse.tasks import casework, directory
from lotse.tasks.context import Context
from tests.conftest import LOTSE, run_lotse
from tests.postgres import fresh_database
from tests.tables import dump

QUICK = {"LOTSE_BUSY_TIMEOUT_SECONDS": "0.2"}


def one_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def open_one(ctx: Context) -> str:
    directory.add_actor(ctx, "koord", name="Koordination", roles=["coordinator"])
    directory.add_actor(ctx, "klinik-nord", name="Klinik Nord", roles=["employer"], region="SE-Nord")
    return casework.open_case(ctx, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                              employer="klinik-nord")


@contextlib.contextmanager
def held_exclusively(database: Path) -> Iterator[None]:
    """Another process's writer in the middle of a long transaction."""
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_change_waiting_past_the_busy_timeout_is_one_line_and_writes_nothing(
    ctx: Context, home: Path
) -> None:
    ref = open_one(ctx)
    database = home / "lotse.db"
    before = dump(f"sqlite:///{database}")

    with held_exclusively(database):
        changed = run_lotse(home, "case", "set", ref, "arrival_date=2027-03-01", "--by", "koord", env=QUICK)
        read = run_lotse(home, "case", "show", ref, env=QUICK)

    assert changed.returncode == 1
    line = one_error(changed)
    assert "the database is busy" in line and "nothing was written" in line
    assert "LOTSE_BUSY_TIMEOUT_SECONDS" in line
    assert read.returncode == 0, read.stderr  # WAL: a reader never waits for the writer
    assert dump(f"sqlite:///{database}") == before


def test_the_busy_timeout_is_a_setting_and_is_checked(home: Path) -> None:
    refused = run_lotse(home, "case", "list", env={"LOTSE_BUSY_TIMEOUT_SECONDS": "-1"})

    assert refused.returncode == 2
    assert "LOTSE_BUSY_TIMEOUT_SECONDS" in one_error(refused)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real file system of 2 MB (tmpfs; needs root, else the test is skipped)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_line_and_the_database_stays_as_it_was(
    settings: Settings, tiny_disk: Path
) -> None:
    home = tiny_disk / "home"
    ctx = Context.from_settings(settings.model_copy(update={"home": home}), check_schema=False)
    schema.upgrade(ctx.db.engine)
    ref = open_one(ctx)
    ctx.db.dispose()
    database = f"sqlite:///{home / 'lotse.db'}"
    before = dump(database)
    # A connection kept open keeps the -wal and -shm files; emptied, the WAL must grow to take a change.
    reader = sqlite3.connect(home / "lotse.db", isolation_level=None)
    reader.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with contextlib.suppress(OSError), (tiny_disk / "filler").open("wb") as filler:
        while True:  # until the disk says no more: ENOSPC
            filler.write(b"\0" * 4096)
            filler.flush()

    full = run_lotse(home, "case", "add", "--given-name", "Anjali", "--family-name", "Menon",
                     "--nationality", "IND", "--employer", "klinik-nord")
    reader.close()

    assert full.returncode == 1
    line = one_error(full)
    assert "disk holding the database is full" in line and "nothing was written" in line
    assert "Anjali" not in full.stderr and "Menon" not in full.stderr
    (tiny_disk / "filler").unlink()
    assert dump(database) == before
    assert run_lotse(home, "case", "show", ref).returncode == 0


# -- PostgreSQL ------------------------------------------------------------------------------------


@pytest.fixture
def pg_home(settings: Settings, home: Path) -> Iterator[tuple[Path, str, str]]:
    """A Lotse home on a fresh PostgreSQL database with one case: (home, url, ref)."""
    with fresh_database() as url:
        ctx = Context.from_settings(settings.model_copy(update={"database_url": url}), check_schema=False)
        schema.upgrade(ctx.db.engine)
        ref = open_one(ctx)
        ctx.db.dispose()
        yield home, url, ref


@pytest.mark.postgres
def test_a_postgresql_connection_terminated_mid_command_is_one_line_and_writes_nothing(
    pg_home: tuple[Path, str, str],
) -> None:
    home, url, ref = pg_home
    before = dump(url)
    engine = create_engine(url)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOTSE_")}
    environment.update({"LOTSE_HOME": str(home), "LOTSE_DATABASE_URL": url})
    with engine.connect() as holder:
        # The case's row is locked: the command waits for it in the middle of its transaction.
        holder.execute(text("SELECT id FROM cases WHERE ref = :ref FOR UPDATE"), {"ref": ref})
        command = subprocess.Popen([*LOTSE, "case", "set", ref, "arrival_date=2027-03-01", "--by", "koord"],
                                   env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # Autocommit: pg_stat_activity is read once per transaction.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
                pid = None
                while pid is None and command.poll() is None:
                    pid = watcher.execute(text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                    )).scalar()
                assert pid is not None, command.communicate()
                watcher.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            out, err = command.communicate(timeout=60)
        finally:
            if command.poll() is None:
                command.kill()
        holder.rollback()
    engine.dispose()

    assert command.returncode == 1
    line = one_error(subprocess.CompletedProcess([], 1, out, err))
    assert "connection to the database server was lost" in line and "nothing was written" in line
    assert dump(url) == before


def test_a_database_server_that_is_not_there_is_one_line(home: Path) -> None:
    with socket_nobody_listens_on() as port:
        gone = run_lotse(home, "case", "list",
                         env={"LOTSE_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{port}/lotse"})

    assert gone.returncode == 1
    line = one_error(gone)
    assert "127.0.0.1" in line and str(port) in line


@contextlib.contextmanager
def socket_nobody_listens_on() -> Iterator[int]:
    """A port bound but not listening: a connection to it is refused, and no one else takes it."""
    import socket

    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


@pytest.mark.postgres
def test_a_value_too_wide_for_postgresql_is_explained_without_the_value(
    pg_home: tuple[Path, str, str],
) -> None:
    _, url, ref = pg_home
    engine = create_engine(url, hide_parameters=True)
    long_name = "Quraishi" * 26  # 208 characters, over the column's 200
    with pytest.raises(DBAPIError) as raised, engine.begin() as connection:
        connection.execute(text("UPDATE cases SET family_name = :name WHERE ref = :ref"),
                           {"name": long_name, "ref": ref})
    engine.dispose()

    failure = str(database_failures.explain(raised.value))

    assert failure.startswith("a value is longer than the database keeps; nothing was written")
    assert "Quraishi" not in failure and "UPDATE" not in failure
