"""No message lost for good: a message that died in an outage is queued again by `lotse outbox
retry` or by a successful `lotse notify test` of its route, audited, and then sent exactly once;
`lotse doctor` fails while a message is dead."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from lotse.tasks import case_file, delivery
from lotse.tasks.context import Context
from tests.notifications.conftest import Inbox, Lotse, Mail, Routes, arrive, mail_routes, visa_case

ATTEMPTS = 2


def outbox_check(lotse: Lotse) -> dict[str, Any]:
    checks = lotse("doctor", "--json").json()
    return next(c for c in checks if c["name"] == "outbox")


def arrival_mails(inbox: Inbox, ref: str) -> list[Mail]:
    return [m for m in inbox.mails if m.subject.startswith(f"{ref} (Maricel): ")
            and "nicht zustellbar" not in m.subject]


def dead_after_an_outage(alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse,
                         monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[dict[str, Any]]]:
    """A case arrives while the mail server is down; every delivery fails until the messages of
    the arrival are dead. Returns the case and its dead rows."""
    monkeypatch.setenv("LOTSE_NOTIFY_MAX_ATTEMPTS", str(ATTEMPTS))
    alliance.settings.notify_max_attempts = ATTEMPTS
    routes(*mail_routes(inbox))
    ref = visa_case(alliance)
    delivery.deliver(alliance)
    inbox.stop()
    arrive(alliance, ref)
    for _ in range(ATTEMPTS):
        assert lotse("notify", "--now").code == 0
    dead = [r for r in delivery.outbox(alliance, status="dead") if r["case"] == ref]
    assert dead and all(r["attempts"] == ATTEMPTS for r in dead)
    return ref, dead


def test_a_message_dead_after_an_outage_is_revived_by_outbox_retry_and_sent_exactly_once(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref, dead = dead_after_an_outage(alliance, inbox, routes, lotse, monkeypatch)
    errors = {r["id"]: r["last_error"] for r in dead}
    doctor = outbox_check(lotse)
    assert doctor["status"] == "fail" and "lotse outbox retry --dead" in doctor["detail"]

    inbox.start()
    inbox.mails.clear()
    assert lotse("notify", "--now").code == 0  # sends the reports to the coordinator only
    assert not arrival_mails(inbox, ref)
    assert {r["id"] for r in delivery.outbox(alliance, status="dead")} >= set(errors)
    revived = lotse("outbox", "retry", "--case", ref, "--by", "koord", "--json")
    assert revived.code == 0, revived.err
    assert sorted(revived.json()["revived"]) == sorted(errors)

    rows = {r["id"]: r for r in delivery.outbox(alliance, case_ref=ref)}
    assert all(rows[n]["status"] == "pending" and rows[n]["attempts"] == 0 for n in errors)
    assert all(rows[n]["last_error"] == errors[n] and rows[n]["revived"] == 1 for n in errors)
    history = case_file.case_file(alliance, ref)["history"]
    audit = [h for h in history if h["action"] == "outbox_retry"]
    assert len(audit) == 1 and audit[0]["actor"] == "koord" and audit[0]["via"] == "cli"
    assert audit[0]["proof"] == alliance.proof

    sent = lotse("notify", "--now", "--json")
    assert sent.code == 0 and sent.json()["dead"] == 0
    arrival = arrival_mails(inbox, ref)
    assert len(arrival) == len(errors)
    assert set(Counter(tuple(m.recipients) for m in arrival).values()) == {1}
    assert lotse("notify", "--now", "--json").json()["sent"] == 0
    assert all(r["status"] == "sent" for r in delivery.outbox(alliance, case_ref=ref))
    assert outbox_check(lotse)["status"] == "ok"
    assert lotse("outbox", "retry", "--dead", "--by", "koord").out == "no dead message to queue again\n"


def test_retry_refuses_a_message_that_is_not_dead_in_one_line_and_changes_nothing(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref, dead = dead_after_an_outage(alliance, inbox, routes, lotse, monkeypatch)
    sent = next(r for r in delivery.outbox(alliance, status="sent"))
    before = delivery.outbox(alliance)
    refused = lotse("outbox", "retry", "--id", str(dead[0]["id"]), "--id", str(sent["id"]), "--by", "koord")
    assert refused.code == 1
    assert refused.error == (f"error: message #{sent['id']} is sent, not dead: only dead messages are "
                             "retried (failed ones are retried by `lotse notify --now`)")
    assert lotse("outbox", "retry", "--id", "99999", "--by", "koord").error.startswith(
        "error: no message #99999")
    assert lotse("outbox", "retry", "--dead", "--by", "nobody").error.startswith("error: unknown actor")
    assert lotse("outbox", "retry", "--by", "koord").error.startswith("error: say which messages")
    assert delivery.outbox(alliance) == before
    assert not [h for h in case_file.case_file(alliance, ref)["history"] if h["action"] == "outbox_retry"]


def test_a_successful_notify_test_revives_the_dead_messages_of_its_route_only(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref, dead = dead_after_an_outage(alliance, inbox, routes, lotse, monkeypatch)
    to_klinik = [r["id"] for r in dead if r["to"] == "klinik-nord"]
    others = [r["id"] for r in dead if r["to"] != "klinik-nord"]
    assert to_klinik and others

    failing = lotse("notify", "test", "klinik-nord")
    assert failing.code == 1 and "queued again" not in failing.out
    inbox.start()
    tested = lotse("notify", "test", "klinik-nord")
    assert tested.code == 0, tested.err
    assert (f"the route works again: its {len(to_klinik)} dead message(s) "
            f"{', '.join(f'#{n}' for n in to_klinik)} are queued again") in tested.out
    status = {r["id"]: r["status"] for r in delivery.outbox(alliance)}
    assert [status[n] for n in to_klinik] == ["pending"] * len(to_klinik)
    assert [status[n] for n in others] == ["dead"] * len(others)
    audit = [h for h in case_file.case_file(alliance, ref)["history"] if h["action"] == "outbox_retry"]
    assert len(audit) == 1 and audit[0]["actor"] == "lotse" and audit[0]["proof"] == alliance.proof


def test_a_revived_message_that_dies_again_is_reported_to_the_coordinator_again(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref, dead = dead_after_an_outage(alliance, inbox, routes, lotse, monkeypatch)
    first = next(r["id"] for r in dead if r["to"] == "klinik-nord")
    reports = [r for r in delivery.outbox(alliance) if r["to"] == "koord" and r["case"] == ref]
    retried = lotse("outbox", "retry", "--id", str(first), "--by", "koord")
    assert retried.out == f"1 dead message(s) queued again: #{first}; `lotse notify` sends them\n"
    for _ in range(ATTEMPTS):
        assert lotse("notify", "--now").code == 0  # the server is still down
    assert next(r for r in delivery.outbox(alliance) if r["id"] == first)["status"] == "dead"
    again = [r for r in delivery.outbox(alliance) if r["to"] == "koord" and r["case"] == ref]
    assert len(again) == len(reports) + 1


def test_a_message_dead_for_want_of_a_route_is_revived_by_the_test_of_the_route_added_for_it(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOTSE_NOTIFY_MAX_ATTEMPTS", "1")
    without_klinik = [r for r in mail_routes(inbox) if r[1] != "klinik-nord"]
    routes(*without_klinik)
    ref = visa_case(alliance)
    assert lotse("notify").code == 0
    dead = [r["id"] for r in delivery.outbox(alliance, status="dead") if r["to"] == "klinik-nord"]
    assert len(dead) == 1

    routes(*without_klinik, (inbox.url("klinik-nord@example.org"), "klinik-nord"))
    tested = lotse("notify", "test", "klinik-nord")
    assert f"dead message(s) #{dead[0]} are queued again" in tested.out
    inbox.mails.clear()
    assert lotse("notify").code == 0
    assert [m.subject for m in inbox.to("klinik-nord@example.org")] == [f"{ref} (Maricel): Visum beantragt"]
