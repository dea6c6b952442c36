"""Deadlines as rows, and the daily check that reminds once per level and escalates.

`sync` runs inside every change of a case (same transaction): it opens the deadlines the case has
now and closes the ones it no longer has. `check_deadlines` is a query over the open rows by date:
each (case, deadline, due date, level) is reminded once, through the outbox; a later day climbs the
ladder only when the next level is due. Dates are calendar dates in the alliance's time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from lotse.notifications import dispatch
from lotse.states.case import Case
from lotse.states.deadlines import Rule, openings, rule, why_closed
from lotse.states.family import LEAD_SETTINGS, is_family_item
from lotse.states.moments import local_date
from lotse.states.process import ChecklistItem, Process
from lotse.states.records import CaseRecord, DeadlineRecord
from lotse.tasks.context import Context

_CHUNK = 500  # ids per IN (...) query, well under every database's limit of bound parameters


def today(ctx: Context) -> dt.date:
    """The calendar date now in the alliance's time zone (Europe/Berlin by default)."""
    return local_date(ctx.clock(), ctx.settings.timezone)


# -- opening and closing, with every change --------------------------------------------------------


def sync(
    session: Session, ctx: Context, process: Process, record: CaseRecord, case: Case, now: dt.datetime,
) -> dict[str, dt.date]:
    """Bring the case's deadline rows in line with its stage, facts and items, in the open
    transaction of the change; return the due date of each checklist item that has one (the
    earliest), for the messages of the change."""
    entered = local_date(record.stage_entered_at, ctx.settings.timezone)
    wanted = {o.key: o for o in openings(process, case, entered, leads(ctx))}
    rows = session.scalars(select(DeadlineRecord).where(DeadlineRecord.case_id == record.id)).all()
    have = {(row.deadline, row.due): row for row in rows}
    still = {deadline for deadline, _ in wanted}
    for key, row in have.items():
        if row.closed_at is None and key not in wanted:
            row.closed_at, row.alert_on, row.next_at = now, None, None
            row.closed_why = why_closed(process, case, rule(process, row.deadline), still)
            session.add(row)
    for key, opening in wanted.items():
        row = have.get(key)
        if row is not None and row.closed_at is None:
            continue
        if row is None:
            assert record.id is not None
            row = DeadlineRecord(case_id=record.id, deadline=opening.rule.id, due=opening.due, opened_at=now)
        row.closed_at, row.closed_why = None, None
        row.alert_on = opening.alert_on
        row.next_at = opening.rule.level_date(opening.due, row.level + 1)
        session.add(row)
    items: dict[str, dt.date] = {}
    for opening in wanted.values():
        if opening.rule.item is not None:
            items[opening.rule.item] = min(opening.due, items.get(opening.rule.item, opening.due))
    return items


def leads(ctx: Context) -> dict[str, int]:
    """The settings a family need's lead time may come from (states/family.py `LEAD_SETTINGS`)."""
    return {name: getattr(ctx.settings, name) for name in LEAD_SETTINGS}


def open_deadlines(
    session: Session, process: Process, case_id: int, locale: str = "de",
) -> list[dict[str, Any]]:
    """The open deadlines of one case, soonest first, for the case file; titles in `locale`."""
    query = (
        select(DeadlineRecord)
        .where(DeadlineRecord.case_id == case_id, DeadlineRecord.closed_at.is_(None))  # type: ignore[union-attr]
        .order_by(DeadlineRecord.due, DeadlineRecord.deadline)
    )
    found = []
    for row in session.scalars(query):
        r = rule(process, row.deadline)
        found.append({
            "deadline": row.deadline, "title": r.title.in_(locale) if r else row.deadline,
            "due": row.due.isoformat(), "level": row.level,
            "next_reminder": row.next_at.isoformat() if row.next_at else None,
            "role": r.role if r else None, "basis": r.basis.in_(locale) if r else None,
        })
    return found


# -- the daily check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A deadline due or overdue on the day of the check, at the level due that day."""

    ref: str
    deadline: str
    title: str
    due: dt.date
    level: int
    role: str  # whom this level reminds
    responsible: str  # the deadline's own role
    basis: str
    overdue_days: int  # negative: a reminder before the due date
    reminded: bool  # this check queued the reminder of this level (or would, on a dry run)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "due": self.due.isoformat()}


@dataclass(frozen=True)
class _Row:
    finding: Finding
    row_id: int
    next_at: dt.date | None  # when the level after this one is due
    item: ChecklistItem | None = None  # the item of the case's current stage the deadline is about


def check_deadlines(ctx: Context, as_of: dt.date | None = None, dry_run: bool = False) -> list[Finding]:
    """Every deadline due or overdue on `as_of` (default: today in the alliance's time zone);
    queue a reminder for each whose next level is due, unless `dry_run`. Idempotent."""
    day = as_of or today(ctx)
    now = ctx.clock()
    session_of = ctx.db.reading if dry_run else ctx.db.writing
    with session_of() as session:
        found = _due(session, ctx, day, lock=not dry_run)
        fresh = [row for row in found if row.finding.reminded]
        if not dry_run and fresh:
            cases = _cases(session, [row.finding.ref for row in fresh])
            reminders = [(cases[row.finding.ref], _reminder(row)) for row in fresh]
            dispatch.remind_many(session, ctx.settings, reminders, now)
            session.execute(update(DeadlineRecord), [
                {"id": row.row_id, "level": row.finding.level, "next_at": row.next_at} for row in fresh
            ])
    return [row.finding for row in found]


def _due(session: Session, ctx: Context, day: dt.date, *, lock: bool) -> list[_Row]:
    """Open rows whose first level is due by `day`: one index range scan, no case loaded."""
    d, c = DeadlineRecord, CaseRecord
    query = (
        select(d.id, d.deadline, d.due, d.level, c.ref, c.process, c.process_version, c.stage)
        .join(c, c.id == d.case_id)
        .where(d.alert_on <= day)  # type: ignore[operator]
        .order_by(d.due, c.ref, d.deadline)
    )
    if lock:  # PostgreSQL: a second check at the same time waits, then sees the levels reminded
        query = query.with_for_update(of=d)  # type: ignore[arg-type]
    processes: dict[tuple[str, int], Process] = {}
    found = []
    for row_id, deadline, due, reminded, ref, name, version, stage in session.execute(query):
        process = processes.get((name, version))
        if process is None:
            process = processes[(name, version)] = ctx.catalog.get(name, version)
        r: Rule | None = rule(process, deadline)
        level = r.level_on(due, day) if r else 0
        if r is None or level == 0:  # the definition changed since the row was opened
            continue
        locale = ctx.settings.locale
        finding = Finding(
            ref=ref, deadline=deadline, title=r.title.in_(locale), due=due, level=level,
            role=r.role_of(level), responsible=r.role, basis=r.basis.in_(locale),
            overdue_days=(day - due).days, reminded=level > reminded,
        )
        found.append(_Row(finding, row_id, r.level_date(due, level + 1), _item(process, stage, r)))
    return found


def _item(process: Process, stage: str, r: Rule) -> ChecklistItem | None:
    """The checklist item a deadline is about, if it belongs to the case's current stage (a
    reminder carries its answer link); an open row means it is not done yet."""
    if r.item is None or stage not in process.stages:
        return None
    if is_family_item(r.item):  # a family member's need belongs to every stage
        return process.find_item(r.item)
    return next((item for item in process.stages[stage].checklist if item.id == r.item), None)


def _cases(session: Session, refs: list[str]) -> dict[str, CaseRecord]:
    unique = list(dict.fromkeys(refs))
    by_ref: dict[str, CaseRecord] = {}
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        for record in session.scalars(select(CaseRecord).where(CaseRecord.ref.in_(chunk))):  # type: ignore[attr-defined]
            by_ref[record.ref] = record
    return by_ref


def _reminder(row: _Row) -> dispatch.Reminder:
    finding = row.finding
    return dispatch.Reminder(
        deadline=finding.deadline, title=finding.title, due=finding.due, level=finding.level,
        role=finding.role, basis=finding.basis, responsible=finding.responsible,
        key=f"deadline:{finding.ref}:{finding.deadline}:{finding.due.isoformat()}:L{finding.level}",
        item=row.item.id if row.item else None, owner=row.item.owner if row.item else None,
    )
