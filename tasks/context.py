"""What every unit of work needs: the database, the process definitions, settings and a clock."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from lotse.config.settings import Settings
from lotse.states import definitions, regions, tables
from lotse.states.database import Database
from lotse.states.definitions import Edited
from lotse.states.process import Catalog
from lotse.states.records import utcnow
from lotse.states.regions import Regions

VIA = ("cli", "flow", "import", "schedule", "link", "desk")


def os_user() -> str:
    """The operating-system user running this process: the author's proof on the command line,
    in flows, imports and schedules."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return f"uid-{os.getuid()}"


@dataclass
class Context:
    db: Database
    catalog: Catalog
    settings: Settings = field(default_factory=Settings)
    clock: Callable[[], dt.datetime] = utcnow
    # How the author of this context's changes proved who they are: `HistoryRecord.proof`.
    proof: str = field(default_factory=lambda: f"os:{os_user()}")
    # Versions edited in place under running cases (states/definitions.py): said, not fatal.
    edited: list[Edited] = field(default_factory=list)

    @property
    def regions(self) -> Regions:
        """The region hierarchy of the settings (states/regions.py), read once per file content."""
        return regions.load(self.settings.regions_path)

    @classmethod
    def from_settings(cls, settings: Settings, *, check_schema: bool = True) -> Context:
        tables.keep_in(settings.cache_dir)
        db = Database(settings.db_url, create=not check_schema, busy_timeout=settings.busy_timeout_seconds)
        catalog = Catalog.load(settings.process_dirs, cache=settings.cache_dir)
        regions.load(settings.regions_path, cache=settings.cache_dir)  # a broken one stops here
        if not check_schema:  # `lotse init` binds the stored copies once the table exists
            return cls(db=db, catalog=catalog, settings=settings)
        db.require_schema()
        return cls(db=db, catalog=catalog, settings=settings, edited=definitions.bind(catalog, db))
