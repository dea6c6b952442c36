"""The real check in chunks (tasks/deadlines.py `each_due`), on a SQLite file and on PostgreSQL:
each chunk is committed before its findings are given, so a check stopped between chunks, or one
that fails in the middle of a chunk, leaves every reminder queued at most once, and the next check
queues the rest exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from lotse.config.settings import Settings
from lotse.notifications import dispatch
from lotse.states.records import OutboxRecord
from lotse.tasks import casework, deadlines, directory
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.postgres import postgres_context

DAY = dt.date(2026, 9, 3)  # past the six months of `recruited` of every case below
CASES = 5


def add_alliance(ctx: Context) -> Context:
    people = (("koord", ["coordinator"], None), ("klinik-nord", ["employer"], "SE-Nord"),
              ("vermittlung", ["agency"], "SE-Nord"))
    for actor_id, roles, region in people:
        directory.add_actor(ctx, actor_id, name=actor_id.title(), roles=roles, region=region,
                            email=f"{actor_id}@example.org")
    return ctx


def open_cases(ctx: Context, clock: Clock) -> list[str]:
    refs = []
    for n in range(CASES):
        clock.now = dt.datetime(2026, 1, 5 + n, 9, tzinfo=dt.UTC)  # due on five different days
        refs.append(casework.open_case(ctx, given_name=f"Given{n}", family_name=f"Family{n}",
                                       nationality="PHL", employer="klinik-nord"))
    clock.now = dt.datetime(2026, 9, 3, 7, tzinfo=dt.UTC)
    return refs


@pytest.fixture(params=["sqlite", "postgresql"])
def alliance_with_cases(
    request: pytest.FixtureRequest, ctx: Context, settings: Settings, clock: Clock,
) -> Iterator[tuple[Context, list[str]]]:
    if request.param == "sqlite":
        yield ctx, open_cases(add_alliance(ctx), clock)
        return
    with postgres_context(settings, clock) as on_postgres:
        yield on_postgres, open_cases(add_alliance(on_postgres), clock)


def reminder_keys(ctx: Context) -> list[str]:
    with ctx.db.reading() as session:
        return list(session.scalars(select(OutboxRecord.dedup_key).where(
            OutboxRecord.dedup_key.startswith("deadline:"))))  # type: ignore[attr-defined]


def refs_of(keys: list[str]) -> set[str]:
    return {key.split(":")[1] for key in keys}  # deadline:<ref>:<deadline>:<due>:L<level>:<recipient>


def test_a_check_stopped_after_its_first_chunk_has_queued_that_chunk_and_the_next_queues_the_rest_once(
    alliance_with_cases: tuple[Context, list[str]],
) -> None:
    ctx, refs = alliance_with_cases
    planned = deadlines.check_deadlines(ctx, as_of=DAY, dry_run=True)
    assert sorted(f.ref for f in planned) == sorted(refs) and all(f.reminded for f in planned)

    checking = deadlines.each_due(ctx, as_of=DAY, chunk=2)
    first = [next(checking), next(checking)]
    checking.close()  # as if the process died between the first chunk and the second

    queued = reminder_keys(ctx)
    assert refs_of(queued) == {f.ref for f in first}
    rest = deadlines.check_deadlines(ctx, as_of=DAY)
    assert [f.ref for f in rest if f.reminded] == [f.ref for f in planned[2:]]
    keys = reminder_keys(ctx)
    assert len(keys) == len(set(keys)) and set(queued) < set(keys)
    assert refs_of(keys) == set(refs)

    again = deadlines.check_deadlines(ctx, as_of=DAY)
    assert [f.ref for f in again] == [f.ref for f in planned] and not any(f.reminded for f in again)
    assert sorted(reminder_keys(ctx)) == sorted(keys)


def test_a_chunk_that_fails_queues_nothing_and_the_next_check_queues_each_reminder_once(
    alliance_with_cases: tuple[Context, list[str]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx, refs = alliance_with_cases
    planned = deadlines.check_deadlines(ctx, as_of=DAY, dry_run=True)
    real = dispatch.remind_many
    calls = []

    def fails_the_second_time(*args: Any, **kwargs: Any) -> int:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(dispatch, "remind_many", fails_the_second_time)
    with pytest.raises(RuntimeError):
        list(deadlines.each_due(ctx, as_of=DAY, chunk=2))
    monkeypatch.setattr(dispatch, "remind_many", real)

    assert refs_of(reminder_keys(ctx)) == {f.ref for f in planned[:2]}  # the second chunk rolled back
    still = deadlines.check_deadlines(ctx, as_of=DAY, dry_run=True)
    assert [f.ref for f in still if f.reminded] == [f.ref for f in planned[2:]]

    deadlines.check_deadlines(ctx, as_of=DAY)
    keys = reminder_keys(ctx)
    assert len(keys) == len(set(keys)) and refs_of(keys) == set(refs)


def test_a_check_in_chunks_finds_what_one_read_finds_in_the_same_order(
    alliance_with_cases: tuple[Context, list[str]],
) -> None:
    ctx, _ = alliance_with_cases
    planned = deadlines.check_deadlines(ctx, as_of=DAY, dry_run=True)

    found = list(deadlines.each_due(ctx, as_of=DAY, chunk=2))

    assert found == planned  # every field, the reminded flag too: the dry run said what would be queued
    assert [f.due for f in found] == sorted(f.due for f in found)
