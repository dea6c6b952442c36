"""`lotse process migrate`: moving running cases to another version of their process.

Each case moves in its own transaction, under its lock: it is planned again there (states/migration.py),
so a change made since the dry run is taken into account, never overwritten, and a case is either
moved whole (version, stage, checklist, facts, deadlines, one `migrate` history row) or not at all.
A case already on the target version is left alone: running it again changes nothing. Only the
coordinator migrates; messages go out only when asked for (`notify`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from lotse.notifications import dispatch
from lotse.states import definitions, store
from lotse.states.case import Case
from lotse.states.deadlines import openings, rule
from lotse.states.errors import BadInput, NotFound, RoleMissing
from lotse.states.events import MIGRATE, StageChanged
from lotse.states.migration import Mapping, Plan, check_mapping, moved, plan
from lotse.states.moments import local_date
from lotse.states.process import COORDINATOR, Process
from lotse.states.records import CaseRecord, DeadlineRecord, FactRecord, HistoryRecord, ItemRecord
from lotse.states.timers import limit_id
from lotse.tasks import deadlines
from lotse.tasks.context import Context

MIGRATED, WOULD, ALREADY, CANNOT = "migrated", "would migrate", "already", "cannot"


@dataclass
class Result:
    """What a migration did (or, on a dry run, would do) to each case it looked at."""

    target: str
    dry_run: bool
    cases: list[tuple[str, Plan | None, str]] = field(default_factory=list)  # ref, plan, status

    def count(self, status: str) -> int:
        return sum(1 for _, _, s in self.cases if s == status)

    def as_json(self) -> dict[str, Any]:
        return {
            "to": self.target, "dry_run": self.dry_run,
            "migrated": self.count(MIGRATED), "would_migrate": self.count(WOULD),
            "already": self.count(ALREADY), "cannot": self.count(CANNOT),
            "cases": [{**(p.as_json() if p else {"ref": ref}), "status": status}
                      for ref, p, status in self.cases],
        }


def migrate(
    ctx: Context, name: str, to_version: int, *, by: str, from_version: int | None = None,
    mapping: Mapping | None = None, refs: list[str] | None = None, dry_run: bool = False,
    notify: bool = False, note: str | None = None, mapping_file: str = "the mapping",
) -> Result:
    """Move the open cases of `name` (or the cases `refs`) to version `to_version`; a mapping that
    does not fit both versions is `BadInput` naming `mapping_file` and the key."""
    mapping = mapping or Mapping()
    new = _version(ctx, name, to_version, "--to")
    if from_version is not None:
        _version(ctx, name, from_version, "--from")
    with ctx.db.reading() as session:
        author = store.get_actor(session, by)
        if not author.is_coordinator:
            raise RoleMissing(author.id, "migrate cases to another process version", [COORDINATOR])
        chosen = _chosen(session, ctx, name, to_version, from_version, refs)
    # Checked against every version cases move from (and the one named, should none be left on it).
    sources = {r.process_version for r in chosen} | ({from_version} if from_version is not None else set())
    for version in sorted(sources - {to_version}):
        check_mapping(mapping, ctx.catalog.get(name, version), new, mapping_file)
    result = Result(new.key, dry_run)
    for record in chosen:
        if record.process_version == to_version:
            result.cases.append((record.ref, None, ALREADY))
        elif dry_run:
            with ctx.db.reading() as session:
                planned = _plan(session, ctx, record, new, mapping)
            result.cases.append((record.ref, planned, WOULD if planned.possible else CANNOT))
        else:
            result.cases.append(_move(ctx, record.ref, new, mapping, by, notify, note))
    return result


def _version(ctx: Context, name: str, version: int, option: str) -> Process:
    """The version named, or `NotFound` saying which versions there are."""
    known = [p.version for p in ctx.catalog.versions() if p.name == name]
    if known and version not in known:
        raise NotFound(f"{name} has no version {version} ({option}); its versions: "
                       f"{', '.join(map(str, known))}")
    return ctx.catalog.get(name, version)


def _chosen(
    session: Session, ctx: Context, name: str, to_version: int, from_version: int | None,
    refs: list[str] | None,
) -> list[CaseRecord]:
    """The cases named, each checked, or every open case of the process not on the target yet."""
    if refs:
        records = [store.find_case(session, ref) for ref in dict.fromkeys(refs)]
        for record in records:
            if record.process != name:
                raise BadInput(f"{record.ref} is a case of {record.process}, not of {name}")
            if from_version is not None and record.process_version not in (from_version, to_version):
                raise BadInput(f"{record.ref} runs on {record.process} v{record.process_version}, "
                               f"not v{from_version} (--from)")
        return records
    query = select(CaseRecord).where(CaseRecord.process == name, CaseRecord.process_version != to_version)
    if from_version is not None:
        query = query.where(CaseRecord.process_version == from_version)
    records = list(session.scalars(query.order_by(CaseRecord.ref)))
    return [r for r in records if not ctx.catalog.get(r.process, r.process_version).is_final(r.stage)]


def _plan(session: Session, ctx: Context, record: CaseRecord, new: Process, mapping: Mapping) -> Plan:
    """The plan of one case as it stands in this session, its deadlines included."""
    old = ctx.catalog.get(record.process, record.process_version)
    case = store.load_case(session, record, old)
    planned = plan(case, old, new, mapping)
    if planned.possible:
        entered = local_date(record.stage_entered_at, ctx.settings.timezone)
        wanted = {o.key for o in openings(new, moved(case, planned, new), entered)}
        have = set(session.execute(
            select(DeadlineRecord.deadline, DeadlineRecord.due)
            .where(DeadlineRecord.case_id == record.id, DeadlineRecord.closed_at.is_(None))  # type: ignore[union-attr]
        ).tuples())
        planned.deadlines_closed = sorted(d for d, _ in have - wanted)
        planned.deadlines_opened = sorted(d for d, _ in wanted - have)
    return planned


def _move(
    ctx: Context, ref: str, new: Process, mapping: Mapping, by: str, notify: bool, note: str | None,
) -> tuple[str, Plan | None, str]:
    """Move one case in its own transaction, planned again under its lock."""
    now = ctx.clock()
    with ctx.db.writing() as session:
        record = store.find_case(session, ref, lock=True)
        if record.process_version == new.version:  # moved meanwhile, by a run at the same time
            return record.ref, None, ALREADY
        old = ctx.catalog.get(record.process, record.process_version)
        planned = _plan(session, ctx, record, new, mapping)
        if not planned.possible:
            return record.ref, planned, CANNOT
        assert record.id is not None and planned.to_stage is not None
        limit_level = _level(session, record.id, limit_id(record.stage))
        _rename(session, ItemRecord, ItemRecord.item, record.id, planned.items_kept)
        _rename(session, FactRecord, FactRecord.name, record.id, planned.facts_kept)
        history = HistoryRecord(
            case_id=record.id, at=now, action=MIGRATE, from_stage=record.stage, to_stage=planned.to_stage,
            actor_id=by, via="cli", note=f"{old.key} -> {new.key}" + (f": {note}" if note else ""),
            proof=ctx.proof,
            detail={k: v for k, v in planned.as_json().items() if k not in ("ref", "problems")},
        )
        session.add(history)
        record.process_version, record.stage = new.version, planned.to_stage
        record.version += 1
        session.add(record)
        definitions.keep(session, ctx.catalog, new, now)
        session.flush()
        after = store.load_case(session, record, new)
        due = deadlines.sync(session, ctx, new, record, after, now)
        _carry_level(session, new, record.id, limit_id(planned.to_stage), limit_level)
        if notify:
            _notify(session, ctx, old, new, record, after, planned, by, now, due, history.id or 0)
    return record.ref, planned, MIGRATED


def _rename(session: Session, table: Any, column: Any, case_id: int, kept: dict[str, str]) -> None:
    """Keep the rows whose id has a target (renamed where it changed); delete the others: a done
    item or a fact without target was dropped by the plan, an unticked item needs no row."""
    key = column.key
    changed = []
    for row in session.scalars(select(table).where(table.case_id == case_id)):
        old_id = getattr(row, key)
        if kept.get(old_id) != old_id:  # dropped, or renamed: a new primary key, so a new row
            session.delete(row)
            if old_id in kept:
                changed.append({**{c.key: getattr(row, c.key) for c in table.__table__.columns},
                                key: kept[old_id]})
    if changed:
        session.flush()
        session.add_all(table(**values) for values in changed)


def _level(session: Session, case_id: int, deadline: str) -> tuple[dt.date, int] | None:
    row = session.scalars(select(DeadlineRecord).where(
        DeadlineRecord.case_id == case_id, DeadlineRecord.deadline == deadline,
        DeadlineRecord.closed_at.is_(None))).first()  # type: ignore[union-attr]
    return (row.due, row.level) if row is not None else None


def _carry_level(
    session: Session, new: Process, case_id: int, deadline: str, before: tuple[dt.date, int] | None,
) -> None:
    """A renamed stage keeps the reminders its limit already sent: no second first reminder."""
    if before is None or before[1] == 0:
        return
    due, level = before
    row = session.scalars(select(DeadlineRecord).where(
        DeadlineRecord.case_id == case_id, DeadlineRecord.deadline == deadline, DeadlineRecord.due == due,
        DeadlineRecord.closed_at.is_(None))).first()  # type: ignore[union-attr]
    found = rule(new, deadline)
    if row is None or found is None or row.level >= level:
        return
    row.level = min(level, found.levels)
    row.next_at = found.level_date(due, row.level + 1)
    session.add(row)


def _notify(
    session: Session, ctx: Context, old: Process, new: Process, record: CaseRecord, after: Case,
    planned: Plan, by: str, now: dt.datetime, due: dict[str, dt.date], history_id: int,
) -> None:
    """Tell whom the new stage concerns (its responsible, the owners of its new items and the
    coordinator), as a stage change would."""
    assert planned.to_stage is not None
    stage = new.stages[planned.to_stage]
    roles = {stage.responsible, COORDINATOR} | {i.owner for i in stage.checklist if i.id in planned.items_new}
    event = StageChanged(record.ref, new.name, new.version, MIGRATE, planned.from_stage,
                         planned.to_stage, by, f"{old.key} -> {new.key}")
    dispatch.on_migrated(session, ctx.settings, old, new, record, after, event, history_id, now, due,
                         sorted(r for r in roles if r))
