"""Deadlines as rows, and the daily check that reminds once per level and escalates.

`sync` runs inside every change of a case (same transaction): it opens the deadlines the case has
now and closes the ones it no longer has. `check_deadlines` is a query over the open rows by date:
each (case, deadline, due date, level) is reminded once, through the outbox; a later day climbs the
ladder only when the next level is due. Dates are calendar dates in the alliance's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Select, bindparam, insert, select, tuple_, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from lotse.states import records, tables
from lotse.states.case import Case
from lotse.states.deadlines import Rule, openings, rule, why_closed
from lotse.states.family import LEAD_SETTINGS, is_family_item
from lotse.states.moments import local_date
from lotse.states.process import ChecklistItem, Process
from lotse.tasks.context import Context

if TYPE_CHECKING:
    from lotse.notifications.dispatch import Reminder

_CHUNK = 500  # ids per IN (...) query, well under every database's limit of bound parameters
CHECK_CHUNK = 2_000  # rows per transaction of a real check: a few MB of rendered messages at most


def today(ctx: Context) -> dt.date:
    """The calendar date now in the alliance's time zone (Europe/Berlin by default)."""
    return local_date(ctx.clock(), ctx.settings.timezone)


# -- opening and closing, with every change --------------------------------------------------------


def sync(
    session: Session, ctx: Context, process: Process, record: records.CaseRecord, case: Case,
    now: dt.datetime,
) -> dict[str, dt.date]:
    """Bring the case's deadline rows in line with its stage, facts and items, in the open
    transaction of the change; return the due date of each checklist item that has one (the
    earliest), for the messages of the change."""
    entered = local_date(record.stage_entered_at, ctx.settings.timezone)
    wanted = {o.key: o for o in openings(process, case, entered, leads(ctx))}
    connection, sql = session.connection(), _sql()
    have = {(row.deadline, row.due): row for row in connection.execute(sql.of_case, {"case_id": record.id})}
    still = {deadline for deadline, _ in wanted}
    closed = [
        {"row_id": row.id, "closed_at": now,
         "closed_why": why_closed(process, case, rule(process, row.deadline), still)}
        for key, row in have.items() if row.closed_at is None and key not in wanted
    ]
    opened, reopened = [], []
    for key, opening in wanted.items():
        row = have.get(key)
        if row is not None and row.closed_at is None:
            continue
        level = row.level if row is not None else 0  # reopened on the same due date: its levels stay
        values = {"alert_on": opening.alert_on, "next_at": opening.rule.level_date(opening.due, level + 1)}
        if row is None:
            opened.append({"case_id": record.id, "deadline": opening.rule.id, "due": opening.due,
                           "opened_at": now, "level": 0, **values})
        else:
            reopened.append({"row_id": row.id, **values})
    for statement, rows in ((sql.close, closed), (sql.reopen, reopened), (sql.open, opened)):
        if rows:
            connection.execute(statement, rows)
    items: dict[str, dt.date] = {}
    for opening in wanted.values():
        if opening.rule.item is not None:
            items[opening.rule.item] = min(opening.due, items.get(opening.rule.item, opening.due))
    return items


class _Statements(NamedTuple):
    """Plain SQL on the session's connection, which every change of a case runs: the deadline
    rows of a case, and closing, reopening and opening them."""

    of_case: Any
    close: Any
    reopen: Any
    open: Any


@cache
def _sql() -> _Statements:
    """The statements, built once, on first use, from the Core table (states/tables.py)."""
    d = tables.deadlines
    by_id = d.c.id == bindparam("row_id")
    return _Statements(
        select(d.c.id, d.c.deadline, d.c.due, d.c.level, d.c.closed_at).where(
            d.c.case_id == bindparam("case_id")),
        update(d).where(by_id).values(closed_at=bindparam("closed_at"), closed_why=bindparam("closed_why"),
                                      alert_on=None, next_at=None),
        update(d).where(by_id).values(closed_at=None, closed_why=None, alert_on=bindparam("alert_on"),
                                      next_at=bindparam("next_at")),
        insert(d),
    )


def leads(ctx: Context) -> dict[str, int]:
    """The settings a family need's lead time may come from (states/family.py `LEAD_SETTINGS`)."""
    return {name: getattr(ctx.settings, name) for name in LEAD_SETTINGS}


def open_deadlines(
    session: Session, process: Process, case_id: int, locale: str = "de",
) -> list[dict[str, Any]]:
    """The open deadlines of one case, soonest first, for the case file; titles in `locale`."""
    d = tables.deadlines.c  # Core columns, not the ORM: the case file builds no class (states/tables.py)
    query = (
        select(d.deadline, d.due, d.level, d.next_at)
        .where(d.case_id == case_id, d.closed_at.is_(None))
        .order_by(d.due, d.deadline)
    )
    found = []
    for row in session.execute(query):
        r = rule(process, row.deadline)
        found.append({
            "deadline": row.deadline, "title": r.title.in_(locale) if r else row.deadline,
            "due": row.due.isoformat(), "level": row.level,
            "next_reminder": row.next_at.isoformat() if row.next_at else None,
            "role": r.role if r else None, "basis": r.basis.in_(locale) if r else None,
        })
    return found


# -- the daily check -------------------------------------------------------------------------------


class Finding(NamedTuple):
    """A deadline due or overdue on the day of the check, at the level due that day. A named tuple,
    not a frozen dataclass: a check makes one per due row, and a frozen dataclass takes five times
    as long to make."""

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
        return {**self._asdict(), "due": self.due.isoformat()}


@dataclass(frozen=True)
class _Row:
    finding: Finding
    row_id: int
    next_at: dt.date | None  # when the level after this one is due
    item: ChecklistItem | None = None  # the item of the case's current stage the deadline is about


def check_deadlines(ctx: Context, as_of: dt.date | None = None, dry_run: bool = False) -> list[Finding]:
    """Every deadline due or overdue on `as_of` (default: today in the alliance's time zone);
    queue a reminder for each whose next level is due, unless `dry_run`. Idempotent. A list, for
    callers that want one; `lotse check` streams `each_due` instead."""
    return list(each_due(ctx, as_of, dry_run=dry_run))


def each_due(
    ctx: Context, as_of: dt.date | None = None, *, dry_run: bool = False, chunk: int | None = None,
) -> Iterator[Finding]:
    """The findings of the check on `as_of`, soonest due first, as they are read: never all rows
    in memory at once. A dry run is one read, row by row. A real run reads `chunk` rows at a time,
    in order (keyset on due date, reference, deadline, row id), and queues their reminders and
    records the levels reminded in one transaction per chunk, committed before its findings are
    yielded. A crash or a caller that stops early loses nothing and queues nothing twice: the
    chunks committed stand, their rows read as reminded on the next run, and a chunk that failed
    is rolled back whole (the outbox's dedup keys would skip a reminder queued before anyway)."""
    day = as_of or today(ctx)
    now = ctx.clock()
    chunk = chunk or CHECK_CHUNK  # read when called: a test sets a small one
    rules = _Rules(ctx, day)
    if dry_run:
        with ctx.db.reading() as session:
            for part in _read(session.connection(), _query(day), chunk):
                yield from rules.findings(part)
        return
    after: tuple[Any, ...] | None = None
    while True:
        with ctx.db.writing() as session:
            read = session.execute(_query(day, after=after, limit=chunk, lock=True)).all()
            found = [row for values in read if (row := rules.row(values)) is not None]
            _queue(session, ctx, [row for row in found if row.finding.reminded], now)
        yield from (row.finding for row in found)
        if len(read) < chunk:
            return
        last = read[-1]
        after = (last.due, last.ref, last.deadline, last.id)


def _read(connection: Connection, query: Select[Any], chunk: int) -> Iterator[Any]:
    """The rows of a query, `chunk` at a time. On SQLite the driver's own rows, read through the
    same connection: making SQLAlchemy's rows, and a date of each, cost more than the query itself
    (issue 15); a due date arrives as its ISO text. Elsewhere Core rows, streamed."""
    if connection.dialect.name != "sqlite":
        yield from connection.execution_options(yield_per=chunk).execute(query).partitions()
        return
    # The query's one value is a date of the check, never a user's text: rendered as a literal.
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        while part := cursor.fetchmany(chunk):
            yield part
    finally:
        cursor.close()


def _query(day: dt.date, *, after: tuple[Any, ...] | None = None, limit: int | None = None,
           lock: bool = False) -> Select[Any]:
    """Open rows whose first level is due by `day`: one index range scan, no case loaded."""
    d, c = records.DeadlineRecord, records.CaseRecord
    query = (
        select(d.id, d.deadline, d.due, d.level, c.ref, c.process, c.process_version, c.stage)
        .join(c, c.id == d.case_id)
        .where(d.alert_on <= day)  # type: ignore[operator]
        .order_by(d.due, c.ref, d.deadline, d.id)
    )
    if after is not None:
        query = query.where(tuple_(d.due, c.ref, d.deadline, d.id) > tuple_(*after))
    if limit is not None:
        query = query.limit(limit)
    if lock:  # PostgreSQL: a second check at the same time waits, then sees the levels reminded
        query = query.with_for_update(of=d)  # type: ignore[arg-type]
    return query


# the rule, the level due, the fields of its finding, the day of the next level
_Due = tuple[Rule, int, tuple[Any, ...], dt.date | None]


class _Rules:
    """What a row of the check becomes, computed once per (definition, deadline) and per
    (deadline, due date) rather than per row: a check reads tens of thousands of rows that share a
    few rules and a few hundred due dates."""

    def __init__(self, ctx: Context, day: dt.date) -> None:
        self.ctx, self.day, self.locale = ctx, day, ctx.settings.locale
        self.processes: dict[tuple[str, int], Process] = {}
        self.rules: dict[tuple[str, int, str], tuple[Rule, str, str] | None] = {}
        # per (process, version, deadline, due date as read): the rule, the level due, what it says
        self.dues: dict[tuple[str, int, str, dt.date | str], _Due | None] = {}

    def finding(self, values: Any) -> Finding | None:
        """The finding of a row of `_query`, or None when no level is due by the rules now."""
        known = self.dues.get((values[5], values[6], values[1], values[2]), False)
        if known is False:
            known = self._due(values[5], values[6], values[1], values[2])
        if known is None:
            return None
        _, level, said, _ = known
        return Finding(values[4], *said, level > values[3])  # by position: the fastest way in

    def findings(self, rows: list[Any]) -> Iterator[Finding]:
        """The findings of rows of `_query`: `finding` over many rows, without a call per row."""
        dues, make = self.dues, Finding._make
        for values in rows:
            known = dues.get((values[5], values[6], values[1], values[2]), False)
            if known is False:
                known = self._due(values[5], values[6], values[1], values[2])
            if known is not None:
                yield make((values[4], *known[2], known[1] > values[3]))

    def row(self, values: Any) -> _Row | None:
        finding = self.finding(values)
        if finding is None:
            return None
        row_id, deadline, due, _, _, name, version, stage = values
        r, _, _, next_at = self.dues[(name, version, deadline, due)]  # type: ignore[misc]
        item = _item(self._process(name, version), stage, r) if finding.reminded else None
        return _Row(finding, row_id, next_at, item)

    def _due(self, name: str, version: int, deadline: str, raw_due: dt.date | str) -> _Due | None:
        due = raw_due if isinstance(raw_due, dt.date) else dt.date.fromisoformat(raw_due)
        known = self.rules.get((name, version, deadline), False)
        if known is False:
            r = rule(self._process(name, version), deadline)
            known = self.rules[(name, version, deadline)] = (
                None if r is None else (r, r.title.in_(self.locale), r.basis.in_(self.locale))
            )
        found = None
        if known is not None:  # else the definition changed since the row was opened
            r, title, basis = known
            level = r.level_on(due, self.day)
            said = (deadline, title, due, level, r.role_of(level), r.role, basis, (self.day - due).days)
            found = (r, level, said, r.level_date(due, level + 1)) if level > 0 else None
        self.dues[(name, version, deadline, raw_due)] = found
        return found

    def _process(self, name: str, version: int) -> Process:
        process = self.processes.get((name, version))
        if process is None:
            process = self.processes[(name, version)] = self.ctx.catalog.get(name, version)
        return process


def _queue(session: Session, ctx: Context, fresh: list[_Row], now: dt.datetime) -> None:
    """Queue the reminders of these rows and record the levels reminded, in `session`."""
    if not fresh:
        return
    # The messages (Jinja2) are imported here, where reminders are queued: the case file reads
    # open deadlines from this module and never sends one.
    from lotse.notifications import dispatch

    cases = _cases(session, [row.finding.ref for row in fresh])
    reminders = [(cases[row.finding.ref], _reminder(row)) for row in fresh]
    dispatch.remind_many(session, ctx.settings, reminders, now)
    session.execute(update(records.DeadlineRecord), [
        {"id": row.row_id, "level": row.finding.level, "next_at": row.next_at} for row in fresh
    ])


def _item(process: Process, stage: str, r: Rule) -> ChecklistItem | None:
    """The checklist item a deadline is about, if it belongs to the case's current stage (a
    reminder carries its answer link); an open row means it is not done yet."""
    if r.item is None or stage not in process.stages:
        return None
    if is_family_item(r.item):  # a family member's need belongs to every stage
        return process.find_item(r.item)
    return next((item for item in process.stages[stage].checklist if item.id == r.item), None)


def _cases(session: Session, refs: list[str]) -> dict[str, records.CaseRecord]:
    unique = list(dict.fromkeys(refs))
    by_ref: dict[str, records.CaseRecord] = {}
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        for record in session.scalars(select(records.CaseRecord).where(records.CaseRecord.ref.in_(chunk))):  # type: ignore[attr-defined]
            by_ref[record.ref] = record
    return by_ref


def _reminder(row: _Row) -> Reminder:
    from lotse.notifications.dispatch import Reminder  # with the messages: see _queue

    finding = row.finding
    return Reminder(
        deadline=finding.deadline, title=finding.title, due=finding.due, level=finding.level,
        role=finding.role, basis=finding.basis, responsible=finding.responsible,
        key=f"deadline:{finding.ref}:{finding.deadline}:{finding.due.isoformat()}:L{finding.level}",
        item=row.item.id if row.item else None, owner=row.item.owner if row.item else None,
    )
