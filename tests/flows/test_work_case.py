"""The `work-case` flow on a real Prefect server: it pauses with a form generated for the case,
applies the submitted form in one transaction, ends refused or cancelled cleanly, and never
shows Prefect a person's name or a personal fact."""

from __future__ import annotations

import contextvars
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from prefect import get_client

from lotse.flows.work_case import work_case
from lotse.states.errors import NotSubmitted
from lotse.tasks import case_file, casework, worksheet
from lotse.tasks.context import Context
from lotse.tasks.worksheet import Answer
from tests.flows.server_reads import artifacts, post
from tests.tasks.test_worksheet import history, in_visa  # one way to a case in the visa stage

pytestmark = pytest.mark.prefect

GIVEN, FAMILY = "Maricel", "Dalisay"
KOORD = "Koordinierungsstelle"


@dataclass
class Paused:
    """A `work-case` run started in a thread, paused for its form."""

    thread: threading.Thread
    run_id: str
    schema: dict[str, Any]
    description: str
    outcome: dict[str, Any] = field(default_factory=dict)

    def resume(self, answer: dict[str, Any]) -> Any:
        with get_client(sync_client=True) as client:
            result = client.resume_flow_run(self.run_id, run_input=answer)
        assert str(result.status) == "SetStateStatus.ACCEPT", result.details
        return self.end()

    def end(self) -> Any:
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the run did not end within 60 s of its resume"
        return self.outcome["state"]


def paused_runs() -> dict[str, dict[str, Any]]:
    return {run["id"]: run for run in post("/flow_runs/filter", {
        "flows": {"name": {"any_": ["work-case"]}}, "flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}},
        "sort": "START_TIME_DESC", "limit": 50, "offset": 0,
    })}


def start(ref: str, timeout: float = 60) -> Paused:
    """Run the flow in a thread (it blocks while paused) and wait, bounded, for its form."""
    outcome: dict[str, Any] = {}
    earlier = set(paused_runs())  # a run a failed test left paused is not this one
    context = contextvars.copy_context()
    thread = threading.Thread(target=lambda: outcome.setdefault(
        "state", context.run(work_case, case_ref=ref, return_state=True)), daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not (runs := [run for run_id, run in paused_runs().items() if run_id not in earlier]):
        assert thread.is_alive(), f"the run ended without pausing: {outcome}"
        assert time.monotonic() < deadline, f"no paused work-case run after {timeout:.0f} s"
        time.sleep(0.2)
    [run] = runs
    keys = run["state"]["state_details"]["run_input_keyset"]
    with get_client(sync_client=True) as client:
        schema = json.loads(client.read_flow_run_input(run["id"], keys["schema"]))
        description = json.loads(client.read_flow_run_input(run["id"], keys["description"]))
    return Paused(thread, run["id"], schema, description, outcome)


def label(schema: dict[str, Any], field_name: str, starts: str) -> str:
    return next(v for v in schema["properties"][field_name]["enum"] if v.startswith(starts))


def test_the_form_of_a_pflege_case_offers_its_events_items_typed_facts_and_organisations_by_name(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    ref = in_visa(alliance)

    paused = start(ref)
    form = paused.schema["properties"]
    paused.resume({"on_behalf_of": KOORD})

    assert label(paused.schema, "event", "Eingereist") == (
        "Eingereist (fehlt: Visum erteilt, Unterkunft für die Ankunft bestätigt, Einreisedatum, "
        "Visum gültig bis)")
    assert form["event"]["default"] == "kein Ereignis"
    assert form["done_housing_confirmed"] == {
        "type": "boolean", "default": False, "title": "Unterkunft für die Ankunft bestätigt",
        "description": "zuständig: Wohnungsunternehmen", "position": 4}
    assert form["fact_arrival_date"]["type"] == "string" and form["fact_arrival_date"]["format"] == "date"
    assert form["fact_language_level"]["enum"] == ["A1", "A2", "B1", "B2", "C1", "C2"]
    assert form["fact_recognition_path"]["enum"] == ["full", "adaptation_course", "knowledge_exam"]
    assert form["fact_accelerated_procedure"]["enum"] == ["ja", "nein"]
    assert form["fact_withdraw_category"]["enum"] == [  # not personal: a choice (docs/attrition.md)
        "homesickness", "family", "housing", "recognition_failed", "health", "moved_away", "changed_employer",
        "other"]
    assert not any("anyOf" in spec for spec in form.values())  # no "None" type switch in the UI
    assert not {"fact_nationality", "fact_withdraw_reason"} & set(form)
    assert {KOORD, "Klinik Nord", "Wohnbau Nord"} <= set(form["on_behalf_of"]["enum"])
    assert paused.schema["required"] == ["on_behalf_of"]
    assert form["note"]["maxLength"] == worksheet.NOTE_MAX
    assert f"**{ref}**" in paused.description and "Visumverfahren" in paused.description
    stored = json.dumps(paused.schema, ensure_ascii=False) + paused.description
    assert GIVEN not in stored and FAMILY not in stored and "PHL" not in stored
    state = paused.outcome["state"]
    assert state.is_completed() and state.result()["changed"] is False


def test_the_form_of_a_chancen_case_offers_its_own_items_and_facts(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    ref = casework.open_case(alliance, given_name=GIVEN, family_name=FAMILY, nationality="SYR",
                             employer="klinik-nord", process="chancen", by="koord")

    paused = start(ref)
    form = paused.schema["properties"]
    paused.resume({"on_behalf_of": KOORD})

    assert [name for name in form if name.startswith("done_")] == [
        "done_counselling_done", "done_work_permit_checked"]
    assert form["fact_residence_title"]["enum"] == ["104c", "25", "60c", "other"]
    assert form["fact_residence_title_until"]["format"] == "date"
    assert label(paused.schema, "event", "Sprachkurs begonnen").startswith(
        "Sprachkurs begonnen (fehlt: Erstberatung durchgeführt, Beschäftigungserlaubnis geprüft")
    assert "Migrationsberatung" in form["on_behalf_of"]["enum"]
    assert not {"fact_nationality", "fact_withdraw_reason"} & set(form)
    assert "SYR" not in json.dumps(paused.schema) and GIVEN not in json.dumps(paused.schema)


def test_resuming_applies_ticks_facts_and_the_event_in_one_change_on_behalf_of_the_organisation(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    ref = in_visa(alliance)
    before = history(alliance, ref)
    paused = start(ref)

    state = paused.resume({
        "event": label(paused.schema, "event", "Eingereist"), "done_visa_granted": True,
        "done_housing_confirmed": True, "fact_arrival_date": "2026-05-01",
        "fact_visa_valid_until": "2026-08-01", "on_behalf_of": KOORD, "note": "Visum liegt vor",
    })

    assert state.is_completed(), state.message
    shown = case_file.case_file(alliance, ref)
    facts = shown["facts"]
    assert shown["stage"] == "arrival"
    assert (facts["arrival_date"], facts["visa_valid_until"]) == ("2026-05-01", "2026-08-01")
    request = f"flow-run:{paused.run_id}"
    assert history(alliance, ref) == [*before, ("done", "koord", "flow", None),
                                      ("set", "koord", "flow", None), ("arrive", "koord", "flow", request)]
    markdown = str(artifacts(f"work-{ref.lower()}")[0]["data"])
    assert "- erledigt: Visum erteilt" in markdown and "Visumverfahren → Ankunft" in markdown
    assert "## Was jetzt fehlt" in markdown and "Wohnsitz angemeldet" in markdown
    assert GIVEN not in markdown and FAMILY not in markdown

    # The same input again under the same run's request id (a retried run) changes nothing.
    again = worksheet.apply(alliance, worksheet.worksheet(alliance, ref), Answer(
        actor="koord", items=("visa_granted", "housing_confirmed"), event="arrive"), request_id=request)
    assert again["repeated"] is True and case_file.case_file(alliance, ref) == shown


def test_a_refused_event_ends_the_run_refused_and_writes_neither_ticks_nor_facts(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    ref = in_visa(alliance)
    before = case_file.case_file(alliance, ref)
    paused = start(ref)

    state = paused.resume({
        "event": label(paused.schema, "event", "Eingereist"), "done_visa_granted": True,
        "fact_arrival_date": "2026-05-01", "fact_visa_valid_until": "2026-08-01", "on_behalf_of": KOORD,
    })

    assert state.is_failed() and state.name == "Refused"
    assert state.message.startswith(f"{ref}: 'arrive' needs checklist item 'housing_confirmed'")
    assert "\n" not in state.message
    assert case_file.case_file(alliance, ref) == before
    assert "Abgelehnt, nichts wurde geändert" in str(artifacts(f"work-{ref.lower()}")[0]["data"])
    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[paused.run_id])))
    text = "\n".join(log.message for log in logs)
    assert "Finished in state Refused" in text
    assert "Traceback" not in text and "RequirementsMissing" not in text


def test_a_form_not_submitted_in_time_changes_nothing_and_ends_the_run_cancelled(
    prefect_harness: None, alliance: Context, lotse_env: None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOTSE_WORK_CASE_TIMEOUT_SECONDS", "1")
    ref = in_visa(alliance)
    before = case_file.case_file(alliance, ref)

    started = time.monotonic()
    state = work_case(case_ref=ref, return_state=True)

    assert time.monotonic() - started < 30
    assert state.is_cancelled()
    assert state.message == (f"{ref}: the form was not submitted within 1 second; nothing was changed. "
                             "Run work-case again to work on the case")
    with get_client(sync_client=True) as client:
        stored = client.read_flow_run(state.state_details.flow_run_id).state
    assert stored is not None and stored.is_cancelled() and stored.message == state.message
    assert case_file.case_file(alliance, ref) == before
    with pytest.raises(NotSubmitted, match="not submitted within 1 second"):
        work_case(case_ref=ref)


def test_an_unknown_or_closed_case_is_refused_without_a_form(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    ref = in_visa(alliance)
    casework.advance(alliance, ref, "withdraw", by="klinik-nord", facts={"withdraw_category": "moved_away",
                                                                         "withdraw_reason": "went home"})
    earlier = set(paused_runs())

    unknown = work_case(case_ref="SE-1999-0001", return_state=True)
    closed = work_case(case_ref=ref, return_state=True)

    assert unknown.is_failed() and unknown.name == "Refused" and "unknown case" in unknown.message
    assert closed.is_failed() and closed.name == "Refused" and "is closed" in closed.message
    assert set(paused_runs()) == earlier



def test_the_server_refuses_a_form_with_a_name_in_a_date_field_or_a_field_the_form_lacks(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    ref = in_visa(alliance)
    paused = start(ref)

    with get_client(sync_client=True) as client:
        for wrong in ({"fact_arrival_date": "Quraishi"}, {"fact_nationalty": "AFG"},
                      {"fact_withdraw_reason": "Schwanger"}):
            result = client.resume_flow_run(paused.run_id, run_input={"on_behalf_of": KOORD, **wrong})
            assert str(result.status) == "SetStateStatus.REJECT", wrong
        stored = post("/flow_runs/filter", {"flow_runs": {"id": {"any_": [paused.run_id]}},
                                            "limit": 1, "offset": 0, "sort": "ID_DESC"})
    assert stored[0]["state_type"] == "PAUSED"  # still waiting for a form that fits
    state = paused.resume({"on_behalf_of": KOORD})
    assert state.is_completed()
    with get_client(sync_client=True) as client:
        kept = client.filter_flow_run_input(paused.run_id, key_prefix="", limit=100, exclude_keys=set())
    assert kept and not [i.value for i in kept if "Quraishi" in i.value or "AFG" in i.value
                         or "Schwanger" in i.value]


def test_a_date_the_pattern_lets_through_but_no_calendar_has_is_refused_naming_the_field_only(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    ref = in_visa(alliance)
    before = case_file.case_file(alliance, ref)
    paused = start(ref)

    state = paused.resume({"fact_arrival_date": "2026-02-31", "on_behalf_of": KOORD})

    assert state.is_failed() and state.name == "Refused"
    assert state.message == (f"{ref}: the form's fact_arrival_date does not fit its type; nothing was "
                             "changed. Run work-case again to work on the case")
    assert case_file.case_file(alliance, ref) == before
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[paused.run_id])))
    text = "\n".join(log.message for log in logs)
    assert "Pausing flow" in text and "2026-02-31" not in text and "Traceback" not in text
