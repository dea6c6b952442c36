"""A broken route or template never drops a message silently and never stops a change: the
problem stands in `lotse outbox`, and `lotse init` and `lotse notify test` name it beforehand."""

from __future__ import annotations

from pathlib import Path

from lotse.tasks import case_file, delivery
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.notifications.conftest import (
    Inbox,
    Lotse,
    Routes,
    arrive,
    free_port,
    mail_routes,
    visa_case,
)


def everyone_but(inbox: Inbox, *left_out: str) -> list[tuple[str, str]]:
    return [(url, actor) for url, actor in mail_routes(inbox) if actor not in left_out]


def housing_row(lotse: Lotse, ref: str) -> dict:
    rows = lotse("outbox", "--case", ref, "--json").json()
    (row,) = [r for r in rows if r["to"] == "wohnbau-nord"]
    return row


def test_an_unknown_scheme_is_reported_by_init_and_stands_on_the_message_in_the_outbox(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse,
) -> None:
    routes(*everyone_but(inbox, "wohnbau-nord"), ("teams://team/channel", "wohnbau-nord"))
    init = lotse("init")
    assert init.code == 0 and "invalid Apprise schema (teams)" in init.err
    ref = visa_case(alliance)
    arrive(alliance, ref)
    assert lotse("notify").code == 0
    row = housing_row(lotse, ref)
    assert row["status"] == "failed" and row["channel"] is None
    assert "no route for actor 'wohnbau-nord'" in row["last_error"]
    assert "invalid Apprise schema (teams)" in row["last_error"]
    assert case_file.case_file(alliance, ref)["stage"] == "arrival"  # the change stands


def test_an_unreachable_mail_server_fails_the_message_with_the_reason(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse,
) -> None:
    nobody = f"mailto://127.0.0.1:{free_port()}?mode=insecure&from=lotse@example.org&to=w@example.org"
    routes(*everyone_but(inbox, "wohnbau-nord"), (nobody, "wohnbau-nord"))
    ref = visa_case(alliance)
    delivery.deliver(alliance)  # the messages of apply_visa
    advanced = lotse("case", "advance", ref, "arrive", "--by", "klinik-nord", "--json",
                     "--set", "arrival_date=2026-03-03", "--set", "visa_valid_until=2026-09-30")
    assert advanced.code == 0 and advanced.json()["to"] == "arrival"
    assert advanced.json()["messages"] == {"sent": 3, "failed": 1, "waiting": 0}
    assert f"messages of {ref}: 3 sent, 1 failed" in advanced.err
    row = housing_row(lotse, ref)
    assert row["status"] == "failed" and row["channel"] == "email" and row["attempts"] == 1
    assert "Connection refused" in row["last_error"] and "mailto://127.0.0.1" in row["last_error"]
    assert len([m for m in inbox.mails if "Eingereist" in m.subject]) == 3


def test_a_role_without_a_route_is_named_by_init_and_notify_test_and_its_message_waits(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse,
) -> None:
    routes(*everyone_but(inbox, "beratung"))
    init = lotse("init")
    assert init.code == 0
    assert "warning: notifications: no route for actor 'beratung' (role counsellor in region 'SE-Nord')" \
        in init.err
    assert "'wohnbau-nord'" not in init.err
    tested = lotse("notify", "test", "counsellor")
    assert tested.code == 1
    assert "no route for actor 'beratung'" in tested.err and tested.err.strip().endswith(
        "error: test of 'counsellor': 1 without a route; see the lines above")
    ref = visa_case(alliance)
    arrive(alliance, ref)
    delivery.deliver(alliance)
    (row,) = [r for r in delivery.outbox(alliance, case_ref=ref) if r["to"] == "beratung"]
    assert row["status"] == "failed" and "add a URL tagged 'beratung' or 'counsellor'" in row["last_error"]


def test_notify_test_sends_a_test_message_through_the_route_of_an_actor_and_of_a_role(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse,
) -> None:
    routes(*mail_routes(inbox))
    by_actor = lotse("notify", "test", "wohnbau-nord")
    assert by_actor.code == 0, by_actor.err
    assert "wohnbau-nord via email (mailto://127.0.0.1" in by_actor.out
    assert by_actor.out.strip().endswith("sent")
    by_role = lotse("notify", "test", "employer", "--json")
    assert by_role.code == 0 and [s["to"] for s in by_role.json()["sent"]] == ["klinik-nord"]
    assert [m.recipients for m in inbox.mails] == [["wohnbau-nord@example.org"], ["klinik-nord@example.org"]]
    assert inbox.mails[0].subject == "Lotse: Testnachricht für Wohnbau Nord"
    unknown = lotse("notify", "test", "nobody")
    assert unknown.code == 1 and "neither an actor nor a role" in unknown.err


def test_a_broken_template_override_sends_the_default_and_leaves_a_warning_in_the_outbox(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse, tmp_path: Path,
) -> None:
    routes(*mail_routes(inbox))
    overrides = tmp_path / "templates"
    (overrides / "de" / "stage_changed").mkdir(parents=True)
    (overrides / "de" / "stage_changed" / "role-housing.j2").write_text(
        "{% block subject %}{{ case.ref }{% endblock %}", encoding="utf-8")
    alliance.settings.template_dir = overrides
    init = lotse("init")
    assert "template de/stage_changed/role-housing.j2" in init.err and "line 1" in init.err
    ref = visa_case(alliance)
    arrive(alliance, ref)
    delivery.deliver(alliance)
    row = housing_row(lotse, ref)
    assert row["status"] == "sent"
    assert row["last_error"].startswith("warning: template in ") and "role-housing.j2" in row["last_error"]
    (mail,) = inbox.to("wohnbau-nord@example.org")[-1:]
    assert mail.subject == f"{ref} (Maricel): Eingereist" and "Wohnungsgeberbestätigung" in mail.text


def test_a_message_that_keeps_failing_becomes_dead_and_the_coordinator_is_told_once(
    alliance: Context, inbox: Inbox, routes: Routes, clock: Clock,
) -> None:
    alliance.settings.notify_max_attempts = 2
    nobody = f"mailto://127.0.0.1:{free_port()}?mode=insecure&from=lotse@example.org&to=w@example.org"
    routes(*everyone_but(inbox, "wohnbau-nord"), (nobody, "wohnbau-nord"))
    ref = visa_case(alliance)
    arrive(alliance, ref)
    assert delivery.deliver(alliance).failed == 1
    clock.advance(seconds=alliance.settings.notify_backoff_seconds)
    assert delivery.deliver(alliance).dead == 1
    clock.advance(hours=12)
    assert delivery.deliver(alliance, retry_now=True).dead == 0  # dead rows are not tried again
    (dead,) = delivery.outbox(alliance, status="dead")
    assert dead["to"] == "wohnbau-nord" and dead["attempts"] == 2
    reports = [m for m in inbox.to("koord@example.org") if "nicht zustellbar" in m.subject]
    assert len(reports) == 1
    assert reports[0].subject == f"{ref}: Nachricht an Wohnbau Nord nicht zustellbar"
    assert "(wohnbau-nord, email)" in reports[0].text and "lotse " not in reports[0].text
    assert f"Nr. {dead['id']}" in reports[0].text and "Connection refused" in reports[0].text
