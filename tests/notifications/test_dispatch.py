"""Who is told what: one message per recipient and route, queued once per cause, with what the
recipient's roles must now do, and nothing personal. Uses the recording sender (no network)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lotse.notifications import dispatch
from lotse.notifications.channels import RecordingSender
from lotse.states import store
from lotse.states.process import Catalog, Process
from lotse.states.records import OutboxRecord
from lotse.tasks import casework, delivery, directory
from lotse.tasks.context import Context
from tests.notifications.conftest import Routes, arrive, visa_case

CHAT = "json://127.0.0.1:1/{}"


def rows(ctx: Context) -> list[OutboxRecord]:
    with ctx.db.reading() as session:
        return list(session.scalars(select(OutboxRecord).order_by(OutboxRecord.id)))


def test_an_actor_with_two_notified_roles_is_told_once_about_both(alliance: Context, routes: Routes) -> None:
    routes((CHAT.format("all"), "employer, agency, foreigners_office"))
    directory.add_actor(alliance, "klinik-mit-vermittlung", name="Klinik mit Vermittlung",
                        roles=["employer", "agency"], region="SE-Ost")
    ref = casework.open_case(alliance, given_name="Anjali", family_name="Menon", nationality="IND",
                             employer="klinik-mit-vermittlung")
    casework.tick(alliance, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(alliance, ref, "apply_visa", by="klinik-mit-vermittlung")
    queued = rows(alliance)
    # SE-Ost has no foreigners' office in the directory: its role is addressed in the region
    assert sorted(r.recipient for r in queued) == ["foreigners_office@SE-Ost", "klinik-mit-vermittlung"]
    (both,) = [r for r in queued if r.recipient == "klinik-mit-vermittlung"]
    assert "- Termin bei der Botschaft\n" in both.body  # the agency's
    assert "- Visum erteilt\n" in both.body  # the employer's


def test_a_message_without_a_route_waits_and_takes_every_route_its_recipient_has_later(
    alliance: Context, routes: Routes,
) -> None:
    ref = visa_case(alliance)  # no routes configured yet
    arrive(alliance, ref)
    (waiting,) = [r for r in rows(alliance) if r.recipient == "wohnbau-nord" and "Eingereist" in r.subject]
    assert waiting.channel is None and waiting.route is None
    routes((CHAT.format("wohnbau"), "wohnbau-nord"),
           ("mailto://127.0.0.1:1?mode=insecure&from=a@example.org&to=wohnbau@example.org", "wohnbau-nord"),
           (CHAT.format("rest"), "employer, agency, foreigners_office, counsellor"))
    recording = RecordingSender()
    delivery.deliver(alliance, sender=recording)
    assert delivery.deliver(alliance, sender=recording).sent == 0
    to_housing = [s for s in recording.sent if "wohnbau" in s.route and "Eingereist" in s.subject]
    assert sorted(s.channel for s in to_housing) == ["chat", "email"]
    housing_rows = [r for r in rows(alliance) if r.recipient == "wohnbau-nord" and "Eingereist" in r.subject]
    assert len(housing_rows) == 2 and {r.status for r in housing_rows} == {"sent"}
    keys = {waiting.dedup_key, f"{waiting.dedup_key}|{housing_rows[1].route}"}
    assert {r.dedup_key for r in housing_rows} == keys


def test_a_cause_is_queued_once_even_if_the_routes_change_in_between(
    alliance: Context, routes: Routes,
) -> None:
    routes((CHAT.format("one"), "coordinator"))
    ref = visa_case(alliance)
    reminder = dispatch.Reminder("address_registration", "Wohnsitz anmelden", dt.date(2026, 3, 17), 2,
                                 "coordinator", "§ 17 BMG", f"{ref}:address_registration:2", "employer")
    with alliance.db.writing() as session:
        record = store.find_case(session, ref)
        process = alliance.catalog.get(record.process, record.process_version)
        first = dispatch.remind(session, alliance.settings, process, record, reminder, alliance.clock())
    routes((CHAT.format("one"), "coordinator"), (CHAT.format("two"), "koord"))
    with alliance.db.writing() as session:
        again = dispatch.remind(session, alliance.settings, process, record, reminder, alliance.clock())
    assert (first, again) == (1, 0)
    (row,) = [r for r in rows(alliance) if r.dedup_key.startswith(reminder.key)]
    assert row.subject == f"{ref} (Maricel): Eskalation – Wohnsitz anmelden bis 17.03.2026"
    assert "fällig am 17.03.2026" in row.body and "Grundlage: § 17 BMG" in row.body
    assert "seit" not in row.body  # due in 15 days, not overdue


def test_due_dates_given_with_the_change_stand_beside_what_is_expected(alliance: Context) -> None:
    ref = visa_case(alliance)
    arrive(alliance, ref)
    with alliance.db.writing() as session:
        record = store.find_case(session, ref)
        process = alliance.catalog.get(record.process, record.process_version)
        history = store.history(session, record.id or 0)[-1]
        event = dispatch.StageChanged(ref, "pflege", 1, "arrive", "visa", "arrival", "klinik-nord")
        case = store.load_case(session, record, process)
        dispatch.on_stage_changed(
            session, alliance.settings, process, record, case, event, (history.id or 0) + 1000,
            alliance.clock(), due_dates={"landlord_confirmation": dt.date(2026, 3, 17)},
        )
    (row,) = [r for r in rows(alliance) if r.dedup_key == f"h{(history.id or 0) + 1000}:wohnbau-nord"]
    assert "- Wohnungsgeberbestätigung (§ 19 BMG), bis 17.03.2026" in row.body


def test_personal_facts_never_appear_even_if_a_definition_forgot_to_mark_them(alliance: Context) -> None:
    pflege = alliance.catalog.get("pflege")
    data = pflege.model_dump(by_alias=True)
    data["facts"]["birth_date"] = {"type": "date", "title": "Geburtsdatum"}
    data["facts"]["passport_no"] = {"type": "str", "title": "Reisepass"}
    data["facts"]["shoe_size"] = {"type": "int", "title": "Schuhgröße"}
    process = Process.model_validate(data)
    values = {"birth_date": dt.date(1990, 5, 1), "passport_no": "P1234567", "nationality": "PHL",
              "shoe_size": 39, "arrival_date": dt.date(2026, 3, 3), "withdraw_reason": "Krankheit"}
    shown = dispatch._facts(process, values, "de")
    assert [f["id"] for f in shown] == ["arrival_date", "shoe_size"]


def test_a_birth_date_not_marked_personal_stays_out_of_messages_and_out_of_prefect(alliance: Context) -> None:
    data = alliance.catalog.get("pflege").model_dump(by_alias=True)
    data["facts"]["birth_date"] = {"type": "date", "title": "Datum", "set_by": ["employer"]}  # no `personal`
    alliance.catalog = Catalog([Process.model_validate(data)])
    ref = visa_case(alliance)
    # the one rule both guards read: the Prefect path refuses it, the messages leave it out
    assert casework.personal_facts(alliance, ref, ["arrival_date", "birth_date"]) == ["birth_date"]
    casework.advance(alliance, ref, "arrive", by="klinik-nord",
                     facts={"arrival_date": "2026-03-03", "visa_valid_until": "2026-09-30",
                            "birth_date": "1990-05-01"})
    told = [r for r in rows(alliance) if "Eingereist" in r.subject]
    assert told and all("03.03.2026" in r.body for r in told)  # the facts are shown ...
    assert not any("1990" in r.body for r in told)  # ... but not the birth date
