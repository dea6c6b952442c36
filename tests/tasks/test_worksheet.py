"""The worksheet of a case (what the `work-case` form offers) and applying an answer to it: ticks,
facts and an event in one transaction, all or nothing, once per request id."""

from __future__ import annotations

import datetime as dt

import pytest

from lotse.states import store
from lotse.states.errors import BadInput, Conflict, Refused, RequirementsMissing, RoleMissing
from lotse.tasks import case_file, casework, directory, worksheet
from lotse.tasks.context import Context
from lotse.tasks.worksheet import Answer

GIVEN, FAMILY = "Maricel", "Dalisay"
ARRIVAL = {"arrival_date": dt.date(2026, 5, 1), "visa_valid_until": dt.date(2026, 8, 1)}


def in_visa(ctx: Context) -> str:
    ref = casework.open_case(ctx, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                             employer="klinik-nord")
    casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(ctx, ref, "apply_visa", by="vermittlung")
    return ref


def history(ctx: Context, ref: str) -> list[tuple[str, str, str, str | None]]:
    with ctx.db.reading() as session:
        rows = store.history(session, store.find_case(session, ref).id or 0)
    return [(r.action, r.actor_id, r.via, r.request_id) for r in rows]


def test_the_worksheet_of_a_pflege_case_offers_its_events_items_facts_and_organisations(
    alliance: Context,
) -> None:
    directory.add_actor(alliance, "klinik-sued", name="Klinik Süd", roles=["employer"], region="SE-Sued")
    directory.add_actor(alliance, "wohnen-sued", name="Wohnen Süd", roles=["housing"], region="SE-Sued")
    ref = in_visa(alliance)

    sheet = worksheet.worksheet(alliance, ref)

    assert (sheet.stage, sheet.stage_title, sheet.version) == ("visa", "Visumverfahren", 1)
    events = {o.id: o.label for o in sheet.events}
    assert events["arrive"] == ("Eingereist (fehlt: Visum erteilt, Unterkunft für die Ankunft bestätigt, "
                                "Einreisedatum, Visum gültig bis)")
    assert events["withdraw"] == "Abgebrochen (fehlt: Abbruch: Kategorie)"
    assert [o.id for o in sheet.items] == ["advance_approval", "embassy_appointment", "visa_granted",
                                           "housing_confirmed"]
    kinds = {f.name: f.kind for f in sheet.facts}
    assert kinds["arrival_date"] == "date" and kinds["language_level"] == "cefr"
    assert not {"nationality", "withdraw_reason"} & set(kinds)
    names = [o.label for o in sheet.actors]
    assert "Klinik Nord" in names and "Wohnbau Nord" in names and "Koordinierungsstelle" in names
    assert "Klinik Süd" not in names and "Wohnen Süd" not in names  # another employer, another region
    assert GIVEN not in str(sheet) and FAMILY not in str(sheet) and "PHL" not in str(sheet)


def test_the_worksheet_of_a_chancen_case_offers_its_own_items_and_facts(alliance: Context) -> None:
    ref = casework.open_case(alliance, given_name=GIVEN, family_name=FAMILY, nationality="SYR",
                             employer="klinik-nord", process="chancen", by="koord")
    casework.tick(alliance, ref, ["counselling_done"], by="beratung")

    sheet = worksheet.worksheet(alliance, ref)

    assert [o.id for o in sheet.items] == ["work_permit_checked"]
    assert {o.id for o in sheet.events} == {"start_language_course", "withdraw"}
    label = next(o.label for o in sheet.events if o.id == "start_language_course")
    assert "Beschäftigungserlaubnis geprüft" in label and "Erstberatung" not in label
    facts = {f.name: f for f in sheet.facts}
    assert facts["residence_title"].values == ("104c", "25", "60c", "other")
    assert facts["qualification_abroad"].kind == "bool"
    assert not {"nationality", "withdraw_reason"} & set(facts)


def test_titles_follow_the_locale(alliance: Context) -> None:
    alliance.settings = alliance.settings.model_copy(update={"locale": "en"})
    ref = in_visa(alliance)

    sheet = worksheet.worksheet(alliance, ref)

    assert sheet.stage_title == "Visa procedure"
    assert next(o.label for o in sheet.events if o.id == "arrive").startswith("Arrived (lacks: Visa granted")


def test_ticks_facts_and_the_event_are_applied_together_on_behalf_of_the_organisation(
    alliance: Context,
) -> None:
    ref = in_visa(alliance)
    sheet = worksheet.worksheet(alliance, ref)
    before = history(alliance, ref)

    result = worksheet.apply(alliance, sheet, Answer(
        actor="koord", items=("visa_granted", "housing_confirmed"), facts=ARRIVAL, event="arrive",
        note="visa arrived"), request_id="flow-run:1")

    shown = case_file.case_file(alliance, ref)
    assert result["changed"] and shown["stage"] == "arrival" and shown["version"] == 2
    assert shown["facts"]["arrival_date"] == "2026-05-01"
    assert history(alliance, ref) == [
        *before, ("done", "koord", "flow", None), ("set", "koord", "flow", None),
        ("arrive", "koord", "flow", "flow-run:1"),
    ]


def test_a_refused_event_writes_neither_the_ticks_nor_the_facts(alliance: Context) -> None:
    ref = in_visa(alliance)
    sheet = worksheet.worksheet(alliance, ref)
    before = case_file.case_file(alliance, ref)

    with pytest.raises(RequirementsMissing, match="housing_confirmed"):
        worksheet.apply(alliance, sheet, Answer(actor="koord", items=("visa_granted",), facts=ARRIVAL,
                                                event="arrive"), request_id="flow-run:2")
    with pytest.raises(RoleMissing, match="'wohnbau-nord' may not fire 'arrive'"):
        worksheet.apply(alliance, sheet, Answer(actor="wohnbau-nord", items=("housing_confirmed",),
                                                event="arrive"), request_id="flow-run:2")

    assert case_file.case_file(alliance, ref) == before


def test_the_same_request_applied_twice_changes_nothing_twice(alliance: Context) -> None:
    ref = in_visa(alliance)
    sheet = worksheet.worksheet(alliance, ref)
    answer = Answer(actor="wohnbau-nord", items=("housing_confirmed",))
    worksheet.apply(alliance, sheet, answer, request_id="flow-run:3")
    after_first = case_file.case_file(alliance, ref)

    again = worksheet.apply(alliance, sheet, answer, request_id="flow-run:3")

    assert again["repeated"] is True and again["changed"] is False
    assert case_file.case_file(alliance, ref) == after_first


def test_a_form_answered_after_the_case_moved_on_is_a_conflict_and_changes_nothing(alliance: Context) -> None:
    ref = in_visa(alliance)
    sheet = worksheet.worksheet(alliance, ref)
    casework.advance(alliance, ref, "withdraw", by="klinik-nord", facts={"withdraw_category": "moved_away",
                                                                         "withdraw_reason": "went home"})
    before = case_file.case_file(alliance, ref)

    with pytest.raises(Conflict, match="changed since version 1"):
        worksheet.apply(alliance, sheet, Answer(actor="koord", items=("visa_granted",)), request_id="r-4")

    assert case_file.case_file(alliance, ref) == before
    with pytest.raises(Refused, match="is closed"):
        worksheet.worksheet(alliance, ref)


def test_an_answer_that_changes_nothing_writes_nothing(alliance: Context) -> None:
    ref = in_visa(alliance)
    sheet = worksheet.worksheet(alliance, ref)
    before = case_file.case_file(alliance, ref)

    result = worksheet.apply(alliance, sheet, Answer(actor="koord"), request_id="flow-run:5")

    assert result["changed"] is False and case_file.case_file(alliance, ref) == before


def test_what_changed_and_what_is_missing_now_in_markdown_without_a_name(alliance: Context) -> None:
    ref = in_visa(alliance)
    sheet = worksheet.worksheet(alliance, ref)
    answer = Answer(actor="koord", items=("visa_granted", "housing_confirmed"), facts=ARRIVAL, event="arrive")
    result = worksheet.apply(alliance, sheet, answer, request_id="flow-run:6")

    markdown = worksheet.outcome_markdown(sheet, answer, result, worksheet.worksheet(alliance, ref))

    assert "im Auftrag von Koordinierungsstelle" in markdown
    assert "- erledigt: Visum erteilt" in markdown and "- gesetzt: Einreisedatum = 01.05.2026" in markdown
    assert "- Ereignis: Eingereist (Visumverfahren → Ankunft)" in markdown
    assert "- Wohnsitz angemeldet (§ 17 BMG) (zuständig: Arbeitgeber)" in markdown
    assert "Sprachkurs begonnen (fehlt: Wohnsitz angemeldet" in markdown
    assert GIVEN not in markdown and FAMILY not in markdown


def test_a_fact_the_form_does_not_offer_is_refused_and_nothing_is_written(alliance: Context) -> None:
    ref = in_visa(alliance)
    sheet = worksheet.worksheet(alliance, ref)
    before = case_file.case_file(alliance, ref)

    with pytest.raises(BadInput, match="withdraw_reason cannot be set through this form"):
        worksheet.apply(alliance, sheet, Answer(actor="koord", facts={"withdraw_reason": "x"},
                                                event="withdraw"), request_id="flow-run:7")

    assert case_file.case_file(alliance, ref) == before
