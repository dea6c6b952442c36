"""`lotse enrol`: open a case per row of a CSV or XLSX list of new recruits.

Runs the same task as the `enrol-cohort` flow; as a flow run when PREFECT_API_URL is set.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer

from lotse.flows.cli.output import context, emit_json, settings, warn
from lotse.states.errors import BadInput


def enrol(
    file: Path = typer.Argument(..., metavar="FILE", help="A .csv (UTF-8) or .xlsx file, a row a person."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the good rows, skip the bad."),
    by: str | None = typer.Option(None, "--by", metavar="ACTOR_ID", help="Default: each row's employer."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    sheet: str | None = typer.Option(
        None, "--sheet", metavar="NAME", help="The workbook's sheet; default: the first with the header row."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row, write nothing."),
) -> None:
    """Enrol a cohort: every row is checked first; one bad row and nothing is imported (unless
    --skip-invalid). Importing the same file again enrols no one twice."""
    if os.environ.get("PREFECT_API_URL") and not dry_run:  # a dry run writes nothing: no flow run
        if sheet is not None:
            raise BadInput("--sheet is not yet passed to the enrol-cohort flow; leave it out (the sheet "
                           "with the header row is found) or run without PREFECT_API_URL")
        from lotse.flows.cli.prefect_console import flow_run_ahead
        from lotse.flows.enrol_cohort import enrol_cohort
        from lotse.tasks import inbox

        neutral = inbox.receive(settings().home, file)  # the file's own name may be a person's
        flow_run_ahead()
        try:
            result = {**enrol_cohort(file=neutral.name, skip_invalid=skip_invalid, by=by), "file": file.name}
        except BadInput as refused:  # the operator's own line names the operator's own file
            raise BadInput(str(refused).replace(neutral.name, file.name)) from None
    else:
        from lotse.tasks import cohort_import

        result = cohort_import.enrol(context(), file, skip_invalid=skip_invalid, by=by, sheet=sheet,
                                     dry_run=dry_run, progress=_progress).as_dict()
    if as_json:
        emit_json(result)
    refused = bool(result["problems"]) and not result["skipped"]
    if refused:
        raise BadInput(_problems(result))
    for problem in result["problems"]:
        warn(f"skipped {_where(problem)}: {problem['reason']}")
    unlisted = result.get("problem_count", 0) - len(result["problems"])
    if unlisted > 0:
        warn(f"and {unlisted} more problem(s), not listed")
    if result.get("dry_run") and not as_json:
        typer.echo(f"{result['file']}: {result['rows']} row(s) checked, {result['rows'] - result['skipped']} "
                   f"valid, {result['skipped']} bad row(s); nothing written (--dry-run)")
    elif not as_json:
        typer.echo(
            f"{result['file']}: {result['enrolled']} case(s) enrolled, {result['already_enrolled']} "
            f"enrolled before, {result['skipped']} bad row(s) skipped, of {result['rows']} row(s)"
        )
        if result["refs"]:
            typer.echo(f"new cases: {result['refs'][0]} ... {result['refs'][-1]}"
                       if len(result["refs"]) > 5 else f"new cases: {', '.join(result['refs'])}")
    sys.stdout.flush()


def _problems(result: dict[str, Any]) -> str:
    shown = "; ".join(f"{_where(p)}: {p['reason']}" if p["line"] else p["reason"]
                      for p in result["problems"][:50])
    count = result.get("problem_count", len(result["problems"]))
    more = f"; and {count - 50} more (see --json)" if count > 50 else ""
    return f"{result['file']}: {count} problem(s), nothing imported: {shown}{more}"


def _progress(done: int, total: int) -> None:
    """A long import says how far it is, a chunk at a time (each chunk is committed)."""
    from lotse.tasks.cohort_import import CHUNK

    if total > CHUNK:
        print(f"enrolling: {done} of {total} row(s) written", file=sys.stderr, flush=True)


def _where(problem: dict[str, Any]) -> str:
    return problem.get("where") or (f"line {problem['line']}" if problem["line"] else "file")
