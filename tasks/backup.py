"""A consistent copy of Lotse's database while writers run: the work of `lotse backup FILE`.

SQLite: the online backup API copies one snapshot (in WAL mode writers go on meanwhile) into a
temporary file beside FILE, which becomes FILE by a hard link only once it is complete and has
passed SQLite's check: a failed or interrupted backup never leaves a FILE, and an existing FILE is
never overwritten. PostgreSQL: `pg_dump` in its custom format (for `pg_restore`), on the very
snapshot the reported counts are read from; where there is no `pg_dump`, the command to run.

The copy holds personal data: it is readable by its owner only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shlex
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError

from lotse.config.settings import Settings
from lotse.states.database import BUSY_TIMEOUT_S, Database
from lotse.states.errors import BadInput, NotReady

PRIVATE = 0o600


@dataclass(frozen=True)
class Written:
    """What a backup wrote, read from the copy itself (SQLite) or from its snapshot (PostgreSQL)."""

    file: Path
    size: int
    revision: str
    cases: int
    actors: int
    source: str  # the database URL, password hidden
    method: str

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "file": str(self.file)}


def backup(settings: Settings, file: Path) -> Written:
    """Copy the database of the settings to `file`, which must not exist yet."""
    target = Path(file).expanduser().absolute()
    _check_target(target)
    db = Database(settings.db_url)
    try:
        if db.is_sqlite:
            return _sqlite(db, target)
        if make_url(settings.db_url).get_backend_name() == "postgresql":
            return _postgres(db, target)
        raise BadInput(f"lotse backup knows SQLite and PostgreSQL, not {make_url(db.url).drivername}")
    finally:
        db.dispose()


def _check_target(target: Path) -> None:
    if target.exists() or target.is_symlink():
        raise BadInput(f"{target} exists; a backup never overwrites one: choose a new name")
    if not target.parent.is_dir():
        raise BadInput(f"the folder {target.parent} does not exist")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise BadInput(f"cannot write into {target.parent}")


# -- SQLite ----------------------------------------------------------------------------------------


def _sqlite(db: Database, target: Path) -> Written:
    source = db.sqlite_file
    if source is None:
        raise BadInput("an in-memory database has nothing to back up")
    if not source.is_file():
        raise NotReady(f"no Lotse database at {source}; nothing to back up")
    with contextlib.closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)) as live:
        try:
            if not _is_lotse(live):
                raise NotReady(f"{source} is not a Lotse database (`lotse init` makes one)")
            pages, page_size = (live.execute(f"PRAGMA {name}").fetchone()[0]
                                for name in ("page_count", "page_size"))
        except sqlite3.DatabaseError as exc:
            raise NotReady(f"cannot read {source}: {exc}") from None
        need, free = pages * page_size, shutil.disk_usage(target.parent).free
        if need > free:
            raise BadInput(f"the disk is full: the copy needs {size(need)}, {target.parent} has "
                           f"{size(free)} free; nothing was written")
        with _partial(target) as partial:
            try:
                with contextlib.closing(sqlite3.connect(partial)) as copy:
                    copy_pages(live, copy)
                    verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
                    if verdict != "ok":
                        raise NotReady(f"the copy failed SQLite's check ({verdict}); nothing was written")
                    revision, cases, actors = _counts(copy)
            except sqlite3.Error as exc:
                if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in str(exc):
                    raise BadInput(f"the disk is full at {target.parent}; nothing was written") from None
                raise NotReady(f"the backup failed: {exc}; nothing was written") from None
            _publish(partial, target)
    return Written(target, target.stat().st_size, revision, cases, actors, db.display_url,
                   "SQLite online backup, integrity ok")


def copy_pages(live: sqlite3.Connection, copy: sqlite3.Connection) -> None:
    """Every page in one step: one read transaction, so one consistent snapshot, and in WAL mode
    the writers are not held up (in several steps, a write in between restarts the copy)."""
    live.backup(copy)


def _is_lotse(connection: sqlite3.Connection) -> bool:
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
    return found.fetchone() is not None


def _counts(copy: sqlite3.Connection) -> tuple[str, int, int]:
    revision = copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    cases = copy.execute("SELECT count(*) FROM cases").fetchone()[0]
    actors = copy.execute("SELECT count(*) FROM actors").fetchone()[0]
    return str(revision), int(cases), int(actors)


# -- PostgreSQL ------------------------------------------------------------------------------------


def pg_dump_command(url: str, file: Path, *, snapshot: str | None = None) -> list[str]:
    """The pg_dump call for a database URL; the password is left out (PGPASSWORD carries it)."""
    parsed = make_url(url)
    address = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                         database=parsed.database, query=parsed.query)
    return ["pg_dump", "--format=custom", "--no-password", *([f"--snapshot={snapshot}"] if snapshot else []),
            f"--file={file}", f"--dbname={address.render_as_string(hide_password=False)}"]


def _postgres(db: Database, target: Path) -> Written:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        command = shlex.join(pg_dump_command(db.url, target))
        raise BadInput(f"pg_dump is not installed here; run this where it is, with the password in "
                       f"PGPASSWORD or ~/.pgpass: {command}")
    password = make_url(db.url).password
    environment = {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}
    try:
        with db.engine.connect() as connection, _partial(target) as partial:
            snapshot, revision, cases, actors = _snapshot(connection, db)
            command = [pg_dump, *pg_dump_command(db.url, partial, snapshot=snapshot)[1:]]
            done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
            if done.returncode != 0:
                problem = " ".join((done.stderr.strip().splitlines() or ["no message"])[-1].split())
                if "No space left" in problem:
                    raise BadInput(f"the disk is full at {target.parent}; nothing was written")
                raise NotReady(f"pg_dump failed: {problem}; nothing was written")
            _publish(partial, target)
    except DBAPIError as exc:
        raise NotReady(f"cannot open the database {db.display_url}: {' '.join(str(exc.orig).split())}") \
            from None
    return Written(target, target.stat().st_size, revision, cases, actors, db.display_url,
                   "pg_dump custom format, for pg_restore")


def _snapshot(connection: Connection, db: Database) -> tuple[str, str, int, int]:
    """Export this transaction's snapshot for pg_dump, and read the counts in it."""
    connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    if connection.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
        raise NotReady(f"{db.display_url} is not a Lotse database (`lotse init` makes one)")
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    cases = connection.execute(text("SELECT count(*) FROM cases")).scalar_one()
    actors = connection.execute(text("SELECT count(*) FROM actors")).scalar_one()
    return str(snapshot), str(revision), int(cases), int(actors)


# -- the file --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _partial(target: Path) -> Iterator[Path]:
    """A new private file beside the target, removed (with any SQLite side files) unless
    published."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE))
    except OSError as exc:
        raise _file_error(exc, target) from None
    try:
        yield partial
    finally:
        for leftover in (partial, *(Path(f"{partial}{s}") for s in ("-journal", "-wal", "-shm"))):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _publish(partial: Path, target: Path) -> None:
    """Make the complete copy the target: on disk first, then under its name, never over another."""
    try:
        _sync(partial)
        try:
            os.link(partial, target)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
                raise
            # A file system without hard links: the check and the rename are two steps here.
            if target.exists():
                raise FileExistsError(target) from None
            os.rename(partial, target)
        _sync(target.parent)
    except FileExistsError:
        raise BadInput(f"{target} appeared during the backup; it was left as it is") from None
    except OSError as exc:
        raise _file_error(exc, target) from None


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _file_error(exc: OSError, target: Path) -> BadInput:
    if exc.errno == errno.ENOSPC:
        return BadInput(f"the disk is full at {target.parent}; nothing was written")
    return BadInput(f"cannot write {target}: {exc.strerror}")


def size(count: int) -> str:
    """A file size for people."""
    amount = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{count} B"
