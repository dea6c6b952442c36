"""Fixtures shared by every test: a fresh SQLite file per test, settings, a context, actors."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lotse.config.settings import Settings
from lotse.states import schema
from lotse.tasks import directory
from lotse.tasks.context import Context

LOTSE = [sys.executable, "-m", "lotse.flows.cli"]


class Clock:
    """A clock tests move by hand: no sleeping for time."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "lotse-home"


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(home=home, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def ctx(settings: Settings, clock: Clock) -> Iterator[Context]:
    context = Context.from_settings(settings, check_schema=False)
    schema.upgrade(context.db.engine)
    context.clock = clock
    yield context
    context.db.dispose()


@pytest.fixture
def alliance(ctx: Context) -> Context:
    """A small alliance: one actor per role in region SE-Nord, plus a coordinator."""
    people = [
        ("koord", "Koordinierungsstelle", ["coordinator"], None),
        ("klinik-nord", "Klinik Nord", ["employer"], "SE-Nord"),
        ("vermittlung", "Vermittlung Brücke", ["agency"], "SE-Nord"),
        ("abh-nord", "Ausländerbehörde Nord", ["foreigners_office"], "SE-Nord"),
        ("anerkennung", "Anerkennungsstelle", ["recognition_office"], None),
        ("sprachschule", "Sprachschule Wort", ["language_school"], "SE-Nord"),
        ("wohnbau-nord", "Wohnbau Nord", ["housing"], "SE-Nord"),
        ("beratung", "Migrationsberatung", ["counsellor"], "SE-Nord"),
    ]
    for actor_id, name, roles, region in people:
        directory.add_actor(ctx, actor_id, name=name, roles=roles, region=region,
                            email=f"{actor_id}@example.org")
    return ctx


def run_lotse(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line in a subprocess, on the database under `home`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_API_URL"))}
    environment.update({"LOTSE_HOME": str(home), **(env or {})})
    return subprocess.run([*LOTSE, *args], capture_output=True, text=True, env=environment, timeout=120)
