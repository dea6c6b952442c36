"""Guards around a change: a request id names one change only, references count the alliance's
calendar year, and a database error never carries a statement's values (names, facts)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError

from lotse.states.errors import Refused
from lotse.states.records import ActorRecord
from lotse.tasks import case_file, casework
from lotse.tasks.context import Context
from tests.conftest import Clock


def _open(ctx: Context) -> str:
    return casework.open_case(ctx, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                              employer="klinik-nord")


def test_a_request_id_repeated_for_the_same_change_returns_the_first_outcome(alliance: Context) -> None:
    ref = _open(alliance)
    first = casework.tick(alliance, ref, ["employment_contract"], by="koord", request_id="r-1")
    again = casework.tick(alliance, ref, ["employment_contract"], by="koord", request_id="r-1")
    assert again["repeated"] and not first["repeated"]
    assert [h["action"] for h in case_file.case_file(alliance, ref)["history"]].count("done") == 1


def test_a_request_id_reused_for_another_change_is_refused_and_writes_nothing(alliance: Context) -> None:
    ref, other = _open(alliance), _open(alliance)
    casework.tick(alliance, ref, ["employment_contract"], by="koord", request_id="r-2")
    before = case_file.case_file(alliance, other)["history"]

    with pytest.raises(Refused, match="request id 'r-2' was used for 'done' on"):
        casework.tick(alliance, other, ["employment_contract"], by="koord", request_id="r-2")
    with pytest.raises(Refused, match="Use a new request id"):
        casework.set_facts(alliance, ref, {"arrival_date": "2027-01-10"}, by="koord", request_id="r-2")

    assert case_file.case_file(alliance, other)["history"] == before
    assert "arrival_date" not in case_file.case_file(alliance, ref)["facts"]


def test_a_case_opened_just_after_midnight_on_new_year_in_berlin_counts_in_the_new_year(
    alliance: Context, clock: Clock,
) -> None:
    clock.now = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)  # 00:30 on 1 January in Berlin
    assert _open(alliance).split("-")[1] == "2027"


def test_a_database_error_does_not_carry_the_values_of_its_statement(alliance: Context) -> None:
    with pytest.raises(IntegrityError) as caught, alliance.db.writing() as session:
        session.add(ActorRecord(id="koord", name="Erika Mustermann-Geheim", created_at=alliance.clock()))
        session.flush()
    assert "Mustermann-Geheim" not in str(caught.value)
