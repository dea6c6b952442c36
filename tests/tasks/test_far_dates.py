"""A date stored before dates were bounded (9999-12-31) cannot stick a case: the change whose
deadline would fall outside the calendar is refused in one line naming the fact, nothing is
written, and once the fact is corrected the same change goes through."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from lotse.states.errors import Refused
from lotse.tasks import casework
from lotse.tasks.context import Context
from tests.tables import dump


def ready_to_arrive(ctx: Context) -> str:
    ref = casework.open_case(ctx, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                             employer="klinik-nord")
    casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(ctx, ref, "apply_visa", by="klinik-nord")
    casework.tick(ctx, ref, ["visa_granted", "housing_confirmed"], by="koord")
    casework.set_facts(ctx, ref, {"arrival_date": "2027-03-01", "visa_valid_until": "2028-03-01"}, by="koord")
    with ctx.db.engine.begin() as connection:  # as an older Lotse, which took any date, stored it
        connection.execute(text(
            "UPDATE case_facts SET value = '\"9999-12-31\"' WHERE name = 'arrival_date' "
            "AND case_id = (SELECT id FROM cases WHERE ref = :ref)"
        ), {"ref": ref})
    return ref


def test_a_deadline_beyond_the_calendar_is_refused_naming_the_fact_and_the_case_is_not_stuck(
    alliance: Context,
) -> None:
    ref = ready_to_arrive(alliance)
    before = dump(alliance.db.engine)

    with pytest.raises(Refused) as refused:
        casework.advance(alliance, ref, "arrive", by="klinik-nord")

    assert "would fall outside the calendar: 'arrival_date' is far off" in str(refused.value)
    assert f"lotse case set {ref} arrival_date=YYYY-MM-DD" in str(refused.value)
    assert dump(alliance.db.engine) == before

    casework.set_facts(alliance, ref, {"arrival_date": "2027-03-01"}, by="koord")
    moved = casework.advance(alliance, ref, "arrive", by="klinik-nord")

    assert moved["stage"] == "arrival"
