"""A transition's e-mails arrive at a real SMTP server on loopback: to the right mailboxes, in
German or English, saying what is expected of each recipient and nothing personal."""

from __future__ import annotations

from collections import Counter

from lotse.tasks import casework, delivery
from lotse.tasks.context import Context
from tests.notifications.conftest import Inbox, Routes, arrive, mail_routes, visa_case

ARRIVAL_RECIPIENTS = ["abh-nord", "beratung", "klinik-nord", "wohnbau-nord"]  # notify of `arrive`


def arrival_mails(inbox: Inbox, ref: str) -> list:
    return [m for m in inbox.mails
            if m.subject.startswith(ref) and m.subject.endswith(("Eingereist", "Arrived"))]


def test_arrival_mails_reach_every_notified_role_in_german(
    alliance: Context, inbox: Inbox, routes: Routes,
) -> None:
    routes(*mail_routes(inbox))
    ref = visa_case(alliance)
    arrive(alliance, ref)
    report = delivery.deliver(alliance)
    assert report.failed == report.dead == 0
    mails = arrival_mails(inbox, ref)
    assert sorted(r for m in mails for r in m.recipients) == [f"{a}@example.org" for a in ARRIVAL_RECIPIENTS]
    (housing,) = [m for m in mails if m.recipients == ["wohnbau-nord@example.org"]]
    assert housing.sender == "lotse@example.org"
    assert housing.subject == f"{ref} (Maricel): Eingereist"
    text = housing.text
    assert text.startswith("Guten Tag Wohnbau Nord,")
    # recorded on 02.03., arrived on 03.03. (the arrival date given with the event)
    assert "Eingereist am 03.03.2026 (Klinik Nord) – von „Visumverfahren“ nach „Ankunft“." in text
    # the landlord's confirmation is due 14 days after moving in (§ 19 BMG)
    expected = "Was jetzt von Ihnen erwartet wird:\n- Wohnungsgeberbestätigung (§ 19 BMG), bis 17.03.2026\n"
    assert expected in text
    assert "Wohnsitz angemeldet" not in text  # the employer's item, not the housing company's
    assert "Einreisedatum: 03.03.2026" in text
    assert "Ansprechpartner: Koordinierungsstelle <koord@example.org>" in text
    (employer,) = [m for m in mails if m.recipients == ["klinik-nord@example.org"]]
    assert "- Wohnsitz angemeldet (§ 17 BMG), bis 17.03.2026\n- Krankenversicherung\n" in employer.text


def test_arrival_mails_are_in_english_with_locale_en(alliance: Context, inbox: Inbox, routes: Routes) -> None:
    routes(*mail_routes(inbox))
    alliance.settings.locale = "en"
    ref = visa_case(alliance)
    arrive(alliance, ref)
    delivery.deliver(alliance)
    (housing,) = [m for m in arrival_mails(inbox, ref) if m.recipients == ["wohnbau-nord@example.org"]]
    assert housing.subject == f"{ref} (Maricel): Arrived"
    text = housing.text
    assert text.startswith("Hello Wohnbau Nord,")
    assert 'Arrived on 2026-03-03 (by Klinik Nord) – from "Visa procedure" to "Arrival".' in text
    assert "What is now expected of you:\n- Landlord's confirmation (§ 19 BMG), due 2026-03-17\n" in text
    assert "Contact: Koordinierungsstelle <koord@example.org>" in text
    assert "Guten Tag" not in text


def test_no_message_on_the_whole_way_names_the_family_name_or_nationality(
    alliance: Context, inbox: Inbox, routes: Routes,
) -> None:
    routes(*mail_routes(inbox))
    ref = visa_case(alliance)
    arrive(alliance, ref)
    way = [
        (["address_registered", "residence_permit_applied"], {}, "start_language_course"),
        ([], {"language_level": "B1"}, "start_recognition"),
        (["recognition_granted"], {"language_level": "B2"}, "settle"),
        (["permanent_housing"], {}, "complete"),
    ]
    for items, facts, event in way:
        if items:
            casework.tick(alliance, ref, items, by="koord")
        if facts:
            casework.set_facts(alliance, ref, facts, by="koord")
        casework.advance(alliance, ref, event, by="koord")
    delivery.deliver(alliance)
    senders = Counter(m.subject.split(": ", 1)[1] for m in inbox.mails)
    assert senders == {"Visum beantragt": 3, "Eingereist": 4, "Sprachkurs begonnen": 2,
                       "Anerkennungsverfahren begonnen": 2, "Anerkannt, Umzug in dauerhafte Wohnung": 3,
                       "Angekommen": 2}
    for mail in inbox.mails:
        whole = mail.subject + mail.text
        assert "Dalisay" not in whole and "PHL" not in whole and "Philippin" not in whole
        assert "Maricel" in mail.subject  # the given name is allowed, and e-mail shows it


def test_the_same_request_twice_moves_the_case_once_and_sends_one_message_each(
    alliance: Context, inbox: Inbox, routes: Routes,
) -> None:
    routes(*mail_routes(inbox))
    ref = visa_case(alliance)
    first = arrive(alliance, ref, request_id="ui-click-7")
    again = arrive(alliance, ref, request_id="ui-click-7")
    assert again["repeated"] and again["version"] == first["version"]
    delivery.deliver(alliance)
    delivery.deliver(alliance)
    assert len(arrival_mails(inbox, ref)) == len(ARRIVAL_RECIPIENTS)
