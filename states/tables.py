"""The tables as SQLAlchemy Core `Table`s, for statements on columns: `tables.cases.c.ref`.

Every table is defined once, as a SQLModel class (states/records.py and the *_records modules),
and the ORM works with those classes. Building a class costs 2-3 ms, some 60 ms for all 22: most
of what a read-only command started cold spent beyond its libraries (issue 15). A statement on
columns needs only the `Table`, so the tables' metadata, derived from the classes, is kept in
LOTSE_HOME/cache under a digest of the modules that define them (states/definition_cache.py) and
loaded in a few milliseconds; a changed table module builds the classes and keeps it again.

The context says where the cache is (`keep_in`, from LOTSE_HOME); before it does, or without one,
the tables are those of the classes. Either way a table has the same name, columns and keys, so a
statement may be written with it wherever a session runs; join two of them with an explicit `ON`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_DEFINED_BY = [Path(__file__).with_name(f"{module}.py") for module in (
    "records", "column_types", "case_records", "definition_records", "actor_records",
    "case_content_records", "cost_records", "course_records", "deadline_records", "desk_records",
    "directory_records", "family_records", "history_records", "outbox_records", "reference_records")]

_folder: Path | None = None
_tables: dict[str, Any] | None = None  # by name; `sqlalchemy.Table`s


def keep_in(folder: Path) -> None:
    """Load the tables from (and keep them in) this cache folder, if they are not loaded yet."""
    global _folder
    _folder = folder


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    tables = _loaded()
    if name not in tables:
        raise AttributeError(f"no table '{name}'; the tables are {', '.join(sorted(tables))}")
    return tables[name]


def _loaded() -> dict[str, Any]:
    global _tables
    if _tables is None:
        if _folder is None:
            _tables = dict(_from_classes().tables)
        else:
            from lotse.states import definition_cache

            metadata = definition_cache.checked("tables", [], _from_classes, _folder, _DEFINED_BY)
            _tables = dict(metadata.tables)
    return _tables


def _from_classes() -> Any:
    from sqlmodel import SQLModel

    from lotse.states import records

    records.register_all()
    return SQLModel.metadata
