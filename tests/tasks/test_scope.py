"""Who may touch which case, on every entry point that changes cases: casework (the command line's
and the desk's), the flow's task and the work-case form, and the cohort import. A refusal names
organisations and regions only, and changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from lotse.config.settings import Settings
from lotse.states import schema, store
from lotse.states.errors import NotYours, OpeningRefused, RoleMissing
from lotse.states.records import ActorRecord
from lotse.tasks import casework, directory, worksheet
from lotse.tasks.cohort_import import enrol
from lotse.tasks.context import Context
from lotse.tasks.prefect_tasks import apply_event
from lotse.tasks.worksheet import Answer
from tests.conftest import Clock
from tests.postgres import fresh_database

GIVEN, FAMILY = "Maricel", "Dalisay"
SOUTH = [
    ("klinik-sued", "Klinik Süd", ["employer"], "SE-Sued"),
    ("wohnbau-sued", "Wohnbau Süd", ["housing"], "SE-Sued"),
    ("vermittlung-sued", "Vermittlung Süd", ["agency"], "SE-Sued"),
    ("klinik-wohnen", "Klinik mit Wohnheim", ["employer", "housing"], "SE-Nord"),
]


def add_south(ctx: Context) -> Context:
    """The test alliance (SE-Nord) and organisations of SE-Sued beside it."""
    for actor_id, name, roles, region in SOUTH:
        directory.add_actor(ctx, actor_id, name=name, roles=roles, region=region)
    return ctx


@pytest.fixture
def regions(alliance: Context) -> Context:
    return add_south(alliance)


def north_case(ctx: Context, by: str | None = None) -> str:
    """A pflege case of Klinik Nord, region SE-Nord."""
    return casework.open_case(ctx, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                              employer="klinik-nord", by=by)


def state(ctx: Context, ref: str) -> tuple[Any, ...]:
    """Everything a change could touch: the history, the ticks, the facts, stage and version."""
    with ctx.db.reading() as session:
        record = store.find_case(session, ref)
        process = ctx.catalog.get(record.process, record.process_version)
        case = store.load_case(session, record, process)
        history = [(h.action, h.actor_id, h.via) for h in store.history(session, record.id or 0)]
    return history, sorted(case.done), dict(case.facts), case.stage, case.version


CHANGES: dict[str, Callable[[Context, str, str], Any]] = {
    "tick": lambda ctx, ref, by: casework.tick(ctx, ref, ["employment_contract"], by=by),
    "set": lambda ctx, ref, by: casework.set_facts(ctx, ref, {"arrival_date": "2026-05-01"}, by=by),
    "advance": lambda ctx, ref, by: casework.advance(ctx, ref, "withdraw", by=by,
                                                     facts={"withdraw_category": "moved_away",
                                                            "withdraw_reason": "went home"}),
    "work": lambda ctx, ref, by: casework.work(ctx, ref, by=by, items=["employment_contract"],
                                               event="apply_visa", via="flow"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_an_employer_may_not_change_another_employers_case(regions: Context, change: str) -> None:
    ref = north_case(regions)
    before = state(regions, ref)

    with pytest.raises(NotYours) as refused:
        CHANGES[change](regions, ref, "klinik-sued")

    assert str(refused.value) == (f"actor 'klinik-sued' may not act on {ref}: the case is of employer "
                                  "klinik-nord, and an employer acts on its own cases only")
    assert state(regions, ref) == before


def test_an_employer_of_the_same_region_is_refused_too(regions: Context) -> None:
    directory.add_actor(regions, "pflegeheim-nord", name="Pflegeheim Nord", roles=["employer"],
                        region="SE-Nord")
    ref = north_case(regions)
    before = state(regions, ref)
    with pytest.raises(NotYours):
        casework.tick(regions, ref, ["employment_contract"], by="pflegeheim-nord")
    assert state(regions, ref) == before


def test_a_housing_company_of_another_region_may_not_tick_on_a_case_of_this_region(regions: Context) -> None:
    ref = north_case(regions)
    before = state(regions, ref)

    with pytest.raises(NotYours) as refused:
        casework.tick(regions, ref, ["housing_confirmed"], by="wohnbau-sued")

    assert str(refused.value) == (f"actor 'wohnbau-sued' may not act on {ref}: the case is of region SE-Nord "
                                  "and employer klinik-nord, and wohnbau-sued is not named on it")
    assert GIVEN not in str(refused.value) and FAMILY not in str(refused.value)
    assert state(regions, ref) == before
    casework.tick(regions, ref, ["housing_confirmed"], by="wohnbau-nord")  # the region's own one may
    assert "housing_confirmed" in state(regions, ref)[1]


def test_an_agency_acts_on_a_case_of_another_region_it_opened_and_not_on_one_it_did_not(
    regions: Context,
) -> None:
    placed = north_case(regions, by="vermittlung")
    other = north_case(regions, by="klinik-nord")
    with regions.db.writing() as session:  # the agency now serves SE-Sued; its placements stay its own
        session.execute(update(ActorRecord).where(ActorRecord.id == "vermittlung").values(region="SE-Sued"))

    casework.tick(regions, placed, ["recognition_documents"], by="vermittlung")
    assert "recognition_documents" in state(regions, placed)[1]

    before = state(regions, other)
    with pytest.raises(NotYours) as refused:
        casework.tick(regions, other, ["recognition_documents"], by="vermittlung")
    assert str(refused.value) == (f"actor 'vermittlung' may not act on {other}: the case is of region "
                                  "SE-Nord and employer klinik-nord, and vermittlung is not named on it")
    assert state(regions, other) == before


def test_the_coordinator_acts_on_every_case_of_every_region_and_employer(regions: Context) -> None:
    south = casework.open_case(regions, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                               employer="klinik-sued")
    north = north_case(regions)
    for ref in (south, north):
        casework.tick(regions, ref, ["employment_contract", "recognition_documents"], by="koord")
        assert casework.advance(regions, ref, "apply_visa", by="koord")["to"] == "visa"


def test_the_region_serves_its_cases_of_any_employer_and_an_organisation_without_region_all(
    regions: Context,
) -> None:
    south = casework.open_case(regions, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                               employer="klinik-sued")
    casework.tick(regions, south, ["housing_confirmed"], by="wohnbau-sued")
    casework.tick(regions, south, ["recognition_documents"], by="vermittlung-sued")
    with pytest.raises(NotYours):
        casework.tick(regions, south, ["housing_confirmed"], by="wohnbau-nord")
    casework.tick(regions, south, ["recognition_granted"], by="anerkennung")  # no region: every case
    done = set(state(regions, south)[1])
    assert {"housing_confirmed", "recognition_documents", "recognition_granted"} <= done


def test_an_employer_that_also_lets_flats_acts_on_another_employers_case_as_a_housing_company_only(
    regions: Context,
) -> None:
    ref = north_case(regions)
    casework.tick(regions, ref, ["housing_confirmed"], by="klinik-wohnen")
    before = state(regions, ref)
    with pytest.raises(RoleMissing, match="needs one of the roles employer"):
        casework.tick(regions, ref, ["employment_contract"], by="klinik-wohnen")
    assert state(regions, ref) == before


# -- opening ---------------------------------------------------------------------------------------


def test_an_employer_opens_cases_for_itself_only(regions: Context) -> None:
    with pytest.raises(OpeningRefused) as refused:
        casework.open_case(regions, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                           employer="klinik-nord", by="klinik-sued")
    assert refused.value.column == "employer"
    assert str(refused.value) == ("actor 'klinik-sued' may open cases only for itself; an agency or the "
                                  "coordinator opens them for another employer (not for klinik-nord)")
    assert casework.open_case(regions, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                              employer="klinik-sued", by="klinik-sued").startswith("SE-")
    assert north_cases(regions) == []


def north_cases(ctx: Context) -> list[str]:
    from lotse.tasks import case_file

    return [c["ref"] for c in case_file.list_cases(ctx) if c["employer"] == "klinik-nord"]


def test_an_agency_opens_cases_of_its_region_for_any_employer(regions: Context) -> None:
    with pytest.raises(OpeningRefused) as refused:  # klinik-sued's cases are of SE-Sued
        casework.open_case(regions, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                           employer="klinik-sued", by="vermittlung")
    assert refused.value.column == "region"
    assert str(refused.value).startswith("agency 'vermittlung' serves region SE-Nord: it opens cases of that "
                                         "region only")
    ref = casework.open_case(regions, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                             employer="klinik-sued", region="SE-Nord", by="vermittlung")
    assert state(regions, ref)[0][0] == ("open", "vermittlung", "cli")
    directory.add_actor(regions, "vermittlung-land", name="Vermittlung Land", roles=["agency"])
    casework.open_case(regions, given_name=GIVEN, family_name=FAMILY, nationality="PHL",
                       employer="klinik-sued", by="vermittlung-land")


# -- the flow path: the advance-case task and the work-case form ------------------------------------


@pytest.fixture
def flow_env(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefect tasks read their settings from the environment, as a served deployment does."""
    monkeypatch.setenv("LOTSE_HOME", str(home))
    monkeypatch.delenv("LOTSE_DATABASE_URL", raising=False)


def test_the_advance_case_task_refuses_an_actor_of_another_region_and_changes_nothing(
    regions: Context, flow_env: None,
) -> None:
    ref = north_case(regions)
    casework.tick(regions, ref, ["employment_contract", "recognition_documents"], by="koord")
    before = state(regions, ref)

    refused = apply_event.fn(ref, "apply_visa", "vermittlung-sued", None, None, request_id="flow-run:1")

    assert isinstance(refused, NotYours)
    assert state(regions, ref) == before
    done = apply_event.fn(ref, "apply_visa", "vermittlung", None, None, request_id="flow-run:2")
    assert isinstance(done, dict) and done["to"] == "visa"
    assert state(regions, ref)[0][-1] == ("apply_visa", "vermittlung", "flow")


def test_the_work_case_form_offers_only_organisations_the_case_belongs_to(regions: Context) -> None:
    placed = north_case(regions, by="vermittlung")
    with regions.db.writing() as session:
        session.execute(update(ActorRecord).where(ActorRecord.id == "vermittlung").values(region="SE-Sued"))

    offered = {o.id for o in worksheet.worksheet(regions, placed).actors}

    assert {"koord", "klinik-nord", "vermittlung"} <= offered  # vermittlung: named on it, as its opener
    assert not {"klinik-sued", "vermittlung-sued"} & offered  # another employer; an agency of SE-Sued
    # an employer, also a housing company of the region: nothing of a housing company's to do here
    assert "klinik-wohnen" not in offered


def test_a_form_answered_on_behalf_of_an_organisation_of_another_region_is_refused(regions: Context) -> None:
    ref = north_case(regions)
    sheet = worksheet.worksheet(regions, ref)
    before = state(regions, ref)

    with pytest.raises(NotYours):
        worksheet.apply(regions, sheet, Answer(actor="klinik-sued", items=("employment_contract",)),
                        request_id="flow-run:3")

    assert state(regions, ref) == before


# -- the cohort import -----------------------------------------------------------------------------


def test_an_employer_importing_rows_for_another_employer_is_refused_and_nothing_is_written(
    regions: Context, tmp_path: Path,
) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text("given_name,family_name,nationality,employer\n"
                    f"{GIVEN},{FAMILY},PHL,klinik-nord\nAnjali,Menon,IND,klinik-sued\n", encoding="utf-8")

    result = enrol(regions, path, by="klinik-sued")

    assert result.refused and not result.enrolled
    assert [str(p) for p in result.problems] == [
        "line 2: employer: actor 'klinik-sued' may open cases only for itself; an agency or the coordinator "
        "opens them for another employer"]
    assert north_cases(regions) == []
    assert enrol(regions, path, by="klinik-sued", skip_invalid=True).enrolled == ["SE-2026-0001"]
    assert north_cases(regions) == []


def test_an_agency_importing_rows_of_another_region_is_refused_without_repeating_a_value(
    regions: Context, tmp_path: Path,
) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text("given_name,family_name,nationality,employer,region\n"
                    f"{GIVEN},{FAMILY},PHL,klinik-sued,\n", encoding="utf-8")

    result = enrol(regions, path, by="vermittlung")

    assert [str(p) for p in result.problems] == [
        "line 2: region: agency 'vermittlung' serves region SE-Nord: it opens cases of that region only; "
        "the coordinator opens the others"]
    assert "klinik-sued" not in str(result.as_dict()) and GIVEN not in str(result.as_dict())


# -- PostgreSQL ------------------------------------------------------------------------------------


@pytest.fixture
def postgres_regions(settings: Settings, clock: Clock) -> Iterator[Context]:
    with fresh_database() as url:
        context = Context.from_settings(settings.model_copy(update={"database_url": url}), check_schema=False)
        schema.upgrade(context.db.engine)
        context.clock = clock
        try:
            yield context
        finally:
            context.db.dispose()


@pytest.mark.postgres
def test_scope_holds_on_postgresql_too(postgres_regions: Context) -> None:
    ctx = postgres_regions
    for actor_id, name, roles, region in [("koord", "Koordination", ["coordinator"], None),
                                          ("klinik-nord", "Klinik Nord", ["employer"], "SE-Nord"),
                                          ("vermittlung", "Vermittlung", ["agency"], "SE-Nord")]:
        directory.add_actor(ctx, actor_id, name=name, roles=roles, region=region)
    add_south(ctx)
    placed = north_case(ctx, by="vermittlung")
    other = north_case(ctx)
    with ctx.db.writing() as session:
        session.execute(update(ActorRecord).where(ActorRecord.id == "vermittlung").values(region="SE-Sued"))

    casework.tick(ctx, placed, ["recognition_documents"], by="vermittlung")
    before = state(ctx, other)
    for by, item in (("vermittlung", "recognition_documents"), ("klinik-sued", "employment_contract"),
                     ("wohnbau-sued", "housing_confirmed")):
        with pytest.raises(NotYours):
            casework.tick(ctx, other, [item], by=by)
    assert state(ctx, other) == before
