"""A fresh, uniquely named database on the PostgreSQL server at 127.0.0.1:5432 (user postgres,
trust), dropped afterwards; tests using it are skipped, saying why, when the server is not there
(benchmarks say so and measure SQLite alone)."""

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


class Unreachable(Exception):
    """No PostgreSQL server to make a database on, or no driver for it."""


@contextmanager
def throwaway_database(prefix: str = "lotse_test") -> Iterator[str]:
    """The SQLAlchemy URL of a new, uniquely named empty database, dropped afterwards;
    `Unreachable`, saying why, if the server (or psycopg) is not there. Tests and benchmarks."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a test dependency
        raise Unreachable("psycopg is not installed (pip install -e '.[test]')") from None
    admin = SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0]
        raise Unreachable(f"PostgreSQL at {SERVER} is not reachable: {reason}") from None
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database() -> Iterator[str]:
    """The SQLAlchemy URL of a new empty database; skips the test if the server is unreachable."""
    try:
        with throwaway_database() as url:
            yield url
    except Unreachable as exc:
        pytest.skip(str(exc))


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
