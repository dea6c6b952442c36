"""A coordinator works a demo case in the Prefect UI alone (headless Debian `chromium`): runs the
`work-case` deployment for the case, opens the paused run, fills the form generated for it (ticks
two items, sets two dates, picks the event and the organisation), resumes it, and the case has
moved in Lotse's database and in its overview; the run's artifact says what changed. The filled form is the
screenshot docs/prefect-work-case.png (renewed with LOTSE_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Up, keep, newest_artifact

pytestmark = [pytest.mark.prefect, pytest.mark.browser]

COORDINATION = "Koordinierungsstelle Fachkräfteallianz Seeland"  # the demo's coordinator, by name
WAIT_MS = 60_000  # a served run starts within a second or two, and needs a few more to import Lotse


def case(up: Up, ref: str) -> dict[str, Any]:
    shown = up.lotse("case", "show", ref, "--json")
    assert shown.returncode == 0, shown.stderr
    return dict(json.loads(shown.stdout))


def a_visa_case_waiting_for_its_visa(up: Up) -> str:
    """A demo case in `visa` whose arrival still lacks the granted visa and the housing."""
    listed = up.lotse("case", "list", "--stage", "visa", "--json")
    assert listed.returncode == 0, listed.stderr
    for row in json.loads(listed.stdout):
        # The demo's own advance-case runs may move a listed case on meanwhile: it offers no arrival.
        events = {e["event"]: e for e in case(up, row["ref"])["allowed_events"]}
        lacks = " ".join(events["arrive"]["missing"]) if "arrive" in events else ""
        if "visa_granted" in lacks and "housing_confirmed" in lacks:
            return str(row["ref"])
    raise AssertionError("the demo has no case in `visa` waiting for its visa")


def field(page, title: str):  # type: ignore[no-untyped-def]
    """A field of Prefect's schema form, by the title Lotse gave it."""
    label = page.locator(".schema-form-property__label", has_text=re.compile("^" + re.escape(title)))
    return page.locator(".schema-form-property").filter(has=label)


def choose(page, title: str, option: str | re.Pattern[str]) -> None:  # type: ignore[no-untyped-def]
    # The pick list opens from the keyboard; a click on it opens and closes it again at once.
    field(page, title).locator(".p-select-button__control").focus()
    page.keyboard.press("ArrowDown")
    page.get_by_role("option", name=option).first.click()


def pick_date(page, title: str, iso: str) -> None:  # type: ignore[no-untyped-def]
    field(page, title).locator(".p-date-button__control").click()
    page.locator(".p-date-picker").last.locator("input[type=date]").fill(iso)
    page.get_by_role("button", name="Apply", exact=True).click()


def fill_and_submit(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Open the paused run's form, fill it as a coordinator would, and submit it."""
    page.get_by_role("button", name="Resume", exact=True).click(timeout=WAIT_MS)
    page.get_by_text("Resume Flow Run").wait_for()
    choose(page, "Ereignis", re.compile(r"^Eingereist \(fehlt: Visum erteilt"))
    field(page, "Visum erteilt").get_by_role("switch").click()
    field(page, "Unterkunft für die Ankunft bestätigt").get_by_role("switch").click()
    pick_date(page, "Einreisedatum", "2027-05-01")
    pick_date(page, "Visum gültig bis", "2027-08-01")
    choose(page, "Im Auftrag von", COORDINATION)
    assert field(page, "Staatsangehörigkeit").count() == 0  # personal facts are never offered
    page.locator(".p-modal__body").evaluate("body => { body.scrollTop = 0; }")  # the case's heading
    keep(page, tmp_path, "prefect-work-case.png")
    page.get_by_role("button", name="Submit", exact=True).click()


def still_paused(api: str, run_id: str, seconds: float) -> bool:
    """Whether the run is still paused after `seconds` (its resume was refused)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state"] or {}
        if state.get("type") != "PAUSED":
            return False
        time.sleep(0.5)
    return True


def test_a_coordinator_works_a_case_through_the_form_built_for_it(
    served: Up, page, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    ref = a_visa_case_waiting_for_its_visa(served)
    before = case(served, ref)
    resumes: list[str] = []
    page.on("response", lambda r: r.url.endswith("/resume") and resumes.append(str(r.status)))

    page.goto(f"{served.ui}/deployments", wait_until="domcontentloaded")
    page.get_by_text("work-case", exact=True).first.click()
    page.wait_for_url("**/deployments/deployment/**")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Custom run").click()
    page.locator("textarea").first.fill(ref)
    page.get_by_role("button", name="Submit", exact=True).click()
    # Back on the deployment: the run is listed under its name once it has started.
    page.get_by_role("link", name=f"work {ref}").first.click(timeout=WAIT_MS)
    page.wait_for_url("**/runs/flow-run/**")
    run_id = page.url.split("?")[0].rstrip("/").split("/")[-1]
    saved_form(served.api, run_id, time.monotonic() + WAIT_MS / 1000)
    fill_and_submit(page, tmp_path)
    if still_paused(served.api, run_id, seconds=20):
        # Prefect's own SQLite can refuse the resume ("database is locked", see conftest's
        # server_log_errors); the UI then says so and the coordinator submits again.
        fill_and_submit(page, tmp_path)

    deadline = time.monotonic() + WAIT_MS / 1000
    while (shown := case(served, ref))["stage"] == "visa":
        assert time.monotonic() < deadline, f"{ref} has not moved; resume answered: {resumes}"
        time.sleep(0.5)
    facts = shown["facts"]
    assert shown["stage"] == "arrival"
    assert (facts["arrival_date"], facts["visa_valid_until"]) == ("2027-05-01", "2027-08-01")
    done = {item["id"] for item in shown["checklist"] if item["done"]}
    assert {"visa_granted", "housing_confirmed"} <= done
    new = shown["history"][len(before["history"]):]
    assert [(h["action"], h["actor"], h["via"]) for h in new] == [
        ("done", "koordination", "flow"), ("set", "koordination", "flow"), ("arrive", "koordination", "flow")]

    overview = ""
    while "**Stufe:** Ankunft" not in overview:  # the case's overview follows the change
        assert time.monotonic() < deadline, f"case-{ref.lower()} shows no arrival: {overview}"
        overview = str(newest_artifact(served.api, f"case-{ref.lower()}")["data"])
        time.sleep(0.5)
    artifact = newest_artifact(served.api, f"work-{ref.lower()}")
    page.goto(f"{served.ui}/artifacts/artifact/{artifact['id']}", wait_until="domcontentloaded")
    page.get_by_text("Eingereist (Visumverfahren → Ankunft)").wait_for(timeout=30_000)
    page.get_by_text("Was jetzt fehlt").wait_for()
    assert before["given_name"] not in str(artifact["data"])


def saved_form(api: str, run_id: str, deadline: float) -> dict[str, Any]:
    """The form a paused run offers, once it has saved it: Prefect proposes the paused state first
    and saves the form's schema a moment after, so a reader (or the UI's Resume dialog) acting
    between the two would find none."""
    while True:
        state = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state"] or {}
        keys = (state.get("state_details") or {}).get("run_input_keyset")
        if state.get("type") == "PAUSED" and keys:
            saved = httpx.get(f"{api}/flow_runs/{run_id}/input/{keys['schema']}", timeout=10)
            if saved.status_code == 200:
                return dict(saved.json())
        assert time.monotonic() < deadline, f"the run has not paused with its form: {state}"
        time.sleep(0.25)


def test_a_refused_form_ends_the_served_run_refused_without_a_traceback(served: Up) -> None:
    from prefect import get_client

    from tests.e2e.conftest import prefect_at

    ref = a_visa_case_waiting_for_its_visa(served)
    before = case(served, ref)
    start = len(served.text())
    with prefect_at(served.api), get_client(sync_client=True) as client:
        [deployment] = [d for d in client.read_deployments() if d.name == "work-case"]
        run = client.create_flow_run_from_deployment(deployment.id, parameters={"case_ref": ref})
        deadline = time.monotonic() + WAIT_MS / 1000
        form = saved_form(served.api, str(run.id), deadline)
        arrive = next(v for v in form["properties"]["event"]["enum"] if v.startswith("Eingereist"))
        client.resume_flow_run(run.id, run_input={"event": arrive, "done_visa_granted": True,
                                                  "on_behalf_of": COORDINATION})
        while not (state := client.read_flow_run(run.id).state).is_final():
            assert time.monotonic() < deadline, f"the run did not end: {state}"
            time.sleep(0.25)

    assert state.is_failed() and state.name == "Refused" and "housing_confirmed" in (state.message or "")
    assert case(served, ref)["checklist"] == before["checklist"]  # not even the tick was written
    ended = f"Flow run 'work {ref}' - Finished in state Refused"
    while ended not in (output := served.text()[start:]):  # the run's process prints a moment later
        assert time.monotonic() < deadline, f"lotse up did not print the refusal:\n{output}"
        time.sleep(0.25)
    assert "Traceback" not in output and "RequirementsMissing" not in output
