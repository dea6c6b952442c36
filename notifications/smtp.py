"""E-mail routes sent over one SMTP connection per route and delivery, not one per message.

Apprise's e-mail plugin opens a connection, builds a fresh TLS context (loading the CA store) and
logs in for every message: most of the time of a delivery. Here Apprise still parses the route
(`mailto://`, `mailtos://`: host, port, TLS mode, login, sender, recipients); the message is the one
it writes (`notifications.mail_message`: the same headers and body, written faster; a PGP route by
Apprise's `NotifyEmail.prepare_emails`); the connection is kept open for the delivery's next
message on the same route, and one TLS context serves every route of the delivery. Every other
scheme (chat) goes through Apprise as before.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from typing import Any

from lotse.notifications import mail_message
from lotse.notifications.channels import AppriseSender, SendFailed
from lotse.notifications.routes import Target

_FAILURES = (OSError, smtplib.SMTPException, RuntimeError)


def is_email(target: Target) -> bool:
    """A route Apprise reads as an SMTP server (`mailto://`, `mailtos://`)."""
    from apprise.plugins.email import NotifyEmail

    return isinstance(target.service, NotifyEmail)


class Connections:
    """The open SMTP connections of one delivery, one per route; `close()` ends them all."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._open: dict[str, smtplib.SMTP] = {}
        self._contexts: dict[bool, ssl.SSLContext] = {}

    def send(self, target: Target, subject: str, body: str, *, warning: bool = False) -> None:
        """Hand the message to the route's SMTP server, on its open connection if there is one;
        raise `SendFailed` with the reason, without the route's secrets."""
        from apprise.plugins.email import NotifyEmail

        service = target.service
        if not service.targets:
            raise SendFailed(f"{target.label}: the route names no recipient")
        if mail_message.written_by_lotse(service):
            for mail in list(mail_message.compose(service, subject, body)):
                self._sendmail(target, service.from_addr[1], mail.to_addrs, mail.text)
            return
        headers = {"X-Application": service.app_id, **service.headers}
        messages = list(NotifyEmail.prepare_emails(
            subject=subject, body=body, notify_format=service.notify_format, from_addr=service.from_addr,
            to=service.targets, cc=service.cc, bcc=service.bcc, reply_to=service.reply_to,
            smtp_host=service.smtp_host, attach=None, headers=headers, names=service.names,
            pgp=service.pgp, pgp_mode=service.pgp_mode, inline=service.inline, tzinfo=service.tzinfo,
        ))
        for message in messages:
            self._sendmail(target, service.from_addr[1], message.to_addrs, message.body)

    def _sendmail(self, target: Target, sender: str, to: list[str], data: str) -> None:
        reused = target.key in self._open
        try:
            self._connection(target).sendmail(sender, to, data)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(target.hide(f"{target.label}: the server refused the recipients: "
                                         f"{_said(exc.recipients)}")) from None
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            # The server answered and refused this message; the connection serves the next one.
            raise SendFailed(target.hide(f"{target.label}: {_reason(exc)}")) from None
        except _FAILURES as exc:
            self._drop(target.key)
            if reused and isinstance(exc, (smtplib.SMTPServerDisconnected, ConnectionError)):
                # The server closed the idle connection since the last message: a new one, once.
                self._send_fresh(target, sender, to, data)
                return
            raise SendFailed(target.hide(f"{target.label}: {_reason(exc)}")) from None

    def _send_fresh(self, target: Target, sender: str, to: list[str], data: str) -> None:
        try:
            self._connection(target).sendmail(sender, to, data)
        except _FAILURES as exc:
            self._drop(target.key)
            raise SendFailed(target.hide(f"{target.label}: {_reason(exc)}")) from None

    def _connection(self, target: Target) -> smtplib.SMTP:
        if target.key in self._open:
            return self._open[target.key]
        from apprise.plugins.email import SecureMailMode

        service = target.service
        context = self._context(bool(service.verify_certificate))
        if service.secure_mode == SecureMailMode.SSL:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(service.smtp_host, service.port, None,
                                                  timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(service.smtp_host, service.port, None, timeout=self.timeout)
        try:
            if service.secure_mode == SecureMailMode.STARTTLS:
                smtp.starttls(context=context)
            if service.user and service.password:
                smtp.login(service.user, service.password)
        except BaseException:
            with contextlib.suppress(*_FAILURES):
                smtp.close()
            raise
        self._open[target.key] = smtp
        return smtp

    def _context(self, verify: bool) -> ssl.SSLContext:
        if verify not in self._contexts:
            context = ssl.create_default_context()
            if not verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._contexts[verify] = context
        return self._contexts[verify]

    def _drop(self, key: str) -> None:
        smtp = self._open.pop(key, None)
        if smtp is not None:
            with contextlib.suppress(*_FAILURES):
                smtp.close()

    def close(self) -> None:
        for key, smtp in list(self._open.items()):
            with contextlib.suppress(*_FAILURES):
                smtp.quit()
            self._drop(key)


class RouteSender:
    """The sender of a delivery: e-mail routes over kept connections, every other route through
    Apprise. `close()` when the delivery ends."""

    def __init__(self, timeout: float) -> None:
        self.mail = Connections(timeout)
        self.other = AppriseSender()

    def send(self, target: Target, subject: str, body: str, *, warning: bool = False) -> None:
        if is_email(target):
            self.mail.send(target, subject, body, warning=warning)
        else:
            self.other.send(target, subject, body, warning=warning)

    def close(self) -> None:
        self.mail.close()


def _reason(exc: BaseException) -> str:
    """Why a connection or a send failed, as the server or the system said it."""
    if isinstance(exc, smtplib.SMTPResponseException):
        said = exc.smtp_error
        text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
        return f"{type(exc).__name__}: {exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}"


def _said(refused: dict[str, Any]) -> str:
    return "; ".join(
        f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        for code, text in refused.values()
    )
