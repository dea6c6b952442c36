"""`lotse notify`, `lotse outbox`, and the messages in `lotse case advance` and `lotse case show`."""

from __future__ import annotations

import re

from lotse.tasks import delivery
from lotse.tasks.context import Context
from tests.notifications.conftest import Inbox, Lotse, Routes, mail_routes, visa_case
from tests.tables import dump

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
ARRIVE = ["--set", "arrival_date=2026-03-03", "--set", "visa_valid_until=2026-09-30"]


def test_case_advance_delivers_its_messages_right_away_and_case_show_lists_them(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse,
) -> None:
    routes(*mail_routes(inbox))
    ref = visa_case(alliance)
    delivery.deliver(alliance)
    advanced = lotse("case", "advance", ref, "arrive", "--by", "klinik-nord", *ARRIVE)
    assert advanced.code == 0 and advanced.err == ""
    assert advanced.out.strip() == f"{ref}: visa -> arrival (arrive)"
    assert len([m for m in inbox.mails if "Eingereist" in m.subject]) == 4  # no `lotse notify` needed
    shown = lotse("case", "show", ref, "--json").json()
    assert [(m["to"], m["channel"], m["status"]) for m in shown["messages"]][-4:] == [
        ("wohnbau-nord", "email", "sent"), ("abh-nord", "email", "sent"),
        ("beratung", "email", "sent"), ("klinik-nord", "email", "sent")]
    assert all(ISO_UTC.match(m["at"]) for m in shown["messages"])


def test_outbox_lists_every_message_with_its_state_and_filters_by_status_and_case(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse,
) -> None:
    routes(*[r for r in mail_routes(inbox) if r[1] != "vermittlung"])
    first, second = visa_case(alliance, "Maricel"), visa_case(alliance, "Joanna")
    assert lotse("notify").code == 0
    rows = lotse("outbox", "--json").json()
    assert len(rows) == 6
    assert set(rows[0]) == {"id", "case", "to", "channel", "status", "attempts", "resent", "revived",
                            "last_error", "created_at", "sent_at"}
    assert {r["status"] for r in rows} == {"sent", "failed"}
    (failed,) = lotse("outbox", "--status", "failed", "--case", first, "--json").json()
    assert failed["to"] == "vermittlung" and failed["attempts"] == 1 and failed["sent_at"] is None
    assert "no route for actor 'vermittlung'" in failed["last_error"]
    sent = lotse("outbox", "--status", "sent", "--case", second, "--json").json()
    assert [r["to"] for r in sent] == ["abh-nord", "klinik-nord"]
    assert all(ISO_UTC.match(r["sent_at"]) for r in sent)
    text = lotse("outbox", "--status", "failed")
    assert text.code == 0 and "vermittlung" in text.out and "LAST_ERROR" in text.out
    bad = lotse("outbox", "--status", "lost")
    assert bad.code == 2 and bad.err.startswith("error: unknown status 'lost'")
    unknown = lotse("outbox", "--case", "SE-1999-0001")
    assert unknown.code == 1 and unknown.err.startswith("error: unknown case")


def test_notify_dry_run_shows_what_would_be_sent_and_changes_nothing(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse, home,
) -> None:
    routes(*mail_routes(inbox))
    ref = visa_case(alliance)
    before = dump(alliance.db.engine)
    shown = lotse("notify", "--dry-run", "--json")
    assert shown.code == 0 and dump(alliance.db.engine) == before and inbox.mails == []
    assert [(r["to"], r["channel"], r["subject"]) for r in shown.json()] == [
        (to, "email", f"{ref} (Maricel): Visum beantragt")
        for to in ("abh-nord", "klinik-nord", "vermittlung")
    ]
    text = lotse("notify", "--dry-run")
    assert text.out.strip().endswith("3 message(s) due; nothing was sent (--dry-run)")


def test_notify_without_routes_refuses_and_keeps_every_message(alliance: Context, lotse: Lotse) -> None:
    visa_case(alliance)
    refused = lotse("notify")
    assert refused.code == 1
    assert refused.err.startswith("error: LOTSE_NOTIFY_CONFIG is not set") and refused.err.count("\n") == 1
    assert {r["status"] for r in delivery.outbox(alliance)} == {"pending"}
    init = lotse("init")
    assert init.code == 0 and "notifications: LOTSE_NOTIFY_CONFIG is not set" in init.out
