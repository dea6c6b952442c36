"""Claims on PostgreSQL (real server at 127.0.0.1:5432): a claim that waits for another's row locks
takes none of the rows the other took, although both chose them from the same snapshot."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import text
from sqlmodel import Session

from lotse.config.settings import Settings
from lotse.notifications import claims
from lotse.notifications.outbox import enqueue
from lotse.states import schema
from lotse.tasks.context import Context
from tests.postgres import fresh_database

pytestmark = pytest.mark.postgres
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_a_claim_waiting_for_another_takes_none_of_its_rows() -> None:
    with fresh_database() as url:
        ctx = Context.from_settings(Settings(database_url=url, _env_file=None), check_schema=False)  # type: ignore[call-arg]
        schema.upgrade(ctx.db.engine)
        with ctx.db.writing() as session:
            for index in range(10):
                enqueue(session, case_id=None, recipient="koord", tags="roles=coordinator", subject="s",
                        body="b", dedup_key=f"k{index}", now=NOW)
        first = Session(ctx.db.engine, expire_on_commit=False)
        first.begin()
        _, taken_first = claims.claim(first, now=NOW, lease_seconds=60, limit=10)
        taken_second: list = []

        def second_claim() -> None:
            with ctx.db.writing() as session:
                taken_second.extend(claims.claim(session, now=NOW, lease_seconds=60, limit=10)[1])

        worker = threading.Thread(target=second_claim)
        worker.start()
        with ctx.db.engine.connect() as watcher:  # until the second claim waits on the row locks
            deadline = time.monotonic() + 30
            while not watcher.execute(text(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock'")).scalar():
                assert time.monotonic() < deadline, "the second claim never waited for the first"
                watcher.rollback()
        first.commit()
        first.close()
        worker.join(timeout=30)
        assert len(taken_first) == 10 and taken_second == []
        ctx.db.dispose()
