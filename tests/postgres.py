"""A fresh, uniquely named database on the PostgreSQL server at 127.0.0.1:5432 (user postgres,
trust), dropped afterwards; tests using it are skipped, saying why, when the server is not there."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from lotse.config.settings import Settings
from lotse.states import schema
from lotse.tasks.context import Context

SERVER = os.environ.get("LOTSE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")


@contextmanager
def fresh_database() -> Iterator[str]:
    """The SQLAlchemy URL of a new empty database; skips the test if the server is unreachable."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a test dependency
        pytest.skip("psycopg is not installed (pip install -e '.[test]')")
    admin = SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    name = f"lotse_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {SERVER} is not reachable: {str(exc).strip().splitlines()[0]}")
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_context(settings: Settings, clock: Callable[[], dt.datetime] | None = None) -> Iterator[Context]:
    """A context on a fresh PostgreSQL database with Lotse's schema (and the test's clock)."""
    with fresh_database() as url:
        ctx = Context.from_settings(settings.model_copy(update={"database_url": url}), check_schema=False)
        if clock is not None:
            ctx.clock = clock
        try:
            schema.upgrade(ctx.db.engine)
            yield ctx
        finally:
            ctx.db.dispose()
