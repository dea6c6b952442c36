"""The mail server is down while cases move: nothing is lost, nothing is rolled back, and once it is
back every message goes out exactly once."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from lotse.states.records import OutboxRecord
from lotse.tasks import case_file, delivery
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.notifications.conftest import Inbox, Lotse, Routes, arrive, mail_routes, visa_case


def test_an_smtp_outage_during_three_transitions_loses_nothing_and_sends_each_message_once(
    alliance: Context, inbox: Inbox, routes: Routes, clock: Clock,
) -> None:
    routes(*mail_routes(inbox))
    refs = [visa_case(alliance, name) for name in ("Maricel", "Joanna", "Ramon")]
    delivery.deliver(alliance)
    inbox.mails.clear()

    inbox.stop()
    for ref in refs:
        arrive(alliance, ref)
    down = delivery.deliver(alliance)
    assert (down.sent, down.failed) == (0, 12)
    assert [case_file.case_file(alliance, ref)["stage"] for ref in refs] == ["arrival"] * 3
    failed = delivery.outbox(alliance, status="failed")
    assert len(failed) == 12
    assert all(r["attempts"] == 1 and "Connection refused" in r["last_error"] for r in failed)

    inbox.start()
    assert delivery.deliver(alliance).sent == 0  # each row waits for its backoff
    clock.advance(seconds=alliance.settings.notify_backoff_seconds)
    back = delivery.deliver(alliance)
    assert (back.sent, back.failed) == (12, 0)
    assert delivery.deliver(alliance, retry_now=True).sent == 0
    sent = Counter((tuple(m.recipients), m.subject) for m in inbox.mails)
    assert len(sent) == 12 and set(sent.values()) == {1}
    assert {r["status"] for r in delivery.outbox(alliance)} == {"sent"}


def test_lotse_notify_now_retries_failed_messages_at_once_after_the_server_is_fixed(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse,
) -> None:
    routes(*mail_routes(inbox))
    ref = visa_case(alliance)
    inbox.stop()
    assert lotse("notify").code == 0
    inbox.start()
    assert "0 sent" in lotse("notify").out  # still in their backoff
    fixed = lotse("notify", "--now", "--json")
    assert fixed.code == 0 and fixed.json()["sent"] == 3
    assert [m.subject for m in inbox.mails] == [f"{ref} (Maricel): Visum beantragt"] * 3


def test_failed_rows_wait_longer_after_each_attempt(alliance: Context, routes: Routes, clock: Clock) -> None:
    routes(("mailto://127.0.0.1:9?mode=insecure&from=lotse@example.org&to=x@example.org", "employer"))
    visa_case(alliance)
    waits = []
    for _ in range(3):
        delivery.deliver(alliance)
        with alliance.db.reading() as session:
            row = session.get(OutboxRecord, 1)
            assert row is not None
            due = row.next_attempt_at.replace(tzinfo=dt.UTC)
        waits.append((due - clock.now).total_seconds())
        clock.now = due
    backoff = alliance.settings.notify_backoff_seconds
    assert waits == [backoff, 2 * backoff, 4 * backoff]
