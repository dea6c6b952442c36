"""Real parts for the notification tests: an SMTP server (aiosmtpd) and a chat webhook (an HTTP
server) on loopback, a routes file, and a case that is one step from a transition."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from lotse.tasks import casework
from lotse.tasks.context import Context
from tests.cli.conftest import Lotse, Outcome, in_process
from tests.conftest import Clock

ALLIANCE_ROLES = {
    "koord": "coordinator", "klinik-nord": "employer", "vermittlung": "agency",
    "abh-nord": "foreigners_office", "anerkennung": "recognition_office",
    "sprachschule": "language_school", "wohnbau-nord": "housing", "beratung": "counsellor",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "the e-mail has no text/plain part"
        return str(part.get_content()).replace("\r\n", "\n")


@dataclass
class Inbox:
    """A real SMTP server on loopback that keeps what it accepts.

    `hold_after(n)` stalls every message after the n-th until `release()`: a send in mid-air.
    Released, it refuses them (`then="refuse"`, the server never took them) or takes them;
    `then="kept"` takes each before it stalls: a sender that dies meanwhile never hears so."""

    port: int = field(default_factory=free_port)
    mails: list[Mail] = field(default_factory=list)
    held: int = 0
    greetings: int = 0  # EHLOs: one per connection a sender opened
    _hold_after: int | None = None
    _then: str = "refuse"
    _released: bool = False
    _controller: Controller | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self._hold_after is not None and len(self.mails) >= self._hold_after and not self._released:
            if self._then == "kept":
                self._keep(envelope)
            with self._changed:
                self.held += 1
                self._changed.notify_all()
            while not self._released:
                await asyncio.sleep(0.01)
            if self._then == "refuse":
                return "451 4.3.0 try again later"
            if self._then == "kept":
                return "250 OK"
        self._keep(envelope)
        return "250 OK"

    def _keep(self, envelope: Any) -> None:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))

    def hold_after(self, count: int, then: str = "refuse") -> None:
        self._hold_after, self._then, self._released, self.held = count, then, False, 0

    def wait_held(self, count: int, timeout: float = 60) -> None:
        """Until `count` messages are stalled at once (or fail after `timeout` seconds)."""
        with self._changed:
            assert self._changed.wait_for(lambda: self.held >= count, timeout), f"{self.held} held"

    def release(self) -> None:
        self._released = True

    def start(self) -> Inbox:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.recipients]

    def url(self, to: str) -> str:
        """An Apprise mailto:// URL to this server: plain SMTP on loopback needs mode=insecure."""
        return f"mailto://127.0.0.1:{self.port}?mode=insecure&from=lotse@example.org&to={to}"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    server = Inbox().start()
    yield server
    server.release()
    server.stop()


class Webhook:
    """A real HTTP server on loopback that keeps the JSON bodies posted to it (Apprise json://)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                posts.append({"path": self.path, "json": json.loads(self.rfile.read(length) or b"{}")})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    server = Webhook()
    yield server
    server.stop()


Routes = Callable[..., Path]


@pytest.fixture
def routes(alliance: Context, tmp_path: Path) -> Routes:
    """`routes((url, tags), ...)` writes an Apprise YAML file and points the settings at it."""

    def write(*entries: tuple[str, str], text: str | None = None) -> Path:
        path = tmp_path / "routes.yaml"
        lines = ["version: 1", "urls:"]
        for url, tags in entries:
            lines += [f'  - "{url}":', f"      tag: {tags}"]
        path.write_text(text if text is not None else "\n".join(lines) + "\n", encoding="utf-8")
        alliance.settings.notify_config = path
        return path

    return write


def mail_routes(inbox: Inbox) -> list[tuple[str, str]]:
    """Every actor of the alliance gets its own mailbox: <actor>@example.org."""
    return [(inbox.url(f"{actor}@example.org"), actor) for actor in ALLIANCE_ROLES]


def visa_case(ctx: Context, given_name: str = "Maricel") -> str:
    """A pflege case of Klinik Nord in stage visa, ready to `arrive`."""
    ref = casework.open_case(ctx, given_name=given_name, family_name="Dalisay", nationality="PHL",
                             employer="klinik-nord")
    casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(ctx, ref, "apply_visa", by="klinik-nord")
    casework.tick(ctx, ref, ["visa_granted", "housing_confirmed"], by="koord")
    return ref


def arrive(ctx: Context, ref: str, request_id: str | None = None) -> dict[str, Any]:
    return casework.advance(ctx, ref, "arrive", by="klinik-nord", request_id=request_id,
                            facts={"arrival_date": "2026-03-03", "visa_valid_until": "2026-09-30"})




@pytest.fixture
def lotse(alliance: Context, home: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> Lotse:
    """`lotse(*args)` runs the real command line in this process, on the alliance's database and
    with the alliance's notification settings (routes, templates, locale) as LOTSE_* variables.
    The command line reads the real clock: the test's clock starts there too."""
    clock.now = dt.datetime.now(dt.UTC)
    for name in list(os.environ):
        if name.startswith("LOTSE_") or name == "PREFECT_API_URL":
            monkeypatch.delenv(name)

    def run(*args: str) -> Outcome:
        settings = alliance.settings
        env = {"LOTSE_HOME": str(home), "LOTSE_LOCALE": settings.locale,
               "LOTSE_CHAT_REFERENCE_ONLY": str(settings.chat_reference_only).lower()}
        if settings.notify_config is not None:
            env["LOTSE_NOTIFY_CONFIG"] = str(settings.notify_config)
        if settings.template_dir is not None:
            env["LOTSE_TEMPLATE_DIR"] = str(settings.template_dir)
        return in_process(monkeypatch, capsys, args, env)

    return run
