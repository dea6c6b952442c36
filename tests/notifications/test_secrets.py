"""Secrets are never shown, not even partly: a route's password and token stay out of the outbox,
its listing, the doctor's report, `lotse notify test` and the coordinator's undeliverable e-mail."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lotse.tasks.context import Context
from tests.notifications.conftest import Inbox, Lotse, Routes, free_port, mail_routes, visa_case

PASSWORD = "Tr0ub4dor-Geheim1"
HOOK_PASSWORD = "Hook-Geheim-2026"
TOKEN = "tok3nGeheim9876543210"
SECRETS = (PASSWORD, HOOK_PASSWORD, TOKEN)


def partly(secret: str) -> list[str]:
    """How a secret shows partly: Apprise's `T...1`, or quoted in a URL."""
    return [f"{secret[0]}...{secret[-1]}", secret[:6], secret[-6:]]


def test_a_password_and_a_token_of_a_failing_route_are_shown_nowhere(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse, home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOTSE_NOTIFY_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("LOTSE_TEST_HOOK_TOKEN", TOKEN)
    down = free_port()  # nothing listens there: an outage
    routes(
        *[r for r in mail_routes(inbox) if r[1] != "klinik-nord"],
        (f"mailto://lotse:{PASSWORD}@127.0.0.1:{down}?mode=insecure&from=lotse@example.org"
         "&to=klinik-nord@example.org", "klinik-nord"),
        (f"json://hook:{HOOK_PASSWORD}@127.0.0.1:{down}/hook?+Authorization=Bearer%20"
         "${LOTSE_TEST_HOOK_TOKEN}", "klinik-nord"),
        (f"foo://lotse:{PASSWORD}@127.0.0.1/unknown-scheme", "beratung"),
    )
    ref = visa_case(alliance)
    assert lotse("notify").code == 0  # the routes of Klinik Nord die at once
    assert lotse("notify").code == 0  # the coordinator is told
    undeliverable = [m for m in inbox.to("koord@example.org") if "nicht zustellbar" in m.subject]
    assert len(undeliverable) == 2  # e-mail and webhook of Klinik Nord

    listed = lotse("outbox", "--json")
    dead = [r for r in listed.json() if r["status"] == "dead"]
    assert {r["to"] for r in dead} == {"klinik-nord"}
    assert any(f"mailto://lotse:***@127.0.0.1:{down}" in r["last_error"] for r in dead)
    assert any(f"json://hook:***@127.0.0.1:{down}/hook" in r["last_error"] for r in dead)
    shown = [
        listed.out, lotse("outbox").out, lotse("outbox", "--case", ref).out,
        lotse("doctor").out, lotse("doctor", "--json").out, lotse("init").out + lotse("init").err,
        lotse("notify", "test", "klinik-nord").out, lotse("notify", "test", "klinik-nord", "--json").out,
        lotse("notify", "--dry-run").out,
        *(m.subject + "\n" + m.text for m in undeliverable),
    ]
    with sqlite3.connect(home / "lotse.db") as connection:
        shown += [str(row) for row in connection.execute("SELECT last_error, body, revivals FROM outbox")]
    assert "lotse:***@" in "".join(shown)
    assert "Unparseable URL foo://lotse:***@" in shown[4] + shown[5]  # doctor, init
    leaks = [(part, text) for text in shown for secret in SECRETS for part in [secret, *partly(secret)]
             if part in text]
    assert not leaks
