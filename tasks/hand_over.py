"""Taking an actor out of the directory (`lotse actor remove`), and handing over what it owns.

What an actor owns, precisely:

- the open cases it employs (`cases.employer_id`, in a stage that is not final): nobody else
  ticks their employer items or is told as their employer;
- the open checklist items of the current stage of an open case that are owned by one of its
  roles, where it is the only actor that role's messages reach for the case (routing up the
  region hierarchy, notifications/dispatch.py `nearest`): without it nobody would be asked;
- a school's course groups that have not ended: it would be told of every case assigned to them.

Cases it opened (an agency) are not owned: the history keeps who opened them, and the region's
organisations act on them. While it owns anything, removal is refused and writes nothing.
`--hand-over-to OTHER` moves everything in one transaction: the cases it employs get OTHER as
employer (which must be an employer), OTHER serves the regions it served (`actor_regions`), so
the items' messages reach OTHER (which must hold their roles), and its running groups become
OTHER's (a language school). Written with it: one history row per case (`hand-over`, with the
author and proof), one row per directory change, and one message per case to OTHER with the open
items it is asked for now (notifications/hand_over.py).

A removed actor keeps its row (closed cases and the history name it) without roles or regions:
it is told nothing, acts on nothing, its answer links die, and it is no longer listed. What was
queued for it and not sent is cancelled in the same transaction (`outbox.cancel`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from lotse.notifications import outbox
from lotse.notifications.dispatch import nearest, serving
from lotse.notifications.hand_over import EMPLOYER, Handed, on_handed_over
from lotse.states import store
from lotse.states.courses import LANGUAGE_SCHOOL
from lotse.states.errors import BadInput, Refused
from lotse.states.records import (
    ActorRegionRecord,
    ActorRoleRecord,
    CaseRecord,
    CourseRecord,
    HistoryRecord,
)
from lotse.tasks import directory
from lotse.tasks.context import VIA, Context

ACTION = "hand-over"


@dataclass
class Owned:
    """What an actor owns: the open cases it employs, per open case the items only it is asked, and
    the course groups it runs that have not ended."""

    employed: list[CaseRecord] = field(default_factory=list)
    items: dict[str, tuple[CaseRecord, list[tuple[str, str]]]] = field(default_factory=dict)  # ref -> items
    groups: list[CourseRecord] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return sum(len(found) for _, found in self.items.values())

    @property
    def roles(self) -> set[str]:
        """The roles the items and groups need (the cases' employment needs `employer`)."""
        return {role for _, found in self.items.values() for _, role in found} | (
            {LANGUAGE_SCHOOL} if self.groups else set())

    def __bool__(self) -> bool:
        return bool(self.employed or self.items or self.groups)


def remove_actor(
    ctx: Context, actor_id: str, *, by: str, hand_over_to: str | None = None, note: str | None = None,
    via: str = "cli",
) -> dict[str, Any]:
    """Remove an actor, handing over what it owns to `hand_over_to`; refused while it owns open
    cases or items and no one takes them over. Returns what was done."""
    if via not in VIA:
        raise BadInput(f"unknown entry point '{via}'; one of {', '.join(VIA)}")
    now = ctx.clock()
    with ctx.db.writing() as session:
        author = directory.coordinator(session, by, "remove actors from the directory")
        # Locked before anything it owns is read: a case opened for it, or a group added for it, at
        # the same moment either committed before (and is seen below) or waits and then finds it gone.
        record = directory.listed(session, actor_id, lock=True)
        if author == actor_id:
            raise Refused(f"actor '{actor_id}' cannot remove itself; another coordinator removes it")
        other = store.get_actor(session, hand_over_to, bind=True) if hand_over_to is not None else None
        if other is not None and other.id == actor_id:
            raise BadInput(f"--hand-over-to {hand_over_to}: hand over to another actor than the one removed")
        actor = store.get_actor(session, actor_id)
        owned = owned_by(ctx, session, actor_id, actor.roles)
        if owned and other is None:
            running = len(owned.groups)
            groups = f", and has {running} running or coming course group(s)" if running else ""
            raise Refused(
                f"actor '{actor_id}' owns {len(owned.employed)} open case(s) as employer and is the only one "
                f"asked for {owned.item_count} open item(s) of {len(owned.items)} case(s){groups}; hand them "
                f"over: `lotse actor remove {actor_id} --hand-over-to OTHER --by {by}`")
        result: dict[str, Any] = {"removed": actor_id, "to": None, "cases": [], "serves": [], "groups": [],
                                  "told": 0}
        if other is not None and owned:
            result.update(_hand_over(ctx, session, actor, other, owned, author or by, note, via, now))
        result["cancelled"] = outbox.cancel(session, "the recipient was removed from the directory", now,
                                            recipient=actor_id)
        regions = sorted(actor.serves)
        session.execute(delete(ActorRoleRecord).where(ActorRoleRecord.actor_id == actor_id))  # type: ignore[arg-type]
        session.execute(delete(ActorRegionRecord).where(ActorRegionRecord.actor_id == actor_id))  # type: ignore[arg-type]
        record.removed_at = now
        session.add(record)
        directory.log(session, ctx, actor_id, "remove", author, {
            "roles": [sorted(actor.roles), []], "serves": [regions, []],
            **({"hand_over_to": [None, other.id]} if other is not None and owned else {}),
        }, via, now)
        return result


def owned_by(ctx: Context, session: Session, actor_id: str, roles: frozenset[str]) -> Owned:
    """What the actor owns (see the module docstring). One query for the cases, one for the
    ticked items of each case whose stage asks the actor alone for something, one for the groups."""
    owned = Owned()
    if LANGUAGE_SCHOOL in roles:
        owned.groups = running_groups(ctx, session, actor_id)
    serving_by_role = {role: serving(session, role) for role in roles if role != "employer"}
    alone_in: dict[tuple[str, str], bool] = {}  # (role, region) -> the actor alone is asked

    def alone(role: str, region: str) -> bool:
        if (role, region) not in alone_in:
            actors = serving_by_role[role]
            chain = ctx.regions.chain(region)
            without = {a: served for a, served in actors.items() if a != actor_id}
            alone_in[(role, region)] = nearest(actors, chain) == [actor_id] and not nearest(without, chain)
        return alone_in[(role, region)]

    for record in session.scalars(select(CaseRecord).order_by(CaseRecord.id)):  # type: ignore[arg-type]
        process = ctx.catalog.get(record.process, record.process_version)
        if process.is_final(record.stage):
            continue
        if record.employer_id == actor_id:
            owned.employed.append(record)
        asked = [(item.id, item.owner) for item in process.stages[record.stage].checklist
                 if item.owner in serving_by_role and alone(item.owner, record.region)]
        if not asked:
            continue
        done = store.ticked(session, record.id or 0)
        if found := [(item, role) for item, role in asked if item not in done]:
            owned.items[record.ref] = (record, found)
    return owned


def _hand_over(
    ctx: Context, session: Session, actor: Any, other: Any, owned: Owned, by: str, note: str | None,
    via: str, now: Any,
) -> dict[str, Any]:
    if owned.employed and "employer" not in other.roles:
        raise Refused(f"--hand-over-to {other.id}: it is not an employer, and {actor.id} employs "
                      f"{len(owned.employed)} open case(s)")
    missing = sorted(owned.roles - other.roles)
    if missing:
        raise Refused(f"--hand-over-to {other.id}: it lacks the role(s) {', '.join(missing)} of what "
                      f"{actor.id} hands over (the open items only it is asked for, its course groups); add "
                      f"them with `lotse actor edit {other.id} --add-role ROLE` first")
    for group in owned.groups:  # the new school is told of the cases assigned from now on
        group.school_id = other.id
        session.add(group)
    added: list[str] = []
    if owned.items:  # OTHER serves where the removed actor served, so the items' messages reach it
        served = set(actor.serves) | ({actor.region} if actor.region else set())
        if not served:  # it served the whole alliance: OTHER now serves every county
            served = {code for code in ctx.regions.codes if ctx.regions.depth(code) == 0}
        added = sorted(served - set(other.serves) - {other.region})
        for region in added:
            session.add(ActorRegionRecord(actor_id=other.id, region=region))
        if added:
            after = sorted(set(other.serves) | set(added))
            changed = {"serves": [sorted(other.serves), after]}
            directory.log(session, ctx, other.id, "edit", by, changed, via, now)
    cases: dict[str, dict[str, Any]] = {}
    for record in owned.employed:
        cases[record.ref] = {"record": record, "employer": True, "items": []}
    for ref, (record, items) in owned.items.items():
        entry = cases.setdefault(ref, {"record": record, "employer": False, "items": []})
        entry["items"] = [item for item, _ in items]
    handed: list[tuple[CaseRecord, HistoryRecord, bool, list[str]]] = []
    for ref in sorted(cases):
        entry = cases[ref]
        record = store.find_case(session, ref, lock=True)
        # Moved to another employer while this removal waited for the case's lock: that stands.
        entry["employer"] = entry["employer"] and record.employer_id == actor.id
        if not (entry["employer"] or entry["items"]):
            continue
        detail = {"from": actor.id, "to": other.id, "employer": entry["employer"], "items": entry["items"]}
        if entry["employer"]:
            record.employer_id = other.id
            session.add(record)
        row = HistoryRecord(
            case_id=record.id or 0, at=now, action=ACTION, from_stage=record.stage, to_stage=record.stage,
            actor_id=by, via=via, note=note, detail=detail, proof=ctx.proof,
        )
        session.add(row)
        handed.append((record, row, entry["employer"], entry["items"]))
    session.flush()
    told = on_handed_over(session, ctx.settings, [
        _handed(ctx, session, record, row.id or 0, employer, items) for record, row, employer, items in handed
    ], old=actor.id, new=other.id, by=by, now=now)
    groups = [group.id for group in owned.groups]
    moved = sorted(record.ref for record, *_ in handed)
    directory.log(session, ctx, actor.id, ACTION, by, {
        "to": [None, other.id], "cases": [[], moved], "serves_added_to_other": [[], added],
        **({"course_groups": [[], groups]} if groups else {}),
    }, via, now)
    return {"to": other.id, "cases": moved, "serves": added, "groups": groups,
            "employer_cases": len(owned.employed), "items": owned.item_count, "told": told}


def _handed(ctx: Context, session: Session, record: CaseRecord, history_id: int, employer: bool,
            items: list[str]) -> Handed:
    """What the message of one handed-over case lists: the items only the removed actor was asked
    for and, where the case's employment moved, the employer's open items of its current stage."""
    process = ctx.catalog.get(record.process, record.process_version)
    if employer:
        done = store.ticked(session, record.id or 0)
        items = [*items, *process.stages[record.stage].open_items(EMPLOYER, done)]
    return Handed(record, process, history_id, employer, tuple(dict.fromkeys(items)))


def running_groups(ctx: Context, session: Session, school: str) -> list[CourseRecord]:
    """A school's course groups that have not ended: it is told of each case assigned to them."""
    from lotse.tasks.deadlines import today

    return list(session.scalars(select(CourseRecord).where(
        CourseRecord.school_id == school, CourseRecord.end >= today(ctx))  # type: ignore[operator]
        .order_by(CourseRecord.id)))  # type: ignore[arg-type]
