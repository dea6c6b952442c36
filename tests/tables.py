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
        metadata = MetaData()
        metadata.reflect(engine)
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
