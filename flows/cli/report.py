"""`lotse report`: open cases per stage, employer and region, stalled cases, the last transitions.

Runs the same task as the `pipeline-report` flow; as a flow run (publishing the artifacts) when
PREFECT_API_URL is set, else a plain read of the database without Prefect. With `--xlsx FILE`: the
workbook of every report with charts (flows/cli/workbook.py, docs/reports.md), always read from the
database directly, never through a flow run.
"""

from __future__ import annotations

import os
from typing import Any

import typer

from lotse.flows.cli.output import as_of_day, context, emit_json, table
from lotse.states import regions
from lotse.states.errors import BadInput

SHOWN_TRANSITIONS = 10


def report(
    as_of: str | None = typer.Option(None, "--as-of", metavar="YYYY-MM-DD",
                                     help="The day to judge stalled cases by; default: today."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    xlsx: str | None = typer.Option(
        None, "--xlsx", metavar="FILE.xlsx",
        help="Write a workbook instead: pipeline, funnel, time in stage, stuck cases, attrition, costs, "
             "language groups, with charts (docs/reports.md); private to its owner."),
    period: str = typer.Option("month", "--period", metavar="month|quarter",
                               help="With --xlsx: the funnel's cohorts, by month or quarter of opening."),
    with_names: bool = typer.Option(
        False, "--with-names",
        help="With --xlsx: a name column on the stuck sheet; only for --by a coordinator."),
    by: str | None = typer.Option(None, "--by", metavar="ACTOR_ID",
                                  help="With --with-names: the coordinator it is for."),
    region_level: str | None = typer.Option(
        None, "--region-level", metavar="county|region|town|DEPTH",
        help="Count open cases per region at this level of the hierarchy (config/regions.yaml); "
             "default: each case's own region."),
    attrition: bool = typer.Option(
        False, "--attrition", help="Show instead why people leave and where: withdrawals per stage, "
        "category, employer and region; changes of employer inside the alliance (docs/attrition.md)."),
) -> None:
    """Show the pipeline: open cases per stage and process, per employer, per region; cases in
    their stage longer than its limit; the last transitions. With --attrition: the withdrawals."""
    if xlsx is not None:
        from lotse.flows.cli.workbook import write_workbook

        write_workbook(xlsx, as_of=as_of_day(as_of), period=period, with_names=with_names, by=by,
                       region_level=regions.level(region_level) if region_level is not None else None,
                       as_json=as_json)
        return
    if with_names or by is not None:
        raise BadInput("--with-names and --by go with --xlsx FILE (the workbook); the report itself "
                       "names no one")
    day = as_of_day(as_of)
    if attrition:
        from lotse.flows.cli.attrition import show_attrition

        show_attrition(day, as_json)
        return
    depth = regions.level(region_level) if region_level is not None else None
    if os.environ.get("PREFECT_API_URL"):
        from lotse.flows.cli.prefect_console import flow_run_ahead
        from lotse.flows.pipeline_report import pipeline_report

        flow_run_ahead()
        data: dict[str, Any] = pipeline_report(as_of=day, region_level=depth)
    else:
        from lotse.tasks import pipeline_report as plain

        data = plain.pipeline(context(), day, depth)
    if as_json:
        emit_json(data)
        return
    typer.echo(f"{data['open_cases']} open case(s), as of {data['as_of']}")
    for title, rows, columns in [
        ("Per process version and stage", data["by_stage"], ["process", "version", "stage", "open"]),
        ("Per employer", data["by_employer"], ["employer", "open"]),
        ("Per region", data["by_region"], ["region", "open"]),
        ("In their stage longer than its limit", data["stuck"],
         ["ref", "process", "stage", "since", "limit", "overdue_days"]),
        (f"Last transitions (newest {SHOWN_TRANSITIONS}; --json for {len(data['transitions'])})",
         data["transitions"][:SHOWN_TRANSITIONS], ["at", "ref", "event", "from", "to", "actor", "via"]),
    ]:
        typer.echo(f"\n{title}:")
        table(rows, columns)
