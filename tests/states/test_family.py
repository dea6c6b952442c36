"""The family needs of a definition (states/family.py): which needs a member has, the item id per
member and need, due dates, and the checks at load that name the file and the key."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from lotse.config.settings import PACKAGED_PROCESS_DIR
from lotse.states import family
from lotse.states.case import Case
from lotse.states.deadlines import openings, rule
from lotse.states.errors import DefinitionError
from lotse.states.family import Member
from lotse.states.process import Process, load_file, load_text

PFLEGE = load_file(PACKAGED_PROCESS_DIR / "pflege.yaml")
ADDED = dt.date(2027, 1, 10)


def child(number: int, born: int, arrives: dt.date | None = None) -> Member:
    return Member(id=number, relation="child", number=number, added_on=ADDED, birth_year=born,
                  arrives=arrives)


def spouse(arrives: dt.date | None = None) -> Member:
    return Member(id=9, relation="spouse", number=0, added_on=ADDED, arrives=arrives)


def needs(member: Member, process: Process = PFLEGE) -> list[str]:
    return [need_id for need_id, _ in family.needs_of(process, member)]


def test_a_childs_needs_follow_its_age_when_it_arrives_and_whether_it_comes_later() -> None:
    assert needs(child(1, 2024, dt.date(2027, 8, 1))) == ["kita_place", "reunification_visa"]
    assert needs(child(1, 2021)) == ["school_place"]  # six in 2027, the year it was recorded
    assert needs(child(1, 2027)) == []  # no legal claim before one
    assert needs(child(1, 2026, dt.date(2027, 1, 1))) == ["kita_place", "reunification_visa"]
    assert needs(child(1, 2009)) == []  # eighteen: no school place
    assert needs(spouse()) == ["language_course", "job_search"]
    assert needs(spouse(dt.date(2027, 6, 1))) == ["language_course", "job_search", "reunification_visa"]


def test_item_ids_name_relation_and_number_and_read_back() -> None:
    assert family.item_id(child(12, 2024), "kita_place") == "family_child12_kita_place"
    assert family.item_id(spouse(), "job_search") == "family_spouse_job_search"
    assert family.parse_item("family_child12_kita_place") == ("child", 12, "kita_place")
    assert family.parse_item("family_spouse_job_search") == ("spouse", 0, "job_search")
    for other in ("family_support", "family_reunification", "family_child0_kita_place", "family_child100_x"):
        assert family.parse_item(other) is None
    item = PFLEGE.item("family_child2_school_place")
    assert (item.owner, item.title.in_("de"), item.title.in_("en")) == (
        "school", "Schulplatz (Kind 2)", "School place (child 2)")
    assert PFLEGE.find_item("family_spouse_kita_place") is None  # a Kita place is for children only
    assert PFLEGE.find_item("family_child1_unknown") is None


def test_due_dates_count_from_the_arrival_or_else_the_persons_and_never_before_the_recording() -> None:
    kita = PFLEGE.family_needs["kita_place"]
    later = child(1, 2024, dt.date(2027, 8, 31))
    assert family.due_on(kita, later, fallback=None) == dt.date(2027, 5, 31)
    six = {"childcare_lead_months": 6}  # LOTSE_CHILDCARE_LEAD_MONTHS=6
    assert family.due_on(kita, later, fallback=None, leads=six) == dt.date(2027, 2, 28)
    soon = child(1, 2024, dt.date(2027, 2, 1))  # three months before lies before the recording
    assert family.due_on(kita, soon, fallback=None) == ADDED
    course = PFLEGE.family_needs["language_course"]
    assert family.due_on(course, spouse(), fallback=dt.date(2026, 12, 20)) == dt.date(2027, 1, 20)
    assert family.due_on(course, spouse(), fallback=None) == dt.date(2027, 2, 10)


def test_a_case_opens_one_deadline_per_need_until_it_is_ticked_and_none_once_closed() -> None:
    case = Case(ref="SE-2027-0001", process="pflege", process_version=2, stage="arrival", employer="e",
                region="SE", family=(child(1, 2024, dt.date(2027, 8, 31)),))
    found = {o.rule.id: o.due for o in openings(PFLEGE, case, ADDED) if family.is_family_item(o.rule.id)}
    assert found == {"family_child1_kita_place": dt.date(2027, 5, 31),
                     "family_child1_reunification_visa": dt.date(2027, 5, 31)}
    visa = rule(PFLEGE, "family_child1_reunification_visa")
    assert visa is not None and visa.role == "foreigners_office" and visa.levels == 3
    assert visa.role_of(3) == "coordinator"
    kita = rule(PFLEGE, "family_child1_kita_place")
    assert kita is not None and [kita.role_of(1), kita.role_of(2)] == ["childcare", "coordinator"]
    case.done.add("family_child1_kita_place")
    assert "family_child1_kita_place" not in {o.rule.id for o in openings(PFLEGE, case, ADDED)}
    case.stage = "withdrawn"
    assert openings(PFLEGE, case, ADDED) == []


# -- checked at load --------------------------------------------------------------------------------


def pflege_with(change: Any) -> str:
    data = yaml.safe_load((PACKAGED_PROCESS_DIR / "pflege.yaml").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    change(data)
    return yaml.safe_dump(data, allow_unicode=True)


def set_need(key: str, value: Any, need: str = "kita_place") -> Any:
    return lambda data: data["family_needs"][need].__setitem__(key, value)


@pytest.mark.parametrize(("change", "where", "says"), [
    (set_need("owner", "youth_office"), "family_needs.kita_place.owner", "unknown role 'youth_office'"),
    (set_need("due", "3 months before arrival_date"), "family_needs.kita_place.due",
     "relative to the member's arrival"),
    (set_need("due", "soon"), "family_needs.kita_place.due", "not a due date"),
    (set_need("applies_to", ["spouse"]), "family_needs.kita_place.age", "an age window is for children"),
    (set_need("applies_to", ["cousin"]), "family_needs.kita_place.applies_to", ""),
    (set_need("age", {"from": 6, "to": 1}), "family_needs.kita_place.age", "'to' (1) is below 'from' (6)"),
    (set_need("lead_setting", "kita_months"), "family_needs.kita_place.lead_setting", "unknown setting"),
    (set_need("basis", " "), "family_needs.kita_place.basis", "legal basis"),
    (set_need("ladder", [{"after": "0 days", "to": "mayor"}]), "family_needs.kita_place.ladder.0.to",
     "unknown role 'mayor'"),
    (set_need("colour", "blue"), "family_needs.kita_place.colour", "Extra inputs"),
    (lambda d: d["family_needs"].__setitem__("x" * 50, d["family_needs"]["kita_place"]),
     "family_needs." + "x" * 50, "at most 49 characters"),
    (lambda d: d["stages"]["visa"]["checklist"].append(
        {"id": "family_spouse_visa", "title": "T", "owner": "employer"}), "stages",
     "looks like a family member's need"),
])
def test_a_bad_family_needs_section_names_the_file_and_the_key(change: Any, where: str, says: str) -> None:
    with pytest.raises(DefinitionError) as refused:
        load_text(pflege_with(change), "alliance/pflege.yaml")
    message = str(refused.value)
    assert "alliance/pflege.yaml" in message and where in message and says in message


def test_a_definition_without_family_needs_loads_and_knows_no_family_item(tmp_path: Path) -> None:
    text = pflege_with(lambda d: d.pop("family_needs"))
    process = load_text(text, "own.yaml")
    assert process.family_needs == {} and process.find_item("family_child1_kita_place") is None
    assert rule(process, "family_child1_kita_place") is None


def test_a_migration_keeps_a_done_need_the_new_version_declares_and_names_one_it_does_not() -> None:
    from lotse.states.migration import Mapping, moved, plan

    case = Case(ref="SE-2027-0001", process="pflege", process_version=2, stage="arrival", employer="e",
                region="SE", done={"family_child1_kita_place"},
                family=(child(1, 2024, dt.date(2027, 8, 31)),))
    same = load_text(pflege_with(lambda d: d.__setitem__("version", 3)), "pflege-3.yaml")
    without = load_text(pflege_with(lambda d: (d.__setitem__("version", 3), d.pop("family_needs"))), "p.yaml")

    kept = plan(case, PFLEGE, same, Mapping())
    lost = plan(case, PFLEGE, without, Mapping())

    assert kept.problems == [] and kept.items_kept == {"family_child1_kita_place": "family_child1_kita_place"}
    assert moved(case, kept, same).family == case.family
    assert lost.problems == ["done item 'family_child1_kita_place' has no target in pflege v3; map it under "
                             "items: or name it under drop: items:"]
