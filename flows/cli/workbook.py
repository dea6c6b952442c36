"""`lotse report --xlsx FILE`: the workbook of every report, with charts (tasks/workbook.py).

Read from the database directly, never through Prefect: the workbook may hold names (`--with-names`
by a coordinator, recorded in each named case's history), and no name may reach a flow run.
Everything is checked before a figure is read: a bad period, names without a coordinator, a folder
that is not there or not writable are one error line, and no file is written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from lotse.flows.cli.output import context, emit_json, warn
from lotse.states import periods, store
from lotse.states.errors import BadInput, NotFound
from lotse.tasks import workbook
from lotse.tasks.context import Context


def write_workbook(file: str, *, as_of: dt.date | None, period: str, region_level: int | None,
                   with_names: bool, by: str | None, as_json: bool) -> None:
    try:
        periods.check_period(period)
    except ValueError as exc:
        raise BadInput(f"--period: {exc}") from None
    target = workbook.check_target(Path(file))
    ctx = context()
    author = _coordinator(ctx, by) if with_names else None
    data = workbook.figures(ctx, as_of, period, region_level)
    for problem in data[workbook.PROBLEMS]:
        warn(problem)
    stuck = data[workbook.PIPELINE]["stuck"]
    names = workbook.names_for(ctx, (s["ref"] for s in stuck), author) if author else None
    book = workbook.build(data, names, ctx.settings.locale)
    written = workbook.save(book, target)
    charts = sum(len(sheet._charts) for sheet in book.worksheets)
    if as_json:
        emit_json({"file": str(written), "sheets": book.sheetnames, "charts": charts,
                   "as_of": data[workbook.PIPELINE]["as_of"], "period": period, "names": with_names})
        return
    private = " (with names: keep it private)" if with_names else ""
    typer.echo(f"wrote {written}: {len(book.sheetnames)} sheets, {charts} charts, as of "
               f"{data[workbook.PIPELINE]['as_of']}{private}")


def _coordinator(ctx: Context, by: str | None) -> str:
    """Names go only to a coordinator, named by --by: its id."""
    if by is None:
        raise BadInput("--with-names needs --by ACTOR_ID, a coordinator; without it the workbook names "
                       "no one")
    with ctx.db.reading() as session:
        try:
            author = store.get_actor(session, by)
        except NotFound:
            raise BadInput(f"--by '{by[:64]}' is not an actor; see `lotse actor list`") from None
    if not author.is_coordinator:
        raise BadInput(f"--with-names is for a coordinator; '{author.id}' is not one (leave out "
                       "--with-names for a workbook without names)")
    return author.id
