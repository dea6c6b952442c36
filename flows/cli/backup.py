"""`lotse backup FILE`: a consistent copy of the database while Lotse keeps working.

SQLite through its online backup API, PostgreSQL through pg_dump. FILE must not exist; a backup
that fails leaves no FILE behind.
"""

from __future__ import annotations

from pathlib import Path

import typer

from lotse.flows.cli.output import emit_json, settings
from lotse.tasks import backup as backups


def backup(
    file: Path = typer.Argument(..., metavar="FILE", help="The new file to write (never overwritten)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Back up the database into FILE while writers run; restore it as described in
    docs/operations.md, then check it with `lotse doctor`."""
    written = backups.backup(settings(), file)
    if as_json:
        emit_json(written.as_json())
        return
    typer.echo(f"backup of {written.source} written to {written.file}: {backups.size(written.size)}, "
               f"schema {written.revision}, {written.cases} cases, {written.actors} actors "
               f"({written.method})")
