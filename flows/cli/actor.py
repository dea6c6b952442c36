"""`lotse actor`: the alliance's directory (docs/directory.md)."""

from __future__ import annotations

import typer

from lotse.flows.cli.output import context, emit_json, table, warn
from lotse.states.errors import BadInput
from lotse.tasks import directory

app = typer.Typer(help="The alliance's actors (organisations).", no_args_is_help=True)

CONTACT_HELP = ("A function mailbox or switchboard number (pflege@klinik.example, +49 4551 1234-0), never a "
                "private person's: Lotse cannot tell the difference, you answer for it. '-' empties it.")


def _services(pairs: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs:
        role, sep, text = pair.partition("=")
        if not sep or not role.strip():
            raise BadInput(f"--service {pair!r}: give ROLE=TEXT (e.g. housing='Flats near the clinic')")
        found[role.strip()] = text
    return found


def _profile(
    name: str | None, email: str | None, region: str | None, serves: list[str] | None,
    services: list[str] | None, languages: list[str] | None, contact: str | None, website: str | None,
) -> directory.Profile:
    return directory.Profile(
        name=name, email=email, region=region, serves=serves or None, services=_services(services or []),
        languages=languages or None, contact=contact, website=website,
    )


@app.command()
def add(
    actor_id: str = typer.Argument(..., metavar="ID"),
    name: str = typer.Option(..., "--name", help="The organisation's name (no person's name)."),
    role: list[str] = typer.Option(..., "--role", help="A role; repeat for more."),
    region: str | None = typer.Option(None, "--region", help="Its region: any level of config/regions.yaml."),
    email: str | None = typer.Option(None, "--email", help="The function mailbox Lotse writes to."),
    serves: list[str] = typer.Option([], "--serves", metavar="REGION", help="A region it serves besides."),
    service: list[str] = typer.Option([], "--service", metavar="ROLE=TEXT", help="What it offers in a role."),
    language: list[str] = typer.Option([], "--language", metavar="CODE", help="A language spoken (de, en)."),
    contact: str | None = typer.Option(None, "--contact", help=CONTACT_HELP),
    website: str | None = typer.Option(None, "--website", metavar="URL"),
    by: str | None = typer.Option(None, "--by", metavar="ACTOR_ID",
                                  help="The coordinator adding it (the first actors: none)."),
) -> None:
    """Add an actor with one or more roles."""
    actor = directory.add_actor(
        context(), actor_id, name=name, roles=role, region=region, email=email, by=by,
        profile=_profile(None, None, None, serves, service, language, contact, website),
    )
    typer.echo(f"added {actor.id} ({', '.join(sorted(actor.roles))})")


@app.command()
def edit(
    actor_id: str = typer.Argument(..., metavar="ID"),
    name: str | None = typer.Option(None, "--name"),
    email: str | None = typer.Option(None, "--email", help="The function mailbox; '-' empties it."),
    region: str | None = typer.Option(None, "--region", help="Its region; '-': the whole alliance."),
    serves: list[str] = typer.Option([], "--serves", metavar="REGION",
                                     help="The regions it serves besides (replaces them); '-': none."),
    service: list[str] = typer.Option([], "--service", metavar="ROLE=TEXT",
                                      help="What it offers in a role; ROLE= removes it."),
    language: list[str] = typer.Option([], "--language", metavar="CODE",
                                       help="The languages spoken (replaces them); '-': none."),
    contact: str | None = typer.Option(None, "--contact", help=CONTACT_HELP),
    website: str | None = typer.Option(None, "--website", metavar="URL", help="'-' empties it."),
    add_role: list[str] = typer.Option([], "--add-role", metavar="ROLE"),
    remove_role: list[str] = typer.Option([], "--remove-role", metavar="ROLE"),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID", help="The coordinator making the change."),
    as_json: bool = typer.Option(False, "--json", help="Print what changed as JSON."),
) -> None:
    """Change an actor of the directory; every change is logged with its author."""
    changed = directory.edit_actor(
        context(), actor_id, _profile(name, email, region, serves, service, language, contact, website),
        add_roles=add_role, remove_roles=remove_role, by=by,
    )
    if as_json:
        emit_json(changed)
    elif not changed:
        typer.echo(f"{actor_id}: nothing changed")
    else:
        typer.echo(f"changed {actor_id}: {', '.join(changed)}")


@app.command()
def remove(
    actor_id: str = typer.Argument(..., metavar="ID"),
    hand_over_to: str | None = typer.Option(
        None, "--hand-over-to", metavar="OTHER",
        help="Hand the open cases it employs and the open items only it is asked for to OTHER."),
    note: str | None = typer.Option(None, "--note", help="Why, for the cases' history."),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID", help="The coordinator removing it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Take an actor out of the directory; refused while it owns open cases or items, unless
    --hand-over-to names who takes them over (and is told, one message per case). What was queued
    for the actor and not sent is cancelled."""
    from lotse.tasks import delivery, hand_over, overviews  # routing and messages: only for a removal

    ctx = context()
    result = hand_over.remove_actor(ctx, actor_id, by=by, hand_over_to=hand_over_to, note=note)
    for ref in result["cases"]:
        delivery.deliver_after_change(ctx, ref, warn)
    overviews.after_change(ctx, result["cases"], warn)  # the new employer, the hand-over's line
    if as_json:
        emit_json(result)
        return
    groups = f" and {len(result['groups'])} course group(s)" if result["groups"] else ""
    moved = (f"; handed {len(result['cases'])} case(s){groups} over to {result['to']}, told in "
             f"{result['told']} message(s)") if result["to"] else ""
    unsent = result["cancelled"]
    cancelled = f"; {unsent} message(s) to it not sent yet cancelled" if unsent else ""
    typer.echo(f"removed {actor_id}{moved}{cancelled}")


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the actors with their profiles."""
    rows = directory.profiles(context())
    if as_json:
        emit_json(rows)
    else:
        shown = [{**row, "serves": ", ".join(row["serves"]), "languages": ", ".join(row["languages"])}
                 for row in rows]
        table(shown, ["id", "name", "roles", "region", "serves", "email", "contact", "languages", "website"])


@app.command()
def changes(
    actor_id: str | None = typer.Argument(None, metavar="[ID]"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The directory's change log: who changed which actor, when, and what."""
    rows = directory.changes(context(), actor_id)
    if as_json:
        emit_json(rows)
    else:
        table([{**r, "changes": ", ".join(r["changes"])} for r in rows],
              ["at", "actor", "action", "by", "via", "proof", "changes"])
