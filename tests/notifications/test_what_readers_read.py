"""What coordinators and actors read: an escalation says what was sent before and who is
responsible; durations, roles and titles are in the reader's language; the arrival line carries
the arrival date; no message asks its reader to run a command."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from lotse.notifications import dispatch
from lotse.states.records import OutboxRecord
from lotse.tasks import casework, deadlines, delivery
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.notifications.conftest import Inbox, Routes, arrive, mail_routes, visa_case

ARRIVED = dt.date(2026, 3, 3)  # `arrive` of the conftest: registration due 14 days later, on 17.03.


def reminders(ctx: Context, to: str) -> list[OutboxRecord]:
    with ctx.db.reading() as session:
        query = select(OutboxRecord).where(OutboxRecord.dedup_key.startswith("deadline:"),
                                           OutboxRecord.recipient == to).order_by(OutboxRecord.id)
        return list(session.scalars(query))


def bodies_to(ctx: Context, recipient: str) -> list[str]:
    with ctx.db.reading() as session:
        return list(session.scalars(select(OutboxRecord.body).where(OutboxRecord.recipient == recipient)))


def check_on(ctx: Context, clock: Clock, day: dt.date) -> None:
    clock.now = dt.datetime.combine(day, dt.time(6, 30), tzinfo=dt.UTC)
    deadlines.check_deadlines(ctx, as_of=day)


def no_command_in(text: str) -> bool:
    return "lotse " not in text and "`" not in text


def test_an_escalation_whose_first_level_fell_due_the_same_day_says_nobody_was_reminded(
    alliance: Context, clock: Clock,
) -> None:
    ref = visa_case(alliance)
    arrive(alliance, ref)
    check_on(alliance, clock, dt.date(2026, 3, 24))  # 7 days late: both levels are due at once

    # level 1 was never sent
    assert not [r for r in reminders(alliance, "klinik-nord") if "Wohnsitz" in r.subject]
    (escalation,) = [r for r in reminders(alliance, "koord") if "Wohnsitz anmelden" in r.subject]
    assert escalation.subject == f"{ref} (Maricel): Eskalation – Wohnsitz anmelden bis 17.03.2026"
    assert "bereits erinnert" not in escalation.body
    assert "- Vor dieser Nachricht wurde niemand an diese Frist erinnert.\n" in escalation.body
    assert "- Zuständig: Klinik Nord (Arbeitgeber)\n" in escalation.body
    assert f"Fallübersicht in Prefect (Artefakt case-{ref.lower()})" in escalation.body
    assert no_command_in(escalation.body)
    assert "Dalisay" not in escalation.body and "PHL" not in escalation.body  # given name and reference only
    (housing,) = [r for r in reminders(alliance, "koord") if "Wohnungsgeberbestätigung" in r.subject]
    assert "- Zuständig: Wohnbau Nord (Wohnungsunternehmen)\n" in housing.body


def test_an_escalation_after_a_reminder_says_whom_it_reminded_on_which_day_and_whether_it_went_out(
    alliance: Context, clock: Clock, inbox: Inbox, routes: Routes,
) -> None:
    routes(*[(url, tag) for url, tag in mail_routes(inbox) if tag != "wohnbau-nord"])
    ref = visa_case(alliance)
    arrive(alliance, ref)
    check_on(alliance, clock, dt.date(2026, 3, 17))  # level 1: the employer and the housing company
    delivery.deliver(alliance)  # the housing company has no route: its reminder waits
    check_on(alliance, clock, dt.date(2026, 3, 24))  # level 2: the coordinator

    (registration,) = [r for r in reminders(alliance, "koord") if "Wohnsitz anmelden" in r.subject]
    assert "- Erinnert (Stufe 1): Klinik Nord am 17.03.2026\n" in registration.body
    (landlord,) = [r for r in reminders(alliance, "koord") if "Wohnungsgeberbestätigung" in r.subject]
    assert "- Erinnert (Stufe 1): Wohnbau Nord am 17.03.2026, noch nicht zugestellt\n" in landlord.body
    assert "niemand" not in registration.body + landlord.body


@pytest.mark.parametrize(("locale", "subject", "responsible", "overview"), [
    ("de", "Erinnerung – Visumverfahren: 10 Wochen bis 11.05.2026", "- Zuständig: Klinik Nord (Arbeitgeber)",
     "Den aktuellen Stand zeigt die Fallübersicht {ref} der Koordinierungsstelle."),
    ("en", "reminder – Visa procedure: 10 weeks due 2026-05-11", "- Responsible: Klinik Nord (employer)",
     "The coordination office's case overview {ref} shows where the case stands."),
])
def test_a_stage_limit_is_reminded_with_its_duration_and_role_titles_in_the_readers_language(
    alliance: Context, clock: Clock, locale: str, subject: str, responsible: str, overview: str,
) -> None:
    alliance.settings.locale = locale  # type: ignore[assignment]
    ref = visa_case(alliance)  # entered visa on 02.03.2026: 10 weeks run out on 11.05.2026
    check_on(alliance, clock, dt.date(2026, 5, 11))
    check_on(alliance, clock, dt.date(2026, 5, 25))

    (first,) = [r for r in reminders(alliance, "klinik-nord") if "visa" in r.dedup_key]
    assert first.subject == f"{ref} (Maricel): {subject}"
    assert overview.format(ref=ref) in first.body and no_command_in(first.body)
    (second,) = [r for r in reminders(alliance, "koord") if "visa" in r.dedup_key]
    assert f"{responsible}\n" in second.body
    assert second.subject.endswith(subject.split(" – ")[1])  # the same duration, in the same language


def test_the_arrival_line_is_the_arrival_date_given_with_the_event_not_the_day_it_was_recorded(
    alliance: Context, clock: Clock,
) -> None:
    ref = visa_case(alliance)
    clock.now = dt.datetime(2026, 3, 9, 15, 0, tzinfo=dt.UTC)  # recorded six days after arriving
    arrive(alliance, ref)
    (body,) = [b for b in bodies_to(alliance, "wohnbau-nord") if "Eingereist" in b]
    assert "Eingereist am 03.03.2026 (Klinik Nord) – von „Visumverfahren“ nach „Ankunft“." in body
    assert "09.03.2026" not in body


def test_other_events_are_dated_by_the_day_they_were_recorded(alliance: Context) -> None:
    ref = casework.open_case(alliance, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                             employer="klinik-nord")
    casework.tick(alliance, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(alliance, ref, "apply_visa", by="klinik-nord")
    (body,) = bodies_to(alliance, "klinik-nord")
    assert "Visum beantragt am 02.03.2026 (Klinik Nord)" in body


def test_the_test_message_names_roles_by_their_titles_in_both_languages(alliance: Context) -> None:
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    german = dispatch.test_message(alliance.settings, "Wohnbau Nord", ("housing",), "email", now)
    assert "Nachrichten für Wohnungsunternehmen über diesen Weg (E-Mail)" in german.body
    alliance.settings.locale = "en"  # type: ignore[assignment]
    english = dispatch.test_message(alliance.settings, "Wohnbau Nord", ("housing",), "email", now)
    assert "messages for housing company arrive through this route (e-mail)" in english.body
    assert no_command_in(german.body) and no_command_in(english.body)
