"""The `advance-case` flow: a coordinator moves one case by one event from the Prefect UI."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from prefect.states import State

from lotse.flows.refusals import refusals_are_no_crash, refused
from lotse.flows.work_case import CaseRef
from lotse.states.errors import LotseError
from lotse.tasks.prefect_tasks import apply_event, deliver_case_messages, publish_overview, tag_run_with_case


@flow(
    name="advance-case", flow_run_name="{event} {case_ref}",
    description="Move one case by one event, on behalf of an organisation, with optional facts and a "
                "note. Lotse checks the stage, the roles and what the event needs; a refusal changes "
                "nothing and ends the run as Refused with the reason.",
)
def advance_case(
    case_ref: CaseRef,
    event: str,
    actor: str,
    facts: dict[str, str] | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any] | State:
    """Apply `event` to the case `case_ref` on behalf of `actor`, with optional facts and note;
    with `expected_version`, only if the case still stands at that version (else a conflict).

    Parameters carry case references, event and actor ids only: never a person's name. The run
    is tagged with the case's process and region, and leaves the case's overview as the artifact
    `case-<ref>`, also when the event is refused. The change's messages are sent right after it.

    A refusal by the rules ends the run in a failed state named `Refused` whose message is the
    one-line reason: no traceback, nothing to retry. Called as a function, it raises that refusal.

    Args:
        case_ref: The case's reference as shown in the overview, e.g. SE-2026-0042 (never a name).
        event: What happened: one of the events of the case's process; it must be allowed in the
            case's stage now.
        actor: The organisation on whose behalf the event is recorded (its actor id); it needs one
            of the roles the event asks for.
        facts: Facts to set with the event, in the same change (dates as dates).
        note: Why, in a few words.
        expected_version: The case's version as shown in the overview; if the case changed since,
            nothing is written and the run is refused as a conflict. Leave it empty to apply the
            event to the case as it is now.
    """
    refusals_are_no_crash()
    run_id = flow_run.get_id()
    request_id = f"flow-run:{run_id}" if run_id else None
    try:
        result = apply_event(case_ref, event, actor, facts, note, request_id=request_id,
                             expected_version=expected_version)
    finally:
        # After the change: a click is answered by the change, the tags and overview follow it.
        tag_run_with_case(case_ref)
        publish_overview(case_ref)
    if isinstance(result, LotseError):
        return refused(result)
    return {**result, "messages": deliver_case_messages(case_ref)}

