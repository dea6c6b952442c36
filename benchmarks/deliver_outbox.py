"""Benchmark: delivering the outbox to a real SMTP server on loopback.

Queues N messages (default 1,000) and times `tasks.delivery.deliver` sending them all (claim,
send through Apprise, record), beside the floor: the same number of mails sent by hand with
smtplib, one connection per mail as Apprise does. Prints both and their ratio.

Measured here (2 cores): about 30 messages/s against a floor of about 250/s. Most of the gap is
Apprise's e-mail plugin building a fresh TLS context (loading the CA store, ~20 ms) for every
message, even for a plain SMTP server; an alliance sends hundreds of messages a day, not per second.

    .venv/bin/python benchmarks/deliver_outbox.py [N]
"""

from __future__ import annotations

import datetime as dt
import smtplib
import socket
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from lotse.config.settings import Settings
from lotse.notifications.outbox import enqueue
from lotse.notifications.routes import Address
from lotse.states import schema
from lotse.tasks import delivery
from lotse.tasks.context import Context


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(count: int) -> None:
    sink, port = Sink(), free_port()
    server = Controller(sink, hostname="127.0.0.1", port=port)
    server.start()
    with tempfile.TemporaryDirectory() as folder:
        routes = Path(folder) / "routes.yaml"
        routes.write_text(
            "version: 1\nurls:\n"
            f'  - "mailto://127.0.0.1:{port}?mode=insecure&from=lotse@example.org&to=h@example.org":\n'
            "      tag: housing\n", encoding="utf-8")
        settings = Settings(home=Path(folder), notify_config=routes, _env_file=None)  # type: ignore[call-arg]
        ctx = Context.from_settings(settings, check_schema=False)
        schema.upgrade(ctx.db.engine)
        now = dt.datetime.now(dt.UTC)
        body = "Guten Tag,\n\nim Fall SE-2026-0001 ist etwas geschehen.\n" * 5
        with ctx.db.writing() as session:
            for index in range(count):
                enqueue(session, case_id=None, recipient="housing@SE-Nord",
                        tags=str(Address(("housing",), "SE-Nord")), body=body, now=now,
                        subject=f"SE-2026-{index:04d}: Eingereist", dedup_key=f"bench:{index}")

        started = time.perf_counter()
        report = delivery.deliver(ctx)
        lotse = time.perf_counter() - started
        assert report.sent == count and sink.count == count, report.summary()

        started = time.perf_counter()
        for index in range(count):
            message = EmailMessage()
            message["From"], message["To"] = "lotse@example.org", "h@example.org"
            message["Subject"] = f"SE-2026-{index:04d}: Eingereist"
            message.set_content(body)
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                smtp.send_message(message)
        floor = time.perf_counter() - started
        ctx.db.dispose()
    server.stop()
    print(f"deliver {count} messages through Apprise with claims: {lotse:.2f} s "
          f"({count / lotse:.0f}/s)")
    print(f"floor, smtplib by hand (one connection each):       {floor:.2f} s "
          f"({count / floor:.0f}/s)")
    print(f"ratio: {lotse / floor:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
