"""The same schema and casework on the real PostgreSQL server: migrations, a full case, refusals
that write nothing, and the first reference of a region taken by two transactions at once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from lotse.config.settings import Settings
from lotse.states import schema, store
from lotse.states.database import Database
from lotse.states.errors import RequirementsMissing, RoleMissing
from lotse.tasks import casework, directory
from lotse.tasks.case_file import case_file
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.postgres import fresh_database
from tests.regions import TWO_COUNTIES
from tests.states.test_store import (
    assert_valid_chain,
    differences_between_migrations_and_tables,
    history_of,
)
from tests.tables import dump

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(settings: Settings, clock: Clock) -> Iterator[Context]:
    with fresh_database() as url:
        context = Context.from_settings(settings.model_copy(update={"database_url": url}),
                                        check_schema=False)
        assert schema.upgrade(context.db.engine) == (None, schema.head())
        context.clock = clock
        for actor_id, roles, region in [
            ("koord", ["coordinator"], None), ("klinik-nord", ["employer"], "SE-Nord"),
            ("vermittlung", ["agency"], None), ("wohnbau-nord", ["housing"], "SE-Nord"),
            ("abh-nord", ["foreigners_office"], "SE-Nord"), ("sprachschule", ["language_school"], None),
            ("anerkennung", ["recognition_office"], None), ("beratung", ["counsellor"], None),
        ]:
            directory.add_actor(context, actor_id, name=actor_id.title(), roles=roles, region=region)
        try:
            yield context
        finally:
            context.db.dispose()


def test_the_migrations_run_on_postgresql_and_a_second_init_changes_nothing(pg: Context) -> None:
    pg.db.require_schema()
    before = dump(pg.db.engine)
    assert schema.upgrade(pg.db.engine) == (schema.head(), schema.head())
    assert dump(pg.db.engine) == before


def test_a_case_goes_all_the_way_on_postgresql(pg: Context, clock: Clock) -> None:
    ref = casework.open_case(pg, given_name="Anjali", family_name="Menon", nationality="IND",
                             employer="klinik-nord")
    steps: list[tuple[str, object]] = [
        ("tick", (["employment_contract"], "klinik-nord")),
        ("tick", (["recognition_documents"], "vermittlung")),
        ("advance", ("apply_visa", "klinik-nord", None)),
        ("tick", (["visa_granted"], "klinik-nord")), ("tick", (["housing_confirmed"], "wohnbau-nord")),
        ("advance", ("arrive", "klinik-nord",
                     {"arrival_date": "2026-05-01", "visa_valid_until": "2026-08-01"})),
        ("tick", (["address_registered"], "klinik-nord")),
        ("tick", (["residence_permit_applied"], "abh-nord")),
        ("advance", ("start_language_course", "sprachschule", None)),
        ("set", ({"language_level": "B1"}, "sprachschule")),
        ("advance", ("start_recognition", "anerkennung", None)),
        ("tick", (["recognition_granted"], "anerkennung")),
        ("set", ({"language_level": "b2"}, "sprachschule")),
        ("advance", ("settle", "wohnbau-nord", None)),
        ("tick", (["permanent_housing"], "wohnbau-nord")),
        ("advance", ("complete", "beratung", None)),
    ]
    for kind, args in steps:
        clock.advance(days=7)
        if kind == "tick":
            items, by = args  # type: ignore[misc]
            casework.tick(pg, ref, items, by=by)
        elif kind == "set":
            values, by = args  # type: ignore[misc]
            casework.set_facts(pg, ref, values, by=by)
        else:
            event, by, facts = args  # type: ignore[misc]
            casework.advance(pg, ref, event, by=by, facts=facts)
    shown = case_file(pg, ref)
    assert (shown["stage"], shown["version"]) == ("integrated", 6)
    assert shown["facts"]["language_level"] == "B2" and shown["facts"]["arrival_date"] == "2026-05-01"
    assert shown["history"][0]["at"] == "2026-03-02T09:00:00+00:00"
    assert_valid_chain(history_of(pg, ref), shown["version"])
    with pg.db.reading() as session:
        record = store.find_case(session, ref)
    assert record.created_at == dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_refusals_write_nothing_on_postgresql(pg: Context) -> None:
    ref = casework.open_case(pg, given_name="A", family_name="B", nationality="PHL", employer="klinik-nord")
    before = dump(pg.db.engine)
    with pytest.raises(RequirementsMissing):
        casework.advance(pg, ref, "apply_visa", by="klinik-nord", facts={"accelerated_procedure": "yes"})
    with pytest.raises(RoleMissing):
        casework.tick(pg, ref, ["housing_confirmed"], by="klinik-nord")
    assert dump(pg.db.engine) == before


def test_two_transactions_taking_the_first_reference_of_a_region_both_get_a_number(pg: Context) -> None:
    """The first case of a prefix and year inserts its counter row; a second transaction doing the
    same at that moment waits on the unique key, and must then count on from the first's row."""
    pg.settings.regions_file = TWO_COUNTIES
    rival = Database(pg.db.url)
    result: dict[str, object] = {}

    def open_second() -> None:
        try:
            result["ref"] = casework.open_case(pg, given_name="C", family_name="D", nationality="PHL",
                                               employer="klinik-nord", region="HL-Ost")
        except Exception as exc:  # the failure is what this test looks for
            result["error"] = exc

    try:
        with rival.engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(text("INSERT INTO ref_counters (prefix, year, last) VALUES ('HL', 2026, 1)"))
            second = threading.Thread(target=open_second)
            second.start()
            _wait_for_a_lock_wait(rival)
            transaction.commit()
            second.join(timeout=30)
        assert "error" not in result, result.get("error")
        assert result["ref"] == "HL-2026-0002"
    finally:
        rival.dispose()


def _wait_for_a_lock_wait(db: Database) -> None:
    """Until another session of this database waits for a lock (not a timing guess)."""
    deadline = time.monotonic() + 20
    with db.engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )).scalar()
            if waiting:
                return
            connection.rollback()
            time.sleep(0.02)
    raise AssertionError("the second transaction never waited for the first")


def test_the_migrations_build_exactly_the_tables_of_the_records_on_postgresql(pg: Context) -> None:
    assert differences_between_migrations_and_tables(pg.db) == []
