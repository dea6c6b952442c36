"""The same width limits on SQLite and PostgreSQL, checked before the database: a name of 200
characters is kept on both, one of 201 is bad input on both (SQLite would have stored it, PostgreSQL
refused it at the commit), naming the field and never the value; nothing is written."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from lotse.config.settings import Settings
from lotse.states import schema
from lotse.states.errors import BadInput
from lotse.tasks import casework, cohort_import, directory
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.postgres import fresh_database
from tests.tables import dump

LONG = "Quraishi" * 25 + "Q"  # 201 characters


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, settings: Settings, clock: Clock) -> Iterator[Context]:
    with contextlib.ExitStack() as stack:
        url = settings.db_url if request.param == "sqlite" else stack.enter_context(fresh_database())
        ctx = Context.from_settings(settings.model_copy(update={"database_url": url}), check_schema=False)
        stack.callback(ctx.db.dispose)
        schema.upgrade(ctx.db.engine)
        ctx.clock = clock
        directory.add_actor(ctx, "koord", name="Koordination", roles=["coordinator"])
        directory.add_actor(ctx, "klinik-nord", name="Klinik Nord", roles=["employer"], region="SE-Nord")
        yield ctx


def test_a_name_of_200_characters_is_kept_and_one_of_201_is_refused_naming_the_field(db: Context) -> None:
    ref = casework.open_case(db, given_name="A" * 200, family_name="B" * 200, nationality="PHL",
                             employer="klinik-nord")
    before = dump(db.db.engine)

    for given, family, field in [(LONG, "Menon", "the given name"), ("Anjali", LONG, "the family name")]:
        with pytest.raises(BadInput) as refused:
            casework.open_case(db, given_name=given, family_name=family, nationality="IND",
                               employer="klinik-nord")
        assert str(refused.value) == f"{field} is 201 characters long; at most 200 are kept"
        assert "Quraishi" not in str(refused.value)
    assert ref.startswith("SE-")
    assert dump(db.db.engine) == before


def test_an_actor_name_or_address_too_long_is_refused_before_the_database(db: Context) -> None:
    before = dump(db.db.engine)

    with pytest.raises(BadInput, match=r"^the actor's --name is 10,000 characters long; at most 200"):
        directory.add_actor(db, "lang", name="X" * 10_000, roles=["housing"])
    with pytest.raises(BadInput, match=r"^the actor's --email is 400 characters long; at most 320"):
        directory.add_actor(db, "lang", name="Lang", roles=["housing"], email="a" * 390 + "@x.example")

    assert dump(db.db.engine) == before


def test_a_note_or_a_request_id_too_long_is_refused_and_nothing_is_written(db: Context) -> None:
    ref = casework.open_case(db, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                             employer="klinik-nord")
    before = dump(db.db.engine)

    with pytest.raises(BadInput, match=r"^the note is 2,001 characters long; at most 2000"):
        casework.advance(db, ref, "withdraw", by="koord", note="n" * 2001)
    with pytest.raises(BadInput, match=r"^the request id is 101 characters long; at most 100"):
        casework.set_facts(db, ref, {"arrival_date": "2027-03-01"}, by="koord", request_id="r" * 101)

    assert dump(db.db.engine) == before


def test_a_cohort_row_with_a_name_too_long_names_the_column_and_imports_nothing(
    db: Context, tmp_path: Path
) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text("given_name,family_name,nationality,employer\n"
                    f"Joanna,Villareal,PHL,klinik-nord\nAnjali,{LONG},IND,klinik-nord\n", encoding="utf-8")
    before = dump(db.db.engine)

    result = cohort_import.enrol(db, path)

    assert result.refused
    assert [p.reason for p in result.problems] == ["family_name is longer than 200 characters"]
    assert "Quraishi" not in result.summary()
    assert dump(db.db.engine) == before
