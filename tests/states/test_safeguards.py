"""§ 38 BeschV: no private agency places care workers from a WHO safeguards list country."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lotse.states.errors import Refused
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
