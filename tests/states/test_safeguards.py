"""§ 38 BeschV: no private agency places health and care workers from a WHO safeguards list country
(other occupations, such as childcare, are not bound)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lotse.states.errors import Refused
from lotse.states.process import Catalog, Process
from lotse.states.records import CaseRecord
from lotse.states.safeguards import safeguarded
from lotse.tasks import casework
from lotse.tasks.context import Context

REFERENCE = Path(__file__).parents[3] / "shared" / "reference" / "who-ssl-2023.csv"


def _cases(ctx: Context) -> int:
    with ctx.db.reading() as session:
        return session.scalar(select(func.count()).select_from(CaseRecord)) or 0


def test_the_list_has_the_55_countries_of_the_reference() -> None:
    assert len(safeguarded()) == 55
    if REFERENCE.exists():
        with REFERENCE.open(encoding="utf-8") as f:
            assert set(safeguarded()) == {row["iso3"] for row in csv.DictReader(f)}


def test_an_agency_may_not_open_a_case_for_a_person_from_a_listed_country(alliance: Context) -> None:
    with pytest.raises(Refused, match=r"§ 38 BeschV.*--by EMPLOYER"):
        casework.open_case(alliance, given_name="Ama", family_name="Mensah", nationality="GHA",
                           employer="klinik-nord", by="vermittlung")
    assert _cases(alliance) == 0


def test_an_employer_may_hire_a_person_from_a_listed_country_who_applied_on_their_own(
    alliance: Context,
) -> None:
    ref = casework.open_case(alliance, given_name="Ama", family_name="Mensah", nationality="GHA",
                             employer="klinik-nord", by="klinik-nord")
    assert ref.startswith("SE-")


def test_an_agency_may_open_a_case_for_a_person_from_an_unlisted_country(alliance: Context) -> None:
    casework.open_case(alliance, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                       employer="klinik-nord", by="vermittlung")
    assert _cases(alliance) == 1


def test_section_38_binds_health_and_care_occupations_only(alliance: Context) -> None:
    catalog = alliance.catalog
    assert (catalog.get("pflege").occupation, catalog.get("pflege").safeguarded) == ("health", True)
    assert (catalog.get("chancen").occupation, catalog.get("chancen").safeguarded) == ("health", True)
    assert (catalog.get("erzieher").occupation, catalog.get("erzieher").safeguarded) == ("education", False)

    casework.open_case(alliance, given_name="Chiamaka", family_name="Okafor", nationality="NGA",
                       employer="klinik-nord", process="erzieher", by="vermittlung")
    assert _cases(alliance) == 1
    with pytest.raises(Refused, match=r"Nigeria is on the WHO .*§ 38 BeschV"):
        casework.open_case(alliance, given_name="Ngozi", family_name="Eze", nationality="NGA",
                           employer="klinik-nord", process="pflege", by="vermittlung")
    assert _cases(alliance) == 1


@pytest.mark.parametrize(("occupation", "refused"), [(None, True), ("health", True), ("other", False)])
def test_a_definition_is_a_health_occupation_unless_it_says_otherwise(
    alliance: Context, occupation: str | None, refused: bool
) -> None:
    data = {k: v for k, v in alliance.catalog.get("erzieher").model_dump(by_alias=True).items()
            if k not in ("occupation", "source")}
    if occupation is not None:
        data["occupation"] = occupation
    own = Process.model_validate({**data, "name": "own"})
    alliance.catalog = Catalog([*(alliance.catalog.get(n) for n in alliance.catalog.names()), own])

    def open_case() -> str:
        return casework.open_case(alliance, given_name="Chiamaka", family_name="Okafor",
                                  nationality="NGA", employer="klinik-nord", process="own",
                                  by="vermittlung")

    if refused:
        with pytest.raises(Refused, match="§ 38 BeschV"):
            open_case()
        assert _cases(alliance) == 0
    else:
        open_case()
        assert _cases(alliance) == 1
