"""The `advance-case` flow: a coordinator moves one case by one event from the Prefect UI."""

from __future__ import annotations

import logging
from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from prefect.states import Failed, State

from lotse.states.errors import LotseError, NotReady
from lotse.tasks.prefect_tasks import apply_event, deliver_case_messages, publish_timeline, tag_run_with_case


@flow(name="advance-case", flow_run_name="{event} {case_ref}")
def advance_case(
    case_ref: str,
    event: str,
    actor: str,
    facts: dict[str, str] | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any] | State:
    """Apply `event` to the case `case_ref` on behalf of `actor`, with optional facts and note;
    with `expected_version`, only if the case still stands at that version (else a conflict).

    Parameters carry case references, event and actor ids only: never a person's name. The run
    is tagged with the case's process and region, and leaves the case's timeline as the artifact
    `case-<ref>`, also when the event is refused. The change's messages are sent right after it.

    A refusal by the rules ends the run in a failed state named `Refused` whose message is the
    one-line reason: no traceback, nothing to retry. Called as a function, it raises that refusal.
    """
    _refusals_are_no_crash()
    run_id = flow_run.get_id()
    request_id = f"flow-run:{run_id}" if run_id else None
    tag_run_with_case(case_ref)
    try:
        result = apply_event(case_ref, event, actor, facts, note, request_id=request_id,
                             expected_version=expected_version)
    finally:
        publish_timeline(case_ref)
    if isinstance(result, LotseError):
        return Failed(name="Refused", message=str(result), data=result)
    return {**result, "messages": deliver_case_messages(case_ref)}


class _Refusal(logging.Filter):
    """Drops the engine's "exited with unexpected exception" record when the exception is the
    refusal this flow returned: Prefect raises a failed run's result once more after the run has
    ended (in a deployment's process), and would log it with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, LotseError) or isinstance(error, NotReady)


def _refusals_are_no_crash() -> None:
    for name in ("prefect.flow_runs", "prefect.engine"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Refusal) for f in logger.filters):
            logger.addFilter(_Refusal())
