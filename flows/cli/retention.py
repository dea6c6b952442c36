"""`lotse retention`: erase the closed cases kept longer than their process's retention.

The same work as the scheduled `apply-retention` deployment, from the shell; no Prefect here.
"""

from __future__ import annotations

import typer

from lotse.flows.cli.output import as_of_day, context, emit_json, warn
from lotse.tasks import apply_retention


def retention(
    dry_run: bool = typer.Option(False, "--dry-run", help="List the cases due; erase nothing."),
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="YYYY-MM-DD", help="The day; default: today in LOTSE_TIMEZONE."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Erase (Art. 17 GDPR) every closed case past its process's `retention` (e.g. 3 years after
    closed): names, personal facts, message texts and notes; audited as `erased` by lotse."""
    day = as_of_day(as_of)
    result = apply_retention.apply(context(), as_of=day, dry_run=dry_run, via="cli")
    if result.get("problem"):
        warn(result["problem"])
    if as_json:
        emit_json(result)
        return
    for ref in result["due"] if dry_run else result["erased"]:
        typer.echo(ref)
    verb = "would be erased (dry run)" if dry_run else "erased"
    typer.echo(f"{len(result['due'] if dry_run else result['erased'])} case(s) past their retention "
               f"on {result['as_of']} {verb}")
