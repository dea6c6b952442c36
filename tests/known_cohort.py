"""A small cohort with a known history, built through Lotse's own units of work on a clock, for the
funnel, time in stage, the workbook, the artifacts and the desk's report page (docs/reports.md).

In the alliance's calendar (Europe/Berlin):

| case | employer     | region      | opened            | then                                        |
|------|--------------|-------------|-------------------|---------------------------------------------|
| A    | klinik-nord  | SE-Nord     | Mon 2 March       | visa 12 March, arrival 11 April             |
| B    | klinik-nord  | SE-Nord     | Mon 2 March       | visa 22 March (still there)                 |
| C    | klinik-nord  | SE-Nord     | Mon 2 March       | withdrawn 7 March from recruited            |
| D    | heim-see     | SE-Seestadt | 1 April, 00:30    | visa 5 April (still there)                  |

D is opened at 22:30 UTC on 31 March: 1 April in Berlin, so it belongs to April (and Q2).

As of 30 June 2026 the funnel (by month) reads: March, 3 cases: recruited 3 (median 0 days),
visa 2 (10 and 20 days: median 15, 90th percentile 20), arrival 1 (40), withdrawn 1 (5); April,
1 case: recruited 1 (0), visa 1 (4). Time in stage: recruited left by 3 (10, 20, 4: median 10,
90th percentile 20), 1 withdrawn; visa left by 1 (30 days), 2 still there (100 and 86 days so
far); arrival left by none, 1 still there (80 days). Costs (11 April): klinik-nord 1000.00
recruitment fee and 300.00 travel for A, heim-see 250.50 travel for D.
"""

from __future__ import annotations

import datetime as dt

from lotse.tasks import casework, cost_book, directory
from lotse.tasks.context import Context
from tests.conftest import Clock

AS_OF = dt.date(2026, 6, 30)
# A person's name that must never reach a report without --with-names: markup and a formula.
FORMULA_NAME = "=HYPERLINK(\"http://x.example\",\"Ana\")"


def at(clock: Clock, year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> None:
    clock.now = dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


ALLIANCE = [  # as the `alliance` fixture of tests/conftest.py, for a database of the test's own
    ("koord", "Koordinierungsstelle", ["coordinator"], None),
    ("klinik-nord", "Klinik Nord", ["employer"], "SE-Nord"),
    ("vermittlung", "Vermittlung Brücke", ["agency"], "SE-Nord"),
    ("abh-nord", "Ausländerbehörde Nord", ["foreigners_office"], "SE-Nord"),
    ("wohnbau-nord", "Wohnbau Nord", ["housing"], "SE-Nord"),
]


def add_alliance(ctx: Context) -> Context:
    for actor_id, name, roles, region in ALLIANCE:
        directory.add_actor(ctx, actor_id, name=name, roles=roles, region=region,
                            email=f"{actor_id}@example.org")
    return ctx


def build(ctx: Context, clock: Clock) -> dict[str, str]:
    """The four cases A to D on an alliance (`add_alliance` or the `alliance` fixture); their
    references by letter."""
    directory.add_actor(ctx, "heim-see", name="Pflegeheim am See", roles=["employer"],
                        region="SE-Seestadt", email="heim-see@example.org")
    at(clock, 2026, 3, 2)
    refs = {
        "A": _opened(ctx, "Ana", "klinik-nord"),
        "B": _opened(ctx, FORMULA_NAME, "klinik-nord"),
        "C": _opened(ctx, "Cem", "klinik-nord"),
    }
    at(clock, 2026, 3, 7)
    casework.advance(ctx, refs["C"], "withdraw", by="klinik-nord",
                     facts={"withdraw_category": "homesickness", "withdraw_reason": "Heimweh"})
    at(clock, 2026, 3, 12)
    _to_visa(ctx, refs["A"], "klinik-nord")
    at(clock, 2026, 3, 22)
    _to_visa(ctx, refs["B"], "klinik-nord")
    at(clock, 2026, 3, 31, 22, 30)  # 1 April, 00:30 in Berlin
    refs["D"] = _opened(ctx, "Dana", "heim-see")
    at(clock, 2026, 4, 5)
    _to_visa(ctx, refs["D"], "heim-see")
    at(clock, 2026, 4, 11)
    casework.tick(ctx, refs["A"], ["visa_granted", "housing_confirmed"], by="koord")
    casework.advance(ctx, refs["A"], "arrive", by="klinik-nord",
                     facts={"arrival_date": "2026-04-11", "visa_valid_until": "2027-04-10"})
    for ref, category, amount, payer in ((refs["A"], "recruitment_fee", "1000.00", "klinik-nord"),
                                         (refs["A"], "travel", "300.00", "klinik-nord"),
                                         (refs["D"], "travel", "250.50", "heim-see")):
        cost_book.add(ctx, ref=ref, category=category, amount=amount, payer=payer, date="2026-04-11",
                      by="koord")
    at(clock, 2026, 7, 1)
    return refs


def _opened(ctx: Context, given: str, employer: str) -> str:
    return casework.open_case(ctx, given_name=given, family_name="Muster", nationality="PHL",
                              employer=employer)


def _to_visa(ctx: Context, ref: str, employer: str) -> None:
    casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(ctx, ref, "apply_visa", by=employer)
