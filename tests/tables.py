"""Every row of every table of a database, to prove that a refused change wrote nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import Engine


def dump(target: Engine | str) -> dict[str, list[tuple[Any, ...]]]:
    """All rows of all tables (found in the database itself, so tables added by later migrations
    count too), each table's rows in a fixed order."""
    engine = create_engine(target) if isinstance(target, str) else target
    try:
        metadata = _tables(engine.url.render_as_string(hide_password=False), engine)
        with engine.connect() as connection:
            return {
                name: [tuple(row) for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns or table.columns)
                )]
                for name, table in sorted(metadata.tables.items())
            }
    finally:
        if isinstance(target, str):
            engine.dispose()


_reflected: dict[str, MetaData] = {}


def _tables(url: str, engine: Engine) -> MetaData:
    """The tables as the database has them, looked up once per database (reflection is slow)."""
    if url not in _reflected:
        metadata = MetaData()
        metadata.reflect(engine)
        _reflected[url] = metadata
    return _reflected[url]
