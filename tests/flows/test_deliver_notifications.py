"""The `deliver-notifications` flow on a real Prefect server, sending to a real SMTP server: each
due message once, the undeliverable ones listed without a name, retries only for network trouble."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from prefect.states import Completed, Failed
from sqlalchemy.exc import OperationalError

from lotse.flows.deliver_notifications import deliver_notifications
from lotse.tasks.context import Context
from lotse.tasks.prefect_tasks import network_trouble
from tests.conftest import Clock
from tests.notifications.conftest import ALLIANCE_ROLES, Inbox, arrive, visa_case


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    server = Inbox().start()
    yield server
    server.stop()


def artifact_rows(flow_run_id: Any, key: str) -> list[dict[str, Any]]:
    query = {"artifacts": {"key": {"any_": [key]}, "flow_run_id": {"any_": [str(flow_run_id)]}},
             "limit": 10, "offset": 0, "sort": "CREATED_DESC"}
    # Prefect 3.8's client.read_artifacts sends unset filters as null, which its server refuses.
    with get_client(sync_client=True) as client:
        found = client.request("POST", "/artifacts/filter", json=query).json()
    if not found:
        return []
    data = found[0]["data"]
    return json.loads(data) if isinstance(data, str) else data


@pytest.mark.prefect
def test_the_flow_sends_each_due_message_once_and_lists_the_undelivered_without_names(
    prefect_harness: None, alliance: Context, clock: Clock, home: Path, inbox: Inbox, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "routes.yaml"
    lines = ["version: 1", "urls:"]
    for actor in ALLIANCE_ROLES:
        if actor != "beratung":  # the counsellor has no route
            lines += [f'  - "{inbox.url(f"{actor}@example.org")}":', f"      tag: {actor}"]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in ("LOTSE_DATABASE_URL", "LOTSE_LOCALE", "LOTSE_TEMPLATE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOTSE_HOME", str(home))
    monkeypatch.setenv("LOTSE_NOTIFY_CONFIG", str(config))
    clock.now = dt.datetime.now(dt.UTC)  # the flow reads the real clock
    ref = visa_case(alliance, given_name="Maricel")
    arrive(alliance, ref)

    state = deliver_notifications(return_state=True)
    again = deliver_notifications(return_state=True)

    assert state.is_completed() and again.is_completed()
    first, second = state.result(), again.result()
    assert (first["sent"], first["failed"]) == (6, 1)
    assert second["sent"] == 0  # the failed one waits for its backoff
    assert len(inbox.mails) == 6 and len({(tuple(m.recipients), m.subject) for m in inbox.mails}) == 6
    rows = artifact_rows(state.state_details.flow_run_id, "undelivered-messages")
    assert [(r["to"], r["status"]) for r in rows] == [("beratung", "failed")]
    assert "no route" in rows[0]["error"] and "Maricel" not in json.dumps(rows)


def test_the_delivery_task_is_retried_for_network_trouble_only() -> None:
    def failed_with(exc: Exception) -> Any:
        return Failed(data=exc)

    assert network_trouble(None, None, failed_with(ConnectionRefusedError("refused")))
    assert network_trouble(None, None, failed_with(OperationalError("SELECT 1", {}, Exception("gone"))))
    assert not network_trouble(None, None, failed_with(ValueError("a bug, not the network")))
    assert not network_trouble(None, None, Completed(data={"sent": 1}))
