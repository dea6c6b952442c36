"""Why people leave, and where: withdrawals and changes of employer inside the alliance
(`lotse report --attrition`, the `attrition` artifact of `pipeline-report`).

- **Withdrawals** are the `withdraw` history rows; the stage a case was withdrawn from is the row's
  `from_stage`, its category the case's `withdraw_category` fact (`null`: not recorded, e.g. a
  process without the fact, or a case withdrawn before it existed). Each withdrawal is counted per
  stage, and per stage and category, employer, region, each with the process and its version.
- **Entered** is the number of cases that stood in a stage at some time: those with a history row
  ending in it (`to_stage`; an opening, an event, a migration, or any change made while there),
  counted in SQL. A withdrawal's **share** is withdrawals / entered for the same stage (and the same
  employer or region), rounded to four places; `null` when no case entered.
- **Employer and region** are the case's own: a closed case keeps both (a change of employer is
  refused on it), so they are the ones it was withdrawn under.
- **Changes of employer** (`change_employer` rows) are counted inside and outside the no-poaching
  period, in total and per pair of employers.

`as_of`: only the history up to the end of that day (the alliance's calendar). Nothing here names
a person or repeats a note or a free-text value: references are not listed either, only counts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from lotse.states.errors import NotFound
from lotse.states.records import CaseRecord, FactRecord, HistoryRecord
from lotse.tasks import deadlines
from lotse.tasks.context import Context
from lotse.tasks.employer_change import ACTION as CHANGE_EMPLOYER

WITHDRAW = "withdraw"
CATEGORY_FACT = "withdraw_category"
PLACES = 4


def attrition(ctx: Context, as_of: dt.date | None = None) -> dict[str, Any]:
    """The attrition report as of the end of `as_of` (default: today)."""
    today = as_of or deadlines.today(ctx)
    midnight = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), ZoneInfo(ctx.settings.timezone))
    until = midnight.astimezone(dt.UTC)
    h, c = HistoryRecord, CaseRecord
    with ctx.db.reading() as session:
        entered = list(session.execute(
            select(c.process, c.process_version, h.to_stage, c.employer_id, c.region,
                   func.count(func.distinct(h.case_id)))
            .join(c, c.id == h.case_id)
            .where(h.at < until, h.to_stage.is_not(None))  # type: ignore[union-attr]
            .group_by(c.process, c.process_version, h.to_stage, c.employer_id, c.region)))
        withdrawals = list(session.execute(
            select(h.case_id, c.process, c.process_version, h.from_stage, c.employer_id, c.region)
            .join(c, c.id == h.case_id)
            .where(h.action == WITHDRAW, h.at < until)))
        categories = dict(session.execute(
            select(FactRecord.case_id, FactRecord.value).where(FactRecord.name == CATEGORY_FACT)).all())
        changes = list(session.scalars(
            select(h.detail).where(h.action == CHANGE_EMPLOYER, h.at < until).order_by(h.id)))
    finals = {(p.name, p.version): set(p.final) for p in ctx.catalog.versions()}
    into: dict[tuple[Any, ...], Counter[tuple[str, str]]] = {}
    for process, version, stage, employer, region, n in entered:
        if stage in finals.get((process, version), set()):
            continue  # nobody leaves a final stage
        counter = into.setdefault((process, version, stage), Counter())
        counter[("all", "")] += n
        counter[("employer", employer)] += n
        counter[("region", region)] += n
    out: dict[str, Counter[tuple[Any, ...]]] = {
        k: Counter() for k in ("stage", "category", "employer", "region")}
    for case_id, process, version, stage, employer, region in withdrawals:
        key = (process, version, stage)
        category = categories.get(case_id)
        category = category if isinstance(category, str) else None
        out["stage"][key] += 1
        out["category"][(*key, category)] += 1
        out["employer"][(*key, employer)] += 1
        out["region"][(*key, region)] += 1
    return {
        "as_of": today.isoformat(),
        "withdrawn": len(withdrawals),
        "by_stage": _stages(ctx, into, out["stage"]),
        "by_category": _rows(into, out["category"], "category", "all"),
        "by_employer": _rows(into, out["employer"], "employer", "employer"),
        "by_region": _rows(into, out["region"], "region", "region"),
        "categories": _categories(out["category"], len(withdrawals)),
        "employer_changes": _changes(changes),
    }


def share(part: int, whole: int) -> float | None:
    return round(part / whole, PLACES) if whole else None


def _stages(ctx: Context, into: dict[tuple[Any, ...], Counter[tuple[str, str]]],
            withdrawn: Counter[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Every non-final stage a case entered, in the process's order, with its withdrawals."""
    keys = set(into) | set(withdrawn)
    rows = []
    for process, version in sorted({(k[0], k[1]) for k in keys}):
        try:
            order = list(ctx.catalog.get(process, version).stages)
        except NotFound:  # a version no longer loaded: its stages by name
            order = []
        stages = sorted({k[2] for k in keys if k[:2] == (process, version)},
                        key=lambda s: (order.index(s) if s in order else len(order), s))
        for stage in stages:
            n = into.get((process, version, stage), Counter())[("all", "")]
            w = withdrawn[(process, version, stage)]
            rows.append({"process": process, "version": version, "stage": stage, "entered": n,
                         "withdrawn": w, "share": share(w, n)})
    return rows


def _rows(into: dict[tuple[Any, ...], Counter[tuple[str, str]]], counted: Counter[tuple[Any, ...]],
          column: str, base: str) -> list[dict[str, Any]]:
    """Withdrawals per stage and `column`; the share of the cases that entered the stage (those of
    the same employer or region, where `base` says so)."""
    rows = []
    for key, w in counted.items():
        process, version, stage, value = key
        entered = into.get((process, version, stage), Counter())
        n = entered[("all", "")] if base == "all" else entered[(base, value)]
        rows.append({"process": process, "version": version, "stage": stage, column: value,
                     "entered": n, "withdrawn": w, "share": share(w, n)})
    return sorted(rows, key=lambda r: (r["process"], r["version"], r["stage"], str(r[column] or "~")))


def _categories(counted: Counter[tuple[Any, ...]], total: int) -> list[dict[str, Any]]:
    """Withdrawals per category over every stage and process, with their share of all withdrawals."""
    per: Counter[str | None] = Counter()
    for (*_, category), n in counted.items():
        per[category] += n
    return [{"category": category, "withdrawn": n, "share": share(n, total)}
            for category, n in sorted(per.items(), key=lambda kv: (-kv[1], str(kv[0] or "~")))]


def _changes(details: list[Any]) -> dict[str, Any]:
    inside = outside = 0
    pairs: Counter[tuple[str, str, bool]] = Counter()
    for detail in details:
        if not isinstance(detail, dict):
            continue
        within = bool(detail.get("inside_period"))
        inside, outside = inside + within, outside + (not within)
        pairs[(str(detail.get("from")), str(detail.get("to")), within)] += 1
    return {
        "total": inside + outside, "inside_period": inside, "outside_period": outside,
        "by_employers": [{"from": a, "to": b, "inside_period": within, "changes": n}
                         for (a, b, within), n in sorted(pairs.items())],
    }


def attrition_table(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report as one table (the `attrition` artifact): what is counted, where, how many, the
    share. Categories, stages, employers and regions only: no reference, no name, no note."""
    def pct(value: float | None) -> str:
        return "" if value is None else f"{value * 100:.1f} %"

    rows: list[dict[str, Any]] = []
    for r in report["by_stage"]:
        rows.append({"by": "stage", "process": f"{r['process']} v{r['version']}", "stage": r["stage"],
                     "what": "", "entered": r["entered"], "withdrawn": r["withdrawn"],
                     "share": pct(r["share"])})
    for by in ("category", "employer", "region"):
        for r in report[f"by_{by}"]:
            rows.append({"by": by, "process": f"{r['process']} v{r['version']}", "stage": r["stage"],
                         "what": r[by] if r[by] is not None else "(none)", "entered": r["entered"],
                         "withdrawn": r["withdrawn"], "share": pct(r["share"])})
    changes = report["employer_changes"]
    for within in (True, False):
        rows.append({"by": "employer change", "process": "", "stage": "",
                     "what": "inside the no-poaching period" if within else "outside the no-poaching period",
                     "entered": "", "withdrawn": changes["inside_period" if within else "outside_period"],
                     "share": ""})
    return rows
