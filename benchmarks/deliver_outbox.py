"""Benchmark: delivering the outbox to a real SMTP server on loopback.

Queues N messages (default 1,000) and times `tasks.delivery.deliver` sending them all (claim,
send, settle), beside the floor: the same number of mails sent by hand with smtplib over one
connection. Prints both with their CPU time and the ratio; the goal is at least half the floor
(issue 15). Apprise alone, a connection and a TLS context per message, made about 30/s here.

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

        started, cpu = time.perf_counter(), time.process_time()
        report = delivery.deliver(ctx)
        lotse, lotse_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert report.sent == count and sink.count == count, report.summary()

        started, cpu = time.perf_counter(), time.process_time()
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            for index in range(count):
                message = EmailMessage()
                message["From"], message["To"] = "lotse@example.org", "h@example.org"
                message["Subject"] = f"SE-2026-{index:04d}: Eingereist"
                message.set_content(body)
                smtp.send_message(message)
        floor, floor_cpu = time.perf_counter() - started, time.process_time() - cpu
        ctx.db.dispose()
    server.stop()
    print(f"deliver {count} e-mails (claim, send, settle): {lotse:.2f} s wall, {lotse_cpu:.2f} s CPU "
          f"({count / lotse:.0f}/s)")
    print(f"floor, smtplib over one connection:       {floor:.2f} s wall, {floor_cpu:.2f} s CPU "
          f"({count / floor:.0f}/s)")
    print(f"ratio: {lotse / floor:.2f}x the floor's time, {floor / lotse:.0%} of its rate (goal: >= 50%)")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
