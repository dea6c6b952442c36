"""`lotse family`: record a case's family members and list them with what they need."""

from __future__ import annotations

import typer

from lotse.flows.cli.case_sections import family_lines
from lotse.flows.cli.output import context, emit_json, warn
from lotse.tasks import family, overviews

app = typer.Typer(help="Family members of a case and what they need (Kita, school, visa, ...).",
                  no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON.")


@app.command()
def add(
    ref: str,
    relation: str = typer.Option(..., "--relation", metavar="spouse|child"),
    given_name: str = typer.Option(..., "--given-name"),
    birth_year: int | None = typer.Option(None, "--birth-year", metavar="YYYY",
                                          help="Needed for a child: its needs depend on its age."),
    arrives: str | None = typer.Option(None, "--arrives", metavar="YYYY-MM-DD",
                                       help="Comes later (family reunification) on this day."),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID"),
    as_json: bool = JSON,
) -> None:
    """Record a family member of a case; its needs become checklist items with deadlines, and
    their owners are told."""
    ctx = context()
    result = family.add_member(ctx, ref, relation=relation, given_name=given_name, birth_year=birth_year,
                               arrives=family.parse_arrives(arrives), by=by)
    from lotse.tasks import delivery

    result["messages"] = delivery.deliver_after_change(ctx, result["ref"], warn)
    overviews.after_change(ctx, [result["ref"]], warn)
    if as_json:
        emit_json(result)
        return
    lines = [f"{result['ref']}: {result['label']} recorded"]
    lines += [f"  {n['item']} ({n['owner']}, due {n['due'] or '-'}): {n['title']}" for n in result["needs"]]
    typer.echo("\n".join(lines))


@app.command("list")
def list_(ref: str, as_json: bool = JSON) -> None:
    """List a case's family members with their needs (names included: for Lotse's own users)."""
    data = family.members(context(), ref)
    if as_json:
        emit_json(data)
        return
    typer.echo("\n".join(family_lines(data["family"])) or f"{data['ref']}: no family members recorded")
