"""Upgrading a database that has messages to schema 0007: every message keeps what it was, has
been sent again by no one (`resent` 0) and revived by no one (`revivals` none)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import select, text

from lotse.config.settings import Settings
from lotse.states import schema
from lotse.states.database import Database
from lotse.states.records import OutboxRecord


def test_upgrading_to_0007_keeps_every_message_as_never_resent_and_never_revived(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, _env_file=None)  # type: ignore[call-arg]
    db = Database(settings.db_url, create=True)
    config = schema._config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO outbox (dedup_key, recipient, tags, subject, body, status, attempts, "
            "next_attempt_at, last_error, created_at) VALUES ('k', 'koord', 'roles=coordinator', 's', "
            "'b', 'dead', 6, '2026-01-01', 'Connection refused', '2026-01-01')"))

    before, _ = schema.upgrade(db.engine)

    assert before == "0006"
    with db.reading() as session:
        row = session.scalars(select(OutboxRecord)).one()
    assert (row.status, row.attempts, row.last_error) == ("dead", 6, "Connection refused")
    assert (row.resent, row.revivals) == (0, None)
    db.dispose()
