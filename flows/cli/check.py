"""`lotse check`: every deadline due or overdue on a day; reminders queued once per level.

Reads and writes the database only: no Prefect here, so it stays fast for a daily cron. With
PREFECT_API_URL set, the overviews of the cases reminded are posted to it over plain HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer

from lotse.flows.cli.output import as_of_day, context, stream_json, stream_table, warn
from lotse.tasks import course_report, deadlines, overviews

COLUMNS = ["ref", "deadline", "due", "overdue_days", "level", "role", "basis"]


def check(
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="YYYY-MM-DD", help="The day to check; default: today in LOTSE_TIMEZONE."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what is due; queue nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check deadlines: list what is due or overdue and queue the reminders of the levels now due."""
    day = as_of_day(as_of)
    ctx = context()
    # Streamed: each finding is printed as it is read; a real run commits its reminders chunk by
    # chunk before printing them (tasks/deadlines.py `each_due`), so nothing is held whole.
    publish = not dry_run and overviews.PrefectApi.from_environ() is not None
    reminded: dict[str, None] = {}  # the cases whose overviews change, only when they are posted
    counts = {"found": 0, "queued": 0}

    def rows() -> Iterator[dict[str, Any]]:
        for f in deadlines.each_due(ctx, as_of=day, dry_run=dry_run):
            counts["found"] += 1
            if f.reminded:
                counts["queued"] += 1
                if publish:
                    reminded[f.ref] = None
            yield {"ref": f.ref, "deadline": f.deadline, "due": f.due.isoformat(), "level": f.level,
                   "role": f.role, "basis": f.basis, "overdue_days": f.overdue_days, "reminded": f.reminded}

    if as_json:
        stream_json(rows())
    else:
        stream_table(rows(), COLUMNS)
    ended = course_report.ended_below_target(ctx, as_of=day, dry_run=dry_run)  # docs/courses.md
    if publish:
        overviews.after_change(ctx, reminded, warn)
    if as_json:
        return
    verb = "would be queued (dry run)" if dry_run else "queued"
    on = (day or deadlines.today(ctx)).isoformat()
    typer.echo(f"{counts['found']} due or overdue on {on}; {counts['queued']} reminders {verb}")
    for group in ended:
        typer.echo(f"course group {group['course']} ended {group['end']} with {len(group['below'])} case(s) "
                   f"below {group['level']} ({', '.join(group['below'])}): reported to the coordinator"
                   + (" (dry run: not queued)" if dry_run else ""))
