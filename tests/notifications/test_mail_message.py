"""Lotse writes an e-mail route's message itself (notifications/mail_message.py): the same text and
envelope as Apprise's `NotifyEmail.prepare_emails`, but for the Message-ID and the Date."""

from __future__ import annotations

from typing import Any

import apprise
import pytest
from apprise.plugins.email import NotifyEmail

from lotse.notifications.mail_message import compose, written_by_lotse

ROUTES = [
    "mailto://127.0.0.1:25?mode=insecure&from=lotse@example.org&to=h@example.org",
    "mailto://127.0.0.1:25?mode=insecure&from=Lotse <lotse@example.org>&to=h@example.org"
    "&cc=Bea <c@example.org>&bcc=d@example.org&reply=r@example.org",
    "mailto://127.0.0.1:25?mode=insecure&from=lotse@example.org&name=Lötse Büro"
    "&to=h@example.org,i@example.org",
    "mailto://127.0.0.1:25?mode=insecure&from=lotse@example.org&to=h@example.org"
    "&+X-Custom=zwei  Leerzeichen &+X-Umlaut=Grüße",
]
SUBJECTS = ["SE-2026-0001: Eingereist", "Ärger über ß " * 10, "a  b", " vorn", "hinten ", "Tab\tda",
            "x" * 300, "=?utf-8?q?x?=", "Zeile\nzwei", ""]
BODIES = ["Hallo\n", "Grüße\n" * 50 + "x" * 200 + "\n", "ohne Zeilenende", "a\r\nb\rc\n", "From hier\n.\n",
          "", "  \n\t\n", "ü" * 500]


def route(url: str) -> Any:
    services = apprise.Apprise()
    services.add(url)
    service = services[0]
    service.notify_format = apprise.NotifyFormat.TEXT  # as notifications/routes.py sets it
    return service


def by_apprise(service: Any, subject: str, body: str) -> list[Any]:
    return list(NotifyEmail.prepare_emails(
        subject=subject, body=body, notify_format=service.notify_format, from_addr=service.from_addr,
        to=service.targets, cc=service.cc, bcc=service.bcc, reply_to=service.reply_to,
        smtp_host=service.smtp_host, attach=None,
        headers={"X-Application": service.app_id, **service.headers},
        names=service.names, pgp=service.pgp, pgp_mode=service.pgp_mode, inline=service.inline,
        tzinfo=service.tzinfo,
    ))


def lasting(text: str) -> list[str]:
    return [line for line in text.split("\n") if not line.startswith(("Message-ID: ", "Date: "))]


@pytest.mark.parametrize("url", ROUTES)
def test_every_message_is_the_one_apprise_writes_but_for_its_id_and_date(url: str) -> None:
    service = route(url)
    assert written_by_lotse(service)
    for subject in SUBJECTS:
        for body in BODIES:
            theirs, ours = by_apprise(service, subject, body), list(compose(service, subject, body))
            assert [(m.to_addrs, lasting(m.body)) for m in theirs] == \
                [(m.to_addrs, lasting(m.text)) for m in ours], (subject, body)


def test_a_route_that_signs_or_encrypts_is_left_to_apprise() -> None:
    assert not written_by_lotse(route(ROUTES[0] + "&pgp=yes"))
