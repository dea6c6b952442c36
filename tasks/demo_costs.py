"""The demo alliance's costs (`lotse init --demo`): invented figures, recorded through the same
`cost_book.add` as `lotse cost add`, so the cost report, the `costs` artifact and a workbook's
costs sheet have something to show.

Per pflege case its employer pays a recruitment fee, and visa fees once the case has got that
far; the language course of a case past it is charged to a language programme, and the
integration support of an integrated case to the county's fund (when the alliance's programmes
name them: the shipped examples do); the coordinator pays a joint recruiting trip for the cases
opened in the month whose cases came from the most employers, split per employer.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lotse.states.moments import local_date
from lotse.states.records import CaseRecord
from lotse.tasks import cost_book
from lotse.tasks.context import Context

FEE, VISA, COURSE, SUPPORT, TRIP = "3400.00", "75.00", "1450.00", "600.00", "5200.00"
PAST_VISA = {"arrival", "language_course", "recognition", "housed", "integrated"}
PAST_COURSE = {"recognition", "housed", "integrated"}
COURSE_PROGRAMME, SUPPORT_PROGRAMME = "deufoev", "willkommen-kreis"


def add(ctx: Context, coordinator: str) -> int:
    """Record the demo's costs; returns how many."""
    today = local_date(ctx.clock(), ctx.settings.timezone)
    funders = cost_book.load_programmes(ctx)
    with ctx.db.reading() as session:
        cases = list(session.execute(
            select(CaseRecord.ref, CaseRecord.process, CaseRecord.stage, CaseRecord.employer_id,
                   CaseRecord.created_at).order_by(CaseRecord.created_at, CaseRecord.ref)))
    count = 0

    def cost(ref: str | None, category: str, amount: str, payer: str, day: dt.date, **more: str) -> None:
        nonlocal count
        cost_book.add(ctx, ref=ref, category=category, amount=amount, payer=payer,
                      date=min(day, today).isoformat(), by=coordinator, **more)
        count += 1

    for case in cases:
        if case.process != "pflege":
            continue
        opened = local_date(case.created_at, ctx.settings.timezone)
        cost(case.ref, "recruitment_fee", FEE, case.employer_id, opened)
        if case.stage in PAST_VISA:
            cost(case.ref, "visa_fees", VISA, case.employer_id, opened + dt.timedelta(days=30))
        if case.stage in PAST_COURSE:
            payer = COURSE_PROGRAMME if COURSE_PROGRAMME in funders else coordinator
            cost(case.ref, "language_course", COURSE, payer, opened + dt.timedelta(days=90))
        if case.stage == "integrated":
            programme = {"programme": SUPPORT_PROGRAMME} if SUPPORT_PROGRAMME in funders else {}
            cost(case.ref, "integration_support", SUPPORT, coordinator, opened + dt.timedelta(days=200),
                 **programme)
    employers: dict[str, set[str]] = {}
    for case in cases:
        employers.setdefault(local_date(case.created_at, ctx.settings.timezone).strftime("%Y-%m"), set()).add(
            case.employer_id)
    if employers:  # the month whose cases came from the most employers: the trip they shared
        month = max(sorted(employers), key=lambda m: len(employers[m]))
        cost(None, "travel", TRIP, coordinator, dt.date.fromisoformat(f"{month}-01"), cohort=month,
             split="per_employer")
    return count
