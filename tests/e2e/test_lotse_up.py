"""`lotse up` end to end: deployments with their schedules on its own Prefect server, an
`advance-case` run through the served deployment that moves the case, one `lotse up` at a time,
and a clean stop that leaves no process behind."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.sorting import FlowRunSort
from prefect.deployments import run_deployment

from lotse.flows.deployments import PLANNED
from lotse.flows.server import port_taken
from lotse.tasks import inbox
from tests.conftest import run_lotse
from tests.e2e.conftest import Up, alive, free_port, newest_artifact, prefect_at, start
from tests.flows.server_reads import artifacts, every, post

pytestmark = pytest.mark.prefect

SCHEDULES = {"deliver-notifications": "*/5 * * * *", "check-deadlines": "30 6 * * *",
             "pipeline-report": "0 7 * * *", "apply-retention": "0 5 1 * *"}
COHORT = "given_name,family_name,nationality,employer\nGrace,Okonkwo,NGA,klinik-seeblick\n"


def present(name: str) -> bool:
    plan = next(p for p in PLANNED if p.name == name)
    return (Path(__file__).parents[2] / f"{plan.module.removeprefix('lotse.').replace('.', '/')}.py").exists()


def test_every_flow_is_deployed_with_its_schedule_in_berlin_time(served: Up) -> None:
    with prefect_at(served.api), get_client(sync_client=True) as client:
        for plan in PLANNED:
            if not present(plan.name):
                assert f"{plan.name}: skipped" in served.text()
                continue
            deployment = client.read_deployment_by_name(f"{plan.name}/{plan.name}")
            crons = [(s.schedule.cron, s.schedule.timezone, s.active) for s in deployment.schedules]
            expected = [(SCHEDULES[plan.name], "Europe/Berlin", True)] if plan.name in SCHEDULES else []
            assert crons == expected, plan.name
            assert "lotse" in deployment.tags and not deployment.paused
    assert f"Prefect UI: {served.ui}" in served.text()


def test_the_run_form_of_advance_case_offers_the_events_and_actors_as_choices(served: Up) -> None:
    with prefect_at(served.api), get_client(sync_client=True) as client:
        schema = client.read_deployment_by_name("advance-case/advance-case").parameter_openapi_schema
    assert {"apply_visa", "arrive", "withdraw"} <= set(schema["properties"]["event"]["enum"])
    assert "koordination" in schema["properties"]["actor"]["enum"]


def test_a_served_advance_case_run_completes_and_moves_the_case(served: Up, tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(COHORT, encoding="utf-8")
    with prefect_at(served.api):
        neutral = inbox.receive(served.home, cohort).name  # as `lotse enrol` passes it
        enrolled = run_deployment("enrol-cohort/enrol-cohort", parameters={"file": neutral}, timeout=120)
        assert enrolled.state is not None and enrolled.state.is_completed(), enrolled.state
        [ref] = [a for a in artifacts("enrolment", served.api)[0]["data"].split() if a.startswith("SE-")]
        ticked = served.lotse("case", "done", ref, "employment_contract", "recognition_documents",
                              "--by", "koordination")
        assert ticked.returncode == 0, ticked.stderr

        run = run_deployment("advance-case/advance-case", timeout=120, parameters={
            "case_ref": ref, "event": "apply_visa", "actor": "vermittlung-bruecke"})

    assert run.state is not None and run.state.is_completed(), run.state
    assert run.name == f"apply_visa {ref}" and {"pflege", "SE-Nord"} <= set(run.tags)
    shown = json.loads(served.lotse("case", "show", ref, "--json").stdout)
    assert shown["stage"] == "visa" and shown["history"][-1]["via"] == "flow"
    assert artifacts(f"case-{ref.lower()}", served.api)


def test_a_refused_run_of_the_served_deployment_ends_refused_without_a_traceback(served: Up) -> None:
    with prefect_at(served.api):
        run = run_deployment("advance-case/advance-case", timeout=120, parameters={
            "case_ref": "SE-1999-0001", "event": "apply_visa", "actor": "koordination"})

    assert run.state is not None and run.state.is_failed() and run.state.name == "Refused"
    assert run.state.message == "unknown case 'SE-1999-0001'" or "SE-1999-0001" in (run.state.message or "")
    output = served.text()
    assert "Traceback" not in output, output[max(0, output.find("Traceback") - 1500):][:4000]


def test_the_demo_transitions_run_as_advance_case_flow_runs_and_move_their_cases(served: Up) -> None:
    started = [line.split()[-2:] for line in served.text().splitlines()
               if line.startswith("demo: started advance-case")]
    assert len(started) >= 3, served.text()
    for event, ref in started:
        deadline = time.monotonic() + 90
        while True:  # the served runner picks the runs up on its own; wait for each with a deadline
            history = json.loads(served.lotse("case", "show", ref, "--json").stdout)["history"]
            if any(h["action"] == event and h["via"] == "flow" for h in history):
                break
            assert time.monotonic() < deadline, f"{event} {ref} did not run:\n{served.text()}"
            time.sleep(0.5)
    with prefect_at(served.api), get_client(sync_client=True) as client:
        names = {run.name for run in client.read_flow_runs(limit=200, sort=FlowRunSort.ID_DESC)}
    assert {f"{event} {ref}" for event, ref in started} <= names


def test_every_demo_case_has_its_overview_once_the_first_pipeline_report_ran(served: Up) -> None:
    refs = [case["ref"] for case in json.loads(served.lotse("case", "list", "--json").stdout)]
    keys = {f"case-{ref.lower()}" for ref in refs}
    deadline = time.monotonic() + 90
    while True:  # the run lotse up starts publishes them after the pipeline; wait with a deadline
        found = {a["key"] for a in post("/artifacts/filter", {
            "artifacts": {"key": {"any_": sorted(keys)}}, "sort": "CREATED_DESC", "limit": 200, "offset": 0,
        }, served.api)}
        if found >= keys:
            break
        assert time.monotonic() < deadline, f"no overview of {sorted(keys - found)}"
        time.sleep(0.5)
    assert len(refs) >= 32


def test_lotse_up_published_the_pipeline_when_it_started(served: Up) -> None:
    newest_artifact(served.api, "pipeline")
    first = artifacts("pipeline", served.api)[-1]  # other tests may have reported since
    demo_runs = {f"{event} {ref}" for event, ref in (line.split()[-2:] for line in served.text().splitlines()
                                                    if line.startswith("demo: started advance-case"))}
    ended = [run["end_time"] for run in every("/flow_runs/filter", "START_TIME_DESC", served.api)
             if run["name"] in demo_runs]
    assert len(ended) == len(demo_runs) > 0 and all(ended)
    # The demo's runs first, then the report of where they left the cases (stuck-cases too).
    assert first["created"] >= max(ended)
    assert artifacts("stuck-cases", served.api)[-1]["created"] >= max(ended)
    rows = first["data"] if isinstance(first["data"], list) else json.loads(first["data"])
    open_per = {by: sum(r["open"] for r in rows if r["by"] == by) for by in ("stage", "employer", "region")}
    assert open_per["stage"] == open_per["employer"] == open_per["region"] > 0
    assert f"({open_per['region']} open, as of" in first["description"]


def test_a_second_lotse_up_says_one_is_running_and_exits_1(served: Up, tmp_path: Path) -> None:
    same_home = served.lotse("up", "--port", str(served.port + 1))
    same_port = start_refused(tmp_path, served.port)

    assert same_home.returncode == 1
    assert same_home.stderr.startswith("error: `lotse up` is already running for")
    assert same_port.returncode == 1
    assert same_port.stderr.startswith(f"error: port {served.port} is in use")


def start_refused(tmp_path: Path, port: int) -> subprocess.CompletedProcess[str]:
    assert run_lotse(tmp_path / "other", "init").returncode == 0
    return run_lotse(tmp_path / "other", "up", "--port", str(port))


def test_ctrl_c_stops_the_served_flows_and_the_server_and_leaves_no_process(tmp_path: Path) -> None:
    up = start(tmp_path)
    below = set(up.descendants)
    assert below, "lotse up started no server process"

    code = up.stop(signal.SIGINT)

    assert code == 0, up.text()
    assert "Pausing all deployments" in up.text()
    assert "stopping the Prefect server ...\nstopped\n" in up.text()
    assert not [pid for pid in below | up.descendants if alive(pid)]
    assert not port_taken(up.port)


@pytest.mark.parametrize(
    ("init", "args", "env", "code", "expected"),
    [
        (False, [], {}, 1, "error: no Lotse database at"),
        (False, [], {"LOTSE_PREFECT_PORT": "four thousand"}, 2, "error: setting LOTSE_PREFECT_PORT: "),
        (True, [], {"LOTSE_SCHEDULE_CHECK": "every morning"}, 2,
         "error: LOTSE_SCHEDULE_CHECK: 'every morning' is not a cron schedule"),
        (True, ["--no-server"], {}, 1, "error: --no-server, but no Prefect server answers there"),
        (True, [], {"PREFECT_API_URL": "http://127.0.0.1:9/api"}, 1,
         "error: PREFECT_API_URL points to no answering Prefect server"),
    ],
)
def test_lotse_up_refuses_to_start_what_cannot_work_and_starts_no_server(
    tmp_path: Path, init: bool, args: list[str], env: dict[str, str], code: int, expected: str
) -> None:
    home = tmp_path / "home"
    if init:
        assert run_lotse(home, "init").returncode == 0
    port = free_port()

    refused = run_lotse(home, "up", "--port", str(port), *args, env=env)

    [line] = refused.stderr.strip().splitlines()
    assert (refused.returncode, line[:len(expected)]) == (code, expected)
    assert not port_taken(port)
    assert not (home / "prefect" / "server.log").exists() and not (home / "prefect" / "prefect.db").exists()
    assert init or not home.exists()  # neither the home nor its up.lock made for nothing
