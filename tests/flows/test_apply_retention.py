"""The `apply-retention` deployment on a real Prefect server: a closed case past its process's
retention is erased, a younger one and an open one are kept; Prefect sees references only."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from prefect import get_client

from lotse.flows import deployments
from lotse.flows.apply_retention import apply_retention
from lotse.tasks import case_file, erasure
from lotse.tasks.context import Context
from tests.cli.test_person_rights import history_of, visa_case, withdraw
from tests.conftest import Clock

pytestmark = pytest.mark.prefect


def test_the_deployment_is_monthly_by_default_and_switched_off_by_an_empty_setting(alliance: Context) -> None:
    built = deployments.build(alliance)
    assert built.schedules["apply-retention"] == "0 5 1 * *"
    alliance.settings = alliance.settings.model_copy(update={"schedule_retention": ""})
    assert deployments.build(alliance).schedules["apply-retention"] is None


def test_a_run_erases_a_case_past_retention_and_keeps_a_younger_one(
    prefect_harness: None, lotse_env: None, alliance: Context, clock: Clock, home: Path,
) -> None:
    old = visa_case(alliance, given="Altgeschlossen", family="Kappelmeier")
    withdraw(alliance, old, "Umzug")  # closed on 2026-03-02: due on 2029-03-02
    clock.advance(days=400)
    young = visa_case(alliance, given="Jungoffen", family="Brettschneider")
    withdraw(alliance, young, "Umzug")
    open_case = visa_case(alliance, given="Nochoffen", family="Halbwachs")

    dry = apply_retention(as_of=dt.date(2029, 3, 2), dry_run=True)
    assert dry["due"] == [old] and dry["erased"] == []
    assert case_file.case_file(alliance, old)["family_name"] == "Kappelmeier"
    assert apply_retention(as_of=dt.date(2029, 3, 1))["due"] == []  # a day too early

    state = apply_retention(as_of=dt.date(2029, 3, 2), return_state=True)

    assert state.is_completed()
    assert state.result()["erased"] == [old]
    assert case_file.case_file(alliance, old)["family_name"] == erasure.ERASED
    assert case_file.case_file(alliance, young)["family_name"] == "Brettschneider"
    assert case_file.case_file(alliance, open_case)["family_name"] == "Halbwachs"
    last = history_of(alliance, old)[-1]
    assert (last.action, last.actor_id, last.via) == ("erased", "lotse", "schedule")
    assert last.note == "retention: 3 years after closed (pflege v2)"
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        query = {"artifacts": {"key": {"any_": ["retention"]}, "flow_run_id": {"any_": [str(run.id)]}},
                 "limit": 1, "offset": 0, "sort": "CREATED_DESC"}
        [artifact] = client.request("POST", "/artifacts/filter", json=query).json()
    seen = json.dumps([run.parameters, run.name, artifact["data"], artifact["description"]])
    assert old in seen and not any(n in seen for n in ("Kappelmeier", "Altgeschlossen", "Umzug"))
    assert apply_retention(as_of=dt.date(2029, 3, 2))["due"] == []  # erased once
