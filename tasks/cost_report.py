"""The cost report: what recruiting cost, who paid, what funding covered and what sharing saved.

`cost_report(ctx, as_of=None)` is the one function every report calls (`lotse cost report`, the
`costs` artifact of `pipeline-report`, a workbook's `costs` sheet). It returns JSON-able values
only: amounts are strings with two places (`"1234.50"`), never floats; cases are named by their
reference, organisations by their actor id, programmes by their id.

Counted are the costs incurred on or before `as_of` (default: today in the alliance's time zone),
through their shares (tasks/cost_book.py): a share belongs to the case it covers and to the
employer the case had when the cost was recorded.

- `by_employer`: per employer, the total of its shares, per category, how much of it a programme
  funded (`funded`: costs charged to a programme, whoever paid), how much the employer paid itself
  (`paid_itself`), and what sharing saved it (`saving`).
- `by_category`, `by_programme` (costs charged to none under `programme: null`), `by_payer`.
- `outcomes`: of the cases with a recorded cost, those that had reached `integrated` by `as_of`,
  those that had been `withdrawn`, and those still open: how many, their total, the cost per case
  (total / cases, to the cent, half up). `integrated_with_withdrawn` carries what the withdrawn
  cases cost on the integrated ones: (integrated total + withdrawn total) / integrated cases, the
  cost of one worker who stayed, losses included. Cases without a recorded cost are counted
  apart (`cases_without_costs`), not as costing nothing: recording may have started late.
- `saving`: a cohort cost C shared by k employers saved (k - 1) * C; each employer saved C minus
  its share (states/costs.py says why). `costs` lists every cost that saved something.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select

from lotse.states import costs, store
from lotse.states.actor import Actor
from lotse.states.moments import local_date
from lotse.states.records import CaseRecord, CostRecord, CostShareRecord, HistoryRecord
from lotse.tasks import cost_book, deadlines
from lotse.tasks.context import Context

INTEGRATED, WITHDRAWN, OPEN = "integrated", "withdrawn", "open"
OUTCOMES = (INTEGRATED, WITHDRAWN)
ZERO = Decimal("0.00")


def cost_report(ctx: Context, as_of: dt.date | None = None) -> dict[str, Any]:
    """Costs per employer, category, programme and payer; per case by outcome; the saving."""
    today = as_of or deadlines.today(ctx)
    locale = ctx.settings.locale
    funders = cost_book.load_programmes(ctx)
    with ctx.db.reading() as session:
        entries = {c.id: c for c in session.scalars(
            select(CostRecord).where(CostRecord.incurred_on <= today,
                                     CostRecord.voided_at.is_(None)))}  # type: ignore[union-attr]
        shares = [s for s in session.scalars(select(CostShareRecord).order_by(CostShareRecord.id))
                  if s.cost_id in entries]
        cases = {row.id: row for row in session.execute(
            select(CaseRecord.id, CaseRecord.ref, CaseRecord.stage, CaseRecord.employer_id,
                   CaseRecord.created_at))}
        reached = _reached(session, ctx.settings.timezone, today)
        actors = {a.id: a for a in store.list_actors(session)}
    payer_kinds = {c.payer_id: _kind(c.payer_id, funders, actors) for c in entries.values()}
    # Per case, employer, category, programme, payer: the shares summed.
    per_case: dict[int, Decimal] = defaultdict(Decimal)
    employer_rows: dict[str, dict[str, Any]] = {}
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    by_programme: dict[str | None, Decimal] = defaultdict(Decimal)
    by_payer: dict[str, Decimal] = defaultdict(Decimal)
    per_cost_employer: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for share in shares:
        entry = entries[share.cost_id]
        per_case[share.case_id or 0] += share.amount
        row = employer_rows.setdefault(share.employer_id, _employer_row(share.employer_id))
        row["total"] += share.amount
        row["by_category"][entry.category] += share.amount
        if entry.programme is not None:
            row["funded"] += share.amount
        if entry.payer_id == share.employer_id:
            row["paid_itself"] += share.amount
        per_cost_employer[share.cost_id][share.employer_id] += share.amount
    for entry in entries.values():
        by_category[entry.category] += entry.amount
        by_programme[entry.programme] += entry.amount
        by_payer[entry.payer_id] += entry.amount
    saved = []
    for cost_id, parts in sorted(per_cost_employer.items()):
        if len(parts) < 2:
            continue
        entry = entries[cost_id]
        each = costs.saving(entry.amount, dict(parts))
        for employer, amount in each.items():
            employer_rows[employer]["saving"] += amount
        saved.append({"cost": cost_id, "date": entry.incurred_on.isoformat(), "category": entry.category,
                      "cohort": entry.cohort, "split": entry.split, "amount": costs.euros(entry.amount),
                      "employers": len(parts), "saving": costs.euros(sum(each.values(), ZERO))})
    outcome_of = {case_id: reached.get(case_id, OPEN) for case_id in per_case}
    return {
        "as_of": today.isoformat(),
        "currency": "EUR",
        "total": costs.euros(sum(entries[i].amount for i in entries) if entries else ZERO),
        "costs": len(entries),
        "cases": len(per_case),
        "by_employer": [_shown(row) for _, row in sorted(employer_rows.items())],
        "by_category": [
            {"category": category, "title": costs.category_title(category, locale),
             "total": costs.euros(by_category[category])}
            for category in costs.CATEGORIES if category in by_category
        ] + [{"category": c, "title": c, "total": costs.euros(a)}
             for c, a in sorted(by_category.items()) if c not in costs.CATEGORIES],
        "by_programme": [
            {"programme": programme,
             "title": funders[programme].title_in(locale) if programme in funders else programme,
             "example": bool(programme in funders and funders[programme].example),
             "total": costs.euros(amount)}
            for programme, amount in sorted(by_programme.items(), key=lambda p: (p[0] is None, p[0] or ""))
        ],
        "by_payer": [{"payer": payer, "kind": payer_kinds[payer], "total": costs.euros(amount)}
                     for payer, amount in sorted(by_payer.items())],
        "outcomes": _outcomes(per_case, outcome_of, reached, {
            case_id for case_id, case in cases.items()
            if local_date(case.created_at, ctx.settings.timezone) <= today}),
        "saving": {"total": costs.euros(sum((Decimal(s["saving"]) for s in saved), ZERO)), "costs": saved},
        "by_case": [
            {"ref": cases[case_id].ref, "employer": cases[case_id].employer_id,
             "outcome": outcome_of[case_id], "total": costs.euros(amount)}
            for case_id, amount in sorted(per_case.items(), key=lambda c: cases[c[0]].ref)
        ],
    }


def cost_table(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report per employer as one flat table (the `costs` artifact; a stacked bar per
    employer): a column per category, the total, what was funded and what sharing saved; a last
    row for all employers."""
    categories = [row["category"] for row in report["by_category"]]
    rows = [
        {"employer": row["employer"], **{c: row["by_category"].get(c, "0.00") for c in categories},
         "total": row["total"], "funded": row["funded"], "saving": row["saving"]}
        for row in report["by_employer"]
    ]
    rows.append({"employer": "(all)", **{c["category"]: c["total"] for c in report["by_category"]},
                 "total": report["total"],
                 "funded": costs.euros(sum((Decimal(r["funded"]) for r in report["by_employer"]), ZERO)),
                 "saving": report["saving"]["total"]})
    return rows


def per_case(total: Decimal, cases: int) -> str | None:
    """The cost per case, to the cent (half up); None for no case."""
    if not cases:
        return None
    return costs.euros((total / cases).quantize(costs.CENT, rounding=ROUND_HALF_UP))


def _employer_row(employer: str) -> dict[str, Any]:
    return {"employer": employer, "total": ZERO, "by_category": defaultdict(Decimal), "funded": ZERO,
            "paid_itself": ZERO, "saving": ZERO}


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "employer": row["employer"], "total": costs.euros(row["total"]),
        "by_category": {c: costs.euros(row["by_category"][c])
                        for c in [*costs.CATEGORIES, *sorted(row["by_category"])]
                        if c in row["by_category"]},
        "funded": costs.euros(row["funded"]), "paid_itself": costs.euros(row["paid_itself"]),
        "saving": costs.euros(row["saving"]),
    }


def _outcomes(
    totals: dict[int, Decimal], outcome_of: dict[int, str], reached: dict[int, str], opened: set[int],
) -> dict[str, Any]:
    """Per outcome: the cases with a recorded cost, their total and the cost per case; and the
    cases opened by `as_of` without any recorded cost."""
    summed: dict[str, Decimal] = defaultdict(Decimal)
    for case_id, amount in totals.items():
        summed[outcome_of[case_id]] += amount
    counted = Counter(outcome_of.values())
    result: dict[str, Any] = {
        outcome: {"cases": counted[outcome], "total": costs.euros(summed[outcome]),
                  "per_case": per_case(summed[outcome], counted[outcome])}
        for outcome in (INTEGRATED, WITHDRAWN, OPEN)
    }
    carried = summed[INTEGRATED] + summed[WITHDRAWN]
    result["integrated_with_withdrawn"] = {
        "cases": counted[INTEGRATED], "total": costs.euros(carried),
        "per_case": per_case(carried, counted[INTEGRATED]),
    }
    without = Counter(reached.get(case_id, OPEN) for case_id in opened if case_id not in totals)
    result["cases_without_costs"] = {outcome: without[outcome] for outcome in (INTEGRATED, WITHDRAWN, OPEN)}
    return result


def _reached(session: Any, timezone: str, today: dt.date) -> dict[int, str]:
    """Case id -> integrated or withdrawn, for the cases that had entered that stage by the end of
    `today` (the first history row ending there)."""
    query = (select(HistoryRecord.case_id, HistoryRecord.to_stage, func.min(HistoryRecord.at))
             .where(HistoryRecord.to_stage.in_(OUTCOMES))  # type: ignore[union-attr]
             .group_by(HistoryRecord.case_id, HistoryRecord.to_stage))
    first: dict[int, tuple[dt.datetime, str]] = {}
    for case_id, stage, at in session.execute(query):
        moment = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        if local_date(moment, timezone) <= today and (case_id not in first or moment < first[case_id][0]):
            first[case_id] = (moment, stage)
    return {case_id: stage for case_id, (_, stage) in first.items()}


def _kind(payer: str, funders: dict[str, Any], actors: dict[str, Actor]) -> str:
    """employer, alliance or programme, as the payer is now; `unknown` for one gone since."""
    if payer in funders:
        return costs.PROGRAMME
    actor = actors.get(payer)
    if actor is None:
        return "unknown"
    return costs.ALLIANCE if actor.is_coordinator else costs.EMPLOYER
