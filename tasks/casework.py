"""Changing cases: open one, set facts, tick checklist items, fire an event.

Each function is one transaction: the case row is locked, the machine decides, and the change,
its history rows and everything it causes (messages, deadlines) are written together or not at
all. A refusal writes nothing. A request id makes a change idempotent: the same request again
returns the first result and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lotse.notifications import dispatch, roster
from lotse.states import definitions, limits, machine, regions, safeguards, scope, store
from lotse.states import facts as fact_kinds
from lotse.states.actor import Actor
from lotse.states.case import Case
from lotse.states.errors import BadInput, Conflict, NotFound, OpeningRefused, Refused
from lotse.states.events import CaseOpened, DomainEvent, StageChanged
from lotse.states.moments import local_date
from lotse.states.process import COORDINATOR, Process
from lotse.states.records import CaseRecord, HistoryRecord, RefCounterRecord, named
from lotse.states.regions import FLAT, Regions
from lotse.tasks import deadlines
from lotse.tasks.context import VIA, Context

OPENER_ROLES = ["employer", "agency", COORDINATOR]


def parse_facts(process: Process, raw: dict[str, Any]) -> dict[str, Any]:
    """Parse text values by their fact's type; an unknown fact or a bad value is bad input."""
    return {
        name: fact_kinds.parse_value(
            process.fact(name).type, value, process.fact(name).values, name=name
        )
        for name, value in raw.items()
    }


def personal_facts(ctx: Context, ref: str, names: list[str]) -> list[str]:
    """Which of these facts of the case are personal data (never to pass through Prefect)."""
    with ctx.db.reading() as session:
        record = store.find_case(session, ref)
    process = ctx.catalog.get(record.process, record.process_version)
    return sorted(n for n in names if n in process.facts and process.is_personal(n))


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`KEY=VALUE` words of the command line as a dict."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"'{pair}' is not KEY=VALUE (e.g. arrival_date=2027-03-01)")
        if key.strip() in result:
            raise BadInput(f"'{key.strip()}' is given twice; give each fact once")
        result[key.strip()] = value
    return result


def open_case(
    ctx: Context,
    *,
    given_name: str,
    family_name: str,
    nationality: str,
    employer: str,
    process: str | None = None,
    region: str | None = None,
    facts: dict[str, Any] | None = None,
    by: str | None = None,
    via: str = "cli",
    request_id: str | None = None,
) -> str:
    """Open a case in its process's initial stage and return its reference."""
    _check_via(via)
    definition = ctx.catalog.get(process or ctx.settings.default_process)
    if not given_name.strip() or not family_name.strip():
        raise BadInput("a case needs a given name and a family name")
    limits.check_length("the given name", given_name.strip(), limits.NAME)
    limits.check_length("the family name", family_name.strip(), limits.NAME)
    if request_id is not None:
        limits.check_length("the request id", request_id, limits.REQUEST_ID)
    values = parse_facts(definition, {"nationality": nationality, **(facts or {})})
    now = ctx.clock()
    try:
        with ctx.db.writing() as session:
            if request_id and (earlier := _earlier(session, request_id)) is not None:
                return earlier[0].ref
            owner = store.get_actor(session, employer, bind=True)
            actor = store.get_actor(session, by) if by else owner
            case_region = regions.check_region(
                ((region or "").strip() or owner.region or ctx.settings.default_region).strip(), ctx.regions
            )
            check_opening(actor, owner, values["nationality"], case_region, definition, ctx.regions)
            record = CaseRecord(
                # the county's letters: a town's case is SE-2026-0042 like every case of the county
                ref=_next_ref(session, ctx.regions.root(case_region), now, ctx.settings.timezone),
                process=definition.name,
                process_version=definition.version, stage=definition.initial,
                employer_id=owner.id, region=case_region, **named(given_name.strip(), family_name.strip()),
                created_at=now, stage_entered_at=now,
            )
            session.add(record)
            definitions.keep(session, ctx.catalog, definition, now)
            session.flush()
            case = store.load_case(session, record, definition)
            events: list[DomainEvent] = [
                CaseOpened(record.ref, definition.name, definition.version, definition.initial, actor.id),
                case.set_facts(definition, actor, values),
            ]
            commit_change(session, ctx, definition, record, case, events, via, now, request_id)
            return record.ref
    except IntegrityError:
        # The same request, run twice at once: the other run committed first and opened the case.
        if request_id and (earlier := _earlier_committed(ctx, request_id)) is not None:
            return earlier[0].ref
        raise


def check_opener(actor: Actor) -> None:
    """Refuse an actor that may not open cases at all."""
    if not actor.has_any(OPENER_ROLES):
        needed = ", ".join(OPENER_ROLES)
        message = f"actor '{actor.id}' may not open cases: it needs one of {needed}"
        raise OpeningRefused(message, column="by", reason=message)


def check_opening(actor: Actor, owner: Actor, nationality: str, region: str, process: Process,
                  regions: Regions = FLAT) -> None:
    """The rules for opening a case of `process`, for `lotse case add` and cohort imports alike: the
    owner is an employer, the actor may open cases, for this employer in this region
    (`scope.may_open`), and § 38 BeschV allows it to place from this country (health and care
    occupations only, `Process.safeguarded`). A refusal's `reason` repeats no value of
    an import's row: it names the acting actor (`--by`) and its own region only."""
    if "employer" not in owner.roles:
        roles = ", ".join(sorted(owner.roles))
        raise OpeningRefused(f"actor '{owner.id}' is not an employer (roles: {roles})",
                             column="employer", reason=f"actor '{owner.id}' is not an employer")
    check_opener(actor)
    if not scope.may_open(actor, employer=owner.id, region=region, regions=regions):
        if scope.AGENCY in actor.roles:
            reason = (f"agency '{actor.id}' serves region {actor.region}: it opens cases of that region "
                      "only; the coordinator opens the others")
            raise OpeningRefused(f"{reason} (not {region})", column="region", reason=reason)
        reason = (f"actor '{actor.id}' may open cases only for itself; an agency or the coordinator "
                  "opens them for another employer")
        raise OpeningRefused(f"{reason} (not for {owner.id})", column="employer", reason=reason)
    try:
        safeguards.check_placement(actor, nationality, process)
    except Refused as exc:  # the import's problems must not name the country: they reach Prefect
        raise OpeningRefused(
            str(exc), column="nationality",
            reason="§ 38 BeschV: a private agency may not place from this country (WHO safeguards list); "
                   "the employer opens it",
        ) from None


def set_facts(
    ctx: Context, ref: str, raw: dict[str, Any], *, by: str, via: str = "cli",
    request_id: str | None = None,
) -> dict[str, Any]:
    """Set facts of a case (typed, checked against who may set them)."""
    return _change(ctx, ref, by, via, request_id, "set", lambda case, process, actor: [
        case.set_facts(process, actor, parse_facts(process, raw))
    ])


def tick(
    ctx: Context, ref: str, items: list[str], *, by: str, done: bool = True, via: str = "cli",
    request_id: str | None = None,
) -> dict[str, Any]:
    """Tick (or untick) checklist items of a case; only their owner role or the coordinator."""
    return _change(ctx, ref, by, via, request_id, "done" if done else "undone", lambda case, process, actor: [
        case.tick(process, actor, items, done)
    ])


def advance(
    ctx: Context, ref: str, event: str, *, by: str, facts: dict[str, Any] | None = None,
    note: str | None = None, via: str = "cli", request_id: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Fire an event on a case, after setting the facts given with it, in one transaction."""
    return work(ctx, ref, by=by, facts=facts, event=event, note=note, via=via, request_id=request_id,
                expected_version=expected_version)


def work(
    ctx: Context, ref: str, *, by: str, items: list[str] | None = None,
    facts: dict[str, Any] | None = None, event: str | None = None, note: str | None = None,
    via: str = "cli", request_id: str | None = None, expected_version: int | None = None,
    expected_state: str | None = None,
) -> dict[str, Any]:
    """Tick checklist items, set facts, then fire an event (each if given), in one transaction:
    everything or, on any refusal, nothing. The request id sits on the last history row, whose
    action is the event, else `set`, else `done`. `expected_state` (`Case.digest` of what the
    author saw) refuses the change as a conflict if anything changed since, not only the stage."""
    if not (items or facts or event):
        raise BadInput(f"{ref}: nothing to do; tick an item, set a fact or choose an event")
    if note is not None:
        limits.check_length("the note", note, limits.NOTE)

    def decide(case: Case, process: Process, actor: Actor) -> list[DomainEvent]:
        if expected_version is not None and case.version != expected_version:
            raise Conflict(case.ref, expected_version, case.version)
        if expected_state is not None and case.digest(process) != expected_state:
            raise Conflict(case.ref, None)
        events: list[DomainEvent] = []
        if items:
            events.append(case.tick(process, actor, list(items)))
        if facts:
            events.append(case.set_facts(process, actor, parse_facts(process, facts)))
        if event:
            events.append(machine.fire(case, process, event, actor, note))
        return events

    action = event or ("set" if facts else "done")
    return _change(ctx, ref, by, via, request_id, action, decide)


def _change(
    ctx: Context, ref: str, by: str, via: str, request_id: str | None, action: str, decide: Any,
) -> dict[str, Any]:
    _check_via(via)
    if request_id is not None:
        limits.check_length("the request id", request_id, limits.REQUEST_ID)
    now = ctx.clock()
    with ctx.db.writing() as session:
        record = store.lock_case(session, ref)
        # Every entry point (command line, flow, link, desk) comes through here: the case must be
        # one of the actor's before anything else is read or told, a repeated request included.
        # The directory is read once, for the author and the messages alike.
        actor = roster.hold(session).actor(by)
        scope.check(actor, ref=record.ref, employer=record.employer_id, region=record.region,
                    opener=lambda: store.opener(session, record), regions=ctx.regions)
        actor = scope.as_on_case(actor, employer=record.employer_id)
        # Looked up under the case's lock: the same request running at once has committed by now.
        if request_id and (earlier := _earlier(session, request_id)) is not None:
            if earlier[0].id != record.id or earlier[1].action != action:
                raise Refused(
                    f"request id '{request_id}' was used for '{earlier[1].action}' on {earlier[0].ref}; "
                    "nothing was written. Use a new request id for a new change"
                )
            return _outcome(earlier[0], earlier[1], repeated=True)
        process = ctx.catalog.get(record.process, record.process_version)
        case = store.load_case(session, record, process)
        events = decide(case, process, actor)
        history = commit_change(session, ctx, process, record, case, events, via, now, request_id)
        return _outcome(record, history, repeated=False)


def commit_change(
    session: Session, ctx: Context, process: Process, record: CaseRecord, case: Case,
    events: list[DomainEvent], via: str, now: dt.datetime, request_id: str | None,
) -> HistoryRecord:
    """Write a decided change in the caller's open transaction: its history rows (with `request_id`
    on them) and what it causes (deadlines, outbox messages). Returns the last history row."""
    rows = store.record_events(session, record, events, via=via, at=now, request_id=request_id,
                               proof=ctx.proof)
    _after_change(session, ctx, process, record, case, list(zip(events, rows, strict=True)), now)
    return rows[-1]




def _after_change(
    session: Session, ctx: Context, process: Process, record: CaseRecord, case: Case,
    changes: list[tuple[DomainEvent, HistoryRecord]], now: dt.datetime,
) -> None:
    """What a change causes, written in the same transaction: messages (outbox), deadlines."""
    due = deadlines.sync(session, ctx, process, record, case, now)  # opened, or closed, with the change
    for event, row in changes:
        if isinstance(event, StageChanged):
            dispatch.on_stage_changed(
                session, ctx.settings, process, record, case, event, row.id or 0, now, due
            )


def _outcome(record: CaseRecord, last: HistoryRecord, *, repeated: bool) -> dict[str, Any]:
    return {
        "ref": record.ref, "stage": record.stage, "version": record.version,
        "action": last.action, "from": last.from_stage, "to": last.to_stage,
        "repeated": repeated,
    }


def _earlier(session: Session, request_id: str) -> tuple[CaseRecord, HistoryRecord] | None:
    row = session.scalars(select(HistoryRecord).where(HistoryRecord.request_id == request_id)).first()
    if row is None:
        return None
    record = session.get(CaseRecord, row.case_id)
    if record is None:  # pragma: no cover - history refers to cases by foreign key
        raise NotFound(f"request {request_id} refers to a missing case")
    return record, row


def _earlier_committed(ctx: Context, request_id: str) -> tuple[CaseRecord, HistoryRecord] | None:
    with ctx.db.reading() as session:
        return _earlier(session, request_id)


def _next_ref(session: Session, region: str, now: dt.datetime, timezone: str) -> str:
    return reserve_refs(session, region, now, 1, timezone=timezone)[0]


def reserve_refs(
    session: Session, region: str, now: dt.datetime, count: int, *, timezone: str,
) -> list[str]:
    """The next `count` case references of a region (SE-2026-0042), taken in the open transaction.
    The year is the alliance's calendar year: a case opened at 00:30 on 1 January in Berlin is
    already of the new year, though it is still 23:30 UTC."""
    prefix = (re.sub(r"[^A-Za-z]", "", region.split("-")[0]).upper() or "LO")[:4]
    year = local_date(now, timezone).year
    counter = _counter(session, prefix, year)
    if counter is None:
        try:
            with session.begin_nested():
                session.add(RefCounterRecord(prefix=prefix, year=year, last=0))
        except IntegrityError:
            pass  # another transaction opened the year's first case meanwhile: count on from its row
        counter = _counter(session, prefix, year)
        assert counter is not None
    first = counter.last + 1
    counter.last += count
    session.add(counter)
    session.flush()
    return [f"{prefix}-{year}-{n:04d}" for n in range(first, first + count)]


def _counter(session: Session, prefix: str, year: int) -> RefCounterRecord | None:
    return session.scalars(
        select(RefCounterRecord)
        .where(RefCounterRecord.prefix == prefix, RefCounterRecord.year == year)
        .with_for_update()
    ).first()


def _check_via(via: str) -> None:
    if via not in VIA:
        raise BadInput(f"unknown entry point '{via}'; one of {', '.join(VIA)}")


__all__ = [
    "StageChanged", "advance", "check_opening", "commit_change", "open_case", "parse_assignments",
    "set_facts", "tick", "work",
]
