"""Answer links in the messages: an e-mail received by a real SMTP server carries one link per
checklist item its recipient owns and one per fact the stage asks it to enter; every link reads back
to its case, item, organisation and stage entry, and carries no name and no fact value. No actor
(a role addressed in a region), no key, or no item of one's own: no link, and the message still goes.
A link taken out of a mail answers what it asks (tasks/answers.py, behind the desk's page)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections import Counter

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from lotse.notifications import answer_links, dispatch
from lotse.notifications.answer_links import AnswerLink
from lotse.states import store
from lotse.states.process import Catalog, Process
from lotse.states.records import DeadlineRecord, OutboxRecord
from lotse.tasks import answers, casework, deadlines, delivery, directory
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.notifications.conftest import Inbox, Mail, Routes, Webhook, arrive, mail_routes, visa_case
from tests.notifications.test_reminders_in_bulk import open_cases, remind_many

KEY = "a-test-key-of-the-alliance-0123456789abcdef"
LINK = re.compile(r"(https?://\S+?)/a/(\S+)")
APPLIED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # the clock's start: `apply_visa` of visa_case
ARRIVED = dt.datetime(2026, 3, 3, 8, 15, 30, 123456, tzinfo=dt.UTC)  # `arrive`, recorded a day later

# (kind, item or fact) per recipient, as the definition says: the items its role owns in the new
# stage, the facts of a transition out of it that its role may set
AFTER_APPLY_VISA = {
    "abh-nord": [("item", "advance_approval"), ("fact", "visa_valid_until")],
    "klinik-nord": [("item", "visa_granted"), ("fact", "arrival_date"), ("fact", "visa_valid_until")],
    "vermittlung": [("item", "embassy_appointment"), ("fact", "arrival_date")],
}
AFTER_ARRIVE = {
    "wohnbau-nord": [("item", "landlord_confirmation")],
    "klinik-nord": [("item", "address_registered"), ("item", "health_insurance"), ("item", "tax_id")],
    "abh-nord": [("item", "residence_permit_applied")],
    "beratung": [],  # family support is an item of a later stage
}


@pytest.fixture
def keyed(alliance: Context) -> Context:
    alliance.settings.secret_key = SecretStr(KEY)
    return alliance


def links(text: str) -> list[AnswerLink]:
    """Every answer link of a text, read back with the alliance's key (a bad one raises)."""
    return [answer_links.read(token, KEY.encode()) for _, token in LINK.findall(text)]


def payload(token: str) -> list:
    """What anyone who sees a link can read: its payload, without the key."""
    body = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def to(inbox: Inbox, ref: str, actor: str, title: str) -> Mail:
    (mail,) = [m for m in inbox.to(f"{actor}@example.org") if m.subject == f"{ref} (Maricel): {title}"]
    return mail


def rows(ctx: Context) -> list[OutboxRecord]:
    with ctx.db.reading() as session:
        return list(session.scalars(select(OutboxRecord).order_by(OutboxRecord.id)))


def a_case_that_arrived(ctx: Context, clock: Clock) -> str:
    ref = visa_case(ctx)
    clock.now = ARRIVED
    arrive(ctx, ref)
    return ref


def test_each_mail_carries_one_link_per_item_of_its_recipient_and_one_per_fact_to_enter(
    keyed: Context, clock: Clock, inbox: Inbox, routes: Routes,
) -> None:
    routes(*mail_routes(inbox))
    ref = a_case_that_arrived(keyed, clock)
    report = delivery.deliver(keyed)
    assert report.failed == report.dead == 0
    with keyed.db.reading() as session:
        entered = store.find_case(session, ref).stage_entered_at
    assert entered == ARRIVED  # as the store gives it back, to the microsecond

    for title, wanted, stage_entry in (("Visum beantragt", AFTER_APPLY_VISA, APPLIED),
                                       ("Eingereist", AFTER_ARRIVE, ARRIVED)):
        for actor, pairs in wanted.items():
            found = links(to(inbox, ref, actor, title).text)
            assert Counter((link.kind, link.name) for link in found) == Counter(pairs), (actor, title)
            for link in found:
                assert (link.ref, link.actor) == (ref, actor)
                assert link.stage_entry == answer_links.stage_entry(stage_entry)
                assert link.expires_at == (stage_entry + dt.timedelta(days=30)).replace(microsecond=0)
            assert len({link.id for link in found}) == len(found)  # each its own random id

    housing = to(inbox, ref, "wohnbau-nord", "Eingereist").text
    assert re.search(r"- Wohnungsgeberbestätigung \(§ 19 BMG\), bis 17\.03\.2026\n"
                     r"  erledigt melden: http://127\.0\.0\.1:4210/a/\S+\n", housing)
    assert "Bitte angeben" not in housing  # nothing for housing to enter before the language course
    assert "Jeder Link gilt einmal und 30 Tage lang" in housing
    assert "Bitte antworten Sie nicht auf diese Nachricht" not in housing
    employer = to(inbox, ref, "klinik-nord", "Visum beantragt").text
    assert re.search(r"\nBitte angeben:\n- Einreisedatum: http://127\.0\.0\.1:4210/a/\S+\n"
                     r"- Visum gültig bis: http://127\.0\.0\.1:4210/a/\S+\n", employer)


def test_a_recipient_without_items_or_facts_of_its_own_gets_no_link_and_the_usual_footer(
    keyed: Context, clock: Clock, inbox: Inbox, routes: Routes,
) -> None:
    routes(*mail_routes(inbox))
    ref = a_case_that_arrived(keyed, clock)
    delivery.deliver(keyed)
    counsellor = to(inbox, ref, "beratung", "Eingereist").text
    assert "/a/" not in counsellor and "erledigt melden" not in counsellor
    assert "Für Sie ist in dieser Phase nichts zu erledigen" in counsellor
    assert counsellor.endswith("Bitte antworten Sie nicht auf diese Nachricht.\n")


def test_no_link_carries_a_name_or_a_fact_value(
    keyed: Context, clock: Clock, inbox: Inbox, routes: Routes,
) -> None:
    routes(*mail_routes(inbox))
    ref = a_case_that_arrived(keyed, clock)
    casework.tick(keyed, ref, ["address_registered", "residence_permit_applied"], by="koord")
    casework.set_facts(keyed, ref, {"language_level": "B1"}, by="koord")
    casework.advance(keyed, ref, "start_language_course", by="koord")
    deadlines.check_deadlines(keyed, as_of=dt.date(2026, 3, 24))
    delivery.deliver(keyed)
    tokens = [token for mail in inbox.mails for _, token in LINK.findall(mail.text)]
    assert len(tokens) >= 10
    values = ["Maricel", "Dalisay", "PHL", "Philippin", "2026-03-03", "2026-09-30", "03.03.2026", "B1"]
    for token in tokens:
        version, case_ref, kind, name, actor, entry, expires, link_id = payload(token)
        assert (version, case_ref, kind) == (1, ref, kind) and kind in ("item", "fact")
        assert isinstance(entry, int) and isinstance(expires, int) and len(link_id) == 16
        seen = json.dumps([case_ref, name, actor])  # the random id is random, and may spell anything
        assert not [v for v in values if v in seen], seen


def test_a_message_to_a_role_without_a_known_actor_carries_no_link(keyed: Context) -> None:
    directory.add_actor(keyed, "klinik-ost", name="Klinik Ost", roles=["employer"], region="SE-Ost")
    ref = casework.open_case(keyed, given_name="Anjali", family_name="Menon", nationality="IND",
                             employer="klinik-ost")
    casework.tick(keyed, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(keyed, ref, "apply_visa", by="klinik-ost")
    by_recipient = {row.recipient: row.body for row in rows(keyed)}
    # SE-Ost has no foreigners' office or agency in the directory: the roles are addressed in the region
    for role in ("foreigners_office@SE-Ost", "agency@SE-Ost"):
        assert "/a/" not in by_recipient[role] and "Bitte angeben" not in by_recipient[role]
        assert "- Vorabzustimmung (§ 81a AufenthG) erteilt\n" in by_recipient["foreigners_office@SE-Ost"]
    assert [(link.actor, link.name) for link in links(by_recipient["klinik-ost"])] == [
        ("klinik-ost", "visa_granted"), ("klinik-ost", "arrival_date"), ("klinik-ost", "visa_valid_until")]


def test_without_a_key_messages_carry_no_link_and_still_go(
    alliance: Context, clock: Clock, inbox: Inbox, routes: Routes,
) -> None:
    assert alliance.settings.signing_key() is None
    routes(*mail_routes(inbox))
    ref = a_case_that_arrived(alliance, clock)
    report = delivery.deliver(alliance)
    assert report.sent == 3 + 4 and report.failed == 0
    for mail in inbox.mails:
        assert "/a/" not in mail.text and "Bitte angeben" not in mail.text
        assert mail.text.endswith("Bitte antworten Sie nicht auf diese Nachricht.\n")
    housing = to(inbox, ref, "wohnbau-nord", "Eingereist").text
    assert "- Wohnungsgeberbestätigung (§ 19 BMG), bis 17.03.2026\n\nDie Phase" in housing


def test_the_key_file_lotse_init_writes_signs_the_links(alliance: Context) -> None:
    alliance.settings.secret_key_file.write_text(KEY + "\n", encoding="utf-8")
    ref = visa_case(alliance)
    (employer,) = [row for row in rows(alliance) if row.recipient == "klinik-nord"]
    found = links(employer.body)
    assert [link.name for link in found] == ["visa_granted", "arrival_date", "visa_valid_until"]
    assert {link.ref for link in found} == {ref}


def test_a_reminder_carries_the_link_of_its_item_and_an_escalation_to_another_role_none(
    keyed: Context, clock: Clock, inbox: Inbox, routes: Routes,
) -> None:
    routes(*mail_routes(inbox))
    ref = a_case_that_arrived(keyed, clock)
    clock.now = dt.datetime(2026, 3, 17, 6, 30, tzinfo=dt.UTC)
    deadlines.check_deadlines(keyed, as_of=dt.date(2026, 3, 17))  # level 1: employer and housing
    clock.now = dt.datetime(2026, 3, 31, 6, 30, tzinfo=dt.UTC)
    deadlines.check_deadlines(keyed, as_of=dt.date(2026, 3, 31))  # level 2: the coordinator
    delivery.deliver(keyed)

    registration = to(inbox, ref, "klinik-nord", "Erinnerung – Wohnsitz anmelden bis 17.03.2026").text
    (link,) = links(registration)
    assert (link.ref, link.kind, link.name, link.actor) == (ref, "item", "address_registered", "klinik-nord")
    assert link.stage_entry == answer_links.stage_entry(ARRIVED)
    assert link.expires_at == dt.datetime(2026, 3, 17, 6, 30, tzinfo=dt.UTC) + dt.timedelta(days=30)
    assert re.search(r"- Wohnsitz anmelden: fällig am 17\.03\.2026\n  erledigt melden: \S+/a/\S+\n",
                     registration)
    assert "melden Sie ihn über den Link oben" in registration
    assert "Er gilt einmal und 30 Tage lang" in registration
    landlord_reminder = to(inbox, ref, "wohnbau-nord", "Erinnerung – Wohnungsgeberbestätigung bis 17.03.2026")
    (landlord,) = links(landlord_reminder.text)
    assert (landlord.name, landlord.actor) == ("landlord_confirmation", "wohnbau-nord")

    escalations = [m for m in inbox.to("koord@example.org") if "Eskalation" in m.subject]
    assert len(escalations) >= 2
    for mail in escalations:  # the coordinator owns none of these items: it uses the desk
        assert "/a/" not in mail.text
        assert mail.text.endswith("Bitte antworten Sie nicht auf diese Nachricht.\n")


def test_a_reminder_of_an_item_its_recipient_does_not_own_or_of_a_later_stage_has_no_link(
    keyed: Context, clock: Clock,
) -> None:
    ref = a_case_that_arrived(keyed, clock)
    casework.set_facts(keyed, ref, {"family_joining": True, "accelerated_procedure": True}, by="koord")
    for day in (dt.date(2026, 6, 3), dt.date(2026, 8, 4), dt.date(2026, 8, 31)):  # first levels due
        clock.now = dt.datetime.combine(day, dt.time(6, 30), tzinfo=dt.UTC)
        deadlines.check_deadlines(keyed, as_of=day)
    first = {}
    for row in rows(keyed):
        if not row.dedup_key.startswith("deadline:"):
            continue
        _, _, deadline, _, level, recipient = row.dedup_key.split(":")
        if level == "L1":
            first[deadline] = (recipient, row.body)
    assert first["tax_id"][0] == "klinik-nord"
    assert [(link.name, link.actor) for link in links(first["tax_id"][1])] == [("tax_id", "klinik-nord")]
    # the employer answers for applying for the residence permit, the foreigners' office ticks it
    assert first["residence_permit_application"][0] == "klinik-nord"
    assert "/a/" not in first["residence_permit_application"][1]
    # family support is an item of the stage `housed`; the case is in `arrival`
    assert first["family_reunification"][0] == "beratung"
    assert "/a/" not in first["family_reunification"][1]
    assert "/a/" not in first["arrival_limit"][1]  # a stage's limit is about no item


def test_the_coordinator_is_asked_for_no_fact_even_one_it_may_set(keyed: Context) -> None:
    data = keyed.catalog.get("pflege").model_dump(by_alias=True)
    data["facts"]["arrival_date"]["set_by"] = ["employer", "agency", "coordinator"]
    for transition in data["transitions"]:
        if transition["event"] == "apply_visa":
            transition["notify"] = [*transition["notify"], "coordinator"]
    keyed.catalog = Catalog([Process.model_validate(data)])
    visa_case(keyed)
    by_recipient = {row.recipient: row.body for row in rows(keyed)}
    assert "/a/" not in by_recipient["koord"] and "Bitte angeben" not in by_recipient["koord"]
    assert "arrival_date" in [link.name for link in links(by_recipient["klinik-nord"])]


def test_links_point_to_the_public_url_and_reach_a_chat_room_too(
    keyed: Context, clock: Clock, webhook: Webhook, routes: Routes,
) -> None:
    keyed.settings.public_url = "https://lotse.allianz.example"
    keyed.settings.chat_reference_only = True
    routes((webhook.url("housing"), "housing"), (webhook.url("rest"), "employer, foreigners_office, "
                                                                      "counsellor, agency"))
    ref = a_case_that_arrived(keyed, clock)
    delivery.deliver(keyed)
    (post,) = [p["json"] for p in webhook.posts if p["path"] == "/housing"]
    assert post["title"] == f"{ref}: Eingereist"
    assert "erledigt melden: https://lotse.allianz.example/a/" in post["message"]
    (link,) = links(post["message"])
    assert (link.name, link.actor) == ("landlord_confirmation", "wohnbau-nord")


def test_links_are_worded_in_english_with_locale_en(
    keyed: Context, clock: Clock, inbox: Inbox, routes: Routes,
) -> None:
    keyed.settings.locale = "en"  # type: ignore[assignment]
    routes(*mail_routes(inbox))
    ref = a_case_that_arrived(keyed, clock)
    clock.now = dt.datetime(2026, 3, 17, 6, 30, tzinfo=dt.UTC)
    deadlines.check_deadlines(keyed, as_of=dt.date(2026, 3, 17))
    delivery.deliver(keyed)
    housing = to(inbox, ref, "wohnbau-nord", "Arrived").text
    assert re.search(r"- Landlord's confirmation \(§ 19 BMG\), due 2026-03-17\n  report done: \S+/a/\S+\n",
                     housing)
    assert "Please answer with the links above, not to this message: each link works once, for 30 days." \
        in housing
    employer = to(inbox, ref, "klinik-nord", "Visa applied for").text
    assert re.search(r"\nPlease enter:\n- Date of arrival: \S+/a/\S+\n- Visa valid until: \S+/a/\S+\n",
                     employer)
    reminder = to(inbox, ref, "wohnbau-nord", "reminder – Landlord's confirmation due 2026-03-17").text
    assert re.search(r"  report done: \S+/a/\S+\n", reminder)
    assert "report it with the link above" in reminder and "it works once, for 30 days" in reminder
    assert "erledigt" not in housing + employer + reminder and "Bitte" not in housing + employer + reminder


def test_link_days_sets_how_long_a_link_lives_and_what_the_message_says(
    keyed: Context, clock: Clock, inbox: Inbox, routes: Routes,
) -> None:
    keyed.settings.link_days = 14
    routes(*mail_routes(inbox))
    ref = a_case_that_arrived(keyed, clock)
    delivery.deliver(keyed)
    housing = to(inbox, ref, "wohnbau-nord", "Eingereist").text
    (link,) = links(housing)
    assert link.expires_at == (ARRIVED + dt.timedelta(days=14)).replace(microsecond=0)
    assert "Jeder Link gilt einmal und 14 Tage lang" in housing


def test_links_add_no_query_a_batch_of_twenty_reminders_asks_as_much_as_one_of_two(
    keyed: Context, routes: Routes,
) -> None:
    routes(("json://127.0.0.1:1/all", "employer, coordinator"))

    def wanted(refs: list[str]) -> list[tuple[str, dispatch.Reminder]]:
        return [(ref, dispatch.Reminder(
            "contract", "Arbeitsvertrag", dt.date(2026, 3, 17), 1, "employer", "Praxis",
            f"deadline:{ref}:contract:2026-03-17:L1", item="employment_contract", owner="employer",
        )) for ref in refs]

    queued_few, queries_few = remind_many(keyed, wanted(open_cases(keyed, 2)))
    queued_many, queries_many = remind_many(keyed, wanted(open_cases(keyed, 20)))
    assert (queued_few, queued_many) == (2, 20) and queries_many == queries_few
    bodies = [row.body for row in rows(keyed)]
    assert len(bodies) == 22 and all(len(links(body)) == 1 for body in bodies)


def test_the_link_taken_out_of_the_mail_reports_the_item_done_and_closes_its_deadline(
    keyed: Context, clock: Clock, inbox: Inbox, routes: Routes,
) -> None:
    routes(*mail_routes(inbox))
    ref = a_case_that_arrived(keyed, clock)
    delivery.deliver(keyed)
    ((_, token),) = LINK.findall(to(inbox, ref, "wohnbau-nord", "Eingereist").text)
    answered = answers.answer(keyed, KEY.encode(), token)
    assert not answered.repeated
    with keyed.db.reading() as session:
        record = store.find_case(session, ref)
        assert "landlord_confirmation" in store.load_case(session, record, keyed.catalog.get("pflege")).done
        last = store.history(session, record.id or 0)[-1]
        assert (last.via, last.actor_id) == ("link", "wohnbau-nord")
        (deadline,) = session.scalars(select(DeadlineRecord).where(
            DeadlineRecord.case_id == record.id, DeadlineRecord.deadline == "landlord_confirmation"))
        assert deadline.closed_why == "done"


def test_the_arrival_date_entered_through_the_link_of_the_visa_mail_lets_the_case_arrive(
    keyed: Context, clock: Clock, inbox: Inbox, routes: Routes,
) -> None:
    routes(*mail_routes(inbox))
    ref = visa_case(keyed)
    delivery.deliver(keyed)
    text = to(inbox, ref, "klinik-nord", "Visum beantragt").text
    by_name = {answer_links.read(token, KEY.encode()).name: token for _, token in LINK.findall(text)}
    answers.answer(keyed, KEY.encode(), by_name["arrival_date"], "2026-03-03")
    answers.answer(keyed, KEY.encode(), by_name["visa_valid_until"], "2026-09-30")
    assert casework.advance(keyed, ref, "arrive", by="klinik-nord")["stage"] == "arrival"
