"""Deadlines as declared: which a case has given its stage, facts and items, when they are due, and
which level of the ladder is due on a day. Pure: no database, no clock."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from lotse.config.settings import PACKAGED_PROCESS_DIR
from lotse.states.case import Case
from lotse.states.deadlines import Rule, openings, rule, rules, why_closed
from lotse.states.errors import DefinitionError
from lotse.states.process import Catalog, Process, load_file

D = dt.date


@pytest.fixture(scope="module")
def pflege() -> Process:
    return Catalog.load([PACKAGED_PROCESS_DIR]).get("pflege")


@pytest.fixture(scope="module")
def chancen() -> Process:
    return Catalog.load([PACKAGED_PROCESS_DIR]).get("chancen")


def case(stage: str, facts: dict[str, Any] | None = None, done: set[str] | None = None,
         process: str = "pflege") -> Case:
    return Case(ref="SE-2026-0001", process=process, process_version=1, stage=stage,
                employer="klinik-nord", region="SE-Nord", facts=facts or {}, done=done or set())


def due_dates(process: Process, c: Case, entered: dt.date) -> dict[str, dt.date]:
    return {o.rule.id: o.due for o in openings(process, c, entered)}


def the(process: Process, deadline: str) -> Rule:
    found = rule(process, deadline)
    assert found is not None
    return found


# -- which deadlines a case has ---------------------------------------------------------------------


def test_a_visa_stage_is_due_ten_weeks_after_the_case_entered_it(pflege: Process) -> None:
    dues = due_dates(pflege, case("visa"), D(2026, 3, 2))
    assert dues["visa_limit"] == D(2026, 5, 11)
    assert the(pflege, "visa_limit").role == "employer"
    assert "Botschaften" in the(pflege, "visa_limit").basis


def test_address_registration_is_due_14_days_after_the_arrival_date(pflege: Process) -> None:
    c = case("arrival", {"arrival_date": D(2026, 4, 1), "visa_valid_until": D(2026, 9, 30)})
    dues = due_dates(pflege, c, D(2026, 4, 3))
    assert dues["address_registration"] == D(2026, 4, 15)
    assert "§ 17" in the(pflege, "address_registration").basis


def test_a_residence_permit_is_due_30_days_before_the_visa_ends(pflege: Process) -> None:
    c = case("arrival", {"arrival_date": D(2026, 4, 1), "visa_valid_until": D(2026, 6, 30)})
    assert due_dates(pflege, c, D(2026, 4, 1))["residence_permit_application"] == D(2026, 5, 31)


def test_a_deadline_waits_for_its_anchor_fact(pflege: Process) -> None:
    dues = due_dates(pflege, case("arrival"), D(2026, 4, 1))
    assert "address_registration" not in dues and "arrival_limit" in dues


def test_a_ticked_item_closes_its_deadline(pflege: Process) -> None:
    c = case("arrival", {"arrival_date": D(2026, 4, 1)}, done={"address_registered"})
    assert "address_registration" not in due_dates(pflege, c, D(2026, 4, 1))
    assert why_closed(pflege, c, the(pflege, "address_registration"), set()) == "done"


def test_an_until_fact_closes_the_recognition_decision(pflege: Process) -> None:
    facts: dict[str, Any] = {"documents_complete_date": D(2026, 6, 1)}
    dues = due_dates(pflege, case("recognition", facts), D(2026, 5, 1))
    assert dues["recognition_decision"] == D(2026, 10, 1)
    facts["recognition_path"] = "knowledge_exam"
    assert "recognition_decision" not in due_dates(pflege, case("recognition", facts), D(2026, 5, 1))


def test_the_accelerated_procedure_halves_the_recognition_deadline(pflege: Process) -> None:
    facts = {"documents_complete_date": D(2026, 6, 1), "accelerated_procedure": True}
    dues = due_dates(pflege, case("recognition", facts), D(2026, 5, 1))
    assert dues["recognition_decision_accelerated"] == D(2026, 8, 1)
    assert "recognition_decision" not in dues


def test_leaving_the_stage_closes_its_deadlines(pflege: Process) -> None:
    c = case("language_course", {"arrival_date": D(2026, 4, 1)})
    dues = due_dates(pflege, c, D(2026, 5, 1))
    assert "address_registration" not in dues and "arrival_limit" not in dues
    assert why_closed(pflege, c, the(pflege, "address_registration"), set(dues)) == "left"


@pytest.mark.parametrize("stage", ["withdrawn", "integrated"])
def test_a_closed_case_has_no_deadlines(pflege: Process, stage: str) -> None:
    c = case(stage, {"arrival_date": D(2026, 4, 1), "residence_permit_valid_until": D(2027, 1, 1)})
    assert openings(pflege, c, D(2026, 4, 1)) == []
    assert why_closed(pflege, c, the(pflege, "residence_permit_ending"), set()) == "closed"


def test_a_changed_fact_moves_the_due_date(pflege: Process) -> None:
    c = case("arrival", {"visa_valid_until": D(2026, 6, 30)})
    still = set(due_dates(pflege, c, D(2026, 4, 1)))
    assert why_closed(pflege, c, the(pflege, "residence_permit_application"), still) == "changed"


def test_a_title_that_ends_is_reminded_90_30_and_7_days_before(chancen: Process) -> None:
    c = case("language_course", {"residence_title_until": D(2027, 6, 30)}, process="chancen")
    ending = the(chancen, "residence_title_ending")
    due = due_dates(chancen, c, D(2026, 1, 1))["residence_title_ending"]
    assert due == D(2027, 6, 30)
    assert [ending.level_date(due, n) for n in (1, 2, 3, 4)] == [
        D(2027, 4, 1), D(2027, 5, 31), D(2027, 6, 23), None]
    assert [ending.role_of(n) for n in (1, 2, 3)] == ["counsellor", "counsellor", "coordinator"]
    assert "§ 104c" in ending.basis


# -- the ladder ------------------------------------------------------------------------------------


def test_the_ladder_climbs_from_the_role_to_the_coordinator_after_the_grace_period(pflege: Process) -> None:
    visa = the(pflege, "visa_limit")
    due = D(2026, 5, 11)
    assert [visa.level_on(due, due + dt.timedelta(days=n)) for n in (-1, 0, 13, 14, 400)] == [0, 1, 1, 2, 2]
    assert visa.role_of(1) == "employer" and visa.role_of(2) == "coordinator"


def test_address_registration_escalates_after_a_week(pflege: Process) -> None:
    address = the(pflege, "address_registration")
    assert address.level_date(D(2026, 4, 15), 2) == D(2026, 4, 22)


def test_every_shipped_deadline_names_its_role_basis_and_a_climbing_ladder(
    pflege: Process, chancen: Process,
) -> None:
    for process in (pflege, chancen):
        for r in rules(process):
            assert r.basis.strip() and r.role in process.roles, r.id
            dates = [step.on(D(2026, 1, 31)) for step in r.ladder]
            assert dates == sorted(set(dates)), r.id


# -- definitions with mistakes --------------------------------------------------------------------

MINI: dict[str, Any] = {
    "name": "mini", "version": 1, "title": "Mini", "initial": "start", "final": ["done"],
    "roles": ["coordinator", "employer"],
    "facts": {"arrival_date": {"type": "date"}, "level": {"type": "cefr"}},
    "stages": {
        "start": {"title": "Start", "responsible": "employer", "limit": "2 weeks",
                  "checklist": [{"id": "flat", "title": "Flat", "owner": "employer"}]},
        "done": {"title": "Done"},
    },
    "transitions": [{"event": "finish", "from": "start", "to": "done"}],
    "deadlines": {
        "registration": {"title": "Register", "item": "flat", "due": "14 days after arrival_date",
                         "role": "employer", "basis": "§ 17 BMG"},
    },
}


def load_changed(tmp_path: Path, change: Any) -> Process:
    data = copy.deepcopy(MINI)
    change(data)
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return load_file(path)


def mistake(tmp_path: Path, change: Any) -> DefinitionError:
    with pytest.raises(DefinitionError) as failure:
        load_changed(tmp_path, change)
    assert failure.value.file == str(tmp_path / "mini.yaml")
    return failure.value


def test_the_mini_definition_loads_with_its_deadline(tmp_path: Path) -> None:
    process = load_changed(tmp_path, lambda d: None)
    assert [r.id for r in rules(process)] == ["start_limit", "registration"]


def deadline(data: dict[str, Any]) -> dict[str, Any]:
    return data["deadlines"]["registration"]


@pytest.mark.parametrize(("change", "path", "problem"), [
    (lambda d: deadline(d).update(role="mayor"), "deadlines.registration.role", "unknown role 'mayor'"),
    (lambda d: deadline(d).update(item="sofa"), "deadlines.registration.item",
     "unknown checklist item 'sofa'"),
    (lambda d: deadline(d).update(due="14 days after birthday"), "deadlines.registration.due",
     "unknown fact 'birthday'"),
    (lambda d: deadline(d).update(due="14 days after level"), "deadlines.registration.due",
     "fact 'level' is a cefr, not a date"),
    (lambda d: deadline(d).update(due="soon"), "deadlines.registration.due", "14 days after arrival_date"),
    (lambda d: deadline(d).update(stages=["middle"]), "deadlines.registration.stages.0",
     "unknown stage 'middle'"),
    (lambda d: deadline(d).update(stages=["done"]), "deadlines.registration.stages.0", "final"),
    (lambda d: deadline(d).update(when=["shoe_size > 40"]), "deadlines.registration.when.0",
     "unknown fact 'shoe_size'"),
    (lambda d: deadline(d).update(basis=" "), "deadlines.registration.basis", "legal basis"),
    (lambda d: deadline(d).pop("basis"), "deadlines.registration.basis", "Field required"),
    (lambda d: deadline(d).update(ladder=[{"after": "7 days"}, {"after": "2 days", "to": "coordinator"}]),
     "deadlines.registration.ladder.1", "steps must climb"),
    (lambda d: deadline(d).update(ladder=[{"after": "0 days", "to": "mayor"}]),
     "deadlines.registration.ladder.0.to", "unknown role 'mayor'"),
    (lambda d: deadline(d).update(ladder=[{"after": "1 day", "before": "1 day"}]),
     "deadlines.registration.ladder.0", "not both"),
    (lambda d: d["deadlines"].update(start_limit=deadline(d)), "deadlines.start_limit", "stage's limit"),
    (lambda d: d["stages"]["done"].update(escalation=[{"after": "1 day"}]), "stages.done.escalation",
     "needs a 'limit'"),
    (lambda d: d.update(escalation=[]), "escalation", "at least one step"),
])
def test_a_mistake_in_a_deadline_names_file_key_path_and_problem(
    tmp_path: Path, change: Any, path: str, problem: str,
) -> None:
    error = mistake(tmp_path, change)
    assert error.path == path
    assert problem in error.problem
