"""`lotse cost`: record what recruiting costs and who pays, list it, report it (docs/costs.md)."""

from __future__ import annotations

import typer

from lotse.flows.cli.output import as_of_day, context, emit_json, table, warn
from lotse.states import costs

app = typer.Typer(help="Costs of recruiting and their funding.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON.")


@app.command()
def add(
    ref: str | None = typer.Argument(None, metavar="REF", help="The case; or --cohort."),
    cohort: str | None = typer.Option(
        None, "--cohort", metavar="FILE_OR_MONTH",
        help="A file of case references (one a line), or a month like 2026-03 (the cases opened in it).",
    ),
    category: str = typer.Option(..., "--category", metavar="CATEGORY", help=", ".join(costs.CATEGORIES)),
    amount: str = typer.Option(..., "--amount", metavar="EUROS", help="e.g. 1234.50"),
    payer: str = typer.Option(..., "--payer", metavar="ID",
                              help="An employer, the coordinator (the alliance) or a programme."),
    programme: str | None = typer.Option(None, "--programme", metavar="ID",
                                         help="The funding programme it is charged to."),
    split: str | None = typer.Option(None, "--split", metavar="KEY",
                                     help="A cohort's cost: per_case (default) or per_employer."),
    date: str = typer.Option(..., "--date", metavar="YYYY-MM-DD", help="The day it was incurred."),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID"),
    again: bool = typer.Option(False, "--again", help="Record it though the same cost is recorded already."),
    as_json: bool = JSON,
) -> None:
    """Record a cost of a case, or of a cohort split among its cases."""
    from lotse.tasks import cost_book

    recorded = cost_book.add(context(), ref=ref, cohort=cohort, category=category, amount=amount,
                             payer=payer, programme=programme, split=split, date=date, by=by,
                             again=again)
    for problem in recorded.warnings:
        warn(problem)
    if as_json:
        emit_json(recorded.as_json())
        return
    where = (recorded.shares[0][0] if recorded.cohort is None
             else f"cohort {recorded.cohort}, {len(recorded.shares)} case(s) {recorded.split}")
    funded = f", programme {recorded.programme}" if recorded.programme else ""
    typer.echo(f"cost {recorded.id}: {costs.euros(recorded.amount)} EUR {recorded.category} for {where}, "
               f"paid by {recorded.payer}{funded}")
    if recorded.cohort is not None:
        table([{"ref": r, "employer": e, "share": costs.euros(a)} for r, e, a in recorded.shares],
              ["ref", "employer", "share"])


@app.command()
def void(
    cost_id: int = typer.Argument(..., metavar="ID", min=1, max=2**31 - 1,
                                  help="The cost's number (`lotse cost list`)."),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID"),
    note: str | None = typer.Option(None, "--note", help="Why, e.g. 'typed 3400 for 340' (never a name)."),
    as_json: bool = JSON,
) -> None:
    """Void a cost recorded by mistake: it stays listed, marked, and counts in no report."""
    from lotse.tasks import cost_book

    voided = cost_book.void(context(), cost_id, by=by, note=note)
    if as_json:
        emit_json(voided)
    else:
        typer.echo(f"cost {voided['id']} voided ({', '.join(voided['cases'])})")


@app.command("list")
def list_(
    case: str | None = typer.Option(None, "--case", metavar="REF", help="Only the costs of this case."),
    employer: str | None = typer.Option(None, "--employer", metavar="ID",
                                        help="Only the costs with a share for this employer."),
    as_json: bool = JSON,
) -> None:
    """List the costs, newest first (with --case or --employer: its share beside the amount)."""
    from lotse.tasks import cost_book

    rows = cost_book.list_costs(context(), case=case, employer=employer)
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        row["for"] = row["case"] or f"{row['cohort']} ({len(row['cases'])}, {row['split']})"
        if row["voided_at"]:
            row["amount"] = f"({row['amount']}) voided"
    columns = ["id", "date", "category", "amount", *(["share"] if case or employer else []),
               "payer", "programme", "for", "recorded_by"]
    table(rows, columns)


@app.command()
def report(
    as_of: str | None = typer.Option(None, "--as-of", metavar="YYYY-MM-DD",
                                     help="Count the costs incurred up to this day; default: today."),
    as_json: bool = JSON,
) -> None:
    """What recruiting cost: per employer, category, programme and payer; per integrated and
    per withdrawn case; what sharing saved (docs/costs.md)."""
    from lotse.tasks import cost_report

    data = cost_report.cost_report(context(), as_of_day(as_of))
    if as_json:
        emit_json(data)
        return
    typer.echo(f"{data['total']} EUR in {data['costs']} cost(s) for {data['cases']} case(s), "
               f"as of {data['as_of']}")
    outcomes = data["outcomes"]
    per_outcome = [
        {"outcome": name, "cases": outcomes[name]["cases"], "total": outcomes[name]["total"],
         "per_case": outcomes[name]["per_case"]}
        for name in ("integrated", "withdrawn", "open", "integrated_with_withdrawn")
    ]
    for title, rows, columns in [
        ("Per employer", data["by_employer"], ["employer", "total", "funded", "paid_itself", "saving"]),
        ("Per category", data["by_category"], ["category", "title", "total"]),
        ("Per programme", [{**r, "programme": r["programme"] or "(none)"} for r in data["by_programme"]],
         ["programme", "title", "total"]),
        ("Per payer", data["by_payer"], ["payer", "kind", "total"]),
        ("Per case by outcome", per_outcome, ["outcome", "cases", "total", "per_case"]),
        (f"Saved by sharing: {data['saving']['total']} EUR", data["saving"]["costs"],
         ["cost", "date", "category", "cohort", "amount", "employers", "saving"]),
    ]:
        typer.echo(f"\n{title}:")
        table(rows, columns)
