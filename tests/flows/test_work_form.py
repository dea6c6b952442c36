"""The `work-case` form read back: labels become ids, yes/no becomes true/false, and only the facts
that were changed are set."""

from __future__ import annotations

import datetime as dt

from lotse.flows import work_form
from lotse.tasks import casework, worksheet
from lotse.tasks.context import Context


def test_the_answer_maps_labels_to_ids_and_keeps_only_changed_facts(alliance: Context) -> None:
    ref = casework.open_case(alliance, given_name="Omar", family_name="Al-Hamwi", nationality="SYR",
                             employer="klinik-nord", process="chancen", by="koord")
    casework.set_facts(alliance, ref, {"residence_title": "104c"}, by="abh-nord")
    sheet = worksheet.worksheet(alliance, ref)
    form = work_form.model(sheet)
    start = next(o.label for o in sheet.events if o.id == "start_language_course")

    given = form(event=start, done_counselling_done=True, fact_residence_title="104c",
                 fact_qualification_abroad="ja", fact_residence_title_until="2027-06-30",
                 on_behalf_of="Migrationsberatung", note="  ")

    answer = work_form.answer(sheet, given)
    assert answer.event == "start_language_course" and answer.actor == "beratung"
    assert answer.items == ("counselling_done",)
    assert answer.facts == {"qualification_abroad": True, "residence_title_until": dt.date(2027, 6, 30)}
    assert answer.note is None


def test_an_untouched_form_asks_for_nothing_but_the_organisation(alliance: Context) -> None:
    ref = casework.open_case(alliance, given_name="Omar", family_name="Al-Hamwi", nationality="SYR",
                             employer="klinik-nord", process="chancen", by="koord")
    sheet = worksheet.worksheet(alliance, ref)

    answer = work_form.answer(sheet, work_form.model(sheet)(on_behalf_of="Koordinierungsstelle"))

    assert answer.empty and answer.actor == "koord" and answer.event is None
