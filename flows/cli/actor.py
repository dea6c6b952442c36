"""`lotse actor`: the alliance's directory."""

from __future__ import annotations

import typer

from lotse.flows.cli.output import context, emit_json, table
from lotse.tasks import directory

app = typer.Typer(help="The alliance's actors (organisations and people).", no_args_is_help=True)


@app.command()
def add(
    actor_id: str = typer.Argument(..., metavar="ID"),
    name: str = typer.Option(..., "--name"),
    role: list[str] = typer.Option(..., "--role", help="A role; repeat for more."),
    region: str | None = typer.Option(None, "--region"),
    email: str | None = typer.Option(None, "--email"),
) -> None:
    """Add an actor with one or more roles."""
    actor = directory.add_actor(context(), actor_id, name=name, roles=role, region=region, email=email)
    typer.echo(f"added {actor.id} ({', '.join(sorted(actor.roles))})")


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the actors."""
    rows = [
        {"id": a.id, "name": a.name, "roles": sorted(a.roles), "region": a.region, "email": a.email}
        for a in directory.list_actors(context())
    ]
    if as_json:
        emit_json(rows)
    else:
        table(rows, ["id", "name", "roles", "region", "email"])
