"""The store on a real SQLite file: WAL, busy timeout, write locks, schema upgrades, and changes
that are all-or-nothing, idempotent and audited in an append-only chain."""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from lotse.states import records, schema, store
from lotse.states.database import BUSY_TIMEOUT_S, Database
from lotse.states.errors import (
    BadFactValue,
    BadInput,
    Conflict,
    EventNotAllowed,
    LotseError,
    NotFound,
    NotReady,
    Refused,
    RequirementsMissing,
    RoleMissing,
)
from lotse.states.records import CaseRecord, HistoryRecord
from lotse.tasks import casework
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.regions import TWO_COUNTIES
from tests.tables import dump

STAGE_NEUTRAL = {"open", "set", "done", "undone", "exported", "erased"}  # exported, erased: GDPR


def open_pflege(ctx: Context, **kw: object) -> str:
    return casework.open_case(
        ctx, given_name="Maricel", family_name="Dalisay", nationality="PHL", employer="klinik-nord",
        **kw,  # type: ignore[arg-type]
    )


def to_visa(ctx: Context, ref: str) -> None:
    casework.tick(ctx, ref, ["employment_contract"], by="klinik-nord")
    casework.tick(ctx, ref, ["recognition_documents"], by="vermittlung")
    casework.advance(ctx, ref, "apply_visa", by="klinik-nord")


def history_of(ctx: Context, ref: str) -> list[HistoryRecord]:
    with ctx.db.reading() as session:
        return store.history(session, store.find_case(session, ref).id or 0)


def assert_valid_chain(rows: list[HistoryRecord], version: int, initial: str = "recruited") -> None:
    """The first row opens the case in the initial stage; every row starts where the one before
    ended; a row that is no stage change stays in its stage; the version counts stage changes."""
    assert rows[0].action == "open" and rows[0].from_stage == rows[0].to_stage == initial
    for before, row in itertools.pairwise(rows):
        assert row.from_stage == before.to_stage, (before.action, row.action)
        if row.action in STAGE_NEUTRAL:
            assert row.from_stage == row.to_stage
    assert version == sum(1 for row in rows if row.action not in STAGE_NEUTRAL)


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(ctx: Context) -> None:
    assert ctx.db.sqlite_file is not None and ctx.db.sqlite_file.exists()
    plain = sqlite3.connect(ctx.db.sqlite_file)
    try:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # kept in the file
    finally:
        plain.close()
    with ctx.db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_S * 1000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_writer_holds_the_write_lock_from_the_start_of_its_transaction(ctx: Context) -> None:
    other = sqlite3.connect(ctx.db.sqlite_file or "", timeout=0, isolation_level=None)
    try:
        with ctx.db.writing() as session:
            session.execute(text("SELECT 1"))  # reads only, yet already holds the lock
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.execute("ROLLBACK")
        with ctx.db.reading() as session:
            session.execute(text("SELECT 1"))
            other.execute("BEGIN IMMEDIATE")  # a reader never blocks a writer
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_writing_session_rolls_back_everything_on_an_error(alliance: Context) -> None:
    before = dump(alliance.db.engine)
    with pytest.raises(RuntimeError), alliance.db.writing() as session:
        session.add(CaseRecord(
            ref="SE-2026-9999", process="pflege", process_version=1, stage="recruited",
            employer_id="klinik-nord", region="SE-Nord", given_name="A", family_name="B",
            created_at=alliance.clock(), stage_entered_at=alliance.clock(),
        ))
        session.flush()
        raise RuntimeError("crash after the flush")
    assert dump(alliance.db.engine) == before


def test_init_twice_is_safe_and_keeps_every_row(alliance: Context) -> None:
    ref = open_pflege(alliance)
    before = dump(alliance.db.engine)
    assert schema.upgrade(alliance.db.engine) == (schema.head(), schema.head())
    assert dump(alliance.db.engine) == before
    assert schema.current(alliance.db.engine) == schema.head()
    with alliance.db.reading() as session:
        assert store.find_case(session, ref).stage == "recruited"


def test_a_database_without_schema_is_not_ready(tmp_path: object, settings: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    with pytest.raises(NotReady, match="lotse init"):
        Database(f"sqlite:///{folder / 'missing.db'}").require_schema()
    assert not (folder / "missing.db").exists()
    sqlite3.connect(folder / "empty.db").close()
    with pytest.raises(NotReady, match="lotse init"):
        Database(f"sqlite:///{folder / 'empty.db'}").require_schema()


REFUSALS: list[tuple[str, Callable[[Context, str], object], type[LotseError]]] = [
    ("unknown case", lambda c, r: casework.advance(c, "SE-2026-0999", "apply_visa", by="koord"), NotFound),
    ("unknown actor", lambda c, r: casework.advance(c, r, "apply_visa", by="nobody"), NotFound),
    ("unknown event", lambda c, r: casework.advance(c, r, "teleport", by="koord"), EventNotAllowed),
    ("event of another stage", lambda c, r: casework.advance(c, r, "settle", by="koord"), EventNotAllowed),
    ("missing requirements", lambda c, r: casework.advance(c, r, "arrive", by="klinik-nord"),
     RequirementsMissing),
    ("actor without the role", lambda c, r: casework.advance(c, r, "arrive", by="sprachschule"), RoleMissing),
    ("facts given with a refused event", lambda c, r: casework.advance(
        c, r, "arrive", by="klinik-nord", facts={"arrival_date": "2026-05-01"}), RequirementsMissing),
    ("wrong fact type", lambda c, r: casework.set_facts(c, r, {"arrival_date": "soon"}, by="koord"),
     BadFactValue),
    ("unknown fact", lambda c, r: casework.set_facts(c, r, {"shoe_size": "40"}, by="koord"), BadFactValue),
    ("fact set by a role not named for it", lambda c, r: casework.set_facts(
        c, r, {"language_level": "B2"}, by="klinik-nord"), RoleMissing),
    ("one bad fact among good ones", lambda c, r: casework.set_facts(
        c, r, {"arrival_date": "2026-05-01", "visa_valid_until": "later"}, by="koord"), BadFactValue),
    ("item ticked by another role", lambda c, r: casework.tick(
        c, r, ["housing_confirmed"], by="klinik-nord"), RoleMissing),
    ("unknown item", lambda c, r: casework.tick(c, r, ["visa_granted", "unicorn"], by="koord"), NotFound),
    ("unknown entry point", lambda c, r: casework.tick(c, r, ["visa_granted"], by="koord", via="fax"),
     BadInput),
    ("stale version", lambda c, r: casework.advance(
        c, r, "withdraw", by="koord", facts={"withdraw_category": "moved_away",
                                             "withdraw_reason": "x"}, expected_version=0), Conflict),
    ("case opened by a role that may not", lambda c, r: open_pflege(c, by="sprachschule"), Refused),
    ("case opened for an actor that is no employer", lambda c, r: casework.open_case(
        c, given_name="A", family_name="B", nationality="PHL", employer="wohnbau-nord"), Refused),
    ("case with a bad nationality", lambda c, r: casework.open_case(
        c, given_name="A", family_name="B", nationality="Atlantis", employer="klinik-nord"), BadFactValue),
    ("case of an unknown process", lambda c, r: open_pflege(c, process="zirkus"), NotFound),
    ("case without a name", lambda c, r: casework.open_case(
        c, given_name=" ", family_name="B", nationality="PHL", employer="klinik-nord"), BadInput),
]


@pytest.mark.parametrize(("what", "change", "error"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_change_writes_nothing_at_all(
    alliance: Context, what: str, change: Callable[[Context, str], object], error: type[LotseError]
) -> None:
    ref = open_pflege(alliance)
    to_visa(alliance, ref)  # version 1, in stage visa
    before = dump(alliance.db.engine)
    with pytest.raises(error):
        change(alliance, ref)
    assert dump(alliance.db.engine) == before


def test_a_change_on_a_stale_version_is_a_conflict_naming_both_versions(alliance: Context) -> None:
    ref = open_pflege(alliance)
    to_visa(alliance, ref)
    with pytest.raises(Conflict, match="since version 0 \\(now version 1\\)"):
        casework.advance(alliance, ref, "withdraw", by="koord", facts={"withdraw_category": "moved_away",
                                                                       "withdraw_reason": "x"},
                         expected_version=0)
    result = casework.advance(alliance, ref, "withdraw", by="koord", facts={"withdraw_category": "moved_away",
                                                                            "withdraw_reason": "x"},
                              expected_version=1)
    assert (result["stage"], result["version"]) == ("withdrawn", 2)


def test_the_same_request_twice_changes_the_case_once(alliance: Context, clock: Clock) -> None:
    ref = open_pflege(alliance)
    casework.tick(alliance, ref, ["employment_contract"], by="klinik-nord", request_id="r-1")
    again = casework.tick(alliance, ref, ["employment_contract"], by="klinik-nord", request_id="r-1")
    assert again["repeated"] is True
    casework.tick(alliance, ref, ["recognition_documents"], by="vermittlung")
    first = casework.advance(alliance, ref, "apply_visa", by="klinik-nord", request_id="flow-run:42")
    before = dump(alliance.db.engine)
    clock.advance(minutes=5)
    second = casework.advance(alliance, ref, "apply_visa", by="klinik-nord", request_id="flow-run:42")
    assert dump(alliance.db.engine) == before
    assert first["repeated"] is False and second["repeated"] is True
    assert (second["from"], second["to"], second["version"]) == ("recruited", "visa", 1)
    actions = [row.action for row in history_of(alliance, ref)]
    assert actions == ["open", "set", "done", "done", "apply_visa"]


def test_the_same_request_to_open_a_case_opens_one_case(alliance: Context) -> None:
    first = open_pflege(alliance, request_id="import:row-7")
    second = open_pflege(alliance, request_id="import:row-7")
    assert first == second
    with alliance.db.reading() as session:
        assert len(session.scalars(select(CaseRecord)).all()) == 1


def test_the_history_is_an_append_only_chain_of_every_change(alliance: Context, clock: Clock) -> None:
    ref = open_pflege(alliance, facts={"accelerated_procedure": "ja"})
    snapshots = [history_of(alliance, ref)]
    to_visa(alliance, ref)
    snapshots.append(history_of(alliance, ref))
    clock.advance(days=30)
    casework.tick(alliance, ref, ["visa_granted"], by="klinik-nord")
    casework.tick(alliance, ref, ["housing_confirmed"], by="wohnbau-nord")
    casework.tick(alliance, ref, ["housing_confirmed"], by="wohnbau-nord", done=False)
    casework.tick(alliance, ref, ["housing_confirmed"], by="koord")
    snapshots.append(history_of(alliance, ref))
    casework.advance(alliance, ref, "arrive", by="klinik-nord", note="landed in HAM",
                     facts={"arrival_date": "2026-04-01", "visa_valid_until": "2026-07-01"})
    rows = history_of(alliance, ref)
    for earlier in snapshots:
        assert [r.model_dump() for r in rows[: len(earlier)]] == [r.model_dump() for r in earlier]
    with alliance.db.reading() as session:
        record = store.find_case(session, ref)
    assert_valid_chain(rows, record.version)
    assert [(r.action, r.from_stage, r.to_stage) for r in rows] == [
        ("open", "recruited", "recruited"), ("set", "recruited", "recruited"),
        ("done", "recruited", "recruited"), ("done", "recruited", "recruited"),
        ("apply_visa", "recruited", "visa"),
        ("done", "visa", "visa"), ("done", "visa", "visa"), ("undone", "visa", "visa"),
        ("done", "visa", "visa"), ("set", "visa", "visa"), ("arrive", "visa", "arrival"),
    ]
    assert rows[-1].note == "landed in HAM" and rows[-1].actor_id == "klinik-nord"
    assert rows[-2].detail == {"arrival_date": "2026-04-01", "visa_valid_until": "2026-07-01"}
    assert rows[1].detail == {"nationality": "PHL", "accelerated_procedure": True}
    assert {r.via for r in rows} == {"cli"}
    assert record.version == 2 and record.stage == "arrival"


def test_moments_come_back_as_the_same_instant_in_utc(alliance: Context, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 7, 1, 11, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # 09:30 UTC
    ref = open_pflege(alliance)
    with alliance.db.reading() as session:
        record = store.find_case(session, ref)
        rows = store.history(session, record.id or 0)
    for moment in (record.created_at, record.stage_entered_at, rows[0].at):
        assert moment.tzinfo is not None and moment.utcoffset() == dt.timedelta(0)
        assert moment == dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)


def test_references_count_per_region_prefix_and_year(alliance: Context, clock: Clock) -> None:
    alliance.settings.regions_file = TWO_COUNTIES
    assert [open_pflege(alliance) for _ in range(3)] == ["SE-2026-0001", "SE-2026-0002", "SE-2026-0003"]
    assert open_pflege(alliance, region="HL-Mitte") == "HL-2026-0001"
    clock.now = dt.datetime(2027, 1, 2, tzinfo=dt.UTC)
    assert open_pflege(alliance) == "SE-2027-0001"
    with alliance.db.reading() as session:
        assert store.find_case(session, "se-2026-0002").region == "SE-Nord"  # refs ignore case


def differences_between_migrations_and_tables(db: Database) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    records.register_all()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_the_migrations_build_exactly_the_tables_of_the_records(ctx: Context) -> None:
    assert differences_between_migrations_and_tables(ctx.db) == []
