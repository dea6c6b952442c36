"""The machine on both shipped definitions: every event, every refusal, in memory (no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from lotse.config.settings import PACKAGED_PROCESS_DIR
from lotse.states import machine
from lotse.states.actor import Actor
from lotse.states.case import Case
from lotse.states.errors import EventNotAllowed, Refused, RequirementsMissing, RoleMissing
from lotse.states.process import Catalog, Process, Transition
from tests.requirements import meeting_facts, requirement_count

CATALOG = Catalog.load([PACKAGED_PROCESS_DIR])
PFLEGE = CATALOG.get("pflege")
CHANCEN = CATALOG.get("chancen")
PROCESSES = [PFLEGE, CHANCEN]
COORDINATOR = Actor("koord", "Koordination", frozenset({"coordinator"}))


def actor_with(*roles: str) -> Actor:
    return Actor("-".join(roles) or "nobody", "Someone", frozenset(roles))


def new_case(process: Process, stage: str | None = None, **facts: object) -> Case:
    return Case(
        ref="SE-2026-0001", process=process.name, process_version=process.version,
        stage=stage or process.initial, employer="klinik", region="SE-Nord", facts=dict(facts),
    )


def ready_case(process: Process, transition: Transition, stage: str) -> Case:
    """A case in `stage` that meets every requirement of `transition`."""
    case = new_case(process, stage, **meeting_facts(process, transition))
    case.done.update(transition.requires.items)
    return case


def every_transition() -> list[tuple[Process, Transition, str]]:
    return [
        pytest.param(p, t, source, id=f"{p.name}:{t.event}:{source}")
        for p in PROCESSES for t in p.transitions for source in p.sources(t)
    ]


def snapshot(case: Case) -> dict[str, object]:
    return dataclasses.asdict(case)


@pytest.mark.parametrize(("process", "transition", "source"), every_transition())
def test_every_event_moves_a_ready_case_when_fired_by_one_of_its_roles(
    process: Process, transition: Transition, source: str
) -> None:
    for role in transition.roles:
        case = ready_case(process, transition, source)
        event = machine.fire(case, process, transition.event, actor_with(role), note="ok")
        assert case.stage == transition.to
        assert (event.from_stage, event.to_stage, event.event) == (source, transition.to, transition.event)
        assert (event.actor, event.note, event.process) == (role, "ok", process.name)


@pytest.mark.parametrize(("process", "transition", "source"), every_transition())
def test_the_coordinator_may_fire_every_event(process: Process, transition: Transition, source: str) -> None:
    case = ready_case(process, transition, source)
    machine.fire(case, process, transition.event, COORDINATOR)
    assert case.stage == transition.to


@pytest.mark.parametrize(("process", "transition", "source"), every_transition())
def test_missing_requirements_are_listed_completely_and_the_case_stays(
    process: Process, transition: Transition, source: str
) -> None:
    case = new_case(process, source)
    before = snapshot(case)
    if requirement_count(process, transition) == 0:
        pytest.skip("this transition has no requirements")
    with pytest.raises(RequirementsMissing) as refused:
        machine.fire(case, process, transition.event, COORDINATOR)
    missing = refused.value.missing
    assert len(missing) == requirement_count(process, transition)
    for item in transition.requires.items:
        assert any(f"'{item}'" in gap for gap in missing)
        assert f"'{item}'" in str(refused.value)
    for condition in process.conditions(transition):
        assert any(f"'{condition}'" in gap for gap in missing)
    assert snapshot(case) == before


@pytest.mark.parametrize(("process", "transition", "source"), every_transition())
def test_one_missing_requirement_is_named_alone(
    process: Process, transition: Transition, source: str
) -> None:
    for item in transition.requires.items:
        case = ready_case(process, transition, source)
        case.done.discard(item)
        with pytest.raises(RequirementsMissing) as refused:
            machine.fire(case, process, transition.event, COORDINATOR)
        assert len(refused.value.missing) == 1 and f"'{item}'" in refused.value.missing[0]
        assert case.stage == source
    for condition in process.conditions(transition):
        case = ready_case(process, transition, source)
        del case.facts[condition.fact]
        with pytest.raises(RequirementsMissing) as refused:
            machine.fire(case, process, transition.event, COORDINATOR)
        assert refused.value.missing == [f"fact '{condition}' (not set)"]


@pytest.mark.parametrize(("process", "transition", "source"), every_transition())
def test_an_actor_without_one_of_the_events_roles_is_refused(
    process: Process, transition: Transition, source: str
) -> None:
    outsiders = [r for r in process.roles if r not in transition.roles and r != "coordinator"]
    assert outsiders, "every shipped event leaves some role out"
    for role in outsiders:
        case = ready_case(process, transition, source)
        before = snapshot(case)
        with pytest.raises(RoleMissing) as refused:
            machine.fire(case, process, transition.event, actor_with(role))
        assert refused.value.roles == transition.roles
        assert f"'{role}'" in str(refused.value) and transition.event in str(refused.value)
        assert snapshot(case) == before


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_final_stages_accept_no_event_and_no_change(process: Process) -> None:
    for stage in process.final:
        for event in process.events:
            case = new_case(process, stage, withdraw_reason="x")
            with pytest.raises(EventNotAllowed) as refused:
                machine.fire(case, process, event, COORDINATOR)
            assert refused.value.allowed == []
            assert "final" in str(refused.value)
            assert case.stage == stage
        case = new_case(process, stage)
        with pytest.raises(Refused, match="closed"):
            case.set_facts(process, COORDINATOR, {"withdraw_reason": "again"})
        with pytest.raises(Refused, match="closed"):
            case.tick(process, COORDINATOR, [process.items()[0][1].id])
        assert machine.options(case, process) == []


@pytest.mark.parametrize(
    ("process", "stage"),
    [pytest.param(p, s, id=f"{p.name}:{s}") for p in PROCESSES for s in p.stages if not p.is_final(s)],
)
def test_withdraw_leaves_any_open_stage_but_needs_a_reason(process: Process, stage: str) -> None:
    # pflege v2 asks for the category (issue 13), the free note optional; chancen still the note
    needed, value = ("withdraw_category", "homesickness") if "withdraw_category" in process.facts \
        else ("withdraw_reason", "went back home")
    case = new_case(process, stage, withdraw_reason="went back home") if needed != "withdraw_reason" \
        else new_case(process, stage)
    with pytest.raises(RequirementsMissing) as refused:
        machine.fire(case, process, "withdraw", COORDINATOR)
    assert refused.value.missing == [f"fact '{needed}' (not set)"]
    case.facts[needed] = value
    event = machine.fire(case, process, "withdraw", actor_with("employer"))
    assert (event.from_stage, case.stage) == (stage, "withdrawn")


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_an_unknown_event_is_refused_with_the_events_allowed_now(process: Process) -> None:
    case = new_case(process)
    with pytest.raises(EventNotAllowed) as refused:
        machine.fire(case, process, "fly_to_the_moon", COORDINATOR)
    allowed = [t.event for t in process.transitions_from(process.initial)]
    assert refused.value.allowed == allowed
    assert all(event in str(refused.value) for event in allowed)


def test_an_event_of_another_stage_is_not_allowed() -> None:
    case = new_case(PFLEGE, "recruited")
    with pytest.raises(EventNotAllowed, match="allowed now: apply_visa, withdraw"):
        machine.fire(case, PFLEGE, "settle", COORDINATOR)
    assert case.stage == "recruited"


@pytest.mark.parametrize(
    ("level", "may_start_recognition", "may_settle"),
    [("A1", False, False), ("A2", False, False), ("B1", True, False), ("B2", True, True),
     ("C1", True, True), ("C2", True, True)],
)
def test_language_levels_are_compared_in_cefr_order(
    level: str, may_start_recognition: bool, may_settle: bool
) -> None:
    language = new_case(PFLEGE, "language_course", language_level=level)
    recognition = new_case(PFLEGE, "recognition", language_level=level)
    recognition.done.add("recognition_granted")
    start = PFLEGE.transition("start_recognition", "language_course")
    settle = PFLEGE.transition("settle", "recognition")
    assert start is not None and settle is not None
    assert (not language.missing(PFLEGE, start)) is may_start_recognition
    assert (not recognition.missing(PFLEGE, settle)) is may_settle
    if not may_settle:
        assert recognition.missing(PFLEGE, settle) == [f"fact 'language_level >= B2' (now {level})"]


def test_chancen_needs_a_qualification_from_abroad_for_recognition_but_not_for_training() -> None:
    case = new_case(CHANCEN, "language_course", language_level="B1", qualification_abroad=False)
    case.done.add("training_contract")
    with pytest.raises(RequirementsMissing, match="qualification_abroad == true"):
        machine.fire(case, CHANCEN, "start_recognition", COORDINATOR)
    machine.fire(case, CHANCEN, "start_training", actor_with("employer"))
    assert case.stage == "training"


def test_chancen_has_no_visa_and_no_arrival_and_reaches_integrated_through_training() -> None:
    assert "visa" not in CHANCEN.stages and "arrival" not in CHANCEN.stages
    case = new_case(CHANCEN, residence_title="104c", residence_title_until=dt.date(2027, 6, 30),
                    language_level="B2")
    case.done.update({"counselling_done", "work_permit_checked", "training_contract"})
    for event in ["start_language_course", "start_training", "complete"]:
        machine.fire(case, CHANCEN, event, COORDINATOR)
    assert case.stage == "integrated"


def test_pflege_goes_all_the_way_from_recruited_to_integrated_by_the_roles_of_the_alliance() -> None:
    employer, housing = actor_with("employer"), actor_with("housing")
    case = new_case(PFLEGE, nationality="PHL")
    case.tick(PFLEGE, employer, ["employment_contract"])
    case.tick(PFLEGE, actor_with("agency"), ["recognition_documents"])
    machine.fire(case, PFLEGE, "apply_visa", employer)
    case.tick(PFLEGE, employer, ["visa_granted"])
    with pytest.raises(RequirementsMissing, match="housing_confirmed"):  # no housing, no arrival
        machine.fire(case, PFLEGE, "arrive", employer)
    case.tick(PFLEGE, housing, ["housing_confirmed"])
    case.set_facts(PFLEGE, employer, {"arrival_date": dt.date(2026, 5, 1),
                                      "visa_valid_until": dt.date(2026, 8, 1)})
    machine.fire(case, PFLEGE, "arrive", employer)
    case.tick(PFLEGE, employer, ["address_registered"])
    case.tick(PFLEGE, actor_with("foreigners_office"), ["residence_permit_applied"])
    machine.fire(case, PFLEGE, "start_language_course", actor_with("language_school"))
    case.set_facts(PFLEGE, actor_with("language_school"), {"language_level": "B1"})
    machine.fire(case, PFLEGE, "start_recognition", actor_with("recognition_office"))
    case.tick(PFLEGE, actor_with("recognition_office"), ["recognition_granted"])
    case.set_facts(PFLEGE, actor_with("language_school"), {"language_level": "B2"})
    machine.fire(case, PFLEGE, "settle", housing)
    case.tick(PFLEGE, housing, ["permanent_housing"])
    machine.fire(case, PFLEGE, "complete", actor_with("counsellor"))
    assert case.stage == "integrated"


def test_the_pflege_definition_has_the_stages_events_and_ids_the_alliance_scripts_against() -> None:
    assert list(PFLEGE.stages) == ["recruited", "visa", "arrival", "language_course", "recognition",
                                   "housed", "integrated", "withdrawn"]
    edges = {(t.event, tuple(t.source), t.to) for t in PFLEGE.transitions}
    assert {("apply_visa", ("recruited",), "visa"), ("arrive", ("visa",), "arrival"),
            ("start_language_course", ("arrival",), "language_course"),
            ("start_recognition", ("language_course",), "recognition"),
            ("settle", ("recognition",), "housed"), ("complete", ("housed",), "integrated"),
            ("withdraw", ("*",), "withdrawn")} <= edges
    items = {item.id for _, item in PFLEGE.items()}
    assert {"employment_contract", "recognition_documents", "visa_granted", "housing_confirmed",
            "address_registered", "recognition_granted", "permanent_housing"} <= items
    assert PFLEGE.item("housing_confirmed").owner == "housing"
    arrive = PFLEGE.transition("arrive", "visa")
    assert arrive is not None and "housing_confirmed" in arrive.requires.items
    kinds = {name: fact.type for name, fact in PFLEGE.facts.items()}
    assert {"nationality": "country", "arrival_date": "date", "visa_valid_until": "date",
            "language_level": "cefr", "withdraw_reason": "str"}.items() <= kinds.items()


def test_checklist_items_are_ticked_only_by_their_owner_or_the_coordinator() -> None:
    case = new_case(PFLEGE)
    with pytest.raises(RoleMissing, match="housing"):
        case.tick(PFLEGE, actor_with("employer"), ["housing_confirmed"])
    assert case.done == set()
    case.tick(PFLEGE, actor_with("housing"), ["housing_confirmed"])
    case.tick(PFLEGE, COORDINATOR, ["employment_contract"])
    assert case.done == {"housing_confirmed", "employment_contract"}
    with pytest.raises(RoleMissing):
        case.tick(PFLEGE, actor_with("agency"), ["housing_confirmed"], done=False)
    case.tick(PFLEGE, actor_with("housing"), ["housing_confirmed"], done=False)
    assert case.done == {"employment_contract"}


def test_a_refused_tick_of_several_items_ticks_none_of_them() -> None:
    case = new_case(PFLEGE)
    with pytest.raises(RoleMissing):
        case.tick(PFLEGE, actor_with("employer"), ["employment_contract", "housing_confirmed"])
    assert case.done == set()


def test_facts_are_set_only_by_the_roles_named_for_them_or_the_coordinator() -> None:
    case = new_case(PFLEGE)
    with pytest.raises(RoleMissing, match="language_school"):
        case.set_facts(PFLEGE, actor_with("employer"), {"language_level": "B2"})
    event = case.set_facts(PFLEGE, actor_with("language_school"), {"language_level": "B2"})
    assert event.values == {"language_level": "B2"} and event.stage == "recruited"
    case.set_facts(PFLEGE, COORDINATOR, {"residence_permit_valid_until": dt.date(2027, 1, 1)})
    assert event.action == "set"
    assert case.facts["residence_permit_valid_until"].isoformat() == "2027-01-01"


def test_options_list_every_event_of_the_stage_with_what_it_lacks() -> None:
    case = new_case(PFLEGE, "visa")
    case.done.add("visa_granted")
    options = {o.event: o for o in machine.options(case, PFLEGE)}
    assert set(options) == {"arrive", "withdraw"}
    assert options["arrive"].to == "arrival"
    assert list(options["arrive"].missing) == [
        "checklist item 'housing_confirmed' (owner housing)",
        "fact 'arrival_date' (not set)",
        "fact 'visa_valid_until' (not set)",
    ]


@pytest.mark.parametrize("name", ["missing", "tick", "set_facts", "meets", "stage", "trigger", "state"])
def test_an_event_may_be_called_like_a_method_of_the_case(name: str) -> None:
    data = PFLEGE.model_dump(by_alias=True, exclude={"source"})
    data["transitions"] = [
        {**t, "event": name} if t["event"] == "apply_visa" else t for t in data["transitions"]
    ]
    renamed = Process.model_validate(data)
    case = new_case(renamed, nationality="PHL")
    with pytest.raises(RequirementsMissing):
        machine.fire(case, renamed, name, COORDINATOR)
    case.done.update({"employment_contract", "recognition_documents"})
    event = machine.fire(case, renamed, name, COORDINATOR)
    assert (event.event, case.stage) == (name, "visa")
    assert case.missing(renamed, renamed.transitions[1]) and not case.meets(
        renamed, renamed.conditions(renamed.transitions[3])[0])
