"""The deployments `lotse up` registers: one per flow, schedules from the settings (changed or
switched off), and the events and actors as choices of the `advance-case` run form."""

from __future__ import annotations

import re

import pytest

from lotse.flows import deployments
from lotse.states.errors import BadInput
from lotse.tasks.context import Context


def crons(built: deployments.Deployments) -> dict[str, list[tuple[str, str]]]:
    return {d.name: [(s.schedule.cron, s.schedule.timezone) for s in d.schedules] for d in built.built}


def test_each_flow_gets_a_deployment_with_the_default_schedules_in_berlin_time(alliance: Context) -> None:
    built = deployments.build(alliance)

    planned = {p.name for p in deployments.PLANNED}
    assert {d.name for d in built.built} | set(built.missing) == planned
    assert crons(built)["pipeline-report"] == [("0 7 * * *", "Europe/Berlin")]
    assert crons(built)["advance-case"] == crons(built)["enrol-cohort"] == []
    assert all(d.entrypoint and d.entrypoint.startswith("lotse.flows.") for d in built.built)


def test_a_schedule_can_be_changed_or_switched_off_by_setting(alliance: Context) -> None:
    alliance.settings = alliance.settings.model_copy(update={
        "schedule_report": "15 8 * * 1-5", "schedule_deliver": "", "schedule_check": "off",
        "timezone": "Europe/Vienna",
    })

    built = deployments.build(alliance)

    assert crons(built)["pipeline-report"] == [("15 8 * * 1-5", "Europe/Vienna")]
    for name in ("deliver-notifications", "check-deadlines"):
        if name not in built.missing:
            assert crons(built)[name] == [] and built.schedules[name] is None


def test_a_malformed_schedule_is_bad_input_naming_its_setting(alliance: Context) -> None:
    alliance.settings = alliance.settings.model_copy(update={"schedule_report": "daily at seven"})

    with pytest.raises(BadInput, match="LOTSE_SCHEDULE_REPORT: 'daily at seven' is not a cron schedule"):
        deployments.build(alliance)


def test_the_advance_case_form_offers_every_event_and_actor_as_a_choice(alliance: Context) -> None:
    [advance] = [d for d in deployments.build(alliance).built if d.name == "advance-case"]

    schema = advance._parameter_openapi_schema.properties
    assert {"apply_visa", "arrive", "settle", "withdraw"} <= set(schema["event"]["enum"])
    assert schema["actor"]["enum"] == sorted(schema["actor"]["enum"]) and "koord" in schema["actor"]["enum"]
    assert "enum" not in schema["case_ref"]


def test_the_advance_case_form_admits_only_non_personal_facts_and_a_short_note(alliance: Context) -> None:
    [advance] = [d for d in deployments.build(alliance).built if d.name == "advance-case"]

    schema = advance._parameter_openapi_schema.properties
    facts = schema["facts"]["anyOf"][0]
    assert advance.enforce_parameter_schema
    assert facts["additionalProperties"] is False and "arrival_date" in facts["properties"]
    assert not {"nationality", "withdraw_reason"} & set(facts["propertyNames"]["enum"])
    assert schema["note"]["anyOf"][0]["maxLength"] == deployments.NOTE_MAX
    assert "Never a person's name" in schema["note"]["description"]


def test_every_advance_case_parameter_is_described_and_date_facts_are_dates(alliance: Context) -> None:
    [advance] = [d for d in deployments.build(alliance).built if d.name == "advance-case"]

    schema = advance._parameter_openapi_schema.properties
    assert all(spec.get("description") for spec in schema.values()), schema
    explained = " ".join(schema["expected_version"]["description"].split())
    assert "as shown in the overview; if the case changed since, nothing is written" in explained
    facts = schema["facts"]["anyOf"][0]["properties"]
    assert facts["arrival_date"] == {
        "type": "string", "format": "date", "pattern": deployments.DATE_PATTERN,
        "title": "Einreisedatum (arrival_date)"}
    assert all(re.fullmatch(deployments.DATE_PATTERN, day) for day in ("2027-03-01", "1.3.2027"))
    assert not re.search(deployments.DATE_PATTERN, "Quraishi")
    assert facts["language_level"]["enum"] == ["A1", "A2", "B1", "B2", "C1", "C2"]
    assert "format" not in facts["language_level"]


def test_work_case_is_deployed_with_one_parameter_that_admits_only_a_case_ref(alliance: Context) -> None:
    [work] = [d for d in deployments.build(alliance).built if d.name == "work-case"]

    schema = work._parameter_openapi_schema
    assert list(schema.properties) == ["case_ref"] and schema.required == ["case_ref"]
    assert re.fullmatch(schema.properties["case_ref"]["pattern"], "SE-2026-0042")
    assert not re.fullmatch(schema.properties["case_ref"]["pattern"], "Maricel Dalisay")
    assert work.enforce_parameter_schema and work.description and "form" in work.description
