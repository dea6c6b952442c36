"""`lotse report --attrition`: why people leave and where (tasks/attrition_report.py,
docs/attrition.md). A plain read of the database, without Prefect; the `pipeline-report` flow
publishes the same figures as its `attrition` artifact."""

from __future__ import annotations

import datetime as dt

import typer

from lotse.flows.cli.output import context, emit_json, table
from lotse.tasks import attrition_report


def show_attrition(day: dt.date | None, as_json: bool) -> None:
    data = attrition_report.attrition(context(), day)
    if as_json:
        emit_json(data)
        return

    def percent(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{**r, "share": "" if r["share"] is None else f"{float(str(r['share'])) * 100:.1f} %"}
                for r in rows]

    typer.echo(f"{data['withdrawn']} withdrawal(s), as of {data['as_of']}; share: of the cases that "
               "entered the stage")
    stage = ["process", "version", "stage"]
    for title, rows, columns in [
        ("Per stage", data["by_stage"], [*stage, "entered", "withdrawn", "share"]),
        ("Per stage and category", data["by_category"], [*stage, "category", "withdrawn", "share"]),
        ("Per stage and employer", data["by_employer"],
         [*stage, "employer", "entered", "withdrawn", "share"]),
        ("Per stage and region", data["by_region"], [*stage, "region", "entered", "withdrawn", "share"]),
        ("Per category (share of all withdrawals)", data["categories"], ["category", "withdrawn", "share"]),
    ]:
        typer.echo(f"\n{title}:")
        table(percent(rows), columns)
    changes = data["employer_changes"]
    typer.echo(f"\nChanges of employer inside the alliance: {changes['total']} "
               f"({changes['inside_period']} inside the no-poaching period, {changes['outside_period']} "
               "outside it)")
    table(changes["by_employers"], ["from", "to", "inside_period", "changes"])
