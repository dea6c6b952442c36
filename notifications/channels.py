"""Sending one message through one route: through Apprise, or into a recording (tests, dry runs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from lotse.notifications.apprise_log import listening
from lotse.notifications.routes import Target


class SendFailed(Exception):
    """The service did not take the message; the text says why, as the service said it."""


class Sender(Protocol):
    def send(self, target: Target, subject: str, body: str, *, warning: bool = False) -> None:
        """Hand the message to the route's service, or raise `SendFailed`."""


class AppriseSender:
    """The real thing: the route's Apprise service sends the message."""

    def send(self, target: Target, subject: str, body: str, *, warning: bool = False) -> None:
        import apprise

        kind = apprise.NotifyType.WARNING if warning else apprise.NotifyType.INFO
        with listening() as heard:
            try:
                accepted = target.service.notify(
                    body=body, title=subject, notify_type=kind, body_format=apprise.NotifyFormat.TEXT,
                )
            except Exception as exc:  # a plugin's bug must not stop the other rows
                raise SendFailed(target.hide(f"{target.label}: {type(exc).__name__}: {exc}")) from exc
        if not accepted:
            said = heard.text(target.hide) or "the service did not accept the message"
            raise SendFailed(target.hide(f"{target.label}: {said}"))


@dataclass
class Sent:
    route: str
    channel: str
    subject: str
    body: str


@dataclass
class RecordingSender:
    """A fake beside the real one: keeps what it was given; fails for the routes in `failing`."""

    sent: list[Sent] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)

    def send(self, target: Target, subject: str, body: str, *, warning: bool = False) -> None:
        if target.key in self.failing or target.label in self.failing:
            raise SendFailed(f"{target.label}: refused by the recording sender")
        self.sent.append(Sent(target.label, target.channel, subject, body))
