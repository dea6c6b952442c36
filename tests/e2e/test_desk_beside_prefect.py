"""`lotse up` runs the desk beside Prefect: it answers on its port, logs to LOTSE_HOME/desk.log,
and the answer links in the messages the served flow runs write point to it."""

from __future__ import annotations

import re
import sqlite3
import time

import httpx
import pytest

from tests.e2e.conftest import Up

pytestmark = pytest.mark.prefect


def mailed_links(served: Up) -> list[str]:
    """The answer links in the messages of the served runs (the rows the demo backdated were
    written by `lotse init --demo`, before any desk ran)."""
    with sqlite3.connect(served.home / "lotse.db") as db:
        query = "SELECT body FROM outbox WHERE status != 'demo' AND body LIKE '%/a/%'"
        bodies = [body for (body,) in db.execute(query)]
    return [link for body in bodies for link in re.findall(r"https?://\S+/a/\S+", body)]


def test_lotse_up_starts_the_desk_beside_prefect(served: Up) -> None:
    assert f"desk: {served.desk} (log {served.home.resolve() / 'desk.log'})" in served.text()
    health = httpx.get(f"{served.desk}/health", timeout=5)
    assert (health.status_code, health.text) == (200, "ok")
    assert "GET /health 200" in (served.home / "desk.log").read_text()


def test_the_links_in_the_messages_of_served_runs_open_on_that_desk(served: Up) -> None:
    deadline = time.monotonic() + 90
    while not (links := mailed_links(served)):  # the demo's advance-case runs write them
        assert time.monotonic() < deadline, f"no message carries an answer link:\n{served.text()}"
        time.sleep(0.5)
    assert all(link.startswith(f"{served.desk}/a/") for link in links)
    statuses = {httpx.get(link, timeout=10).status_code for link in links[:5]}
    assert 200 in statuses and statuses <= {200, 409, 410}  # some may be answered or moved on since
    log = (served.home / "desk.log").read_text()
    assert "GET /a/<token> 200" in log
    assert not [link for link in links if link.rsplit("/", 1)[1] in log]
