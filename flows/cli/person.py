"""`lotse person`: the rights of the person a case is about (GDPR): a copy of their data, erasure."""

from __future__ import annotations

import typer

from lotse.flows.cli.output import context, emit_json, warn
from lotse.states.errors import BadInput
from lotse.tasks import erasure, person_export

app = typer.Typer(help="The rights of the person (GDPR): export, erase.", no_args_is_help=True)


@app.command()
def export(
    ref: str,
    format_: str = typer.Option("json", "--format", help="json (machine-readable) or html (to hand over)."),
    by: str | None = typer.Option(None, "--by", metavar="ACTOR_ID",
                                  help="Who asks; recorded with the operating-system user."),
) -> None:
    """Everything Lotse holds about the person of a case (Art. 15, 20 GDPR), on standard output;
    the export is recorded in the case's history."""
    if format_ not in person_export.FORMATS:
        raise BadInput(f"--format '{format_}': one of {', '.join(person_export.FORMATS)}")
    data = person_export.export(context(), ref, by=by)
    if format_ == "html":
        typer.echo(person_export.html(data), nl=False)
    else:
        emit_json(data)


@app.command()
def erase(
    ref: str,
    reason: str = typer.Option(..., "--reason", help=erasure.REASON_HELP),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID", help="A coordinator."),
    close: bool = typer.Option(False, "--close", help="Withdraw an open case first (reason: Art. 17)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Erase the person's names, personal facts, message texts and notes of a closed case for good
    (Art. 17 GDPR); the pseudonymous history, deadlines and counts stay. Cannot be undone."""
    ctx = context()
    reason = erasure.check_reason(reason)
    withdrawn = erasure.withdraw_first(ctx, ref, by=by) if close else None
    if withdrawn is not None:
        from lotse.tasks import delivery

        delivery.deliver_after_change(ctx, withdrawn["ref"], warn)  # told before their texts go
        if not as_json:
            typer.echo(f"{withdrawn['ref']}: {withdrawn['from']} -> {withdrawn['to']} (withdraw)")
    done = erasure.erase(ctx, ref, reason=reason, by=by)
    if done.problem:
        warn(done.problem)
    if as_json:
        emit_json({**done.as_json(), "withdrawn": withdrawn is not None})
    else:
        typer.echo(f"{done.ref}: erased names, {len(done.facts)} personal fact(s), "
                   f"{done.messages} message text(s), {done.notes} note(s)")
