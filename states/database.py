"""The database: one SQLAlchemy URL, SQLite by default, PostgreSQL to grow; its engine and sessions.

SQLite runs in WAL mode with a busy timeout, so readers never wait for writers and writers queue
instead of failing with "database is locked"; a writer takes SQLite's write lock when it begins
(states/store.py takes the case's row lock on top).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

from lotse.states import schema
from lotse.states.errors import BadInput, NotReady

BUSY_TIMEOUT_S = 30  # the default of LOTSE_BUSY_TIMEOUT_SECONDS


class Database:
    """An engine and the sessions on it: `reading()` for queries, `writing()` for changes."""

    def __init__(self, url: str, *, create: bool = False, busy_timeout: float = BUSY_TIMEOUT_S) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        try:
            parsed = make_url(url)
            is_async = parsed.get_dialect().is_async
        except (ArgumentError, NoSuchModuleError) as exc:
            raise BadInput(f"LOTSE_DATABASE_URL: not a database URL Lotse can use ({exc})") from None
        if is_async:
            raise BadInput(f"LOTSE_DATABASE_URL: '{parsed.drivername}' is an async driver; "
                           "use a plain one such as postgresql+psycopg")
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.sqlite_file = (
            Path(parsed.database) if self.is_sqlite and parsed.database not in (None, "", ":memory:")
            else None
        )
        if create and self.sqlite_file is not None:
            folder = self.sqlite_file.parent
            try:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise NotReady(f"cannot create the folder {folder}: {exc.strerror}") from None
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": busy_timeout, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        # An error must never carry a statement's values (names, facts) into a log or a Prefect run.
        self.engine: Engine = create_engine(url, hide_parameters=True, **kwargs)
        if self.is_sqlite:
            _tune_sqlite(self.engine, busy_timeout)
        if create and self.sqlite_file is not None:
            private = self.sqlite_file
            # Only once a connection is made: a command refused before it creates no file.
            event.listen(self.engine, "do_connect", lambda *_: _private_file(private))
        self._writer = self.engine.execution_options(lotse_write=True)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    def require_schema(self) -> None:
        """Refuse to work on a database that `lotse init` has not created or upgraded."""
        if self.sqlite_file is not None and not self.sqlite_file.exists():
            raise NotReady(f"no Lotse database at {self.sqlite_file}; run `lotse init` first")
        try:
            have = schema.current(self.engine)
        except OperationalError as exc:
            raise NotReady(f"cannot open the database {self.display_url}: {exc.orig}") from None
        if have is None:
            raise NotReady(f"no Lotse database at {self.display_url}; run `lotse init` first")
        if have != schema.head():
            raise NotReady(
                f"the database {self.display_url} is at schema {have}, this Lotse needs "
                f"{schema.head()}; run `lotse init` to upgrade"
            )

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()


def _private_file(path: Path) -> None:
    """Create the database file with mode 0600 before SQLite would create it readable for all
    (its -wal and -shm files take the database's mode); an existing file is left as it is."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise NotReady(f"cannot create the database file {path}: {exc.strerror}") from None


def _tune_sqlite(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A writer takes the write lock at BEGIN: a deferred transaction that read first could
        # not upgrade to writing once another writer committed (SQLITE_BUSY_SNAPSHOT).
        immediate = connection.get_execution_options().get("lotse_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
