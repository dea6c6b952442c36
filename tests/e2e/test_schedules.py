"""The running system's schedules: a fresh `lotse up` whose scheduled flow Prefect's own scheduler
turns into runs that the served deployment then completes, and Prefect's command line working
against that server. Not the schedule as configured: a run the scheduler made.

Both failed on an unlocked install: SQLAlchemy 2.1 breaks the scheduler service ("Can't evaluate
bulk DML statement", only in the server log) and FastAPI 0.151+ refuses Prefect's own client
(`prefect deployment ls`: 422, `limit: Input should be a valid integer`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from tests.e2e.conftest import Up, alive, prefect_at, server_log_errors, start

pytestmark = pytest.mark.prefect

EVERY_MINUTE = "* * * * *"
FINAL = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]
PREFECT = [str(Path(sys.executable).with_name("prefect"))]


@pytest.fixture(scope="module")
def every_minute(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """`lotse up` on the demo alliance with delivery scheduled every minute, the rest as shipped."""
    up = start(tmp_path_factory.mktemp("every-minute"), env={"LOTSE_SCHEDULE_DELIVER": EVERY_MINUTE})
    yield up
    if up.process.poll() is None:
        assert up.stop() == 0, up.text()
    assert not [pid for pid in up.descendants if alive(pid)], up.text()


def test_the_scheduler_makes_a_delivery_run_and_the_served_deployment_completes_it(every_minute: Up) -> None:
    deadline = time.monotonic() + 180
    with prefect_at(every_minute.api), get_client(sync_client=True) as client:
        [deployment] = client.read_deployments(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["deliver-notifications"])))
        assert [s.schedule.cron for s in deployment.schedules] == [EVERY_MINUTE]
        # The scheduler makes many runs ahead (one a minute): ask for the ended ones, not a page of
        # all of them, which may hold only runs of the coming hours.
        of_delivery = DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))
        ended = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=FINAL)))
        while True:
            runs = client.read_flow_runs(deployment_filter=of_delivery, flow_run_filter=ended, limit=50)
            scheduled = [r for r in runs if r.auto_scheduled]
            done = [r for r in scheduled if r.state is not None and r.state.is_completed()]
            if done:
                break
            assert server_log_errors(every_minute) == []  # a failing scheduler says so only there
            failed = [r.state.name for r in scheduled if r.state is not None]
            assert not failed, f"scheduled delivery runs ended {failed}:\n{every_minute.text()}"
            made = client.read_flow_runs(deployment_filter=of_delivery, limit=200)
            assert time.monotonic() < deadline, (
                f"no scheduled delivery run completed within 180 s ({len(made)} made by the scheduler)")
            time.sleep(1)
    assert done[0].name and "@" not in done[0].name  # a run name of Prefect's, not a person's
    assert server_log_errors(every_minute) == []


@pytest.mark.parametrize("listing", [["deployment", "ls"], ["flow-run", "ls"], ["work-pool", "ls"]])
def test_prefects_own_command_line_works_against_the_server(every_minute: Up, listing: list[str]) -> None:
    env = {**os.environ, **every_minute.env, "PREFECT_API_URL": every_minute.api}
    shown = subprocess.run([*PREFECT, *listing], env=env, capture_output=True, text=True, timeout=120)

    assert shown.returncode == 0, shown.stdout + shown.stderr
    # The refusal reads "422 Unprocessable Entity ... Input should be a valid integer"; a bare "422"
    # also matches inside the run ids the table shows.
    for refused in ("Unprocessable", "Input should be", "Traceback"):
        assert refused not in shown.stdout + shown.stderr
    if listing[0] == "deployment":
        assert "deliver-notifications" in shown.stdout
    assert server_log_errors(every_minute) == []
