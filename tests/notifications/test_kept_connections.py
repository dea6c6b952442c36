"""E-mail routes keep one SMTP connection per delivery (notifications/smtp.py): the messages are the
ones Apprise writes, a connection the server dropped is opened again, and a refusal fails only the
message it refused."""

from __future__ import annotations

from typing import Any

from lotse.notifications import routes as route_table
from lotse.notifications.channels import AppriseSender
from lotse.notifications.outbox import enqueue
from lotse.notifications.routes import Address
from lotse.notifications.smtp import Connections
from lotse.tasks import delivery
from lotse.tasks.context import Context
from tests.notifications.conftest import Inbox, Routes

BODY = "Guten Tag,\n\nim Fall SE-2026-0001 ist etwas geschehen: Ümlaute und ß bleiben.\n"


def queue(ctx: Context, count: int, role: str, first: int = 0) -> None:
    with ctx.db.writing() as session:
        for index in range(first, first + count):
            enqueue(session, case_id=None, recipient=f"{role}@SE-Nord", tags=str(Address((role,), "SE-Nord")),
                    subject=f"SE-2026-{index:04d}: Eingereist", body=BODY, now=ctx.clock(),
                    dedup_key=f"kept:{index}")


def test_one_delivery_opens_one_connection_per_route_and_sends_every_message(
    alliance: Context, inbox: Inbox, routes: Routes,
) -> None:
    routes((inbox.url("wohnbau@example.org"), "housing"), (inbox.url("beratung@example.org"), "counsellor"))
    queue(alliance, 10, "housing")
    queue(alliance, 3, "counsellor", first=10)
    report = delivery.deliver(alliance)
    assert (report.sent, report.failed) == (13, 0)
    assert inbox.greetings == 2  # Apprise alone greets once per message: 13
    assert len(inbox.to("wohnbau@example.org")) == 10 and len(inbox.to("beratung@example.org")) == 3
    assert {r["status"] for r in delivery.outbox(alliance)} == {"sent"}
    queue(alliance, 2, "housing", first=20)
    assert delivery.deliver(alliance).sent == 2
    assert inbox.greetings == 3  # a delivery closes its connections when it ends


def test_the_message_is_the_one_apprise_writes(alliance: Context, inbox: Inbox, routes: Routes) -> None:
    routes((inbox.url("wohnbau@example.org"), "housing"))
    target = route_table.load(alliance.settings).targets[0]
    AppriseSender().send(target, "SE-2026-0001: Eingereist", BODY)
    kept = Connections(timeout=5)
    kept.send(target, "SE-2026-0001: Eingereist", BODY)
    kept.close()
    by_apprise, by_kept = inbox.mails
    varying = {"Date", "Message-ID"}
    assert [(k, v) for k, v in by_apprise.message.items() if k not in varying] == \
        [(k, v) for k, v in by_kept.message.items() if k not in varying]
    assert by_apprise.text == by_kept.text == BODY
    assert (by_apprise.sender, by_apprise.recipients) == (by_kept.sender, by_kept.recipients)


def test_a_connection_the_server_dropped_is_opened_again(
    alliance: Context, inbox: Inbox, routes: Routes,
) -> None:
    routes((inbox.url("wohnbau@example.org"), "housing"))
    target = route_table.load(alliance.settings).targets[0]
    kept = Connections(timeout=5)
    kept.send(target, "first", BODY)
    inbox.stop()  # the server goes away, and comes back on the same port
    inbox.start()
    kept.send(target, "second", BODY)
    kept.close()
    assert [m.subject for m in inbox.mails] == ["first", "second"]
    assert inbox.greetings == 2


class Picky(Inbox):
    """Refuses (451) every message whose subject says so, takes the others."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if b"Subject: refuse" in envelope.content:
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_refused_message_fails_alone_and_the_others_go_out(alliance: Context, routes: Routes) -> None:
    picky = Picky().start()
    try:
        routes((picky.url("wohnbau@example.org"), "housing"))
        with alliance.db.writing() as session:
            for index, subject in enumerate(["take 0", "refuse 1", "take 2", "refuse 3"]):
                enqueue(session, case_id=None, recipient="housing@SE-Nord",
                        tags=str(Address(("housing",), "SE-Nord")), subject=subject, body=BODY,
                        now=alliance.clock(), dedup_key=f"picky:{index}")
        report = delivery.deliver(alliance)
        assert (report.sent, report.failed) == (2, 2)
        failed = delivery.outbox(alliance, status="failed")
        assert len(failed) == 2
        assert all("451" in r["last_error"] and "mailto://127.0.0.1" in r["last_error"] for r in failed)
        assert [m.subject for m in picky.mails] == ["take 0", "take 2"]
        assert picky.greetings == 1  # the server refused a message, not the connection
    finally:
        picky.stop()
