"""`lotse doctor` beside a running `lotse up`: it finds the server through the lock of `lotse up`
(or PREFECT_API_URL), and reports each scheduled deployment on one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_doctor import notified_roles, route_file
from tests.conftest import run_lotse
from tests.e2e.conftest import Up

pytestmark = pytest.mark.prefect

SCHEDULED = ["apply-retention", "check-deadlines", "deliver-notifications", "pipeline-report"]


def doctor_lines(output: str) -> dict[str, tuple[str, str]]:
    found = {}
    for line in output.splitlines():
        status, rest = line.split(maxsplit=1)
        name, detail = rest.split(": ", 1)
        found[name] = (status, detail)
    return found


def test_the_doctor_finds_the_running_lotse_up_and_each_scheduled_deployment(
    served: Up, tmp_path: Path
) -> None:
    routes = route_file(tmp_path, notified_roles())
    result = run_lotse(served.home, "doctor", env={"LOTSE_PREFECT_PORT": str(served.port),
                                                   "LOTSE_NOTIFY_CONFIG": str(routes)})
    assert "Traceback" not in result.stderr
    found = doctor_lines(result.stdout)
    status, detail = found["prefect"]
    assert status == "ok", detail
    assert detail.startswith(f"{served.api} answers (lotse up, pid {served.process.pid}); ")
    schedules = sorted(name for name in found if name.startswith("schedule "))
    assert schedules == [f"schedule {name}/{name}" for name in SCHEDULED]
    for name in schedules:
        assert found[name][0] in ("ok", "warn") and "cron '" in found[name][1], found[name]
    assert found["database"][0] == "ok" and found["routes"][0] == "ok"


def test_the_doctor_reads_the_same_server_through_prefect_api_url(served: Up) -> None:
    result = run_lotse(served.home, "doctor", "--json", env={"PREFECT_API_URL": served.api,
                                                             "LOTSE_PREFECT_PORT": "9"})
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["prefect"]["status"] == "ok"
    assert checks["prefect"]["data"]["via"] == "PREFECT_API_URL"
    assert {f"{d}/{d}" for d in SCHEDULED} <= set(checks["prefect"]["data"]["deployments"])
    crons = {c["data"]["deployment"]: c["data"]["cron"]
             for name, c in checks.items() if name.startswith("schedule ")}
    assert crons["deliver-notifications/deliver-notifications"] == "*/5 * * * *"
