"""Listing cases: the rows of `lotse case list`, filtered by stage, process and region and paged by
reference, read as they stream. Kept apart from the case file so that a list imports no more than
the records and the regions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, select

from lotse.states import tables
from lotse.states.errors import BadInput, NotFound
from lotse.states.moments import iso
from lotse.states.regions import check_region
from lotse.tasks.context import Context


def list_cases(ctx: Context, stage: str | None = None, process: str | None = None,
               region: str | None = None) -> list[dict[str, Any]]:
    """The cases of `each_case`, as one list (for the demo and the tests; `lotse case list`
    streams them)."""
    return list(each_case(ctx, stage=stage, process=process, region=region))


LIST_PAGE = 1_000  # rows fetched from the database at a time while a list streams


def each_case(ctx: Context, stage: str | None = None, process: str | None = None, region: str | None = None,
              *, after: str | None = None, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The cases of a stage, a process and a region (with the regions below it), ordered by case
    id and yielded as they are read, never all in memory; `after` a case's reference (keyset
    paging: the cases after it, whatever the filters), at most `limit`. A bad filter, an unknown
    `after` or a `limit` below 1 is raised here, before a row is read."""
    c = tables.cases.c  # Core columns: no class built, no mapper configured for a list (states/tables.py)
    query = select(c.ref, c.process, c.process_version, c.stage, c.version, c.employer_id, c.region,
                   c.stage_entered_at).order_by(c.id)
    if region is not None:  # the region and every region below it (states/regions.py)
        below = ctx.regions.below(check_region(region.strip(), ctx.regions))
        query = query.where(c.region.in_(sorted(below)))
    # Every version known, the stored copies too: cases on an old version stand in its stages.
    versions = ctx.catalog.versions()
    if stage:
        stages = {name for p in versions for name in p.stages}
        if stage not in stages:  # a typo is an error, not an empty list
            raise NotFound(f"unknown stage '{stage}'; stages: {', '.join(sorted(stages))}")
        query = query.where(c.stage == stage)
    if process:
        names = sorted({p.name for p in versions})
        if process not in names:  # an unknown process is an error, not an empty list
            raise NotFound(f"unknown process '{process}'; known: {', '.join(names)}")
        query = query.where(c.process == process)
    if limit is not None:
        if limit < 1:
            raise BadInput(f"--limit {limit}: at least 1")
        query = query.limit(limit)
    if after is not None:
        with ctx.db.reading() as session:
            after_id = session.scalar(select(c.id).where(c.ref == after.strip().upper()))
        if after_id is None:  # a page of nothing would look like the end of the list
            raise BadInput(f"--after: unknown case '{after.strip()}'; see `lotse case list`")
        query = query.where(c.id > after_id)
    return _cases_as_read(ctx, query)


def _cases_as_read(ctx: Context, query: Select[Any]) -> Iterator[dict[str, Any]]:
    with ctx.db.reading() as session:
        for ref, name, version, stage, row_version, employer, region, entered in session.execute(
            query.execution_options(yield_per=LIST_PAGE)
        ):
            yield {"ref": ref, "process": name, "process_version": version, "stage": stage,
                   "version": row_version, "employer": employer, "region": region,
                   "stage_entered_at": iso(entered)}


