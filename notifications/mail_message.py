"""The e-mail of one message on one `mailto://` or `mailtos://` route, as Apprise writes it.

Apprise's `NotifyEmail.prepare_emails` spends most of a kept-connection delivery's time on a
plain-text message (logging each address, looking up the local time zone, every message anew).
Here the same message is written with the standard library's `email` package: the same headers in
the same order (`X-Application` and the route's own headers, `Subject`, `From`, `To`,
`Message-ID`, `Date`, `Cc`, `Reply-To`), the body as quoted-printable UTF-8, one message per
recipient, sent to the recipient and the route's copies. A route Apprise would sign or encrypt
(PGP) is still written by Apprise.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import charset as charsets
from email.header import Header
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

# Apprise registers quoted-printable for UTF-8 when its e-mail plugin is imported; said here again,
# so that the message does not depend on what was imported before.
_UTF8 = charsets.Charset("utf-8")
_UTF8.header_encoding = _UTF8.body_encoding = charsets.QP
# `Message.as_string()` folds with compat32 and no line length; its folding of every header is most
# of the time of writing a message, and leaves a printable ASCII line with single spaces as it is.
_FOLDING = compat32.clone(max_line_length=0)
_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*")
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Mail:
    """One message ready for `sendmail`: the envelope's recipients and the text."""

    to_addrs: list[str]
    text: str


def written_by_lotse(service: Any) -> bool:
    """Whether Lotse writes this route's messages itself: plain text, not signed or encrypted."""
    from apprise.common import NotifyFormat
    from apprise.plugins.email.base import PGPMode

    signed = service.pgp_mode in (PGPMode.SIGN, PGPMode.ENCRYPT)
    return service.notify_format == NotifyFormat.TEXT and not signed


def compose(service: Any, subject: str, body: str) -> Iterator[Mail]:
    """The messages of one text on one e-mail route (an Apprise `NotifyEmail`), one per recipient."""
    from_addr = service.from_addr
    smtp_host = service.smtp_host or from_addr[1].split("@")[1]
    zone = service.tzinfo or dt.datetime.now().astimezone().tzinfo
    names = service.names or {}
    cc, bcc, reply_to = set(service.cc or ()), set(service.bcc or ()), set(service.reply_to or ())
    headers = {"X-Application": service.app_id, **service.headers}
    for to_name, to_addr in service.targets:
        copies = [_named(names, a) for a in cc - bcc - {to_addr}]
        hidden = [_named(names, a) for a in bcc - {to_addr}]
        answer_to = [_named(names, a) for a in reply_to - {to_addr}]
        message = MIMEText(body, "plain", _UTF8)
        for key, value in headers.items():
            message[key] = Header(value, _charset(value))
        message["Subject"] = Header(subject, _charset(subject))
        message["From"] = formataddr(from_addr, charset=_UTF8)
        message["To"] = formataddr((to_name, to_addr), charset=_UTF8)
        message["Message-ID"] = make_msgid(domain=smtp_host)
        message["Date"] = format_datetime(dt.datetime.now(tz=zone))
        if cc:
            message["Cc"] = ",".join(copies)
        if answer_to:
            message["Reply-To"] = ",".join(answer_to)
        yield Mail([to_addr, *copies, *hidden], _flat(message))


def _flat(message: MIMEText) -> str:
    """What `message.as_string()` returns, for a single-part text message."""
    lines = [f"{name}: {value}\n" if isinstance(value, str) and _PLAIN.fullmatch(value)
             else _FOLDING.fold(name, value) for name, value in message.raw_items()]
    lines.append("\n")
    payload = message.get_payload()
    assert isinstance(payload, str)
    body = _LINE_END.split(payload)
    lines += [f"{line}\n" for line in body[:-1]]
    lines.append(body[-1])
    return "".join(lines)


def _named(names: dict[str, Any], address: str) -> str:
    return formataddr((names.get(address, False), address), charset=_UTF8)


def _charset(text: str) -> charsets.Charset | None:
    # ASCII stays unencoded: an encoded ASCII subject scores as spam (Apprise's rule).
    return _UTF8 if text and not text.isascii() else None
