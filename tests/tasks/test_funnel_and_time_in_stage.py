"""The funnel and time in stage against a cohort computed by hand (tests/known_cohort.py), on a
SQLite file and on PostgreSQL: the first moments per case and stage are aggregated in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from lotse.config.settings import Settings
from lotse.states import periods
from lotse.tasks import funnel, time_in_stage
from lotse.tasks.context import Context
from tests import known_cohort
from tests.conftest import Clock
from tests.postgres import postgres_context


@pytest.fixture(params=["sqlite", "postgresql"])
def cohort(
    request: pytest.FixtureRequest, ctx: Context, settings: Settings, clock: Clock,
) -> Iterator[Context]:
    if request.param == "sqlite":
        known_cohort.build(known_cohort.add_alliance(ctx), clock)
        yield ctx
        return
    with postgres_context(settings, clock) as on_postgres:
        known_cohort.build(known_cohort.add_alliance(on_postgres), clock)
        yield on_postgres


def stages(cohort_row: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {s["stage"]: (s["reached"], s["median_days"], s["p90_days"]) for s in cohort_row["stages"]}


def test_the_funnel_counts_each_months_cases_per_stage_reached_and_the_days_it_took(cohort: Context) -> None:
    report = funnel.funnel(cohort, as_of=known_cohort.AS_OF)

    assert [(c["process"], c["cohort"], c["cases"]) for c in report["cohorts"]] == [
        ("pflege", "2026-03", 3), ("pflege", "2026-04", 1)]
    march, april = report["cohorts"]
    assert [s["stage"] for s in march["stages"]] == [
        "recruited", "visa", "arrival", "language_course", "recognition", "housed", "integrated", "withdrawn"]
    assert stages(march) == {
        "recruited": (3, 0, 0), "visa": (2, 15, 20), "arrival": (1, 40, 40),
        "language_course": (0, None, None), "recognition": (0, None, None), "housed": (0, None, None),
        "integrated": (0, None, None),
        "withdrawn": (1, 5, 5)}
    assert march["stages"][1]["share"] == 0.6667
    assert stages(april)["recruited"] == (1, 0, 0) and stages(april)["visa"] == (1, 4, 4)
    assert [s["final"] for s in march["stages"]][-2:] == [True, True]


def test_the_funnel_by_quarter_and_as_of_an_earlier_day_counts_only_what_had_happened(
    cohort: Context,
) -> None:
    by_quarter = funnel.funnel(cohort, as_of=known_cohort.AS_OF, period=periods.QUARTER)
    on_10_april = funnel.funnel(cohort, as_of=dt.date(2026, 4, 10))
    on_31_march = funnel.funnel(cohort, as_of=dt.date(2026, 3, 31))

    assert [(c["cohort"], c["cases"]) for c in by_quarter["cohorts"]] == [("2026-Q1", 3), ("2026-Q2", 1)]
    assert stages(by_quarter["cohorts"][0])["visa"] == (2, 15, 20)
    assert stages(on_10_april["cohorts"][0])["arrival"] == (0, None, None)  # A arrived on 11 April
    # D was opened at 22:30 UTC on 31 March: 1 April in Berlin, not yet there at the end of 31 March.
    assert [c["cohort"] for c in on_31_march["cohorts"]] == ["2026-03"]
    table = funnel.funnel_table(by_quarter)
    assert {"process": "pflege", "cohort": "2026-Q1", "cases": 3, "stage": "visa", "reached": 2,
            "share": 0.6667, "median_days": 15, "p90_days": 20} in table


def test_time_in_stage_counts_stays_that_moved_on_and_says_apart_who_left_and_who_is_still_there(
    cohort: Context,
) -> None:
    report = time_in_stage.time_in_stage(cohort, as_of=known_cohort.AS_OF)

    figures = {r["stage"]: {k: v for k, v in r.items() if k not in ("process", "version", "stage")}
               for r in report["by_stage"]}
    assert list(figures) == ["recruited", "visa", "arrival"]  # final stages have no time in them
    assert figures["recruited"] == {"left": 3, "median_days": 10, "p90_days": 20, "withdrawn": 1, "open": 0,
                                    "open_longest_days": None}
    assert figures["visa"] == {"left": 1, "median_days": 30, "p90_days": 30, "withdrawn": 0, "open": 2,
                               "open_longest_days": 100}
    assert figures["arrival"] == {"left": 0, "median_days": None, "p90_days": None, "withdrawn": 0,
                                  "open": 1, "open_longest_days": 80}


def test_time_in_stage_per_employer_and_per_region_at_a_level_of_the_hierarchy(cohort: Context) -> None:
    own = time_in_stage.time_in_stage(cohort, as_of=known_cohort.AS_OF)
    by_target_region = time_in_stage.time_in_stage(cohort, as_of=known_cohort.AS_OF, region_level=1)

    recruited = {r["employer"]: (r["left"], r["median_days"], r["p90_days"], r["withdrawn"])
                 for r in own["by_employer"] if r["stage"] == "recruited"}
    assert recruited == {"heim-see": (1, 4, 4, 0), "klinik-nord": (2, 15, 20, 1)}
    assert {r["region"] for r in own["by_region"]} == {"SE-Nord", "SE-Seestadt"}
    assert {(r["region"], r["stage"], r["left"]) for r in by_target_region["by_region"]} == {
        ("SE-Nord", "recruited", 3), ("SE-Nord", "visa", 1), ("SE-Nord", "arrival", 0)}
    table = time_in_stage.time_in_stage_table(own)
    assert {"by": "stage", "process": "pflege v2", "stage": "visa", "where": "", "left": 1, "median_days": 30,
            "p90_days": 30, "withdrawn": 0, "open": 2, "open_longest_days": 100} in table


def test_a_stay_counts_up_to_the_end_of_as_of_and_not_beyond(cohort: Context) -> None:
    on_11_april = time_in_stage.time_in_stage(cohort, as_of=dt.date(2026, 4, 11))
    on_10_april = time_in_stage.time_in_stage(cohort, as_of=dt.date(2026, 4, 10))

    visa_11 = next(r for r in on_11_april["by_stage"] if r["stage"] == "visa")
    visa_10 = next(r for r in on_10_april["by_stage"] if r["stage"] == "visa")
    assert (visa_11["left"], visa_11["open"], visa_11["open_longest_days"]) == (1, 2, 20)  # B since 22 March
    assert (visa_10["left"], visa_10["open"], visa_10["open_longest_days"]) == (0, 3, 29)  # A since 12 March


def test_the_median_and_the_90th_percentile_by_nearest_rank() -> None:
    assert periods.median([]) is None and periods.percentile([]) is None
    assert periods.median([4, 10, 20]) == 10 and periods.median([10, 20]) == 15
    assert periods.median([1, 2]) == 1.5
    assert periods.percentile(list(range(1, 11))) == 9  # ceil(0.9 * 10) = 9th
    assert periods.percentile(list(range(1, 12))) == 10  # ceil(0.9 * 11) = 10th
    assert periods.percentile([7]) == 7
    assert periods.period_of(dt.date(2026, 12, 31), periods.QUARTER) == "2026-Q4"
    assert periods.period_of(dt.date(2026, 1, 1), periods.MONTH) == "2026-01"
    with pytest.raises(ValueError, match="month or quarter"):
        periods.period_of(dt.date(2026, 1, 1), "week")
