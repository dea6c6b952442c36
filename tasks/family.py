"""Recording a case's family members and reading them with their needs.

`add_member` is one transaction: the member's row, a history row `family_add` (relation, number and
the needs' item ids, no name), the needs' deadlines and one message to each owner of a new need.
Bad input is refused before anything is opened; a refusal writes nothing. Recording a member again
(same relation, given name and birth year: the command run twice) is refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from lotse.states import family, limits, records, scope, store, tables
from lotse.states.errors import BadInput, Refused, RoleMissing
from lotse.states.events import FamilyMemberAdded
from lotse.states.facts import EARLIEST, LATEST, parse_date
from lotse.states.moments import iso
from lotse.states.process import COORDINATOR, Process
from lotse.tasks import deadlines
from lotse.tasks.context import VIA, Context

# Who records a family: the coordinator, the migration counselling, and the case's own employer.
RECORDERS = [COORDINATOR, "counsellor", "employer"]
OLDEST_BIRTH_YEAR = 1900


def parse_arrives(text: str | None) -> dt.date | None:
    """`--arrives YYYY-MM-DD` (or DD.MM.YYYY) as a date; bad input names the option."""
    if text is None or not text.strip():
        return None
    try:
        return parse_date(text)
    except (TypeError, ValueError):
        raise BadInput(f"--arrives '{text[:40]}' is not a date between {EARLIEST} and {LATEST}; "
                       "give it as YYYY-MM-DD, e.g. --arrives 2027-08-01") from None


def check_member(relation: str, given_name: str, birth_year: int | None, arrives: dt.date | None,
                 today: dt.date) -> None:
    """Refuse bad input (exit 2) before any transaction opens."""
    if relation not in family.RELATIONS:
        raise BadInput(f"unknown relation '{relation[:40]}'; one of {', '.join(family.RELATIONS)}")
    if not given_name.strip():
        raise BadInput("a family member needs a given name (--given-name)")
    limits.check_length("the given name", given_name.strip(), limits.NAME)
    if birth_year is None and relation == family.CHILD:
        raise BadInput("a child needs --birth-year: its Kita or school place depends on its age")
    if birth_year is not None and not OLDEST_BIRTH_YEAR <= birth_year <= today.year:
        raise BadInput(f"--birth-year {birth_year} is not a year from {OLDEST_BIRTH_YEAR} to {today.year}")
    if arrives is not None and birth_year is not None and arrives.year < birth_year:
        raise BadInput(f"--arrives {arrives.isoformat()} is before the birth year {birth_year}")


def add_member(
    ctx: Context, ref: str, *, relation: str, given_name: str, birth_year: int | None = None,
    arrives: dt.date | None = None, by: str, via: str = "cli",
) -> dict[str, Any]:
    """Record a family member of a case, with the needs the definition gives it; one transaction."""
    # The messages (Jinja2) are imported where a member is added: the case file reads the family
    # from this module and sends nothing.
    from lotse.notifications import family as family_messages

    if via not in VIA:
        raise BadInput(f"unknown entry point '{via}'; one of {', '.join(VIA)}")
    relation = relation.strip().lower()
    check_member(relation, given_name, birth_year, arrives, deadlines.today(ctx))
    now = ctx.clock()
    with ctx.db.writing() as session:
        record = store.find_case(session, ref, lock=True)
        actor = store.get_actor(session, by)
        scope.check(actor, ref=record.ref, employer=record.employer_id, region=record.region,
                    opener=lambda: store.opener(session, record))
        actor = scope.as_on_case(actor, employer=record.employer_id)
        if not actor.has_any(RECORDERS):
            raise RoleMissing(actor.id, "add a family member", RECORDERS)
        process = ctx.catalog.get(record.process, record.process_version)
        case = store.load_case(session, record, process)
        if process.is_final(case.stage):
            raise Refused(f"{record.ref} is closed (stage '{case.stage}'); nothing can change")
        rows = store.family_rows(session, record.id or 0)
        if relation == family.SPOUSE and any(r.relation == family.SPOUSE for r in rows):
            raise Refused(f"{record.ref} has a spouse or partner already; "
                          f"see `lotse family list {record.ref}`")
        twin = [(row, member) for row, member in zip(rows, store.members_of(rows), strict=True)
                if (row.relation, row.given_name.casefold(), row.birth_year)
                == (relation, given_name.strip().casefold(), birth_year)]
        if twin:  # the same command run twice; two children of one name and year are not
            known = twin[0][1].label(ctx.settings.locale)
            raise Refused(f"{record.ref} has {known} recorded already with this given name and birth year; "
                          f"nothing was written. See `lotse family list {record.ref}`")
        if relation == family.CHILD and sum(r.relation == family.CHILD for r in rows) >= family.MAX_CHILDREN:
            raise Refused(f"{record.ref} has {family.MAX_CHILDREN} children recorded; no more fit")
        row = records.FamilyMemberRecord(
            case_id=record.id or 0, relation=relation, given_name=given_name.strip(), birth_year=birth_year,
            arrives=arrives, added_at=now, added_by=actor.id)
        session.add(row)
        session.flush()
        member = store.members_of([*rows, row])[-1]
        case.family = (*case.family, member)
        items = [family.item_id(member, need_id) for need_id, _ in family.needs_of(process, member)]
        event = FamilyMemberAdded(record.ref, record.stage, actor.id, relation, member.number, tuple(items))
        history = store.record_events(session, record, [event], via=via, at=now, proof=ctx.proof)
        due = deadlines.sync(session, ctx, process, record, case, now)
        family_messages.on_added(session, ctx.settings, process, record, member, items, due,
                                 history[-1].id or 0, now)
        locale = ctx.settings.locale
        return {
            "ref": record.ref, "member": row.id, "relation": relation, "number": member.number,
            "label": member.label(locale),
            "needs": [{"item": i, "title": process.item(i).title.in_(locale), "owner": process.item(i).owner,
                       "due": due[i].isoformat() if i in due else None} for i in items],
        }


def members(ctx: Context, ref: str) -> dict[str, Any]:
    """The family of a case with each member's needs: for `lotse family list` and `case show`.
    Names and birth years are in it: never hand it to Prefect."""
    with ctx.db.reading() as session:
        record = store.find_case(session, ref)
        process = ctx.catalog.get(record.process, record.process_version)
        return {"ref": record.ref, "family": family_of(session, ctx, process, record.id or 0)}


def family_of(session: Any, ctx: Context, process: Process, case_id: int) -> list[dict[str, Any]]:
    """`{id, relation, label, given_name, birth_year, arrives, added_at, added_by, needs}` per member;
    a need: `{item, title, owner, done, due}` (due: its open deadline, if any)."""
    locale = ctx.settings.locale
    # Core columns, not the ORM: the case file builds no class (states/tables.py).
    f = tables.family_members.c
    rows = session.execute(select(*f).where(f.case_id == case_id).order_by(f.id)).all()
    if not rows:
        return []
    d = tables.deadlines.c
    done = store.ticked(session, case_id)
    due: dict[str, dt.date] = {}
    for deadline, day in session.execute(
        select(d.deadline, d.due).where(d.case_id == case_id, d.closed_at.is_(None))
    ):
        due[deadline] = min(day, due.get(deadline, day))
    found = []
    for row, member in zip(rows, store.members_of(rows), strict=True):
        needs = []
        for need_id, need in family.needs_of(process, member):
            item = family.item_id(member, need_id)
            needs.append({"item": item, "title": process.item(item).title.in_(locale), "owner": need.owner,
                          "done": item in done, "due": due[item].isoformat() if item in due else None})
        found.append({
            "id": row.id, "relation": row.relation, "label": member.label(locale),
            "given_name": row.given_name,
            "birth_year": row.birth_year, "arrives": row.arrives.isoformat() if row.arrives else None,
            "added_at": iso(row.added_at), "added_by": row.added_by, "needs": needs,
        })
    return found
