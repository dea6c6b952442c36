"""`lotse check`: every deadline due or overdue on a day; reminders queued once per level.

Reads and writes the database only: no Prefect here, so it stays fast for a daily cron. With
PREFECT_API_URL set, the overviews of the cases reminded are posted to it over plain HTTP.
"""

from __future__ import annotations

import typer

from lotse.flows.cli.output import as_of_day, context, emit_json, table, warn
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
    findings = deadlines.check_deadlines(ctx, as_of=day, dry_run=dry_run)
    ended = course_report.ended_below_target(ctx, as_of=day, dry_run=dry_run)  # docs/courses.md
    if not dry_run:
        overviews.after_change(ctx, [f.ref for f in findings if f.reminded], warn)
    rows = [
        {k: v for k, v in f.as_json().items() if k in (*COLUMNS, "reminded")} for f in findings
    ]
    if as_json:
        emit_json(rows)
        return
    table(rows, COLUMNS)
    queued = sum(1 for f in findings if f.reminded)
    verb = "would be queued (dry run)" if dry_run else "queued"
    on = (day or deadlines.today(ctx)).isoformat()
    typer.echo(f"{len(findings)} due or overdue on {on}; {queued} reminders {verb}")
    for group in ended:
        typer.echo(f"course group {group['course']} ended {group['end']} with {len(group['below'])} case(s) "
                   f"below {group['level']} ({', '.join(group['below'])}): reported to the coordinator"
                   + (" (dry run: not queued)" if dry_run else ""))
