"""Recording what recruiting costs: `lotse cost add` and `lotse cost list`.

A cost is one entry (`costs`) and its shares (`cost_shares`): a case's own cost has one share, a
cohort's cost one share per case it covers, by its split key (states/costs.py), summing exactly
to its amount. Every share names the case and the employer the case had when the cost was
recorded, so a later change of employer leaves the cost with the employer that bore it.

Who records: the coordinator, any cost; an employer, costs of its own cases that it pays itself.
The payer is an employer, the alliance (its coordinator) or a funding programme
(states/programmes.py), never the person (fair recruitment). Everything is checked before
anything is written; the cost, its shares and a history row on every case it touches (`cost`:
the category, the case's share and the payer; amounts are no personal data) are written in one
transaction. A closed case (integrated, withdrawn) takes costs too: invoices come late, and the
cost report counts what a withdrawn case cost.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from lotse.states import costs, limits, programmes, scope, store
from lotse.states import facts as fact_kinds
from lotse.states.actor import Actor
from lotse.states.errors import BadInput, NotFound, Refused, RoleMissing
from lotse.states.moments import iso
from lotse.states.process import COORDINATOR
from lotse.states.programmes import Programme
from lotse.states.records import ActorRecord, CaseRecord, CostRecord, CostShareRecord, HistoryRecord
from lotse.tasks import cohorts, deadlines
from lotse.tasks.context import VIA, Context

ACTION = "cost"
VOIDED = "cost_voided"
EARLIEST = dt.date(2000, 1, 1)


@dataclass
class Recorded:
    """What `add` wrote: the cost and its shares, by case reference."""

    id: int
    amount: Decimal
    category: str
    payer: str
    payer_kind: str
    programme: str | None
    incurred_on: dt.date
    cohort: str | None
    split: str | None
    shares: list[tuple[str, str, Decimal]]  # (case reference, employer, amount)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "date": self.incurred_on.isoformat(), "category": self.category,
            "amount": costs.euros(self.amount), "payer": self.payer, "payer_kind": self.payer_kind,
            "programme": self.programme, "cohort": self.cohort, "split": self.split,
            "shares": [{"ref": ref, "employer": employer, "amount": costs.euros(amount)}
                       for ref, employer, amount in self.shares],
        }


def load_programmes(ctx: Context) -> dict[str, Programme]:
    """The alliance's funding programmes (LOTSE_PROGRAMMES_FILE, else the shipped examples)."""
    return programmes.load(ctx.settings.programmes_file)


def parse_day(text: str, today: dt.date) -> dt.date:
    """`--date`: the day the cost was incurred (the invoice's date); not in the future."""
    try:
        day = fact_kinds.parse_date(text)
    except ValueError:
        raise BadInput(f"--date '{text[:40]}' is not {fact_kinds.expected('date')}") from None
    if day > today:
        raise BadInput(f"--date {day.isoformat()} is in the future (today is {today.isoformat()}); "
                       "record a cost once it is incurred, on its invoice's date")
    if day < EARLIEST:
        raise BadInput(f"--date {day.isoformat()} is before {EARLIEST.isoformat()}; check the year")
    return day


def add(
    ctx: Context,
    *,
    ref: str | None = None,
    cohort: str | None = None,
    category: str,
    amount: str,
    payer: str,
    programme: str | None = None,
    split: str | None = None,
    date: str,
    by: str,
    via: str = "cli",
    again: bool = False,
) -> Recorded:
    """Record a cost of one case (`ref`) or of a cohort (`cohort`: a file of references or a
    month), split by `split` (default per_case); checked whole, then written in one transaction.
    The same cost recorded before (same case or cohort, day, category, amount, payer and
    programme) is refused as a repeated command, unless `again`: a second invoice alike."""
    if via not in VIA:
        raise BadInput(f"unknown entry point '{via}'; one of {', '.join(VIA)}")
    if (ref is None) == (cohort is None):
        raise BadInput("give a case reference or --cohort FILE_OR_MONTH, one of them")
    costs.check_category(category)
    value = costs.parse_amount(amount)
    if ref is not None and split is not None:
        raise BadInput("--split is for a cohort's cost; a case's own cost is the case's whole")
    key = costs.check_split(split) if split is not None else (costs.PER_CASE if cohort else None)
    day = parse_day(date, deadlines.today(ctx))
    known = load_programmes(ctx)
    limits.check_length("--payer", payer, limits.ID)
    if costs.is_person(payer):
        raise Refused(f"--payer '{payer[:40]}': {costs.FAIR_RECRUITMENT}")
    if programme is not None and programme not in known:
        raise BadInput(f"unknown --programme '{programme[:64]}'; programmes: {', '.join(known) or '(none)'} "
                       f"(LOTSE_PROGRAMMES_FILE)")
    given = cohorts.given(cohort) if cohort is not None else None
    now = ctx.clock()
    with ctx.db.writing() as session:
        author = store.get_actor(session, by)
        if not author.has_any([COORDINATOR, scope.EMPLOYER]):
            raise RoleMissing(author.id, "record costs", [COORDINATOR, scope.EMPLOYER])
        kind = _payer_kind(session, payer, known, ref)
        charged = programme or (payer if kind == costs.PROGRAMME else None)
        if programme is not None and kind == costs.PROGRAMME and programme != payer:
            raise BadInput(f"--payer is programme '{payer}', --programme '{programme}': a programme that "
                           "pays is the programme charged; give one of them")
        warnings = []
        if charged is not None:
            funder = known[charged]
            if (why := funder.refusal(category, day)) is not None:
                raise Refused(why)
            if funder.example:
                warnings.append(f"programme '{charged}' is an example shipped with Lotse, not one of the "
                                "alliance's; name the alliance's programmes in LOTSE_PROGRAMMES_FILE")
        if not author.is_coordinator and payer != author.id:
            raise Refused(f"actor '{author.id}' is an employer: it records the costs it pays itself "
                          f"(--payer {author.id}); the coordinator records what others pay")
        records = (cohorts.cases(session, given, ctx.settings.timezone, lock=True) if given is not None
                   else [store.find_case(session, ref or "", lock=True)])
        for record in records:
            scope.check(_as_employer(author), ref=record.ref, employer=record.employer_id,
                        region=record.region, opener=lambda: None)
        if not again:
            _not_twice(session, records[0].id if given is None else None, given.tag if given else None,
                       day, category, value, payer, charged)
        pairs = [(r.ref, r.employer_id) for r in records]
        parts = costs.shares(value, pairs, key) if key else [(records[0].ref, records[0].employer_id, value)]
        cost = CostRecord(
            case_id=records[0].id if given is None else None, cohort=given.tag if given else None,
            incurred_on=day, category=category, amount=value, payer_id=payer, programme=charged,
            split=key, recorded_at=now, recorded_by=author.id,
        )
        session.add(cost)
        session.flush()
        assert cost.id is not None
        by_ref = {r.ref: r for r in records}
        for case_ref, employer, part in parts:
            record = by_ref[case_ref]
            session.add(CostShareRecord(cost_id=cost.id, case_id=record.id, employer_id=employer,
                                        amount=part))
            session.add(HistoryRecord(
                case_id=record.id or 0, at=now, action=ACTION, from_stage=record.stage, to_stage=record.stage,
                actor_id=author.id, via=via, proof=ctx.proof,
                detail={"cost": cost.id, "category": category, "share": costs.euros(part), "payer": payer},
            ))
        session.flush()
        return Recorded(cost.id, value, category, payer, kind, charged, day, cost.cohort, key, parts,
                        warnings)


def void(ctx: Context, cost_id: int, *, by: str, note: str | None = None, via: str = "cli") -> dict[str, Any]:
    """Void a cost recorded by mistake: it stays listed, marked, and counts in no report. The
    coordinator voids any cost, an employer the costs it recorded itself. A history row
    `cost_voided` (with `note`, erased with the case's other notes) on every case it touched."""
    if note is not None:
        limits.check_length("--note", note, limits.NOTE)
    now = ctx.clock()
    with ctx.db.writing() as session:
        author = store.get_actor(session, by)
        entry = session.scalars(select(CostRecord).where(CostRecord.id == cost_id).with_for_update()).first()
        if entry is None:
            raise NotFound(f"unknown cost {cost_id}; see `lotse cost list`")
        if not author.is_coordinator and entry.recorded_by != author.id:
            raise Refused(f"actor '{author.id}' may not void cost {cost_id}: it was recorded by "
                          f"{entry.recorded_by}; an employer voids the costs it recorded, the "
                          "coordinator any")
        if entry.voided_at is not None:
            raise Refused(f"cost {cost_id} was voided already (on {iso(entry.voided_at)} by "
                          f"{entry.voided_by}); nothing was written")
        entry.voided_at, entry.voided_by = now, author.id
        session.add(entry)
        touched = session.scalars(
            select(CaseRecord).join(CostShareRecord, CostShareRecord.case_id == CaseRecord.id)  # type: ignore[arg-type]
            .where(CostShareRecord.cost_id == cost_id).order_by(CaseRecord.ref).with_for_update()).all()
        for record in touched:
            session.add(HistoryRecord(
                case_id=record.id or 0, at=now, action=VOIDED, from_stage=record.stage, to_stage=record.stage,
                actor_id=author.id, via=via, proof=ctx.proof, note=note, detail={"cost": cost_id},
            ))
        session.flush()
        return {"id": cost_id, "voided_at": iso(now), "voided_by": author.id,
                "cases": [r.ref for r in touched]}


def _not_twice(
    session: Session, case_id: int | None, cohort: str | None, day: dt.date, category: str, amount: Decimal,
    payer: str, programme: str | None,
) -> None:
    earlier = session.scalars(select(CostRecord.id).where(
        CostRecord.case_id == case_id if case_id is not None else CostRecord.case_id.is_(None),  # type: ignore[union-attr]
        CostRecord.cohort == cohort if cohort is not None else CostRecord.cohort.is_(None),  # type: ignore[union-attr]
        CostRecord.incurred_on == day, CostRecord.category == category, CostRecord.amount == amount,
        CostRecord.payer_id == payer, CostRecord.voided_at.is_(None),  # type: ignore[union-attr]
        CostRecord.programme == programme if programme is not None else CostRecord.programme.is_(None),  # type: ignore[union-attr]
    ).limit(1)).first()
    if earlier is not None:
        raise Refused(f"cost {earlier} records the same already (day, category, amount, payer); nothing "
                      "was written. If it is a second cost alike, add --again")


def _as_employer(author: Actor) -> Actor:
    """Scope for costs: the coordinator every case, anyone else as the employer it is (an
    employer that also lets flats records costs of its own cases only, not of its region's)."""
    if author.is_coordinator:
        return author
    return replace(author, roles=frozenset({scope.EMPLOYER}))


def _payer_kind(session: Session, payer: str, known: dict[str, Programme], ref: str | None) -> str:
    """employer, alliance or programme; anyone else is refused, the person by the fair-recruitment rule."""
    record = session.get(ActorRecord, payer)
    if record is not None and payer in known:
        raise BadInput(f"--payer '{payer}' is both an actor and a programme; rename the programme in "
                       "LOTSE_PROGRAMMES_FILE")
    if payer in known:
        return costs.PROGRAMME
    if record is None:
        if session.scalars(select(CaseRecord.id).where(CaseRecord.ref == payer.strip().upper())).first():
            raise Refused(f"--payer '{payer}': {costs.FAIR_RECRUITMENT}")
        raise BadInput(f"unknown --payer '{payer[:64]}': neither an actor (see `lotse actor list`) nor a "
                       f"programme ({', '.join(known) or 'none'})")
    actor = store.get_actor(session, payer)
    if actor.is_coordinator:
        return costs.ALLIANCE
    if scope.EMPLOYER in actor.roles:
        return costs.EMPLOYER
    roles = ", ".join(sorted(actor.roles))
    raise Refused(f"--payer '{payer}' ({roles}) does not pay recruiting costs: {costs.FAIR_RECRUITMENT}")


# -- reading -----------------------------------------------------------------------------------


def list_costs(ctx: Context, *, case: str | None = None, employer: str | None = None) -> list[dict[str, Any]]:
    """Every cost, newest date first; with `case` or `employer` only those with a share for it,
    and that share beside the amount."""
    with ctx.db.reading() as session:
        query = select(CostShareRecord)
        if case is not None:
            record = store.find_case(session, case)
            query = query.where(CostShareRecord.case_id == record.id)
        if employer is not None:
            if session.get(ActorRecord, employer) is None:
                raise NotFound(f"unknown actor '{employer}'; see `lotse actor list`")
            query = query.where(CostShareRecord.employer_id == employer)
        chosen = list(session.scalars(query))
        ids = sorted({s.cost_id for s in chosen})
        entries = {c.id: c for c in session.scalars(
            select(CostRecord).where(CostRecord.id.in_(ids)))}  # type: ignore[union-attr]
        every = list(session.scalars(
            select(CostShareRecord).where(CostShareRecord.cost_id.in_(ids))))  # type: ignore[attr-defined]
        refs = dict(session.execute(select(CaseRecord.id, CaseRecord.ref)).tuples().all())
    mine: dict[int, Decimal] = defaultdict(Decimal)
    for share in chosen:
        mine[share.cost_id] += share.amount
    covered: dict[int, list[str]] = defaultdict(list)
    for share in every:
        covered[share.cost_id].append(refs.get(share.case_id or 0, "?"))
    filtered = case is not None or employer is not None
    rows = []
    for cost_id in ids:
        entry = entries[cost_id]
        rows.append({
            "id": cost_id, "date": entry.incurred_on.isoformat(), "category": entry.category,
            "amount": costs.euros(entry.amount), "share": costs.euros(mine[cost_id]) if filtered else None,
            "payer": entry.payer_id, "programme": entry.programme,
            "case": refs.get(entry.case_id) if entry.case_id else None, "cohort": entry.cohort,
            "split": entry.split, "cases": sorted(covered[cost_id]),
            "recorded_by": entry.recorded_by, "recorded_at": iso(entry.recorded_at),
            "voided_at": iso(entry.voided_at), "voided_by": entry.voided_by,
        })
    return sorted(rows, key=lambda r: (r["date"], r["id"]), reverse=True)


def costs_of_case(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The costs a case bore (its own, and its shares of its cohorts'), for the person's export:
    what was spent on the person's recruitment and who paid it (never the person)."""
    query = (select(CostShareRecord, CostRecord)
             .join(CostRecord, CostRecord.id == CostShareRecord.cost_id)  # type: ignore[arg-type]
             .where(CostShareRecord.case_id == case_id, CostRecord.voided_at.is_(None))  # type: ignore[union-attr]
             .order_by(CostRecord.incurred_on, CostRecord.id))  # type: ignore[arg-type]
    return [
        {"date": cost.incurred_on.isoformat(), "category": cost.category, "share": costs.euros(share.amount),
         "amount": costs.euros(cost.amount), "payer": cost.payer_id, "programme": cost.programme,
         "cohort": cost.cohort, "split": cost.split}
        for share, cost in session.execute(query).tuples()
    ]
