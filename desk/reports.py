"""The report page for signed-in coordinators (`GET /report`): the funnel and time in stage
(tasks/funnel.py, tasks/time_in_stage.py) as SVG bar charts drawn on the server (desk/charts.py)
and as tables. Figures only: stages, cohorts, counts and days, no name and no reference.

`?period=quarter` groups the cohorts by quarter instead of month. The funnel's chart shows the
newest cohorts (at most `SHOWN_COHORTS`); its table shows every one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from lotse.desk.app import desk_of, render_form
from lotse.desk.charts import Series, bar_chart
from lotse.desk.sign_in import WORDS as SIGN_IN_WORDS
from lotse.desk.sign_in import signed_in, to_sign_in
from lotse.states import periods
from lotse.states.errors import NotFound
from lotse.tasks import funnel, time_in_stage
from lotse.tasks.context import Context

router = APIRouter()
SHOWN_COHORTS = 6

WORDS: dict[str, dict[str, str]] = {
    "de": {
        **SIGN_IN_WORDS["de"],
        "title": "Berichte", "as_of": "Stand", "by_month": "nach Monat", "by_quarter": "nach Quartal",
        "funnel": "Trichter: Wie viele Fälle erreichten jede Stufe?",
        "funnel_help": "Fälle nach dem Monat oder Quartal ihrer Eröffnung (Kohorte); erreicht heißt: "
                       "irgendwann in der Stufe gewesen. Tage von der Eröffnung bis zum Erreichen.",
        "funnel_chart": "{process}: erreichte Fälle je Stufe und Kohorte",
        "time": "Verweildauer je Stufe", "time_chart": "{process}: Tage in der Stufe",
        "time_help": "Median und 90. Perzentil der abgeschlossenen Aufenthalte (weitergegangen); "
                     "Abbrüche und Fälle, die noch in der Stufe sind, zählen getrennt.",
        "cohort": "Kohorte", "cases": "Fälle", "stage": "Stufe", "reached": "erreicht", "share": "Anteil",
        "median_days": "Median (Tage)", "p90_days": "90. Perzentil (Tage)", "left": "weitergegangen",
        "withdrawn": "abgebrochen", "still_in": "noch in der Stufe", "longest": "längster bisher (Tage)",
        "median": "Median", "p90": "90. Perzentil", "days": "Tage", "none": "Noch keine Fälle.",
        "docs": "Wie die Zahlen entstehen: docs/reports.md",
    },
    "en": {
        **SIGN_IN_WORDS["en"],
        "title": "Reports", "as_of": "As of", "by_month": "by month", "by_quarter": "by quarter",
        "funnel": "Funnel: how many cases reached each stage?",
        "funnel_help": "Cases by the month or quarter they were opened in (cohort); reached means: "
                       "was in the stage at some time. Days from opening to reaching it.",
        "funnel_chart": "{process}: cases that reached each stage, by cohort",
        "time": "Time in stage", "time_chart": "{process}: days in stage",
        "time_help": "Median and 90th percentile of finished stays (moved on); withdrawals and cases "
                     "still in the stage are counted apart.",
        "cohort": "Cohort", "cases": "Cases", "stage": "Stage", "reached": "reached", "share": "share",
        "median_days": "median (days)", "p90_days": "90th percentile (days)", "left": "moved on",
        "withdrawn": "withdrawn", "still_in": "still there", "longest": "longest so far (days)",
        "median": "median", "p90": "90th percentile", "days": "days", "none": "No cases yet.",
        "docs": "How the figures are made: docs/reports.md",
    },
}


@dataclass
class Block:
    """One process (version) on the page: its chart and its table rows."""

    title: str
    chart: Markup
    rows: list[dict[str, Any]]


@router.get("/report", response_class=HTMLResponse)
def report(request: Request, period: str = periods.MONTH) -> Response:
    desk = desk_of(request)
    who = signed_in(request)
    if who is None:
        return to_sign_in(request)
    period = periods.QUARTER if period == periods.QUARTER else periods.MONTH
    w = desk.pages.words(WORDS)
    locale = desk.pages.locale
    cohorts = funnel.funnel(desk.ctx, period=period)
    stays = time_in_stage.time_in_stage(desk.ctx, dt.date.fromisoformat(cohorts["as_of"]))
    return render_form(desk, request, "report.html", words=WORDS, who=who, period=period,
                       as_of=cohorts["as_of"], funnels=_funnels(desk.ctx, cohorts, w, locale),
                       times=_times(desk.ctx, stays, w, locale))


def _funnels(ctx: Context, report: dict[str, Any], w: dict[str, str], locale: str) -> list[Block]:
    blocks = []
    for process in sorted({c["process"] for c in report["cohorts"]}):
        cohorts = [c for c in report["cohorts"] if c["process"] == process]
        shown = cohorts[-SHOWN_COHORTS:]
        stages = list(dict.fromkeys(s["stage"] for c in cohorts for s in c["stages"]))
        titles = [_stage_title(ctx, process, None, s, locale) for s in stages]
        reached = [Series(f"{c['cohort']} ({c['cases']})", [_reached(c, stage) for stage in stages])
                   for c in shown]
        rows = [{"cohort": c["cohort"], "cases": c["cases"],
                 "stage": _stage_title(ctx, process, None, s["stage"], locale), "reached": s["reached"],
                 "share": _percent(s["share"]), "median_days": s["median_days"],
                 "p90_days": s["p90_days"]} for c in cohorts for s in c["stages"]]
        name = _process_title(ctx, process, None, locale)
        blocks.append(Block(name, bar_chart(w["funnel_chart"].format(process=name), titles, reached,
                                            unit=w["cases"]), rows))
    return blocks


def _times(ctx: Context, report: dict[str, Any], w: dict[str, str], locale: str) -> list[Block]:
    blocks = []
    for process, version in sorted({(r["process"], r["version"]) for r in report["by_stage"]}):
        rows = [r for r in report["by_stage"] if (r["process"], r["version"]) == (process, version)]
        titles = [_stage_title(ctx, process, version, r["stage"], locale) for r in rows]
        name = f"{_process_title(ctx, process, version, locale)} v{version}"
        chart = bar_chart(w["time_chart"].format(process=name), titles, [
            Series(w["median"], [r["median_days"] for r in rows]),
            Series(w["p90"], [r["p90_days"] for r in rows])], unit=w["days"])
        blocks.append(Block(name, chart, [{**r, "stage": t} for r, t in zip(rows, titles, strict=True)]))
    return blocks


def _reached(cohort: dict[str, Any], stage: str) -> int:
    return next((s["reached"] for s in cohort["stages"] if s["stage"] == stage), 0)


def _stage_title(ctx: Context, process: str, version: int | None, stage: str, locale: str) -> str:
    try:
        found = ctx.catalog.get(process, version).stages.get(stage)
    except NotFound:
        return stage
    return found.title.in_(locale) or stage if found is not None else stage


def _process_title(ctx: Context, process: str, version: int | None, locale: str) -> str:
    try:
        return ctx.catalog.get(process, version).title.in_(locale) or process
    except NotFound:
        return process


def _percent(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.0f} %"
