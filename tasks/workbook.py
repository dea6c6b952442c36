"""The workbook for the county office and the district council (`lotse report --xlsx FILE`): one sheet
per report, with native Excel charts (docs/reports.md).

Sheets: `pipeline` (tasks/pipeline_report.py), `funnel` (tasks/funnel.py, a bar chart per process),
`time in stage` (tasks/time_in_stage.py, a bar chart of medians and 90th percentiles), `stuck
cases`, `attrition` (tasks/attrition_report.py), `costs` (tasks/cost_report.py, a stacked bar per
employer) and `language groups` (tasks/course_report.py). Each sheet is written by one function
taking its report's dict, so a report is plugged in by calling its function.

Cells hold values only. A text is always stored as text: one starting with `=`, `+`, `-` or `@` (a
name, an id) is never a formula, and characters a workbook cannot hold are dropped. Names of people
are in it only where `names` is given (`--with-names` by a coordinator): a column on the stuck
sheet, and each case named gets a history row `named_in_workbook` with the coordinator and the
proof, so the person's own export (Art. 15) shows who took their name out of Lotse. The file is
written beside its target under a temporary name, readable by its owner only, and renamed into place
once complete: a failure leaves no file, partial or otherwise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from lotse.states import costs, periods
from lotse.states.errors import BadInput
from lotse.tasks import cost_report, course_report, funnel, pipeline_report, time_in_stage
from lotse.tasks.context import Context

PRIVATE = 0o600
SUFFIX = ".xlsx"
PIPELINE, FUNNEL, TIME_IN_STAGE, STUCK = "pipeline", "funnel", "time in stage", "stuck cases"
ATTRITION, COSTS, LANGUAGE_GROUPS = "attrition", "costs", "language groups"
SHEETS = (PIPELINE, FUNNEL, TIME_IN_STAGE, STUCK, ATTRITION, COSTS, LANGUAGE_GROUPS)
PROBLEMS = "problems"
NAMED = "named_in_workbook"  # the history's action on a case whose name a workbook holds
_BOLD = Font(bold=True)
EN = "en"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "pipeline": "Open cases as of {as_of}: {n}",
        "funnel": "Funnel by {period} of opening, as of {as_of}", "month": "month", "quarter": "quarter",
        "funnel_block": "{process}: cases reached",
        "funnel_chart": "{process}: cases that reached each stage, by cohort",
        "time": "Days in stage (finished stays) as of {as_of}",
        "time_chart": "Days in stage: median and 90th percentile", "days": "days",
        "stuck": "In their stage longer than its limit, as of {as_of}: {n}",
        "attrition": "Withdrawals as of {as_of}: {n}",
        "costs": "Costs in {currency} incurred by {as_of}: {total}",
        "costs_chart": "Costs per employer and category ({currency})",
        "groups": "Language course groups as of {as_of}",
        "missing": "This report could not be made; `lotse doctor` says why.",
    },
    "de": {
        "pipeline": "Offene Fälle, Stand {as_of}: {n}",
        "funnel": "Trichter nach {period} der Eröffnung, Stand {as_of}",
        "month": "Monat", "quarter": "Quartal",
        "funnel_block": "{process}: erreichte Fälle",
        "funnel_chart": "{process}: Fälle, die jede Stufe erreichten, je Kohorte",
        "time": "Tage in der Stufe (abgeschlossene Aufenthalte), Stand {as_of}",
        "time_chart": "Tage in der Stufe: Median und 90. Perzentil", "days": "Tage",
        "stuck": "Länger in ihrer Stufe als deren Frist, Stand {as_of}: {n}",
        "attrition": "Abbrüche, Stand {as_of}: {n}",
        "costs": "Kosten in {currency} bis {as_of}: {total}",
        "costs_chart": "Kosten je Arbeitgeber und Kategorie ({currency})",
        "groups": "Sprachkursgruppen, Stand {as_of}",
        "missing": "Dieser Bericht ließ sich nicht erstellen; `lotse doctor` sagt, warum.",
    },
}
HEADERS_DE = {
    "by": "nach", "process": "Prozess", "where": "wo", "open": "offen", "cohort": "Kohorte", "cases": "Fälle",
    "stage": "Stufe", "reached": "erreicht", "share": "Anteil", "median_days": "Median (Tage)",
    "p90_days": "90. Perzentil (Tage)", "version": "Version", "left": "weitergegangen",
    "withdrawn": "abgebrochen", "open_longest_days": "längster offener (Tage)", "employer": "Arbeitgeber",
    "region": "Region", "ref": "Aktenzeichen", "name": "Name", "since": "seit", "limit": "Frist",
    "due": "fällig", "overdue_days": "überfällig (Tage)", "what": "was", "entered": "eingetreten",
    "total": "gesamt", "funded": "gefördert", "saving": "Ersparnis", "group": "Gruppe", "pace": "Tempo",
    "level": "Niveau", "school": "Sprachschule", "start": "Beginn", "end": "Ende",
    "participants": "Teilnehmende", "below_target": "unter dem Ziel", "passed_b1": "B1 bestanden",
    "median_weeks_to_b1": "Median Wochen bis B1", "passed_b2": "B2 bestanden",
    "median_weeks_to_b2": "Median Wochen bis B2",
}


# -- the figures -----------------------------------------------------------------------------------


def figures(ctx: Context, as_of: dt.date | None = None, period: str = periods.MONTH,
            region_level: int | None = None) -> dict[str, Any]:
    """Every report the workbook shows, as their functions return them (None: not available), and
    `problems`: what kept a report out (a broken programmes file keeps out the costs, not the rest)."""
    pipeline = pipeline_report.pipeline(ctx, as_of, region_level)
    day = dt.date.fromisoformat(pipeline["as_of"])
    problems: list[str] = []
    return {
        PIPELINE: pipeline,
        FUNNEL: funnel.funnel(ctx, day, period),
        TIME_IN_STAGE: time_in_stage.time_in_stage(ctx, day, region_level),
        ATTRITION: _attrition(ctx, day),
        COSTS: _costs(ctx, day, problems),
        LANGUAGE_GROUPS: course_report.report(ctx, day),
        PROBLEMS: problems,
    }


def _costs(ctx: Context, day: dt.date, problems: list[str]) -> dict[str, Any] | None:
    try:
        return cost_report.cost_report(ctx, day)
    except BadInput as broken:  # names the file and the key, never a person
        problems.append(f"costs: not in the workbook: {broken}; see `lotse doctor`")
        return None


def _attrition(ctx: Context, day: dt.date) -> dict[str, Any] | None:
    try:
        from lotse.tasks import attrition_report
    except ImportError:  # pragma: no cover - the attrition report came with issue 13
        return None
    return attrition_report.attrition(ctx, day)


def names_for(ctx: Context, refs: Iterable[str], by: str, via: str = "cli") -> dict[str, str]:
    """Reference -> "given family" of the cases named, for a coordinator's `--with-names`; each case
    named gets its history row (`NAMED`), in the transaction that reads the names. Written before
    the file: a workbook that then fails is recorded, never one with names unrecorded."""
    from sqlalchemy import insert, select

    from lotse.states.records import CaseRecord, HistoryRecord

    wanted = sorted(set(refs))
    found: dict[str, str] = {}
    with ctx.db.writing() as session:
        now = ctx.clock()
        for start in range(0, len(wanted), 500):
            rows = session.execute(
                select(CaseRecord.id, CaseRecord.ref, CaseRecord.stage, CaseRecord.given_name,
                       CaseRecord.family_name)
                .where(CaseRecord.ref.in_(wanted[start:start + 500]))).all()  # type: ignore[attr-defined]
            if rows:
                session.execute(insert(HistoryRecord), [
                    {"case_id": row.id, "at": now, "action": NAMED, "from_stage": row.stage,
                     "to_stage": row.stage, "actor_id": by, "via": via, "proof": ctx.proof,
                     "detail": {"sheet": STUCK}} for row in rows])
            found.update((row.ref, f"{row.given_name} {row.family_name}") for row in rows)
    return found


# -- the book --------------------------------------------------------------------------------------


def build(data: dict[str, Any], names: dict[str, str] | None = None, locale: str = EN) -> Workbook:
    """The workbook of the figures; `names` (reference -> name) adds a name column to the stuck
    sheet, and nothing else. Titles and column headers in `locale` (English: the report's keys,
    as in the JSON and the artifacts)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    pipeline_sheet(book.create_sheet(PIPELINE), data[PIPELINE], locale=locale)
    funnel_sheet(book.create_sheet(FUNNEL), data[FUNNEL], locale=locale)
    time_in_stage_sheet(book.create_sheet(TIME_IN_STAGE), data[TIME_IN_STAGE], locale=locale)
    stuck_sheet(book.create_sheet(STUCK), data[PIPELINE], names, locale=locale)
    attrition_sheet(book.create_sheet(ATTRITION), data.get(ATTRITION), locale=locale)
    costs_sheet(book.create_sheet(COSTS), data.get(COSTS), locale=locale)
    language_groups_sheet(book.create_sheet(LANGUAGE_GROUPS), data.get(LANGUAGE_GROUPS), locale=locale)
    book.properties.creator = "Lotse"
    book.properties.title = f"Lotse report as of {data[PIPELINE]['as_of']}"
    return book


def pipeline_sheet(sheet: Worksheet, report: dict[str, Any], *, locale: str = EN) -> None:
    """Today's pipeline: open cases per process version and stage, employer, region."""
    row = _title(sheet, _say(locale, "pipeline", as_of=report["as_of"], n=report["open_cases"]))
    _table(sheet, row, ["by", "process", "where", "open"], pipeline_report.pipeline_table(report),
           locale=locale)


def funnel_sheet(sheet: Worksheet, report: dict[str, Any], *, locale: str = EN) -> None:
    """Per process, a block: the stages down, a column per cohort with the cases that reached the
    stage, and its bar chart; then every figure in one table."""
    row = _title(sheet, _say(locale, "funnel", period=_say(locale, report["period"]), as_of=report["as_of"]))
    for process in sorted({c["process"] for c in report["cohorts"]}):
        cohorts = [c for c in report["cohorts"] if c["process"] == process]
        stages = list(dict.fromkeys(s["stage"] for c in cohorts for s in c["stages"]))
        reached = {(c["cohort"], s["stage"]): s["reached"] for c in cohorts for s in c["stages"]}
        header = row
        _put(sheet, header, 1, _say(locale, "funnel_block", process=process), bold=True)
        for col, c in enumerate(cohorts, start=2):
            _put(sheet, header, col, f"{c['cohort']} ({c['cases']})", bold=True)
        for offset, stage in enumerate(stages, start=1):
            _put(sheet, header + offset, 1, stage)
            for col, c in enumerate(cohorts, start=2):
                _put(sheet, header + offset, col, reached.get((c["cohort"], stage), 0))
        chart = BarChart()
        chart.type, chart.grouping = "col", "clustered"
        chart.title = _say(locale, "funnel_chart", process=process)
        chart.y_axis.title, chart.x_axis.title = _header("cases", locale), _header("stage", locale)
        chart.add_data(Reference(sheet, min_col=2, max_col=1 + len(cohorts), min_row=header,
                                 max_row=header + len(stages)), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=header + 1, max_row=header + len(stages)))
        chart.width, chart.height = 18, 9
        sheet.add_chart(chart, f"{_column(len(cohorts) + 3)}{header}")
        row = header + max(len(stages) + 2, 20)
    _table(sheet, row, ["process", "cohort", "cases", "stage", "reached", "share", "median_days", "p90_days"],
           funnel.funnel_table(report), locale=locale)


def time_in_stage_sheet(sheet: Worksheet, report: dict[str, Any], *, locale: str = EN) -> None:
    """Per stage the median and 90th percentile of days (a bar chart of both), then per employer
    and region."""
    row = _title(sheet, _say(locale, "time", as_of=report["as_of"]))
    columns = ["process", "version", "stage", "left", "median_days", "p90_days", "withdrawn", "open",
               "open_longest_days"]
    stages = report["by_stage"]
    end = _table(sheet, row, columns, stages, locale=locale)
    if stages:
        chart = BarChart()
        chart.type, chart.grouping = "col", "clustered"
        chart.title = _say(locale, "time_chart")
        chart.y_axis.title, chart.x_axis.title = _say(locale, "days"), _header("stage", locale)
        chart.add_data(Reference(sheet, min_col=5, max_col=6, min_row=row, max_row=row + len(stages)),
                       titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=3, min_row=row + 1, max_row=row + len(stages)))
        chart.width, chart.height = 18, 9
        sheet.add_chart(chart, f"{_column(len(columns) + 2)}{row}")
    row = max(end + 1, row + 20)
    for by in ("employer", "region"):
        row = _table(sheet, row, ["process", "version", "stage", by, *columns[3:]], report[f"by_{by}"],
                     locale=locale) + 1


def stuck_sheet(sheet: Worksheet, report: dict[str, Any], names: dict[str, str] | None = None, *,
                locale: str = EN) -> None:
    """Cases in their stage longer than its limit, by reference; with `names`, a name column."""
    stuck = report["stuck"]
    row = _title(sheet, _say(locale, "stuck", as_of=report["as_of"], n=len(stuck)))
    columns = ["ref", *(["name"] if names is not None else []), "process", "stage", "since", "limit", "due",
               "overdue_days", "employer", "region"]
    rows = [{**s, **({"name": names.get(s["ref"], "")} if names is not None else {})} for s in stuck]
    _table(sheet, row, columns, rows, locale=locale)


def attrition_sheet(sheet: Worksheet, report: dict[str, Any] | None, *, locale: str = EN) -> None:
    """Withdrawals per stage, category, employer and region; changes of employer."""
    if report is None:
        _title(sheet, _say(locale, "missing"))
        return
    from lotse.tasks import attrition_report

    row = _title(sheet, _say(locale, "attrition", as_of=report["as_of"], n=report["withdrawn"]))
    _table(sheet, row, ["by", "process", "stage", "what", "entered", "withdrawn", "share"],
           attrition_report.attrition_table(report), locale=locale)


def costs_sheet(sheet: Worksheet, report: dict[str, Any] | None, *, locale: str = EN) -> None:
    """Per employer the costs per category in euros (a stacked bar per employer), the total, what
    programmes funded and what sharing saved; a last row for all employers."""
    if report is None:
        _title(sheet, _say(locale, "missing"))
        return
    row = _title(sheet, _say(locale, "costs", currency=report["currency"], as_of=report["as_of"],
                             total=report["total"]))
    table = cost_report.cost_table(report)
    categories = [c["category"] for c in report["by_category"]]
    columns = ["employer", *categories, "total", "funded", "saving"]
    rows = [{k: _amount(v) if k != "employer" else v for k, v in r.items()} for r in table]
    _table(sheet, row, columns, rows, number_format="#,##0.00", locale=locale)
    employers = len(rows) - 1  # the last row is every employer
    if employers and categories:
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
        chart.title = _say(locale, "costs_chart", currency=report["currency"])
        chart.y_axis.title, chart.x_axis.title = report["currency"], _header("employer", locale)
        chart.add_data(Reference(sheet, min_col=2, max_col=1 + len(categories), min_row=row,
                                 max_row=row + employers), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=row + 1, max_row=row + employers))
        chart.width, chart.height = 18, 9
        sheet.add_chart(chart, f"{_column(len(columns) + 2)}{row}")


def language_groups_sheet(sheet: Worksheet, report: dict[str, Any] | None, *, locale: str = EN) -> None:
    """Per course group and per pace: participants, reached the target, weeks to B1 and B2."""
    if report is None:
        _title(sheet, _say(locale, "missing"))
        return
    row = _title(sheet, _say(locale, "groups", as_of=report["as_of"]))
    _table(sheet, row, ["group", "pace", "level", "school", "start", "end", "participants", "reached",
                        "below_target", "passed_b1", "median_weeks_to_b1", "passed_b2", "median_weeks_to_b2"],
           course_report.table(report), locale=locale)


# -- cells -----------------------------------------------------------------------------------------


def _title(sheet: Worksheet, text: str) -> int:
    _put(sheet, 1, 1, text, bold=True)
    return 3


def _table(sheet: Worksheet, row: int, columns: list[str], rows: list[dict[str, Any]],
           number_format: str | None = None, *, locale: str = EN) -> int:
    """A header and a row per dict from `row` on; returns the row after the last."""
    for col, name in enumerate(columns, start=1):
        shown = _header(name, locale)
        _put(sheet, row, col, shown, bold=True)
        sheet.column_dimensions[_column(col)].width = max(
            sheet.column_dimensions[_column(col)].width or 0, min(max(len(shown) + 2, 12), 40))
    for offset, values in enumerate(rows, start=1):
        for col, name in enumerate(columns, start=1):
            cell = _put(sheet, row + offset, col, values.get(name))
            if number_format and isinstance(cell.value, Decimal):
                cell.number_format = number_format
    if not rows:
        _put(sheet, row + 1, 1, "(none)")
    return row + max(len(rows), 1) + 1


def _put(sheet: Worksheet, row: int, col: int, value: Any, *, bold: bool = False) -> Any:
    """One cell, a value only: a number stays a number, everything else is text (never a formula)."""
    cell = sheet.cell(row=row, column=col)
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        cell.value = value
    else:
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        cell.data_type = "s"  # openpyxl makes a text starting with '=' a formula
    if bold:
        cell.font = _BOLD
    return cell


def _say(locale: str, key: str, **values: Any) -> str:
    return TEXTS.get(locale, TEXTS[EN])[key].format(**values)


def _header(key: str, locale: str) -> str:
    """A column's header: its key in English (as in the JSON), a title in German; a cost category
    by its title."""
    if locale == EN:
        return key
    if key in HEADERS_DE:
        return HEADERS_DE[key]
    return costs.category_title(key, locale) if key in costs.CATEGORIES else key


def _amount(value: Any) -> Decimal | Any:
    try:
        return Decimal(value)
    except (TypeError, ArithmeticError, ValueError):
        return value


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


# -- the file --------------------------------------------------------------------------------------


def check_target(file: Path) -> Path:
    """The file to write, checked before any figure is read: an .xlsx name in a folder that
    exists and can be written; not a folder itself."""
    target = Path(file).expanduser().absolute()
    if target.suffix.lower() != SUFFIX:
        raise BadInput(f"--xlsx {target.name}: the workbook's name ends in {SUFFIX}")
    if target.is_dir():
        raise BadInput(f"--xlsx {target} is a folder; name a file in it")
    if not target.parent.is_dir():
        raise BadInput(f"the folder {target.parent} does not exist; create it or choose another")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise BadInput(f"cannot write into {target.parent}; choose a folder you may write to")
    return target


def save(book: Workbook, file: Path) -> Path:
    """Write the book to `file` through a private temporary file beside it, renamed into place
    (replacing an older workbook of that name) only once complete."""
    target = check_target(file)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE))
        book.save(partial)
        os.chmod(partial, PRIVATE)
        descriptor = os.open(partial, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(partial, target)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise BadInput(f"the disk is full at {target.parent}; nothing was written") from None
        raise BadInput(f"cannot write {target}: {exc.strerror}; nothing was written") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return target
