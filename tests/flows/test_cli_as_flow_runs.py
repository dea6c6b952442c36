"""With PREFECT_API_URL set, `lotse enrol` and `lotse report` run as flow runs on that server
(publishing the artifacts), with the same output, and a refusal is still one `error:` line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lotse.tasks.context import Context
from tests.conftest import run_lotse
from tests.flows.server_reads import api_url, artifacts, post

pytestmark = pytest.mark.prefect


def runs_named(name: str) -> list[dict[str, object]]:
    return list(post("/flow_runs/filter", {"flow_runs": {"name": {"any_": [name]}}, "sort": "ID_DESC",
                                           "limit": 10, "offset": 0}))


def test_enrol_runs_as_a_flow_run_when_prefect_api_url_is_set(
    prefect_harness: None, alliance: Context, home: Path, tmp_path: Path
) -> None:
    cohort = tmp_path / "Kohorte_Gharbi_Maerz.csv"
    cohort.write_text("given_name,family_name,nationality,employer\nLina,Gharbi,TUN,klinik-nord\n"
                      "Amira,Ben Salah,TUN,klinik-nord\n", encoding="utf-8")
    neutral = f"enrol {hashlib.sha256(cohort.read_bytes()).hexdigest()}.csv"  # the file's name is a person's

    done = run_lotse(home, "enrol", str(cohort), "--json", env={"PREFECT_API_URL": api_url()})

    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["enrolled"] == 2 and shown["file"] == "Kohorte_Gharbi_Maerz.csv"  # the operator's own name
    [run] = runs_named(neutral)
    assert run["state_type"] == "COMPLETED" and "Gharbi" not in json.dumps(run)
    [summary] = [a for a in artifacts("enrolment") if a["flow_run_id"] == run["id"]]
    assert "Gharbi" not in json.dumps(summary)


def test_a_refused_enrol_flow_run_is_one_error_line_without_a_traceback(
    prefect_harness: None, alliance: Context, home: Path, tmp_path: Path
) -> None:
    cohort = tmp_path / "bad-cli.csv"
    cohort.write_text("given_name,family_name,nationality,employer\nLina,Gharbi,TUN,nobody\n",
                      encoding="utf-8")
    neutral = f"enrol {hashlib.sha256(cohort.read_bytes()).hexdigest()}.csv"

    refused = run_lotse(home, "enrol", str(cohort), env={"PREFECT_API_URL": api_url()})

    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "error: bad-cli.csv: 1 problem(s), nothing imported: line 2: employer: no actor with this id; "
        "see `lotse actor list`"]
    assert runs_named(neutral)[0]["state_type"] == "FAILED"


def test_report_runs_as_a_flow_run_and_publishes_the_pipeline(
    prefect_harness: None, alliance: Context, home: Path
) -> None:
    before = {a["id"] for a in artifacts("pipeline")}

    shown = run_lotse(home, "report", "--json", env={"PREFECT_API_URL": api_url()})

    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["open_cases"] == 0
    assert {a["id"] for a in artifacts("pipeline")} - before


def _visa_ready(ctx: Context) -> str:
    from lotse.tasks import casework

    ref = casework.open_case(ctx, given_name="Lina", family_name="Gharbi", nationality="TUN",
                             employer="klinik-nord")
    casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
    return ref


def test_case_advance_runs_as_a_flow_run_when_prefect_api_url_is_set(
    prefect_harness: None, alliance: Context, home: Path
) -> None:
    ref = _visa_ready(alliance)
    before = {run["id"] for run in runs_named(f"apply_visa {ref}")}

    done = run_lotse(home, "case", "advance", ref, "apply_visa", "--by", "klinik-nord", "--json",
                     env={"PREFECT_API_URL": api_url()})

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["to"] == "visa"
    [new] = [run for run in runs_named(f"apply_visa {ref}") if run["id"] not in before]
    assert new["state_type"] == "COMPLETED"
    shown = json.loads(run_lotse(home, "case", "show", ref, "--json").stdout)
    assert shown["history"][-1]["via"] == "flow"


def test_case_advance_with_a_personal_fact_never_sends_it_to_prefect(
    prefect_harness: None, alliance: Context, home: Path
) -> None:
    ref = _visa_ready(alliance)
    reason = "Erkrankung in der Familie"
    before = {run["id"] for run in runs_named(f"withdraw {ref}")}  # the server is shared by the session

    done = run_lotse(home, "case", "advance", ref, "withdraw", "--by", "koord",
                     "--set", "withdraw_category=moved_away",
        "--set", f"withdraw_reason={reason}", env={"PREFECT_API_URL": api_url()})

    assert done.returncode == 0, done.stderr
    assert "withdraw_reason may hold personal data" in done.stderr and "not as a flow run" in done.stderr
    shown = json.loads(run_lotse(home, "case", "show", ref, "--json").stdout)
    assert shown["stage"] == "withdrawn" and shown["history"][-1]["via"] == "cli"
    assert {run["id"] for run in runs_named(f"withdraw {ref}")} == before
    assert reason not in json.dumps(post("/flow_runs/filter", {"limit": 200, "offset": 0, "sort": "ID_DESC"}))


def test_a_refused_case_advance_flow_run_is_one_error_line_without_a_traceback(
    prefect_harness: None, alliance: Context, home: Path
) -> None:
    from lotse.tasks import casework

    ref = casework.open_case(alliance, given_name="Lina", family_name="Gharbi", nationality="TUN",
                             employer="klinik-nord")

    refused = run_lotse(home, "case", "advance", ref, "apply_visa", "--by", "klinik-nord",
                        env={"PREFECT_API_URL": api_url()})

    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"error: {ref}: 'apply_visa' needs checklist item 'employment_contract'")


def test_case_advance_says_so_when_the_prefect_server_does_not_answer(
    alliance: Context, home: Path
) -> None:
    from tests.notifications.conftest import free_port

    ref = _visa_ready(alliance)

    refused = run_lotse(home, "case", "advance", ref, "apply_visa", "--by", "klinik-nord",
                        env={"PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"})

    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert "does not answer" in line and line.startswith("error: PREFECT_API_URL")
    assert json.loads(run_lotse(home, "case", "show", ref, "--json").stdout)["stage"] == "recruited"


def test_case_advance_with_a_note_never_sends_the_note_to_prefect(
    prefect_harness: None, alliance: Context, home: Path
) -> None:
    ref = _visa_ready(alliance)
    note = "Frau Gharbi bringt die Urkunde am Montag"
    before = {run["id"] for run in runs_named(f"apply_visa {ref}")}

    done = run_lotse(home, "case", "advance", ref, "apply_visa", "--by", "klinik-nord", "--note", note,
                     env={"PREFECT_API_URL": api_url()})

    assert done.returncode == 0, done.stderr
    assert "--note may hold personal data" in done.stderr
    history = json.loads(run_lotse(home, "case", "show", ref, "--json").stdout)["history"]
    assert history[-1]["note"] == note and history[-1]["via"] == "cli"
    assert {run["id"] for run in runs_named(f"apply_visa {ref}")} == before


@pytest.mark.parametrize(("words", "code", "says"), [
    (["--set", "nationalty=AFG"], 2, "process pflege has no fact 'nationalty'; known: nationality, "),
    (["--set", "geburtsdatum=1991-04-17"], 2, "has no fact 'geburtsdatum'; known: "),
    (["--set", "withdraw_reson=Schwanger"], 2, "has no fact 'withdraw_reson'; known: "),
    (["--set", "arrival_date=Quraishi"], 2, "arrival_date: not a date between 1900-01-01 and 2199-12-31"),
    (["--set", "language_level=Quraishi"], 2, "language_level: not a CEFR level"),
    (["--by", "quraishi-pflege"], 1, "unknown actor 'quraishi-pflege'"),
], ids=["typo-nationality", "german-birth-date", "typo-reason", "name-as-date", "name-as-level", "actor"])
def test_case_advance_refuses_what_a_run_would_refuse_before_prefect_creates_one(
    prefect_harness: None, alliance: Context, home: Path, words: list[str], code: int, says: str
) -> None:
    ref = _visa_ready(alliance)
    by = [] if "--by" in words else ["--by", "klinik-nord"]
    before = post("/flow_runs/count", {})

    refused = run_lotse(home, "case", "advance", ref, "apply_visa", *by, *words,
                        env={"PREFECT_API_URL": api_url()})

    assert refused.returncode == code
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: ") and says in line
    assert post("/flow_runs/count", {}) == before  # nothing of it was stored
    assert json.loads(run_lotse(home, "case", "show", ref, "--json").stdout)["stage"] == "recruited"


def test_case_advance_refuses_an_event_its_process_does_not_have_before_prefect(
    prefect_harness: None, alliance: Context, home: Path
) -> None:
    ref = _visa_ready(alliance)
    before = post("/flow_runs/count", {})

    refused = run_lotse(home, "case", "advance", ref, "Quraishi", "--by", "klinik-nord",
                        env={"PREFECT_API_URL": api_url()})

    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"error: {ref}: process pflege has no event 'Quraishi'; known: apply_visa, arrive, "
        "start_language_course, start_recognition, settle, complete, withdraw"]
    assert post("/flow_runs/count", {}) == before
