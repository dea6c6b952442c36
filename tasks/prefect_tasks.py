"""The Prefect tasks: each takes ids and plain values (never a session, never a person's name),
opens its own context from the settings, and runs one plain unit of work."""

from __future__ import annotations

from typing import Any

from prefect import task

from config.settings import Settings
from tasks import casework
from tasks.context import Context


def _context() -> Context:
    return Context.from_settings(Settings())


@task(name="apply-event", task_run_name="apply {event} to {case_ref}")
def apply_event(
    case_ref: str, event: str, actor: str, facts: dict[str, Any] | None, note: str | None,
    request_id: str | None,
) -> dict[str, Any]:
    """Fire one event on one case; the flow run's id makes a retried run change nothing twice."""
    return casework.advance(
        _context(), case_ref, event, by=actor, facts=facts, note=note, via="flow",
        request_id=request_id,
    )
