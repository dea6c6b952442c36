"""Properties of the daily check, over random cases, random changes on random days and checks in
between: no reminder is ever queued twice for the same (case, deadline, due date, level), every
overdue open deadline has exactly one reminder at its current level, and the open rows are always
the deadlines the definition gives the case."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lotse.config.settings import Settings
from lotse.states import schema, store
from lotse.states.database import Database
from lotse.states.deadlines import openings, rule
from lotse.states.errors import LotseError
from lotse.states.process import Process
from lotse.states.records import CaseRecord, DeadlineRecord, OutboxRecord
from lotse.tasks import casework, directory
from lotse.tasks.context import Context
from lotse.tasks.deadlines import check_deadlines, local_date, today
from tests.conftest import Clock

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
DATE_FACTS = ["arrival_date", "visa_valid_until", "residence_permit_valid_until", "documents_complete_date",
              "approval_requested_date"]
ACTORS = [
    ("koord", ["coordinator"], None), ("klinik-nord", ["employer"], "SE-Nord"),
    ("vermittlung", ["agency"], "SE-Nord"), ("abh-nord", ["foreigners_office"], "SE-Nord"),
    ("anerkennung", ["recognition_office"], None), ("sprachschule", ["language_school"], "SE-Nord"),
    ("wohnbau-nord", ["housing"], "SE-Nord"), ("beratung", ["counsellor"], "SE-Nord"),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A migrated database with the alliance's actors, copied for every example."""
    home = tmp_path_factory.mktemp("template")
    ctx = Context.from_settings(Settings(home=home, _env_file=None), check_schema=False)  # type: ignore[call-arg]
    schema.upgrade(ctx.db.engine)
    for actor_id, roles, region in ACTORS:
        directory.add_actor(ctx, actor_id, name=actor_id, roles=roles, region=region)
    ctx.db.dispose()
    yield home / "lotse.db"


def fresh(template: Path, folder: Path) -> tuple[Context, Clock]:
    shutil.copy(template, folder / "lotse.db")
    settings_ = Settings(home=folder, _env_file=None)  # type: ignore[call-arg]
    clock = Clock(START)
    ctx = Context(db=Database(settings_.db_url), catalog=Context.from_settings(
        settings_, check_schema=False).catalog, settings=settings_, clock=clock)
    return ctx, clock


cases = st.integers(0, 2)
changes = st.one_of(
    st.just(("none",)),
    st.tuples(st.just("progress"), cases),
    st.tuples(st.just("progress"), cases),
    st.tuples(st.just("tick"), cases, st.integers(0, 30), st.booleans()),
    st.tuples(st.just("set"), cases, st.sampled_from(DATE_FACTS), st.integers(-120, 400)),
    st.tuples(st.just("accelerate"), cases, st.booleans()),
    st.tuples(st.just("withdraw"), cases),
)
# each step: wait some days, make one change, then maybe run the check (maybe twice that day)
steps_ = st.lists(st.tuples(st.integers(0, 100), changes, st.integers(0, 2)), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(count=st.integers(1, 3), steps=steps_)
def test_reminders_go_out_once_per_level_and_every_overdue_deadline_has_one(
    template: Path, count: int, steps: list[tuple[int, tuple[Any, ...], int]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ctx, clock = fresh(template, Path(folder))
        try:
            refs = [casework.open_case(ctx, given_name="A", family_name="B", nationality="PHL",
                                       employer="klinik-nord") for _ in range(count)]
            reminded: list[tuple[str, str, dt.date, int]] = []
            for wait, step, checks in steps:
                clock.advance(days=wait)
                if step[0] != "none":
                    change(ctx, refs[step[1] % count], step)
                assert_rows_follow_the_definition(ctx)
                for _ in range(checks):
                    day = today(ctx)
                    found = check_deadlines(ctx, as_of=day)
                    reminded += [(f.ref, f.deadline, f.due, f.level) for f in found if f.reminded]
                    assert len(reminded) == len(set(reminded)), "a level was reminded twice"
                    assert_one_reminder_per_current_level(ctx, day, len(reminded))
        finally:
            ctx.db.dispose()


def change(ctx: Context, ref: str, step: tuple[Any, ...]) -> None:
    """One random change; a refusal (a final stage, a missing requirement) changes nothing."""
    kind = step[0]
    process = ctx.catalog.get("pflege")
    try:
        if kind == "progress":
            progress(ctx, ref, process)
        elif kind == "tick":
            items = [item.id for _, item in process.items()]
            casework.tick(ctx, ref, [items[step[2] % len(items)]], by="koord", done=step[3])
        elif kind == "set":
            day = today(ctx) + dt.timedelta(days=step[3])
            casework.set_facts(ctx, ref, {step[2]: day.isoformat()}, by="koord")
        elif kind == "accelerate":
            casework.set_facts(ctx, ref, {"accelerated_procedure": str(step[2])}, by="koord")
        elif kind == "withdraw":
            casework.advance(ctx, ref, "withdraw", by="koord", facts={"withdraw_category": "moved_away",
                                                                      "withdraw_reason": "test"})
    except LotseError:
        pass


def progress(ctx: Context, ref: str, process: Process) -> None:
    """Meet every requirement of the next step on the way and take it."""
    with ctx.db.reading() as session:
        stage = store.find_case(session, ref).stage
    transition = next((t for t in process.transitions_from(stage) if t.event != "withdraw"), None)
    if transition is None:
        return
    if transition.requires.items:
        casework.tick(ctx, ref, transition.requires.items, by="koord")
    values: dict[str, Any] = {}
    for condition in process.conditions(transition):
        kind = process.facts[condition.fact].type
        values[condition.fact] = {"date": today(ctx).isoformat(), "cefr": "C1", "bool": "true",
                                  "str": "x", "country": "PHL"}.get(kind, "x")
    casework.advance(ctx, ref, transition.event, by="koord", facts=values)


def assert_one_reminder_per_current_level(ctx: Context, day: dt.date, reminded: int) -> None:
    with ctx.db.reading() as session:
        keys = list(session.scalars(
            select(OutboxRecord.dedup_key).where(OutboxRecord.dedup_key.contains("deadline:"))  # type: ignore[attr-defined]
        ))
        open_rows = session.execute(
            select(DeadlineRecord, CaseRecord.ref).join(CaseRecord, CaseRecord.id == DeadlineRecord.case_id)
            .where(DeadlineRecord.closed_at.is_(None))  # type: ignore[union-attr]
        ).all()
    # one recipient per role in this alliance: one outbox row per reminder
    assert len(keys) == len(set(keys)) == reminded
    process = ctx.catalog.get("pflege")
    for row, ref in open_rows:
        r = rule(process, row.deadline)
        assert r is not None
        level = r.level_on(row.due, day)
        if level:
            key = f"deadline:{ref}:{row.deadline}:{row.due.isoformat()}:L{level}:"
            assert sum(k.startswith(key) for k in keys) == 1, key
            assert row.level == level and row.next_at == r.level_date(row.due, level + 1)


def assert_rows_follow_the_definition(ctx: Context) -> None:
    process = ctx.catalog.get("pflege")
    with ctx.db.reading() as session:
        for record in session.scalars(select(CaseRecord)):
            case = store.load_case(session, record, process)
            entered = local_date(record.stage_entered_at, ctx.settings.timezone)
            wanted = {(o.rule.id, o.due) for o in openings(process, case, entered)}
            have = set(tuple(row) for row in session.execute(
                select(DeadlineRecord.deadline, DeadlineRecord.due)
                .where(DeadlineRecord.case_id == record.id, DeadlineRecord.closed_at.is_(None))  # type: ignore[union-attr]
            ).all())
            assert have == wanted, record.ref
