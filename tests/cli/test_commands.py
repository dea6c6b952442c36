"""Every command of the `lotse` command line doing its job, and the JSON other tools script against."""

from __future__ import annotations

import re
from pathlib import Path

from lotse.config.settings import PACKAGED_PROCESS_DIR
from lotse.states.process import Catalog
from lotse.tasks.context import Context
from tests.cli.conftest import Lotse
from tests.regions import TWO_COUNTIES

REF = re.compile(r"^[A-Z]{2,4}-\d{4}-\d{4}$")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def test_init_creates_the_database_and_a_second_init_finds_it_up_to_date(lotse: Lotse, home: Path) -> None:
    first = lotse("init")
    assert first.code == 0 and "created" in first.out and (home / "lotse.db").exists()
    assert "pflege v2" in first.out and "chancen v2" in first.out
    second = lotse("init")
    assert second.code == 0 and "up to date" in second.out


def test_process_list_names_both_shipped_processes(lotse: Lotse) -> None:
    listed = lotse("process", "list", "--json")
    assert listed.code == 0
    rows = {row["name"]: row for row in listed.json()}
    assert set(rows) >= {"pflege", "chancen"} and rows["pflege"]["version"] == 2
    text = lotse("process", "list")
    assert text.code == 0 and "pflege" in text.out and "NAME" in text.out


def test_process_show_describes_stages_events_and_facts(lotse: Lotse) -> None:
    shown = lotse("process", "show", "pflege")
    assert shown.code == 0
    assert "recruited" in shown.out and "housing_confirmed" in shown.out and "language_level" in shown.out
    definition = lotse("process", "show", "chancen", "--json").json()
    assert definition["name"] == "chancen" and "visa" not in definition["stages"]
    assert {"event", "from", "to", "roles", "requires"} <= set(definition["transitions"][0])


def test_process_show_mermaid_draws_every_event(lotse: Lotse) -> None:
    drawn = lotse("process", "show", "pflege", "--mermaid")
    assert drawn.code == 0
    lines = drawn.out.splitlines()
    assert lines[0] == "stateDiagram-v2" and "    [*] --> recruited" in lines
    for edge in ["recruited --> visa: apply_visa", "visa --> arrival: arrive",
                 "housed --> integrated: complete", "language_course --> withdrawn: withdraw",
                 "integrated --> [*]", "withdrawn --> [*]"]:
        assert f"    {edge}" in lines
    assert "integrated --> withdrawn" not in drawn.out  # nothing leaves a final stage


def test_actors_are_added_and_listed(lotse: Lotse, ctx: Context) -> None:
    added = lotse("actor", "add", "klinik-ost", "--name", "Klinik Ost", "--role", "employer",
                  "--role", "agency", "--region", "SE-Ost", "--email", "pflege@klinik-ost.example")
    assert added.code == 0 and "klinik-ost" in added.out
    rows = lotse("actor", "list", "--json").json()
    assert rows == [{"id": "klinik-ost", "name": "Klinik Ost", "roles": ["agency", "employer"],
                     "region": "SE-Ost", "email": "pflege@klinik-ost.example", "serves": [], "services": {},
                     "languages": [], "contact": None, "website": None}]
    assert "Klinik Ost" in lotse("actor", "list").out


def test_case_add_prints_the_reference_as_text_or_json(alliance: Context, lotse: Lotse) -> None:
    text = lotse("case", "add", "--given-name", "Anjali", "--family-name", "Menon", "--nationality", "IND",
                 "--employer", "klinik-nord")
    assert text.code == 0 and REF.match(text.out.strip()) and text.out.startswith("SE-")
    opened = lotse("case", "add", "--given-name", "Omar", "--family-name", "Al-Hamwi", "--nationality", "syr",
                   "--employer", "klinik-nord", "--process", "chancen", "--region", "HL-West",
                   "--set", "residence_title=104c", "--by", "koord", "--json",
                   env={"LOTSE_REGIONS_FILE": str(TWO_COUNTIES)})
    assert opened.code == 0, opened.err
    ref = opened.json()["ref"]
    assert REF.match(ref) and ref.startswith("HL-")
    shown = lotse("case", "show", ref, "--json").json()
    assert (shown["process"], shown["region"], shown["stage"]) == ("chancen", "HL-West", "recruited")
    assert shown["facts"] == {"nationality": "SYR", "residence_title": "104c"}
    assert shown["history"][0]["actor"] == "koord"


def test_case_show_json_has_the_documented_shape(lotse: Lotse, case_ref: str) -> None:
    shown = lotse("case", "show", case_ref, "--json")
    assert shown.code == 0
    data = shown.json()
    assert data["ref"] == case_ref and data["process"] == "pflege" and data["process_version"] == 2
    assert (data["stage"], data["version"]) == ("recruited", 0)
    assert data["facts"] == {"nationality": "PHL"}
    assert isinstance(data["checklist"], list) and data["checklist"]
    for item in data["checklist"]:
        assert {"id", "title", "owner", "done"} <= set(item) and item["done"] is False
    assert {i["id"]: i["owner"] for i in data["checklist"]}["housing_confirmed"] == "housing"
    events = {e["event"]: e for e in data["allowed_events"]}
    assert set(events) == {"apply_visa", "withdraw"}
    assert {"event", "to", "missing"} <= set(events["apply_visa"])
    assert events["apply_visa"]["to"] == "visa"
    assert events["apply_visa"]["missing"] == [
        "checklist item 'employment_contract' (owner employer)",
        "checklist item 'recognition_documents' (owner agency)",
    ]
    assert events["withdraw"]["missing"] == ["fact 'withdraw_category' (not set)"]
    assert [set(h) >= {"action", "from", "to", "actor", "via", "at", "note"} for h in data["history"]] == [
        True, True]
    opened, facts = data["history"]
    assert (opened["action"], opened["from"], opened["to"]) == ("open", "recruited", "recruited")
    assert (facts["action"], opened["actor"]) == ("set", "klinik-nord")
    assert (opened["via"], opened["note"]) == ("cli", None)
    assert ISO_UTC.match(opened["at"])


def test_a_case_moves_through_set_done_and_advance_and_the_history_shows_it(
    lotse: Lotse, case_ref: str
) -> None:
    ticked = lotse("case", "done", case_ref, "employment_contract", "--by", "klinik-nord")
    assert ticked.code == 0 and "employment_contract" in ticked.out
    assert lotse("case", "done", case_ref, "recognition_documents", "--by", "vermittlung").code == 0
    moved = lotse("case", "advance", case_ref, "apply_visa", "--by", "vermittlung", "--note", "per e-mail")
    assert moved.code == 0 and "recruited -> visa" in moved.out
    assert lotse("case", "done", case_ref, "visa_granted", "--by", "klinik-nord").code == 0
    assert lotse("case", "done", case_ref, "housing_confirmed", "--by", "wohnbau-nord").code == 0
    set_ = lotse("case", "set", case_ref, "arrival_date=2026-05-01", "visa_valid_until=2026-08-01",
                 "--by", "klinik-nord")
    assert set_.code == 0 and "arrival_date" in set_.out
    arrived = lotse("case", "advance", case_ref, "arrive", "--by", "klinik-nord", "--json")
    assert arrived.code == 0
    assert {k: arrived.json()[k] for k in ("ref", "from", "to", "stage", "version")} == {
        "ref": case_ref, "from": "visa", "to": "arrival", "stage": "arrival", "version": 2}
    undone = lotse("case", "done", case_ref, "visa_granted", "--by", "klinik-nord", "--undo")
    assert undone.code == 0 and "unticked" in undone.out
    data = lotse("case", "show", case_ref, "--json").json()
    assert (data["stage"], data["version"]) == ("arrival", 2)
    assert data["facts"]["arrival_date"] == "2026-05-01"
    done = {i["id"] for i in data["checklist"] if i["done"]}
    assert done == {"employment_contract", "recognition_documents", "housing_confirmed"}
    history = [(h["action"], h["from"], h["to"], h["actor"]) for h in data["history"]]
    assert history == [
        ("open", "recruited", "recruited", "klinik-nord"), ("set", "recruited", "recruited", "klinik-nord"),
        ("done", "recruited", "recruited", "klinik-nord"), ("done", "recruited", "recruited", "vermittlung"),
        ("apply_visa", "recruited", "visa", "vermittlung"),
        ("done", "visa", "visa", "klinik-nord"), ("done", "visa", "visa", "wohnbau-nord"),
        ("set", "visa", "visa", "klinik-nord"), ("arrive", "visa", "arrival", "klinik-nord"),
        ("undone", "arrival", "arrival", "klinik-nord"),
    ]
    assert data["history"][4]["note"] == "per e-mail"
    assert data["history"] == sorted(data["history"], key=lambda h: h["at"])  # oldest first


def test_advance_sets_the_facts_given_with_it(lotse: Lotse, case_ref: str) -> None:
    moved = lotse("case", "advance", case_ref, "withdraw", "--by", "klinik-nord",
                  "--set", "withdraw_category=moved_away", "--set", "withdraw_reason=found work elsewhere")
    assert moved.code == 0, moved.err
    data = lotse("case", "show", case_ref, "--json").json()
    assert data["stage"] == "withdrawn" and data["facts"]["withdraw_reason"] == "found work elsewhere"
    assert data["allowed_events"] == []


def test_case_show_as_text_names_what_is_missing(lotse: Lotse, case_ref: str) -> None:
    shown = lotse("case", "show", case_ref.lower())
    assert shown.code == 0
    assert case_ref in shown.out and "Maricel Dalisay" in shown.out
    assert "apply_visa (Visum beantragt) -> visa: needs checklist item 'employment_contract'" in shown.out


def test_case_list_filters_by_stage_and_process(alliance: Context, lotse: Lotse, case_ref: str) -> None:
    other = lotse("case", "add", "--given-name", "Nour", "--family-name", "Khalil", "--nationality", "SYR",
                  "--employer", "klinik-nord", "--process", "chancen", "--json").json()["ref"]
    lotse("case", "advance", other, "withdraw", "--by", "klinik-nord",
          "--set", "withdraw_category=moved_away")
    rows = lotse("case", "list", "--json").json()
    assert [(r["ref"], r["stage"], r["process"]) for r in rows] == [
        (case_ref, "recruited", "pflege"), (other, "withdrawn", "chancen")]
    assert [r["ref"] for r in lotse("case", "list", "--stage", "withdrawn", "--json").json()] == [other]
    assert [r["ref"] for r in lotse("case", "list", "--process", "pflege", "--json").json()] == [case_ref]
    assert lotse("case", "list", "--stage", "visa", "--json").json() == []
    text = lotse("case", "list")
    assert text.code == 0 and case_ref in text.out and other in text.out
    assert "Maricel" not in text.out  # the list names no person


def test_an_empty_list_says_so(lotse: Lotse, alliance: Context) -> None:
    assert lotse("case", "list").out.strip() == "(none)"
    assert lotse("case", "list", "--json").json() == []


def test_help_is_there_for_every_command(lotse: Lotse) -> None:
    for args in (["--help"], ["case", "--help"], ["case", "advance", "--help"],
                 ["process", "show", "--help"]):
        shown = lotse(*args)
        assert shown.code == 0 and "Usage:" in shown.out and shown.err == ""


def test_init_demo_spreads_at_least_30_cases_over_every_stage_of_both_processes(lotse: Lotse) -> None:
    made = lotse("init", "--demo")
    assert made.code == 0, made.err
    rows = lotse("case", "list", "--json").json()
    assert len(rows) >= 30
    catalog = Catalog.load([PACKAGED_PROCESS_DIR])
    for name in ("pflege", "chancen"):
        reached = {r["stage"] for r in rows if r["process"] == name}
        assert reached == set(catalog.get(name).stages), name
    again = lotse("init", "--demo")
    assert again.code == 0 and len(lotse("case", "list", "--json").json()) == len(rows)
