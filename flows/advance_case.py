"""The `advance-case` flow: a coordinator moves one case by one event from the Prefect UI."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from lotse.tasks.prefect_tasks import apply_event, deliver_case_messages, publish_timeline, tag_run_with_case


@flow(name="advance-case", flow_run_name="{event} {case_ref}")
def advance_case(
    case_ref: str,
    event: str,
    actor: str,
    facts: dict[str, str] | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Apply `event` to the case `case_ref` on behalf of `actor`, with optional facts and note;
    with `expected_version`, only if the case still stands at that version (else a conflict).

    Parameters carry case references, event and actor ids only: never a person's name. The run
    is tagged with the case's process and region, and leaves the case's timeline as the artifact
    `case-<ref>`, also when the event is refused. The change's messages are sent right after it.
    """
    run_id = flow_run.get_id()
    request_id = f"flow-run:{run_id}" if run_id else None
    tag_run_with_case(case_ref)
    try:
        result = apply_event(case_ref, event, actor, facts, note, request_id=request_id,
                             expected_version=expected_version)
    finally:
        publish_timeline(case_ref)
    return {**result, "messages": deliver_case_messages(case_ref)}
