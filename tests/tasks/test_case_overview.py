"""The case overview (the artifact `case-<ref>`): every part for both processes, titles instead of
ids, Berlin local time, German or English, and never a name, a note or a personal fact's value;
text from data cannot break a table or add markup."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from lotse.states.process import load_file
from lotse.tasks import case_views, casework, directory
from lotse.tasks.case_overview import CaseView, Entry, escape, key, render, summary
from lotse.tasks.context import Context
from tests.conftest import Clock

BERLIN = "Europe/Berlin"
GIVEN, FAMILY = "Maricel", "Dalisay"
NOTE = "called Maricel's sister"
REASON = "moved in with her partner"
MARKUP = "<img src=x onerror=alert(1)> *neu* [x](y)"


def view_of(ctx: Context, ref: str) -> CaseView:
    [view] = case_views.views(ctx, refs=[ref])
    return view


def overview(ctx: Context, ref: str, locale: str = "de", public_url: str | None = None) -> str:
    return render(view_of(ctx, ref), locale=locale, timezone=BERLIN, public_url=public_url)


def section(markdown: str, heading: str) -> str:
    """The text under one `## heading`, up to the next one."""
    start = markdown.index(f"## {heading}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start:end if end >= 0 else None]


def in_visa(ctx: Context, clock: Clock) -> str:
    """A pflege case in `visa`: opened, ticked, moved with a note, facts set, a reminder sent."""
    ref = casework.open_case(ctx, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                             employer="klinik-nord")
    casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
    clock.now = dt.datetime(2026, 11, 30, 13, 5, tzinfo=dt.UTC)  # 14:05 in Berlin (CET)
    casework.advance(ctx, ref, "apply_visa", by="klinik-nord", note=NOTE)
    casework.set_facts(ctx, ref, {"approval_requested_date": "2026-11-30", "accelerated_procedure": "no"},
                       by="klinik-nord")
    casework.tick(ctx, ref, ["housing_confirmed"], by="wohnbau-nord")
    return ref


def test_a_pflege_overview_shows_every_part_with_titles_instead_of_ids(
    alliance: Context, clock: Clock,
) -> None:
    ref = in_visa(alliance, clock)

    markdown = overview(alliance, ref)

    assert markdown.startswith(f"# Fall {ref}\n")
    assert "- **Prozess:** Pflegefachkraft aus dem Ausland (pflege, Version 2)" in markdown
    assert "- **Stufe:** Visumverfahren, seit 30.11.2026 14:05" in markdown
    assert "- **Zuständig:** Klinik Nord (Arbeitgeber)" in markdown
    checklist = section(markdown, "Checkliste der Stufe")
    assert ("| Vorabzustimmung (§ 81a AufenthG) erteilt | Ausländerbehörde Nord (Ausländerbehörde) "
            "| 14.12.2026 | offen |") in checklist
    assert ("| Unterkunft für die Ankunft bestätigt | Wohnbau Nord (Wohnungsunternehmen) | – "
            "| 30.11.2026 14:05, Wohnbau Nord |") in checklist
    events = section(markdown, "Was jetzt möglich ist")
    assert ("| Eingereist (`arrive`) | Ankunft | Arbeitgeber | Visum erteilt – Klinik Nord (Arbeitgeber); "
            "Einreisedatum (nicht gesetzt); Visum gültig bis (nicht gesetzt) |") in events
    assert "Abgebrochen (`withdraw`)" in events and "Abbruch: Kategorie (nicht gesetzt)" in events
    deadlines = section(markdown, "Offene Fristen")
    assert ("| Zustimmung der Bundesagentur für Arbeit | 14.12.2026 | noch nicht | Ausländerbehörde | "
            "§ 36 (2) BeschV: Zustimmung binnen 2 Wochen, sonst gilt sie als erteilt (L) |") in deadlines
    assert "| Visumverfahren: 10 Wochen | 08.02.2027 | noch nicht | Arbeitgeber |" in deadlines
    timeline = section(markdown, "Verlauf (neueste zuerst)").splitlines()[4:]
    assert timeline == [
        "| 30.11.2026 14:05 | Erledigt: Unterkunft für die Ankunft bestätigt | Wohnbau Nord "
        "| Kommandozeile |",
        "| 30.11.2026 14:05 | Gesetzt: Zustimmung der Bundesagentur für Arbeit angefragt am = 30.11.2026; "
        "Beschleunigtes Fachkräfteverfahren (§ 81a AufenthG) = nein | Klinik Nord | Kommandozeile |",
        "| 30.11.2026 14:05 | Visum beantragt: Angeworben → Visumverfahren | Klinik Nord | Kommandozeile |",
        "| 02.03.2026 10:00 | Erledigt: Arbeitsvertrag unterschrieben; Anerkennungsunterlagen gesammelt und "
        "übersetzt | Koordinierungsstelle | Kommandozeile |",
        "| 02.03.2026 10:00 | Gesetzt: Staatsangehörigkeit | Klinik Nord | Kommandozeile |",
        "| 02.03.2026 10:00 | Fall eröffnet (Angeworben) | Klinik Nord | Kommandozeile |",
    ]
    for id_ in ("apply_visa |", "housing_confirmed", "approval_requested_date", "recruited", "cli |"):
        assert id_ not in markdown


def test_a_chancen_overview_in_english_names_what_each_event_lacks(alliance: Context, clock: Clock) -> None:
    ref = casework.open_case(alliance, given_name=GIVEN, family_name=FAMILY, nationality="SYR",
                             employer="klinik-nord", process="chancen")
    casework.tick(alliance, ref, ["counselling_done", "work_permit_checked"], by="koord")
    casework.set_facts(alliance, ref, {"residence_title": "104c", "residence_title_until": "2027-06-30"},
                       by="abh-nord")
    casework.advance(alliance, ref, "start_language_course", by="beratung")
    casework.set_facts(alliance, ref, {"language_level": "A2"}, by="sprachschule")

    markdown = overview(alliance, ref, locale="en")

    assert "- **Stage:** Language course, since 2 Mar 2026 10:00" in markdown
    assert "- **Responsible:** Sprachschule Wort (language school)" in markdown
    assert "| Enrolled in a language course | Sprachschule Wort (language school) |" in markdown
    events = section(markdown, "What can happen now")
    assert ("| Recognition procedure started (`start_recognition`) | Recognition | migration counselling, "
            "recognition office | Language level (CEFR) at least B1 (now A2); Vocational qualification from "
            "the country of origin is yes (not set) |") in events
    assert "Training started (`start_training`) | Training (nursing assistant)" in events
    assert "Training contract signed – Klinik Nord (employer)" in events
    deadlines = section(markdown, "Open deadlines")
    assert "| Residence title ends, apply for the next title | 30 Jun 2027 |" in deadlines
    timeline = section(markdown, "Timeline (newest first)")
    assert "| 2 Mar 2026 10:00 | Set: Language level (CEFR) = A2 | Sprachschule Wort | command line |" \
        in timeline
    assert "Set: Residence title (section of the Residence Act) = 104c; Residence title valid until = " \
           "30 Jun 2027" in timeline
    assert "Language course started: Recruited → Language course" in timeline


def test_times_are_local_time_in_berlin_in_winter_and_in_summer(alliance: Context, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC)  # already 2 July in Berlin (CEST)
    ref = casework.open_case(alliance, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                             employer="klinik-nord")
    clock.now = dt.datetime(2026, 12, 31, 23, 15, tzinfo=dt.UTC)  # New Year in Berlin (CET)
    casework.tick(alliance, ref, ["employment_contract"], by="klinik-nord")

    markdown = overview(alliance, ref)

    assert "seit 02.07.2026 00:30" in markdown
    assert "| 01.01.2027 00:15 | Erledigt: Arbeitsvertrag unterschrieben |" in markdown
    assert "| 02.07.2026 00:30 | Fall eröffnet (Angeworben) |" in markdown
    assert "Arbeitsvertrag unterschrieben | Klinik Nord (Arbeitgeber) | – | 01.01.2027 00:15, Klinik Nord |" \
        in markdown


def test_names_notes_and_the_values_of_personal_facts_never_appear(alliance: Context, clock: Clock) -> None:
    ref = in_visa(alliance, clock)
    casework.set_facts(alliance, ref, {"withdraw_category": "family", "withdraw_reason": REASON},
                       by="klinik-nord")
    casework.advance(alliance, ref, "withdraw", by="klinik-nord", note=NOTE)

    for locale in ("de", "en"):
        markdown = overview(alliance, ref, locale=locale)
        text = markdown + summary(view_of(alliance, ref), locale=locale, timezone=BERLIN)
        for secret in (GIVEN, FAMILY, "PHL", "Philippin", REASON, NOTE, "sister"):
            assert secret not in text, (locale, secret)
        # the category is no personal data and shows; the free note's title only, never its value
        assert ("Gesetzt: Abbruch: Kategorie = family; Grund des Abbruchs |" in markdown) or (
            "Set: Withdrawal: category = family; Reason for withdrawal |" in markdown)
    assert "Abgebrochen: Visumverfahren → Abgebrochen" in overview(alliance, ref)


def gated(ctx: Context, tmp_path: Path, facts: dict[str, Any]) -> CaseView:
    """A case on a small definition of its own: a condition on a personal fact, a free-text fact."""
    definition = tmp_path / "gate.yaml"
    definition.write_text(
        "name: gate\nversion: 1\ntitle: Gate\ninitial: a\nfinal: [b]\nroles: [coordinator]\n"
        "facts:\n  nationality: {type: country, title: Staatsangehörigkeit, personal: true}\n"
        "  level: {type: cefr, title: Sprachniveau}\n  label: {type: str, title: Kennung}\n"
        "stages:\n  a: {title: Anfang}\n  b: {title: Ende}\n"
        "transitions:\n  - {event: go, title: Weiter, from: a, to: b,"
        " requires: {facts: ['nationality != SYR', 'level >= B2']}}\n",
        encoding="utf-8",
    )
    view = view_of(ctx, casework.open_case(ctx, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                                           employer="klinik-nord"))
    entry = Entry(view.history_id + 1, view.history[-1].at, "set", "a", "a", "koord", "cli", facts)
    return dataclasses.replace(view, process=load_file(definition), history=[entry], case=dataclasses.replace(
        view.case, process="gate", stage="a", facts={"nationality": "SYR", "level": "B1"}))


def test_an_unmet_condition_on_a_personal_fact_does_not_tell_its_value(
    alliance: Context, tmp_path: Path,
) -> None:
    view = gated(alliance, tmp_path, {"nationality": "SYR", "level": "B1"})

    markdown = render(view, locale="de", timezone=BERLIN)

    assert "| Weiter (`go`) | Ende | Koordinierungsstelle | Staatsangehörigkeit (Bedingung nicht erfüllt); " \
           "Sprachniveau mindestens B2 (jetzt B1) |" in markdown
    assert "SYR" not in markdown
    assert "| Gesetzt: Staatsangehörigkeit; Sprachniveau = B1 | Koordinierungsstelle |" in markdown


def tables(markdown: str) -> list[list[str]]:
    return [table.splitlines() for table in re.findall(r"(?:^\|.*\n)+", markdown, flags=re.MULTILINE)]


def test_text_from_data_cannot_break_a_table_or_add_markup(
    alliance: Context, clock: Clock, tmp_path: Path,
) -> None:
    directory.add_actor(alliance, "wohnbau-sued", name=f"Wohnbau | Süd\n# {MARKUP}",
                        roles=["housing"], region="SE-Nord")
    ref = in_visa(alliance, clock)

    markdown = overview(alliance, ref)
    own = render(gated(alliance, tmp_path, {"label": f"a|b\n## {MARKUP}"}), locale="de", timezone=BERLIN)

    for rows in tables(markdown) + tables(own):
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
        assert len(widths) == 1, rows
    assert "| Gesetzt: Kennung = a\\|b \\#\\# &lt;img src=x onerror=alert(1)&gt; \\*neu\\* \\[x\\](y) |" \
        in own
    assert not [line for line in own.splitlines() if line.startswith("## ") and "img" in line]
    assert "<img" not in markdown and "&lt;img src=x onerror=alert(1)&gt;" in markdown
    assert "Wohnbau \\| Süd \\# &lt;img" in markdown and "\\*neu\\* \\[x\\](y)" in markdown
    assert [line for line in markdown.splitlines() if line.startswith("#")] == [
        f"# Fall {ref}", "## Checkliste der Stufe", "## Was jetzt möglich ist", "## Offene Fristen",
        "## Verlauf (neueste zuerst)"]
    assert escape("a|b\nc `d` _e_ \\") == "a\\|b c \\`d\\` \\_e\\_ \\\\"


def test_the_desk_link_carries_the_reference_only_and_only_when_a_public_url_is_set(
    alliance: Context, clock: Clock,
) -> None:
    ref = in_visa(alliance, clock)

    linked = overview(alliance, ref, public_url="https://lotse.allianz.example")

    assert f"- **Im Lotse-Desk:** [{ref}](https://lotse.allianz.example/cases/{ref})" in linked
    assert "Lotse-Desk" not in overview(alliance, ref)
    assert key(ref) == f"case-{ref.lower()}"


def test_views_of_many_cases_are_read_together_and_unknown_ones_left_out(alliance: Context) -> None:
    refs = [casework.open_case(alliance, given_name=f"P{n}", family_name=FAMILY, nationality="PHL",
                               employer="klinik-nord") for n in range(3)]
    casework.tick(alliance, refs[1], ["employment_contract"], by="klinik-nord")

    views = case_views.views(alliance, refs=[refs[2], "SE-1999-0001", refs[1].lower(), refs[0]])

    assert [v.case.ref for v in views] == refs
    assert views[1].case.done == {"employment_contract"} and views[0].case.done == set()
    assert [len(v.history) for v in views] == [2, 3, 2]
    assert views[1].history_id > views[2].history_id
    assert case_views.views(alliance, ids=[views[0].case_id])[0].case.ref == refs[0]


@pytest.mark.parametrize("locale", ["de", "en"])
def test_a_closed_case_shows_no_checklist_no_events_and_no_deadlines(
    alliance: Context, locale: str,
) -> None:
    ref = casework.open_case(alliance, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                             employer="klinik-nord", facts={"withdraw_category": "moved_away",
                                                            "withdraw_reason": REASON})
    casework.advance(alliance, ref, "withdraw", by="klinik-nord")

    markdown = overview(alliance, ref, locale=locale)

    none = "(keine)" if locale == "de" else "(none)"
    assert markdown.count(f"\n{none}\n") == 3
    assert "Koordinierungsstelle" in markdown.splitlines()[4]


def test_a_case_on_a_definition_no_longer_loaded_is_left_out_of_the_views(alliance: Context) -> None:
    from lotse.states.process import Catalog

    ref = casework.open_case(alliance, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                             employer="klinik-nord")
    alliance.catalog = Catalog([alliance.catalog.get("chancen")])

    assert case_views.views(alliance, refs=[ref]) == []


def test_the_timeline_names_how_an_author_proved_who_it_is_by_kind_never_the_user_or_the_link(
    alliance: Context,
) -> None:
    alliance.proof = "os:m.mueller"
    ref = casework.open_case(alliance, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                             employer="klinik-nord")
    link = dataclasses.replace(alliance, proof="link:4f2a9c0d1e")
    casework.tick(link, ref, ["housing_confirmed"], by="wohnbau-nord", via="link")
    desk = dataclasses.replace(alliance, proof="sign-in:77aa01")
    casework.tick(desk, ref, ["employment_contract"], by="koord", via="desk")
    casework.tick(link, ref, ["recognition_documents"], by="vermittlung", via="flow")  # not the rule

    timeline = section(overview(alliance, ref), "Verlauf (neueste zuerst)")

    assert "Unterkunft für die Ankunft bestätigt | Wohnbau Nord | Antwortlink |" in timeline
    assert "Arbeitsvertrag unterschrieben | Koordinierungsstelle | Lotse-Desk |" in timeline
    assert "| Vermittlung Brücke | Prefect (Antwortlink) |" in timeline
    assert "| Fall eröffnet (Angeworben) | Klinik Nord | Kommandozeile |" in timeline
    english = overview(alliance, ref, locale="en")
    assert "| Vermittlung Brücke | Prefect (answer link) |" in english
    for secret in ("m.mueller", "4f2a9c0d1e", "77aa01", "os:"):
        assert secret not in timeline + english


def test_the_timeline_names_a_hand_over_by_the_organisations_and_a_workbook_with_the_name(
    alliance: Context, clock: Clock,
) -> None:
    from lotse.tasks import hand_over, workbook

    ref = in_visa(alliance, clock)
    directory.add_actor(alliance, "klinik-sued", name="Klinik Süd", roles=["employer"], region="SE-Sued")
    hand_over.remove_actor(alliance, "klinik-nord", hand_over_to="klinik-sued", by="koord", note=NOTE)
    workbook.names_for(alliance, [ref], "koord")

    timeline = section(overview(alliance, ref), "Verlauf (neueste zuerst)")
    english = section(overview(alliance, ref, locale="en"), "Timeline (newest first)")

    assert "| Übergeben (aus dem Verzeichnis genommen): Klinik Nord → Klinik Süd | Koordinierungsstelle |" \
        in timeline
    assert "| Name in eine Auswertung (Excel) übernommen | Koordinierungsstelle |" in timeline
    assert "| handed over (taken out of the directory): Klinik Nord → Klinik Süd |" in english
    assert NOTE not in timeline + english and GIVEN not in timeline + english
