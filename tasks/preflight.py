"""Checking a request completely before Prefect creates a flow run for it.

Prefect stores a run's parameters when it creates the run and keeps them for ever, refused or not.
So the command line checks everything a run would be refused for by its input (the case, the
actor, the event, every fact's name and value) first: what it refuses never reaches Prefect, and
its error line, shown to the operator only, is the one place a value may be repeated.
"""

from __future__ import annotations

from typing import Any

from lotse.states import store
from lotse.states.errors import BadInput
from lotse.tasks import casework
from lotse.tasks.context import Context


def check_advance(ctx: Context, ref: str, event: str, *, by: str, facts: dict[str, Any]) -> None:
    """Refuse an `advance` whose case or actor is unknown, whose event its process does not have,
    or whose facts are unknown to the process or do not fit their type."""
    with ctx.db.reading() as session:
        record = store.find_case(session, ref)
        store.get_actor(session, by)
    process = ctx.catalog.get(record.process, record.process_version)
    if event not in process.events:
        raise BadInput(f"{record.ref}: process {process.name} has no event '{event}'; "
                       f"known: {', '.join(process.events)}")
    casework.parse_facts(process, facts)
