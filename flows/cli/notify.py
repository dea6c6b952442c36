"""`lotse notify` (deliver what is due, test a route) and `lotse outbox` (what was sent, what waits,
`retry` to queue dead messages again).

Neither imports Prefect: the scheduled `deliver-notifications` flow runs the same delivery.
"""

from __future__ import annotations

import typer

from lotse.flows.cli.output import context, emit_json, table, warn
from lotse.states.errors import Refused
from lotse.tasks import delivery, outbox_retry, route_check

app = typer.Typer(help="Notifications: deliver the outbox, test a route.")
JSON = typer.Option(False, "--json", help="Print JSON.")
SHOWN = 20  # problems printed one per line; the rest are in `lotse outbox`


@app.callback(invoke_without_command=True)
def notify(
    typer_ctx: typer.Context,
    now: bool = typer.Option(False, "--now", help="Also retry failed messages at once (no backoff)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be sent; send nothing."),
    as_json: bool = JSON,
) -> None:
    """Deliver every message that is due (see also `lotse notify test`)."""
    if typer_ctx.invoked_subcommand is not None:
        return
    ctx = context()
    if dry_run:
        rows = delivery.preview(ctx, retry_now=now)
        if as_json:
            emit_json(rows)
            return
        for row in rows:
            where = ", ".join(row["routes"]) or f"no route: {row['problem']}"
            typer.echo(f"#{row['id']} {row['case'] or '-'} to {row['to']} via {row['channel'] or '?'} "
                       f"({where})\n  {row['subject']}")
        typer.echo(f"{len(rows)} message(s) due; nothing was sent (--dry-run)")
        return
    report = delivery.deliver(ctx, retry_now=now)
    if as_json:
        emit_json(report.as_dict())
        return
    for line in report.warnings:
        warn(f"notification routes: {line}")
    for problem in report.problems[:SHOWN]:
        warn(f"#{problem['id']} to {problem['to']} {problem['status']}: {problem['error']}")
    if len(report.problems) > SHOWN:
        warn(f"and {len(report.problems) - SHOWN} more not sent; see `lotse outbox --status failed`")
    typer.echo(report.summary() + ("" if not report.problems else " (see `lotse outbox`)"))


@app.command("test")
def test(
    who: str = typer.Argument(..., metavar="ROLE_OR_ACTOR"),
    as_json: bool = JSON,
) -> None:
    """Send a test message through the configured route(s) of an actor or of a role."""
    result = route_check.send_test(context(), who)
    if as_json:
        emit_json(result)
    else:
        for line in result["warnings"]:
            warn(f"notification routes: {line}")
        for sent in result["sent"]:
            state = "sent" if sent["ok"] else f"FAILED: {sent['error']}"
            typer.echo(f"{sent['to']} via {sent['channel']} ({sent['route']}): {state}")
            if sent["revived"]:
                numbers = ", ".join(f"#{n}" for n in sent["revived"])
                typer.echo(f"  the route works again: its {len(sent['revived'])} dead message(s) "
                           f"{numbers} are queued again; `lotse notify` sends them")
        for gap in result["missing"]:
            warn(gap)
    failed = [s for s in result["sent"] if not s["ok"]]
    if result["missing"] or failed:
        what = []
        if result["missing"]:
            what.append(f"{len(result['missing'])} without a route")
        if failed:
            what.append(f"{len(failed)} route(s) failed")
        raise Refused(f"test of '{who}': {' and '.join(what)}; see the lines above")


outbox_app = typer.Typer(help="The outbox: what was sent, what waits; bring dead messages back.")


@outbox_app.callback(invoke_without_command=True)
def outbox(
    typer_ctx: typer.Context,
    status: str | None = typer.Option(None, "--status",
                                      help="pending, sent, failed, dead, demo or cancelled."),
    case: str | None = typer.Option(None, "--case", metavar="REF"),
    as_json: bool = JSON,
) -> None:
    """List the messages of the outbox: to whom, how, sent or why not (see also `lotse outbox
    retry`). RESENT counts the times a message was sent again after a delivery died mid-send."""
    if typer_ctx.invoked_subcommand is not None:
        return
    rows = delivery.outbox(context(), status=status, case_ref=case)
    if as_json:
        emit_json(rows)
    else:
        table(rows, ["id", "case", "to", "channel", "status", "attempts", "resent", "created_at",
                     "sent_at", "last_error"])


@outbox_app.command("retry")
def retry(
    case: str | None = typer.Option(None, "--case", metavar="REF", help="The dead messages of a case."),
    dead: bool = typer.Option(False, "--dead", help="Every dead message."),
    ids: list[int] = typer.Option([], "--id", metavar="N", help="These messages (repeatable)."),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID"),
    as_json: bool = JSON,
) -> None:
    """Queue dead messages again: pending, due now, with fresh attempts; audited."""
    result = outbox_retry.retry(context(), by=by, case_ref=case, dead=dead, ids=ids)
    if as_json:
        emit_json(result)
        return
    if not result["revived"]:
        typer.echo("no dead message to queue again")
        return
    numbers = ", ".join(f"#{n}" for n in result["revived"])
    typer.echo(f"{len(result['revived'])} dead message(s) queued again: {numbers}; `lotse notify` sends them")
