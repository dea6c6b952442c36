"""The `advance-case` flow on a real Prefect server: it moves the case, names the run after the
event and the case, tags it with process and region, and leaves the case's overview, never a name."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from prefect.exceptions import PrefectHTTPStatusError

from lotse.flows import deployments
from lotse.flows.advance_case import advance_case
from lotse.states.errors import BadInput, RequirementsMissing
from lotse.tasks import case_file, casework
from lotse.tasks.context import Context
from lotse.tasks.prefect_tasks import apply_event
from tests.flows.server_reads import artifacts, every, post

pytestmark = pytest.mark.prefect

GIVEN, FAMILY = "Maricel", "Dalisay"


def ready_for_visa(ctx: Context) -> str:
    ref = casework.open_case(ctx, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                             employer="klinik-nord")
    casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
    return ref


def overview(ref: str) -> str:
    found = artifacts(f"case-{ref.lower()}")
    assert found, f"no overview artifact for {ref}"
    return str(found[0]["data"])


def test_the_flow_moves_the_case_and_names_and_tags_the_run(
    prefect_harness: None, alliance: Context, lotse_env: None
) -> None:
    ref = ready_for_visa(alliance)

    state = advance_case(case_ref=ref, event="apply_visa", actor="vermittlung", return_state=True)

    assert state.is_completed()
    assert case_file.case_file(alliance, ref)["stage"] == "visa"
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert run.name == f"apply_visa {ref}"
    assert {"pflege", "SE-Nord"} <= set(run.tags)
    history = case_file.case_file(alliance, ref)["history"]
    assert history[-1]["via"] == "flow" and history[-1]["action"] == "apply_visa"


def test_every_run_leaves_the_case_overview_without_the_persons_name(
    prefect_harness: None, alliance: Context, lotse_env: None
) -> None:
    ref = ready_for_visa(alliance)

    advance_case(case_ref=ref, event="apply_visa", actor="vermittlung", note=None)

    markdown = overview(ref)
    assert markdown.startswith(f"# Fall {ref}\n") and "- **Stufe:** Visumverfahren" in markdown
    assert "| Visum beantragt: Angeworben → Visumverfahren | Vermittlung Brücke | Prefect |" in markdown
    assert GIVEN not in markdown and FAMILY not in markdown


def test_a_refused_event_fails_the_run_changes_nothing_and_still_leaves_the_overview(
    prefect_harness: None, alliance: Context, lotse_env: None
) -> None:
    ref = casework.open_case(alliance, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                             employer="klinik-nord")

    with pytest.raises(RequirementsMissing, match="employment_contract"):
        advance_case(case_ref=ref, event="apply_visa", actor="klinik-nord")

    assert case_file.case_file(alliance, ref)["stage"] == "recruited"
    markdown = overview(ref)
    assert "- **Stufe:** Angeworben" in markdown and "Fall eröffnet (Angeworben)" in markdown
    assert "Arbeitsvertrag unterschrieben – Klinik Nord (Arbeitgeber)" in markdown  # what apply_visa lacks


def test_a_refusal_ends_the_run_as_refused_with_its_reason_and_no_traceback_in_its_logs(
    prefect_harness: None, alliance: Context, lotse_env: None
) -> None:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    ref = casework.open_case(alliance, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                             employer="klinik-nord")

    state = advance_case(case_ref=ref, event="apply_visa", actor="klinik-nord", return_state=True)

    assert state.is_failed() and state.name == "Refused"
    assert state.message is not None and "\n" not in state.message
    assert state.message.startswith(f"{ref}: 'apply_visa' needs") and "employment_contract" in state.message
    run_id = state.state_details.flow_run_id
    APILogWorker.drain_all(timeout=10)  # logs go to the server in batches
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
        [task_run] = [t for t in client.read_task_runs()
                      if t.flow_run_id == run_id and t.name.startswith("apply")]
    text = "\n".join(log.message for log in logs)
    assert "Finished in state Refused" in text
    assert "Traceback" not in text and "RequirementsMissing" not in text
    assert task_run.state is not None and task_run.state.is_completed()
    assert case_file.case_file(alliance, ref)["stage"] == "recruited"


def test_an_unknown_case_fails_the_run_without_an_overview(
    prefect_harness: None, alliance: Context, lotse_env: None
) -> None:
    state = advance_case(case_ref="SE-1999-0001", event="apply_visa", actor="koord", return_state=True)

    assert state.is_failed() and state.name == "Refused"
    assert "unknown case" in (state.message or "")
    assert not artifacts("case-se-1999-0001")


def test_a_personal_fact_is_refused_through_prefect_and_set_with_the_command_line_instead(
    prefect_harness: None, alliance: Context, lotse_env: None
) -> None:
    ref = ready_for_visa(alliance)
    reason = f"moved away {uuid.uuid4().hex}"  # a value no other test sends
    [deployment] = [d for d in deployments.build(alliance).built if d.name == "advance-case"]

    with get_client(sync_client=True) as client:
        deployment_id = deployment.apply()
        # Prefect stores parameters when it creates a run: the server must refuse the run itself.
        with pytest.raises(PrefectHTTPStatusError, match="409"):
            client.create_flow_run_from_deployment(deployment_id, parameters={
                "case_ref": ref, "event": "withdraw", "actor": "klinik-nord",
                "facts": {"withdraw_reason": reason}})
        with pytest.raises(PrefectHTTPStatusError, match="409"):
            client.create_flow_run_from_deployment(deployment_id, parameters={
                "case_ref": ref, "event": "withdraw", "actor": "klinik-nord", "note": "x" * 201})
        allowed = client.create_flow_run_from_deployment(deployment_id, parameters={
            "case_ref": ref, "event": "arrive", "actor": "koord", "facts": {"arrival_date": "2026-05-01"}})
        client.delete_flow_run(allowed.id)

    assert reason not in str(every("/flow_runs/filter", "START_TIME_DESC"))
    # Called as a plain flow (no deployment), the task still refuses to apply it.
    refused = apply_event.fn(ref, "withdraw", "klinik-nord", {"withdraw_reason": "-"}, None, request_id=None)
    assert isinstance(refused, BadInput)
    assert re.search(r"withdraw_reason is personal data .* `lotse case set", str(refused))
    casework.set_facts(alliance, ref, {"withdraw_category": "family", "withdraw_reason": reason},
                       by="klinik-nord")
    done = advance_case(case_ref=ref, event="withdraw", actor="klinik-nord")

    assert done["to"] == "withdrawn"
    assert reason not in str(every("/flow_runs/filter", "START_TIME_DESC"))


def test_the_flow_run_sends_the_changes_messages_right_after_it(
    prefect_harness: None, alliance: Context, lotse_env: None, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.notifications.conftest import Webhook

    chat = Webhook()
    try:
        routes = tmp_path / "routes.yaml"
        routes.write_text(f'version: 1\nurls:\n  - "{chat.url()}":\n      tag: foreigners_office\n',
                          encoding="utf-8")
        monkeypatch.setenv("LOTSE_NOTIFY_CONFIG", str(routes))
        ref = ready_for_visa(alliance)

        result = advance_case(case_ref=ref, event="apply_visa", actor="vermittlung")

        assert result["messages"]["sent"] >= 1
        assert any(ref in str(post["json"]) for post in chat.posts)
        assert FAMILY not in str(chat.posts)
    finally:
        chat.stop()


def test_a_run_on_a_stale_version_fails_as_a_conflict_and_changes_nothing(
    prefect_harness: None, alliance: Context, lotse_env: None
) -> None:
    from lotse.states.errors import Conflict

    ref = ready_for_visa(alliance)

    with pytest.raises(Conflict, match="changed since version 3"):
        advance_case(case_ref=ref, event="apply_visa", actor="vermittlung", expected_version=3)

    shown = case_file.case_file(alliance, ref)
    assert shown["stage"] == "recruited" and shown["version"] == 0


@pytest.mark.parametrize("parameters", [
    {"case_ref": "{ref}", "event": "arrive", "actor": "koord", "facts": {"arrival_date": "Quraishi"}},
    {"case_ref": "{ref}", "event": "apply_visa", "actor": "koord", "facts": {"nationalty": "AFG"}},
    {"case_ref": "{ref}", "event": "apply_visa", "actor": "koord", "facts": {"geburtsdatum": "1991-04-17"}},
    {"case_ref": "{ref}", "event": "withdraw", "actor": "koord", "facts": {"withdraw_reson": "Schwanger"}},
    {"case_ref": "{ref}", "event": "arrive", "actor": "koord", "facts": {"language_level": "Quraishi"}},
    {"case_ref": "Quraishi", "event": "apply_visa", "actor": "koord"},
    {"case_ref": "{ref}", "event": "Quraishi", "actor": "koord"},
    {"case_ref": "{ref}", "event": "apply_visa", "actor": "Quraishi"},
], ids=["name-as-date", "typo-nationality", "german-birth-date", "typo-reason", "name-as-level",
        "name-as-ref", "name-as-event", "name-as-actor"])
def test_the_server_refuses_a_run_whose_parameters_do_not_fit_the_form_and_stores_nothing(
    prefect_harness: None, alliance: Context, lotse_env: None, parameters: dict[str, Any]
) -> None:
    ref = ready_for_visa(alliance)
    given = json.loads(json.dumps(parameters).replace("{ref}", ref))
    [deployment] = [d for d in deployments.build(alliance).built if d.name == "advance-case"]

    with get_client(sync_client=True) as client:
        deployment_id = deployment.apply()
        before = post("/flow_runs/count", {})
        with pytest.raises(PrefectHTTPStatusError, match="409"):
            client.create_flow_run_from_deployment(deployment_id, parameters=given)

    assert post("/flow_runs/count", {}) == before

