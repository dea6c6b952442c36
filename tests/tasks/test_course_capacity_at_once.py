"""Assignments to a group's last places at the same moment, on one SQLite file and on PostgreSQL:
the group takes exactly its capacity, every other assignment is refused whole and leaves no row."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from lotse.config.settings import Settings
from lotse.states.errors import LotseError
from lotse.states.records import CourseMemberRecord, HistoryRecord, OutboxRecord
from lotse.tasks import casework, courses, directory
from lotse.tasks.context import Context
from tests.postgres import postgres_context

RACERS = 4
CAPACITY = 2


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, ctx: Context, settings: Settings) -> Iterator[Context]:
    if request.param == "sqlite":
        yield ctx
        return
    with postgres_context(settings, ctx.clock) as on_postgres:
        yield on_postgres


def test_a_group_takes_exactly_its_capacity_when_assignments_race(database: Context) -> None:
    ctx = database
    for actor_id, role, region in [("koord", "coordinator", None), ("klinik-nord", "employer", "SE-Nord"),
                                   ("sprachschule", "language_school", "SE-Nord")]:
        directory.add_actor(ctx, actor_id, name=actor_id.title(), roles=[role], region=region)
    refs = [casework.open_case(ctx, given_name="Test", family_name=f"Person {n}", nationality="PHL",
                               employer="klinik-nord") for n in range(RACERS)]
    courses.add_course(ctx, "b2-schnell", school="sprachschule", level="B2", pace="fast", start="2026-01-05",
                       end="2026-05-31", capacity=CAPACITY, by="koord")
    start = threading.Barrier(RACERS)
    outcomes: dict[str, object] = {}

    def assign(ref: str) -> None:
        start.wait(timeout=30)
        try:
            outcomes[ref] = courses.assign(ctx, "b2-schnell", [ref], by="koord")
        except LotseError as refusal:
            outcomes[ref] = refusal

    threads = [threading.Thread(target=assign, args=(ref,)) for ref in refs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    accepted = sorted(ref for ref, outcome in outcomes.items() if isinstance(outcome, dict))
    refused = [outcome for outcome in outcomes.values() if isinstance(outcome, LotseError)]
    assert len(accepted) == CAPACITY and len(refused) == RACERS - CAPACITY
    assert all("has 0 free place(s) of 2" in str(r) for r in refused)
    with ctx.db.reading() as session:
        count = lambda query: session.scalar(select(func.count()).select_from(query))  # noqa: E731
        assert count(CourseMemberRecord) == CAPACITY
        assert session.scalar(select(func.count()).where(HistoryRecord.action == courses.ASSIGN)) == CAPACITY
        assert session.scalar(select(func.count()).select_from(OutboxRecord)) == CAPACITY
    assert [r["participants"] for r in courses.list_courses(ctx)] == [CAPACITY]
