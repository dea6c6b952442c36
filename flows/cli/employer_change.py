"""`lotse case change-employer`: move a case to another employer of the alliance (docs/attrition.md).

Never a flow run: the note is free text about a person, which Prefect must not keep.
"""

from __future__ import annotations

import typer

from lotse.flows.cli.output import context, emit_json, warn


def change_employer(
    ref: str,
    to: str = typer.Option(..., "--to", metavar="EMPLOYER_ID", help="The new employer (an actor with the "
                           "employer role)."),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID", help="Who moves it: the coordinator, or "
                           "outside the no-poaching period the new employer itself."),
    note: str | None = typer.Option(None, "--note", help="Why; required inside the no-poaching period. "
                                    "Kept in the case's history, never in a report or in Prefect."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Move a case to another employer of the alliance; inside the no-poaching period
    (LOTSE_NO_POACHING_MONTHS from arrival_date) only the coordinator, with --note."""
    from lotse.tasks import delivery, employer_change, overviews  # not for every `lotse case` command

    ctx = context()
    result = employer_change.change_employer(ctx, ref, to=to, by=by, note=note)
    result["messages"] = delivery.deliver_after_change(ctx, result["ref"], warn)
    overviews.after_change(ctx, [result["ref"]], warn)
    if as_json:
        emit_json(result)
        return
    period = (f"inside the no-poaching period (until {result['period_ends']})" if result["inside_period"]
              and result["period_ends"] else "before the arrival" if result["inside_period"]
              else "outside the no-poaching period")
    typer.echo(f"{result['ref']}: employer {result['from']} -> {result['to']} ({period}); "
               f"{result['messages_queued']} message(s) queued")
