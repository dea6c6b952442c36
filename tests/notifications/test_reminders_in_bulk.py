"""Reminders queued in one batch: the same rows as one by one, each cause once, and a number of
queries that does not grow with the number of reminders (the daily check queues thousands)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, event, select

from lotse.notifications import dispatch
from lotse.states import store
from lotse.states.records import OutboxRecord
from lotse.tasks import casework
from lotse.tasks.context import Context
from tests.notifications.conftest import Routes

CHAT = "json://127.0.0.1:1/{}"


def open_cases(ctx: Context, count: int) -> list[str]:
    return [casework.open_case(ctx, given_name=f"Given{n}", family_name="Muster", nationality="PHL",
                               employer="klinik-nord") for n in range(count)]


def reminders(refs: list[str], roles: tuple[str, ...]) -> list[tuple[str, dispatch.Reminder]]:
    return [
        (ref, dispatch.Reminder("visa_limit", "Visumverfahren", dt.date(2026, 3, 17), level, role, "Praxis",
                                f"deadline:{ref}:visa_limit:2026-03-17:L{level}"))
        for ref in refs for level, role in enumerate(roles, start=1)
    ]


def remind_many(ctx: Context, wanted: list[tuple[str, dispatch.Reminder]]) -> tuple[int, int]:
    """Rows queued, and SQL statements the batch sent to the database."""
    with ctx.db.writing() as session:
        cases = {ref: store.find_case(session, ref) for ref, _ in wanted}
        with statements(ctx) as seen:
            queued = dispatch.remind_many(session, ctx.settings, [(cases[ref], r) for ref, r in wanted],
                                          ctx.clock())
        return queued, len(seen)


def outbox(ctx: Context) -> list[tuple[str, str, str | None, str, str]]:
    with ctx.db.reading() as session:
        rows = session.scalars(select(OutboxRecord).order_by(OutboxRecord.id))
        return [(r.dedup_key, r.recipient, r.channel, r.subject, r.body) for r in rows]


@contextmanager
def statements(ctx: Context) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", count)


def test_reminders_queued_together_are_the_rows_of_reminders_queued_one_by_one(
    alliance: Context, routes: Routes,
) -> None:
    routes((CHAT.format("klinik"), "klinik-nord"), (CHAT.format("koord"), "coordinator"),
           ("mailto://127.0.0.1:1?mode=insecure&from=a@example.org&to=koord@example.org", "coordinator"))
    refs = open_cases(alliance, 3)
    wanted = reminders(refs, ("employer", "coordinator", "housing"))
    one_by_one = 0
    with alliance.db.writing() as session:
        for ref, reminder in wanted:
            record = store.find_case(session, ref)
            process = alliance.catalog.get(record.process, record.process_version)
            one_by_one += dispatch.remind(session, alliance.settings, process, record, reminder,
                                          alliance.clock())
    single = outbox(alliance)
    with alliance.db.writing() as session:
        session.execute(delete(OutboxRecord))
    together, _ = remind_many(alliance, wanted)
    assert together == one_by_one == len(single) == 3 * (1 + 2 + 1)  # the coordinator has two routes
    assert outbox(alliance) == single
    assert {channel for _, _, channel, _, _ in single} == {"chat", "email", None}  # housing: no route


def test_a_reminder_queued_before_or_given_twice_in_a_batch_is_queued_once(alliance: Context) -> None:
    refs = open_cases(alliance, 3)
    first, second, third = (reminders([ref], ("employer",))[0] for ref in refs)
    assert remind_many(alliance, [first, second])[0] == 2
    assert remind_many(alliance, [first, second, third, third])[0] == 1
    assert remind_many(alliance, [first, second, third])[0] == 0
    keys = [key for key, *_ in outbox(alliance)]
    assert len(keys) == len(set(keys)) == 3


def test_a_batch_sends_as_many_queries_for_twenty_cases_as_for_two(alliance: Context, routes: Routes) -> None:
    routes((CHAT.format("all"), "employer, coordinator, housing, foreigners_office"))
    roles = ("employer", "coordinator", "housing", "foreigners_office")
    few = reminders(open_cases(alliance, 2), roles)
    many = reminders(open_cases(alliance, 20), roles)
    queued_few, queries_few = remind_many(alliance, few)
    queued_many, queries_many = remind_many(alliance, many)
    assert (queued_few, queued_many) == (2 * len(roles), 20 * len(roles))
    assert queries_many == queries_few
