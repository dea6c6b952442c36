"""What every unit of work needs: the database, the process definitions, settings and a clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from lotse.config.settings import Settings
from lotse.states.process import Catalog
from lotse.states.records import utcnow
from lotse.states.store import Database

VIA = ("cli", "flow", "import", "schedule")


@dataclass
class Context:
    db: Database
    catalog: Catalog
    settings: Settings = field(default_factory=Settings)
    clock: Callable[[], dt.datetime] = utcnow

    @classmethod
    def from_settings(cls, settings: Settings, *, check_schema: bool = True) -> Context:
        db = Database(settings.db_url, create=not check_schema)
        if check_schema:
            db.require_schema()
        return cls(db=db, catalog=Catalog.load(settings.process_dirs), settings=settings)
