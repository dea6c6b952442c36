"""`lotse doctor`: is this installation ready to run, one line per check.

Exit 0 when every check holds (warnings included), 1 when one fails. Read-only, and no Prefect
import: the Prefect API is asked over HTTP, and only when it is configured.
"""

from __future__ import annotations

import typer

from lotse.flows.cli.output import emit_json, settings
from lotse.tasks import health


def doctor(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Check the database, the process definitions, the notification routes, the outbox, the
    Prefect schedules, the secret key with the privacy of the files, and where links point; exit 1
    if one check fails."""
    results = health.examine(health.Installation(settings()))
    if as_json:
        emit_json([r.as_json() for r in results])
    else:
        for result in results:
            typer.echo(result.line())
    if health.failed(results):
        raise typer.Exit(1)
