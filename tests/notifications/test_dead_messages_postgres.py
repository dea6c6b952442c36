"""Dead messages on PostgreSQL (real server at 127.0.0.1:5432): a message taken again after its
claim expired is counted as resent, and `outbox retry` revives a dead message with its audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from lotse.config.settings import Settings
from lotse.notifications import claims
from lotse.notifications.outbox import enqueue, listing
from lotse.states import schema
from lotse.states.errors import Refused
from lotse.states.records import OutboxRecord
from lotse.tasks import directory, outbox_retry
from lotse.tasks.context import Context
from tests.postgres import fresh_database

pytestmark = pytest.mark.postgres
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_a_message_claimed_again_is_counted_and_a_dead_one_is_revived_with_its_audit() -> None:
    with fresh_database() as url:
        ctx = Context.from_settings(Settings(database_url=url, _env_file=None), check_schema=False)  # type: ignore[call-arg]
        schema.upgrade(ctx.db.engine)
        ctx.clock = lambda: NOW + dt.timedelta(minutes=5)
        directory.add_actor(ctx, "koord", name="Koordinierungsstelle", roles=["coordinator"])
        with ctx.db.writing() as session:
            for key in ("a", "b"):
                enqueue(session, case_id=None, recipient="koord", tags="roles=coordinator", subject="s",
                        body="b", dedup_key=key, now=NOW)
        with ctx.db.writing() as session:
            claims.claim(session, now=NOW, lease_seconds=60, limit=1)  # its sender dies
        later = NOW + dt.timedelta(seconds=61)
        with ctx.db.writing() as session:
            _, rows = claims.claim(session, now=later, lease_seconds=60, limit=2)
            for row in rows:
                claims.mark_failed(session, row, later, "Connection refused", max_attempts=1,
                                   backoff_seconds=60)
        with ctx.db.reading() as session:
            shown = {r["id"]: r for r in listing(session)}
        assert [(r["status"], r["resent"]) for r in shown.values()] == [("dead", 1), ("dead", 0)]

        assert outbox_retry.retry(ctx, by="koord", ids=[1])["revived"] == [1]
        with pytest.raises(Refused, match="message #1 is pending, not dead"):
            outbox_retry.retry(ctx, by="koord", ids=[1, 2])
        with ctx.db.reading() as session:
            revived, dead = session.scalars(select(OutboxRecord).order_by(OutboxRecord.id)).all()
            assert (revived.status, revived.attempts) == ("pending", 0)
            assert revived.last_error == "Connection refused"
            assert revived.revivals == [{"at": "2026-03-02T09:05:00+00:00", "by": "koord", "via": "cli",
                                         "proof": ctx.proof, "error": "Connection refused"}]
            assert dead.status == "dead" and dead.revivals is None
        ctx.db.dispose()
