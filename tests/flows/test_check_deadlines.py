"""The `check-deadlines` flow on a real Prefect server: it reminds once and publishes a table of
case refs, deadlines, due dates, levels, roles and basis, never a name."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from sqlalchemy import func, select

from lotse.flows.check_deadlines import check_deadlines
from lotse.states.records import OutboxRecord
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.tasks.test_deadlines import arrived

pytestmark = pytest.mark.prefect


def artifact_rows(flow_run_id: Any) -> list[dict[str, Any]]:
    """The rows of the flow run's `deadlines-due` table, read back from the server's API."""
    query = {
        "artifacts": {"key": {"any_": ["deadlines-due"]}, "flow_run_id": {"any_": [str(flow_run_id)]}},
        "limit": 10, "offset": 0, "sort": "CREATED_DESC",
    }
    # Prefect 3.8's client.read_artifacts sends unset filters as null, which its server refuses.
    with get_client(sync_client=True) as client:
        [artifact] = client.request("POST", "/artifacts/filter", json=query).json()
    data = artifact["data"]
    return json.loads(data) if isinstance(data, str) else data


def outbox(ctx: Context) -> int:
    with ctx.db.reading() as session:
        return session.scalar(select(func.count()).select_from(OutboxRecord)) or 0


def test_the_flow_reminds_once_and_publishes_a_table_without_names(
    prefect_harness: None, alliance: Context, clock: Clock, home: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref = arrived(alliance, clock, dt.date(2026, 4, 1), dt.date(2026, 9, 30))
    monkeypatch.setenv("LOTSE_HOME", str(home))
    monkeypatch.delenv("LOTSE_DATABASE_URL", raising=False)
    before = outbox(alliance)

    state = check_deadlines(as_of=dt.date(2026, 4, 23), return_state=True)
    queued = outbox(alliance)
    again = check_deadlines(as_of=dt.date(2026, 4, 23), return_state=True)

    assert state.is_completed() and again.is_completed()
    rows = artifact_rows(state.state_details.flow_run_id)
    assert [(r["ref"], r["deadline"], r["due"], r["level"], r["role"]) for r in rows] == [
        (ref, "address_registration", "2026-04-15", 2, "coordinator"),
        (ref, "landlord_confirmation", "2026-04-15", 2, "coordinator"),
    ]
    assert all(r["basis"] and r["reminded"] for r in rows)
    assert "Santos" not in json.dumps(rows) and "Maria" not in json.dumps(rows)
    assert queued - before == 2
    assert outbox(alliance) == queued
    assert [r["reminded"] for r in artifact_rows(again.state_details.flow_run_id)] == [False, False]


def test_a_day_with_nothing_due_publishes_an_empty_table(
    prefect_harness: None, alliance: Context, clock: Clock, home: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    arrived(alliance, clock, dt.date(2026, 4, 1), dt.date(2026, 9, 30))
    monkeypatch.setenv("LOTSE_HOME", str(home))
    monkeypatch.delenv("LOTSE_DATABASE_URL", raising=False)

    state = check_deadlines(as_of=dt.date(2026, 4, 2), return_state=True)

    assert state.result() == {"as_of": "2026-04-02", "found": []}
    assert [r["ref"] for r in artifact_rows(state.state_details.flow_run_id)] == [""]
