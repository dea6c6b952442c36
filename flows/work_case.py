"""The `work-case` flow: a coordinator works one case in the Prefect UI, through a form built for
that case (tick items, set facts, fire an event, on behalf of an organisation)."""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow, get_client
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.runtime import flow_run
from prefect.states import Cancelled, State
from pydantic import Field, ValidationError

from lotse.config.settings import Settings
from lotse.flows import work_form
from lotse.flows.refusals import refusals_are_no_crash, refused
from lotse.states.errors import BadInput, LotseError, NotSubmitted
from lotse.tasks.prefect_tasks import (
    apply_form,
    deliver_case_messages,
    publish_overview,
    read_worksheet,
    tag_run_with_case,
)

# A reference, nothing else: the server refuses a run whose parameter is a name or any other text.
CaseRef = Annotated[str, Field(pattern=r"^\s*[A-Za-z]{1,4}-\d{4}-\d{4,}\s*$", max_length=32)]
# How often the paused run asks whether the form came back: a submitted form is applied within
# about a second, for one small API read a second while a form is open.
POLL_SECONDS = 1


@flow(
    name="work-case", flow_run_name="work {case_ref}",
    description="Work one case through a form built for it: the run pauses with the events allowed "
                "now (and what each lacks), the open checklist items, the facts that are not personal "
                "data and the organisations that may act. Resuming applies ticks, facts and the event "
                "in one change, or nothing.",
)
def work_case(case_ref: CaseRef) -> dict[str, Any] | State:
    """Load the case, pause for the form generated for it, apply the answer in one transaction and
    leave the artifact `work-<ref>`: what changed, what is missing now.

    The history records `via=flow`, the organisation chosen in the form, and the flow run's id as
    the request id: the same input applied twice changes nothing twice. A refusal by the rules
    (not allowed, role missing, missing requirements, a conflict because the case changed while
    the form was open) changes nothing and ends the run as `Refused` with the one-line reason. A
    form not submitted within LOTSE_WORK_CASE_TIMEOUT_SECONDS changes nothing and ends the run
    as cancelled.

    Args:
        case_ref: The case's reference as shown in the overview, e.g. SE-2026-0042 (never a name).
    """
    refusals_are_no_crash()
    timeout = Settings().work_case_timeout_seconds
    tag_run_with_case(case_ref)
    sheet = read_worksheet(case_ref)
    if isinstance(sheet, LotseError):
        return refused(sheet)
    try:
        given = pause_flow_run(wait_for_input=work_form.model(sheet), timeout=timeout,
                               poll_interval=POLL_SECONDS)
    except FlowPauseTimeout:
        return _not_submitted(sheet.ref, timeout)
    except ValidationError as exc:  # what a pattern lets through (31 February): the field, never the value
        fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})) or "input"
        return refused(BadInput(f"{sheet.ref}: the form's {fields} does not fit its type; nothing was "
                                "changed. Run work-case again to work on the case"))
    answer = work_form.answer(sheet, given)
    run_id = flow_run.get_id()
    result = apply_form(sheet.ref, sheet, answer, request_id=f"flow-run:{run_id}" if run_id else None)
    publish_overview(sheet.ref)
    if isinstance(result, LotseError):
        return refused(result)
    if answer.event and result["changed"]:
        result["messages"] = deliver_case_messages(sheet.ref)
    return result


def _not_submitted(ref: str, timeout: int) -> State:
    error = NotSubmitted(
        f"{ref}: the form was not submitted within {_duration(timeout)}; nothing was changed. "
        "Run work-case again to work on the case"
    )
    run_id = flow_run.get_id()
    if run_id:
        # The pause has expired: the server now turns any state the run proposes into "Failed,
        # never resumed". Forced, the run ends as what happened: cancelled, nothing written.
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(run_id, Cancelled(message=str(error)), force=True)
    return Cancelled(message=str(error), data=error)


def _duration(seconds: int) -> str:
    count, unit = (seconds, "second") if seconds % 60 else (seconds // 60, "minute")
    return f"{count} {unit}{'' if count == 1 else 's'}"
