"""Titles in LOTSE_LOCALE on the command line: `case show` and `process show`/`list` read German by
default and English with LOTSE_LOCALE=en; the ids a command takes stay as they are."""

from __future__ import annotations

from tests.cli.conftest import Lotse

EN = {"LOTSE_LOCALE": "en"}


def test_case_show_gives_stage_checklist_event_and_deadline_titles_in_german_by_default(
    lotse: Lotse, case_ref: str,
) -> None:
    shown = lotse("case", "show", case_ref)
    assert shown.code == 0, shown.err
    assert "stage recruited (Angeworben)" in shown.out
    assert "] employment_contract (employer, recruited): Arbeitsvertrag unterschrieben" in shown.out
    assert "  apply_visa (Visum beantragt) -> visa: needs" in shown.out
    limit = "recruited_limit (Angeworben: 6 Monate; employer, level 0): Erfahrungswert der Allianz"
    assert limit in shown.out


def test_case_show_gives_every_title_in_english_with_locale_en(lotse: Lotse, case_ref: str) -> None:
    shown = lotse("case", "show", case_ref, env=EN)
    assert shown.code == 0, shown.err
    assert "stage recruited (Recruited)" in shown.out
    assert "] employment_contract (employer, recruited): Employment contract signed" in shown.out
    assert "  apply_visa (Visa applied for) -> visa: needs" in shown.out
    assert "recruited_limit (Recruited: 6 months; employer, level 0): Experience of the alliance" in shown.out
    assert not any(word in shown.out for word in ("Angeworben", "Arbeitsvertrag", "Visum beantragt"))
    data = lotse("case", "show", case_ref, "--json", env=EN).json()
    assert data["stage_title"] == "Recruited"
    assert {e["event"]: e["title"] for e in data["allowed_events"]}["apply_visa"] == "Visa applied for"
    assert data["deadlines"][0]["title"] == "Recruited: 6 months"


def test_process_show_and_list_give_titles_in_the_locale_and_the_json_as_written(lotse: Lotse) -> None:
    german = lotse("process", "show", "pflege")
    english = lotse("process", "show", "pflege", env=EN)
    assert german.out.startswith("pflege v2: Pflegefachkraft aus dem Ausland\n")
    assert english.out.startswith("pflege v2: Nurse recruited abroad\n")
    assert "  visa: Visa procedure [employer, limit 10 weeks]" in english.out
    assert "    - housing_confirmed: Housing for the arrival confirmed (owner housing)" in english.out
    assert "  arrive (Arrived): visa -> arrival" in english.out
    deadline = "  address_registration: Register the address (14 days after arrival_date; employer)"
    assert deadline in english.out
    assert "Nurse recruited abroad" in lotse("process", "list", env=EN).out
    dumped = lotse("process", "show", "pflege", "--json", env=EN).json()
    assert dumped["stages"]["visa"]["title"] == {"de": "Visumverfahren", "en": "Visa procedure"}
    assert lotse("process", "show", "pflege", "--mermaid", env=EN).out == lotse(
        "process", "show", "pflege", "--mermaid").out  # ids only: the same diagram in every language
