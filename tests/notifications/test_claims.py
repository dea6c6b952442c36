"""Claims: a delivery killed mid-way loses no message, and two deliveries at once never send one
message twice. Real processes (`lotse notify`), a real SMTP server, a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from lotse.notifications import claims
from lotse.states.records import OutboxRecord
from lotse.tasks import casework, delivery, health
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.notifications.conftest import Inbox, Routes, arrive, mail_routes, visa_case


def start_notify(home: Path, config: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_API_URL"))}
    env.update(LOTSE_HOME=str(home), LOTSE_NOTIFY_CONFIG=str(config), LOTSE_NOTIFY_BATCH_SIZE="2")
    return subprocess.Popen([sys.executable, "-m", "lotse.flows.cli", "notify", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def cases_with_messages(ctx: Context, clock: Clock, count: int) -> int:
    """`count` cases that arrived, their messages due now by the real clock; returns the rows."""
    clock.now = dt.datetime.now(dt.UTC)  # the processes below read the real clock
    for index in range(count):
        arrive(ctx, visa_case(ctx, f"Person{index}"))
    with ctx.db.reading() as session:
        return len(session.scalars(select(OutboxRecord.id)).all())


def each_once(inbox: Inbox) -> Counter[tuple[tuple[str, ...], str]]:
    return Counter((tuple(m.recipients), m.subject) for m in inbox.mails)


def test_a_delivery_killed_mid_send_loses_no_message_and_the_next_one_finishes(
    alliance: Context, inbox: Inbox, routes: Routes, clock: Clock, home: Path,
) -> None:
    config = routes(*mail_routes(inbox))
    total = cases_with_messages(alliance, clock, 2)
    assert total == 2 * (3 + 4)
    inbox.hold_after(2)  # the third message hangs in mid-air
    process = start_notify(home, config)
    inbox.wait_held(1)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    inbox.release()  # the server refuses the message it held: it never took it

    rows = delivery.outbox(alliance)
    assert len(rows) == total  # nothing lost
    assert Counter(r["status"] for r in rows) == {"sent": 2, "pending": total - 2}
    assert len(inbox.mails) == 2

    # The killed delivery had taken its second batch of two: those wait for its claim to expire.
    assert delivery.deliver(alliance).sent == total - 4
    assert [r["id"] for r in delivery.outbox(alliance, status="pending")] == [3, 4]
    clock.now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=alliance.settings.notify_claim_seconds)
    finished = delivery.deliver(alliance)
    assert (finished.sent, finished.failed) == (2, 0)
    assert len(each_once(inbox)) == total and set(each_once(inbox).values()) == {1}


def test_two_deliveries_at_once_never_send_one_message_twice(
    alliance: Context, inbox: Inbox, routes: Routes, clock: Clock, home: Path,
) -> None:
    config = routes(*mail_routes(inbox))
    total = cases_with_messages(alliance, clock, 3)
    inbox.hold_after(0, then="accept")
    first, second = start_notify(home, config, "--json"), start_notify(home, config, "--json")
    inbox.wait_held(2)  # both deliveries are in the middle of a send, each with its own rows
    inbox.release()
    reports = [json.loads(p.communicate(timeout=120)[0]) for p in (first, second)]
    assert all(r["sent"] > 0 for r in reports)
    assert sum(r["sent"] for r in reports) == total
    assert len(inbox.mails) == total and set(each_once(inbox).values()) == {1}


def test_a_claim_keeps_rows_from_others_until_it_expires_and_a_late_outcome_is_dropped(
    alliance: Context, routes: Routes, clock: Clock,
) -> None:
    casework.open_case(alliance, given_name="Ramon", family_name="Bautista", nationality="PHL",
                       employer="klinik-nord")
    arrive_ref = visa_case(alliance)
    now = clock()
    with alliance.db.writing() as session:
        token, mine = claims.claim(session, now=now, lease_seconds=60, limit=10)
    assert len(mine) == 3  # the messages of apply_visa
    with alliance.db.writing() as session:
        assert claims.claim(session, now=now + dt.timedelta(seconds=59), lease_seconds=60, limit=10)[1] == []
    with alliance.db.writing() as session:
        late, theirs = claims.claim(session, now=now + dt.timedelta(seconds=60), lease_seconds=60, limit=10)
    assert [r.id for r in theirs] == [r.id for r in mine]
    with alliance.db.writing() as session:
        assert claims.held(session, mine[0].id or 0, token) is None  # the first claimer lost it
        assert claims.held(session, mine[0].id or 0, late) is not None
    assert arrive_ref


def test_a_message_the_server_took_while_its_sender_died_is_sent_again_and_counted_as_resent(
    alliance: Context, inbox: Inbox, routes: Routes, clock: Clock, home: Path,
) -> None:
    config = routes(*mail_routes(inbox))
    total = cases_with_messages(alliance, clock, 1)
    inbox.hold_after(0, then="kept")  # the server takes the first message, and its answer hangs
    process = start_notify(home, config)
    inbox.wait_held(1)
    process.send_signal(signal.SIGKILL)  # the connection drops before the answer
    assert process.wait(timeout=30) == -signal.SIGKILL
    inbox.release()
    assert len(inbox.mails) == 1

    clock.now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=alliance.settings.notify_claim_seconds)
    assert delivery.deliver(alliance).sent == total
    repeated = [key for key, times in each_once(inbox).items() if times > 1]
    assert len(repeated) == 1  # the one way a message repeats
    rows = {r["id"]: r for r in delivery.outbox(alliance)}
    assert rows[1]["resent"] == 1  # and it is counted
    # Every row the killed delivery held counts, sent before or not: a count that may be high,
    # never low.
    assert sum(r["resent"] for r in rows.values()) >= len(repeated)
    assert delivery.deliver(alliance, retry_now=True).sent == 0
    doctor = health.outbox(health.Installation(alliance.settings, db=alliance.db))[0]
    assert doctor.data["resent"] == sum(1 for r in rows.values() if r["resent"])
    assert f"{doctor.data['resent']} maybe sent twice" in doctor.detail
