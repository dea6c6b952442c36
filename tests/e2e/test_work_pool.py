"""`lotse deploy --pool` against a real Prefect server: the deployments of `lotse up` (names, run
forms, privacy schema, schedules, tags) registered to a work pool, the server refusing a run with
personal data on them, bad input refused in one line with nothing registered, and `lotse up`
leaving the pool's deployments alone (it neither serves nor pauses them)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

from lotse.config.settings import Settings
from lotse.flows import deployments
from lotse.tasks.context import Context
from tests.e2e.conftest import prefect_at, wait_until_reported
from tests.e2e.prefect_processes import LOTSE, PrefectServer, clean_environment, lotse_up, prefect_server

pytestmark = pytest.mark.prefect

POOL = "lotse-pool"
NAMES = [p.name for p in deployments.PLANNED]
SETTINGS = {"LOTSE_TIMEZONE": "Europe/Vienna", "LOTSE_SCHEDULE_REPORT": "15 8 * * 1-5"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    started = prefect_server(tmp_path_factory.mktemp("prefect-server"))
    yield started
    started.background.stop()
    assert started.background.errors() == [], started.background.text()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Lotse database with the demo alliance (its actors fill the run form's pick list)."""
    home = tmp_path_factory.mktemp("lotse") / "home"
    made = subprocess.run([*LOTSE, "init", "--demo"], env=clean_environment(LOTSE_HOME=str(home)),
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    return home


@pytest.fixture
def empty(server: PrefectServer) -> PrefectServer:
    """The server without any deployment, work pool or flow run of an earlier test."""
    with prefect_at(server.api), get_client(sync_client=True) as client:
        for run in client.read_flow_runs(limit=200):
            client.delete_flow_run(run.id)
        for deployment in client.read_deployments(limit=200):
            client.delete_deployment(deployment.id)
        for pool in client.read_work_pools():
            if pool.name != "default-agent-pool":
                client.delete_work_pool(pool.name)
    return server


def lotse(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The command line in a subprocess, its Prefect profile empty; a setting given as "" is unset."""
    environment = clean_environment(LOTSE_HOME=str(home), PREFECT_HOME=str(home.parent / "client"), **env)
    environment = {name: value for name, value in environment.items() if value != ""}
    return subprocess.run([*LOTSE, *args], env=environment, capture_output=True, text=True, timeout=120)


def stored(api: str) -> dict[str, Any]:
    """The Lotse deployments the server holds, by name."""
    found = {}
    with prefect_at(api), get_client(sync_client=True) as client:
        for name in NAMES:
            try:
                found[name] = client.read_deployment_by_name(f"{name}/{name}")
            except ObjectNotFound:
                continue
    return found


def built(home: Path) -> dict[str, Any]:
    """The deployments `lotse up` would serve with the same settings, by name."""
    settings = Settings(home=home, timezone="Europe/Vienna", schedule_report="15 8 * * 1-5",
                        _env_file=None)  # type: ignore[call-arg]
    ctx = Context.from_settings(settings)
    try:
        return {d.name: d for d in deployments.build(ctx).built}
    finally:
        ctx.db.dispose()


def test_lotse_deploy_registers_the_deployments_of_lotse_up_to_a_work_pool(
    empty: PrefectServer, home: Path,
) -> None:
    done = lotse(home, "deploy", "--pool", POOL, PREFECT_API_URL=empty.api, LOTSE_NOTIFY_CONFIG="routes.yaml",
                 **SETTINGS)

    assert done.returncode == 0, done.stderr
    assert "note: LOTSE_NOTIFY_CONFIG is a relative path: a worker runs each flow in a new" in done.stdout
    assert f"work pool '{POOL}' (process): created" in done.stdout
    assert f"each run starts as `{sys.executable} -m prefect.engine`" in done.stdout
    assert (f"PREFECT_API_URL={empty.api} PREFECT_WORKER_QUERY_SECONDS=0.5 prefect worker start --pool {POOL}"
            in done.stdout)
    assert "pipeline-report/pipeline-report: cron '15 8 * * 1-5' (Europe/Vienna)" in done.stdout
    with prefect_at(empty.api), get_client(sync_client=True) as client:
        assert client.read_work_pool(POOL).type == "process"
    held, local = stored(empty.api), built(home)
    assert set(held) == set(local) and local
    for name, deployment in held.items():
        assert deployment.work_pool_name == POOL and deployment.entrypoint == local[name].entrypoint
        assert deployment.enforce_parameter_schema and "lotse" in deployment.tags and not deployment.paused
        # The engine of this installation, as lotse up's runner starts runs (no per-run workspace).
        assert deployment.job_variables == {"command": f"{sys.executable} -m prefect.engine"}
        assert [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules] == [
            (s.schedule.cron, s.schedule.timezone) for s in local[name].schedules]
        assert deployment.parameter_openapi_schema == local[name]._parameter_openapi_schema.model_dump(
            exclude_unset=True), name
    form = held["advance-case"].parameter_openapi_schema["properties"]
    assert "koordination" in form["actor"]["enum"] and "apply_visa" in form["event"]["enum"]
    assert "nationality" not in form["facts"]["anyOf"][0]["propertyNames"]["enum"]
    assert form["note"]["anyOf"][0]["maxLength"] == deployments.NOTE_MAX
    assert [s.schedule.timezone for s in held["pipeline-report"].schedules] == ["Europe/Vienna"]

    again = lotse(home, "deploy", "--pool", POOL, PREFECT_API_URL=empty.api, **SETTINGS)
    assert again.returncode == 0 and f"work pool '{POOL}' (process): exists" in again.stdout
    assert {d.id for d in stored(empty.api).values()} == {d.id for d in held.values()}


def test_a_run_with_a_personal_fact_or_a_long_note_is_refused_on_the_pool_deployment_and_nothing_is_stored(
    empty: PrefectServer, home: Path,
) -> None:
    assert lotse(home, "deploy", "--pool", POOL, PREFECT_API_URL=empty.api).returncode == 0
    base = {"case_ref": "SE-2026-0001", "event": "apply_visa", "actor": "koordination"}
    long_note = "Maricel Dalisay " * 32  # 512 characters, with a name in them

    with prefect_at(empty.api):
        for refused in ({"facts": {"nationality": "PHL"}}, {"note": long_note}):
            with pytest.raises(PrefectHTTPStatusError, match="409"):
                run_deployment("advance-case/advance-case", parameters={**base, **refused}, timeout=0)
        accepted = run_deployment("advance-case/advance-case", timeout=0,
                                  parameters={**base, "facts": {"arrival_date": "2027-03-01"}, "note": "ok"})
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(limit=200)  # the scheduler's runs of the other deployments too

    assert [run.id for run in runs if run.deployment_id == accepted.deployment_id] == [accepted.id]
    held = json.dumps([run.model_dump(mode="json") for run in runs])
    assert "PHL" not in held and "Maricel" not in held


@pytest.mark.parametrize(
    ("args", "env", "code", "expected"),
    [
        (["--pool-type", "kubernetes"], {}, 2, "error: unknown work pool type 'kubernetes'"),
        ([], {"LOTSE_SCHEDULE_DELIVER": "every five minutes"}, 2,
         "error: LOTSE_SCHEDULE_DELIVER: 'every five minutes' is not a cron schedule"),
        ([], {"PREFECT_API_URL": "http://127.0.0.1:9/api"}, 1,
         "error: PREFECT_API_URL points to no answering Prefect server"),
        ([], {"PREFECT_API_URL": ""}, 1, "error: PREFECT_API_URL is not set"),
    ],
)
def test_lotse_deploy_refuses_bad_input_in_one_line_and_registers_nothing(
    empty: PrefectServer, home: Path, args: list[str], env: dict[str, str], code: int, expected: str,
) -> None:
    refused = lotse(home, "deploy", "--pool", POOL, *args, **{"PREFECT_API_URL": empty.api, **env})

    [line] = refused.stderr.strip().splitlines()
    assert (refused.returncode, line[:len(expected)]) == (code, expected)
    assert refused.stdout == ""
    assert stored(empty.api) == {}
    with prefect_at(empty.api), get_client(sync_client=True) as client:
        assert POOL not in {pool.name for pool in client.read_work_pools()}


def test_lotse_up_leaves_the_pool_deployments_to_the_workers_and_does_not_pause_them(
    empty: PrefectServer, home: Path, tmp_path: Path,
) -> None:
    env = clean_environment(LOTSE_HOME=str(home), PREFECT_HOME=str(tmp_path / "up-home"),
                            PREFECT_API_URL=empty.api, PREFECT_RUNNER_POLL_FREQUENCY="1")
    first = lotse_up(tmp_path / "first", env)
    try:
        wait_until_polled(empty.api)
        wait_until_reported(empty.api)  # the run it started at once, not cut off when it stops
        taken = lotse(home, "deploy", "--pool", POOL, PREFECT_API_URL=empty.api)
    finally:
        assert first.stop(group=False) == 0, first.text()
    assert taken.returncode == 1 and "served by a running `lotse up`" in taken.stderr, taken.stderr
    assert {d.work_pool_name for d in stored(empty.api).values()} == {None}  # nothing was taken
    assert all(d.paused for d in stored(empty.api).values())  # lotse up paused what it served

    moved = lotse(home, "deploy", "--pool", POOL, PREFECT_API_URL=empty.api)
    assert moved.returncode == 0, moved.stderr
    assert "was served by `lotse up`, now by the pool" in moved.stdout
    second = lotse_up(tmp_path / "second", env)
    code = second.stop(group=False)

    assert code == 0, second.text()
    after = stored(empty.api)
    assert set(after) == set(NAMES)
    assert {(d.work_pool_name, d.paused) for d in after.values()} == {(POOL, False)}
    assert first.errors() == second.errors() == [], first.text() + second.text()
    assert "registered 0 deployments" in second.text()
    for name in NAMES:
        assert f"{name}/{name}: served by work pool '{POOL}', left to its workers" in second.text()


def wait_until_polled(api: str, timeout: float = 60) -> None:
    """Until the runner of `lotse up` has asked for the runs of every deployment it serves."""
    deadline = time.monotonic() + timeout
    while not all(d.last_polled for d in stored(api).values()) or len(stored(api)) < len(NAMES):
        assert time.monotonic() < deadline, "lotse up's runner never polled its deployments"
        time.sleep(0.5)


def test_a_server_with_an_auth_string_takes_the_deployments_only_from_a_host_that_gives_it(
    tmp_path: Path, home: Path,
) -> None:
    guarded = prefect_server(tmp_path / "guarded", PREFECT_SERVER_API_AUTH_STRING="lotse:s3cret-42")
    try:
        without = lotse(home, "deploy", "--pool", POOL, PREFECT_API_URL=guarded.api)
        given = lotse(home, "deploy", "--pool", POOL, PREFECT_API_URL=guarded.api,
                      PREFECT_API_AUTH_STRING="lotse:s3cret-42")
    finally:
        guarded.background.stop()

    assert without.returncode == 1 and without.stdout == ""
    assert without.stderr.strip() == (
        f"error: the Prefect server at {guarded.api} refuses the request (401): "
        "set PREFECT_API_AUTH_STRING to its PREFECT_SERVER_API_AUTH_STRING")
    assert given.returncode == 0, given.stderr
    assert f"registered {len(NAMES)} deployments (tag 'lotse') to work pool '{POOL}'" in given.stdout
    assert "s3cret" not in given.stdout + guarded.background.text()
    assert guarded.background.errors() == []
