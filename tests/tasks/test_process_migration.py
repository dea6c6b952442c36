"""Moving running cases from pflege v1 to v2 (tests/versions.py: a stage, an item and a fact
renamed, an item dropped), on a real SQLite file and on PostgreSQL: a dry run writes nothing; an
applied migration moves each case whole, with its deadlines and one audit row, or names why not;
running it again changes nothing; a change made on what someone saw before is a conflict."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lotse.config.settings import Settings
from lotse.states import store
from lotse.states.deadlines import rule
from lotse.states.errors import BadInput, Conflict, LotseError, RoleMissing
from lotse.states.migration import Mapping
from lotse.states.records import (
    CaseRecord,
    DeadlineRecord,
    FactRecord,
    HistoryRecord,
    ItemRecord,
    OutboxRecord,
)
from lotse.tasks import casework, deadlines, directory
from lotse.tasks.context import Context
from lotse.tasks.process_migration import ALREADY, CANNOT, MIGRATED, WOULD, migrate
from tests.conftest import Clock
from tests.postgres import postgres_context
from tests.requirements import meeting_texts, path_to
from tests.tables import dump
from tests.versions import BACKWARD, FORWARD, add_v2, write_pflege_v1

PEOPLE = [
    ("koord", ["coordinator"], None), ("klinik-nord", ["employer"], "SE-Nord"),
    ("vermittlung", ["agency"], "SE-Nord"), ("abh-nord", ["foreigners_office"], "SE-Nord"),
    ("wohnbau-nord", ["housing"], "SE-Nord"), ("beratung", ["counsellor"], "SE-Nord"),
]
NEUTRAL = {"open", "set", "done", "undone"}


@pytest.fixture
def settings(home: Path, tmp_path: Path) -> Settings:
    write_pflege_v1(tmp_path / "own")
    return Settings(home=home, process_dir=tmp_path / "own", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(params=["sqlite", "postgresql"])
def versions(
    request: pytest.FixtureRequest, ctx: Context, settings: Settings, clock: Clock,
) -> Iterator[Context]:
    """The alliance on each database, its cases opened on pflege v1 (v2 comes with `add_v2`)."""
    chosen_db = postgres_context(settings, clock) if request.param == "postgresql" else nullcontext(ctx)
    with chosen_db as chosen:
        for actor_id, roles, region in PEOPLE:
            directory.add_actor(chosen, actor_id, name=actor_id.title(), roles=roles, region=region)
        yield chosen


def open_on_v1(ctx: Context) -> str:
    return casework.open_case(ctx, given_name="Joanna", family_name="Villareal", nationality="PHL",
                              employer="klinik-nord", process="pflege", by="koord")


def bring_to(ctx: Context, ref: str, stage: str) -> None:
    """Meet every requirement on the shortest way to `stage`, as the coordinator."""
    process = ctx.catalog.get("pflege", 1)
    for transition in path_to(process, stage):
        casework.work(ctx, ref, by="koord", items=list(transition.requires.items) or None,
                      facts=meeting_texts(process, transition) or None, event=transition.event)


@pytest.fixture
def cases(versions: Context) -> dict[str, str]:
    """Four cases on v1: just recruited; in `visa` with its date; housed with `tax_id` and the
    dropped `family_support` done; and one withdrawn (closed)."""
    ctx = versions
    refs = {name: open_on_v1(ctx) for name in ("recruited", "visa", "housed", "closed")}
    bring_to(ctx, refs["visa"], "visa")
    casework.set_facts(ctx, refs["visa"], {"visa_valid_until": "2026-09-30"}, by="koord")
    bring_to(ctx, refs["housed"], "housed")
    casework.tick(ctx, refs["housed"], ["tax_id", "family_support"], by="koord")
    casework.advance(ctx, refs["closed"], "withdraw", by="koord", facts={"withdraw_reason": "moved away"})
    add_v2(ctx)
    return refs


def to_v2(ctx: Context, **kw: Any) -> Any:
    return migrate(ctx, "pflege", 2, by="koord", mapping=Mapping.model_validate(kw.pop("mapping", FORWARD)),
                   **kw)


def statuses(result: Any) -> dict[str, str]:
    return {ref: status for ref, _, status in result.cases}


def test_a_dry_run_lists_what_would_change_per_case_and_writes_nothing(
    versions: Context, cases: dict[str, str],
) -> None:
    before = dump(versions.db.engine)

    result = to_v2(versions, dry_run=True)

    assert dump(versions.db.engine) == before
    assert statuses(result) == {cases["recruited"]: WOULD, cases["visa"]: WOULD, cases["housed"]: WOULD}
    plans = {ref: p for ref, p, _ in result.cases}
    visa = plans[cases["visa"]]
    assert (visa.from_stage, visa.to_stage) == ("visa", "visum")
    assert visa.facts_kept["visa_valid_until"] == "visum_valid_until"
    assert "visa_limit" in visa.deadlines_closed and "visum_limit" in visa.deadlines_opened
    housed = plans[cases["housed"]]
    assert housed.items_kept["tax_id"] == "steuer_id" and housed.items_dropped == ["family_support"]
    assert housed.to_stage == "housed" and housed.items_new == []
    as_json = str(result.as_json())
    assert "Joanna" not in as_json and "PHL" not in as_json and "2026-09-30" not in as_json


def test_applying_moves_each_case_whole_with_its_deadlines_and_one_audit_row(
    versions: Context, cases: dict[str, str],
) -> None:
    ctx = versions
    with ctx.db.reading() as session:
        visa_before = store.find_case(session, cases["visa"])
        limit_due = session.scalars(select(DeadlineRecord.due).where(
            DeadlineRecord.case_id == visa_before.id, DeadlineRecord.deadline == "visa_limit")).one()

    result = to_v2(ctx, note="Prozess 2027")

    assert statuses(result) == {r: MIGRATED for k, r in cases.items() if k != "closed"}
    new = ctx.catalog.get("pflege", 2)
    with ctx.db.reading() as session:
        visa = store.find_case(session, cases["visa"])
        assert (visa.process_version, visa.stage, visa.version) == (2, "visum", visa_before.version + 1)
        facts = set(session.scalars(select(FactRecord.name).where(FactRecord.case_id == visa.id)))
        assert "visum_valid_until" in facts and "visa_valid_until" not in facts
        last = store.history(session, visa.id or 0)[-1]
        assert (last.action, last.from_stage, last.to_stage, last.actor_id, last.note) == (
            "migrate", "visa", "visum", "koord", "pflege v1 -> pflege v2: Prozess 2027")
        assert last.proof and last.proof.startswith("os:")
        assert last.detail["from"] == "pflege v1" and last.detail["to"] == "pflege v2"
        assert "2026-09-30" not in str(last.detail) and "PHL" not in str(last.detail)
        open_rows = session.scalars(select(DeadlineRecord).where(
            DeadlineRecord.case_id == visa.id, DeadlineRecord.closed_at.is_(None))).all()  # type: ignore[union-attr]
        assert all(rule(new, row.deadline) is not None for row in open_rows)
        assert [r.due for r in open_rows if r.deadline == "visum_limit"] == [limit_due]  # entry date kept
        housed = store.find_case(session, cases["housed"])
        items = set(session.scalars(select(ItemRecord.item).where(ItemRecord.case_id == housed.id)))
        assert "steuer_id" in items and not items & {"tax_id", "family_support"}
        closed = store.find_case(session, cases["closed"])
        assert closed.process_version == 1  # a closed case is not a running one
    shown = deadlines.check_deadlines(ctx, as_of=dt.date(2027, 6, 1), dry_run=True)
    assert any(f.ref == cases["visa"] and f.deadline == "visum_limit" for f in shown)
    moved_on = casework.work(ctx, cases["visa"], by="koord", items=["visa_granted", "housing_confirmed"],
                             facts={"arrival_date": "2026-03-10"}, event="arrive")
    assert (moved_on["from"], moved_on["to"]) == ("visum", "arrival")


def test_running_it_again_changes_nothing(versions: Context, cases: dict[str, str]) -> None:
    to_v2(versions)
    before = dump(versions.db.engine)

    again = to_v2(versions)
    named = to_v2(versions, refs=[cases["visa"]])

    assert dump(versions.db.engine) == before
    assert again.cases == [] and statuses(named) == {cases["visa"]: ALREADY}


def test_a_case_that_cannot_be_mapped_is_named_with_the_reason_and_the_others_move(
    versions: Context, cases: dict[str, str],
) -> None:
    result = to_v2(versions, mapping={})  # nothing renamed: `visa`, `tax_id`, ... have no target

    assert statuses(result) == {cases["recruited"]: MIGRATED, cases["visa"]: CANNOT, cases["housed"]: CANNOT}
    problems = {ref: p.problems for ref, p, _ in result.cases}
    assert any("stage 'visa' has no target in pflege v2" in p for p in problems[cases["visa"]])
    assert any("done item 'family_support'" in p for p in problems[cases["housed"]])
    with versions.db.reading() as session:
        visa = store.find_case(session, cases["visa"])
        assert (visa.process_version, visa.stage) == (1, "visa")
        assert session.scalar(select(func.count()).select_from(HistoryRecord).where(
            HistoryRecord.case_id == visa.id, HistoryRecord.action == "migrate")) == 0


def test_a_dropped_item_must_be_named_and_a_mapping_is_checked_against_both_versions(
    versions: Context, cases: dict[str, str],
) -> None:
    before = dump(versions.db.engine)
    bad = [
        ({"stages": {"visum": "visa"}}, "stages.visum: pflege v1 has no stage 'visum'"),
        ({"stages": {"visa": "visa"}}, "stages.visa: pflege v2 has no stage 'visa'"),
        ({"items": {"tax_id": "steuer"}}, "items.tax_id: pflege v2 has no item 'steuer'"),
        ({"facts": {"visa_valid_until": "arrival_date"}}, None),  # both dates: allowed
        ({"facts": {"visa_valid_until": "accelerated_procedure"}},
         "facts.visa_valid_until: a date in pflege v1"),
        ({"drop": {"items": ["unicorn"]}}, "drop.items.0: pflege v1 has no item 'unicorn'"),
        ({"items": {"tax_id": "steuer_id"}, "drop": {"items": ["tax_id"]}}, "both mapped and dropped"),
    ]
    for mapping, message in bad:
        if message is None:
            to_v2(versions, mapping=mapping, dry_run=True)
            continue
        with pytest.raises(BadInput, match=message.replace(".", r"\.").replace("'", "'")):
            to_v2(versions, mapping=mapping)
    assert dump(versions.db.engine) == before


def test_only_the_coordinator_migrates(versions: Context, cases: dict[str, str]) -> None:
    before = dump(versions.db.engine)
    with pytest.raises(RoleMissing, match="actor 'klinik-nord' may not migrate"):
        migrate(versions, "pflege", 2, by="klinik-nord", mapping=Mapping.model_validate(FORWARD))
    assert dump(versions.db.engine) == before


def test_a_change_made_on_what_was_seen_before_the_migration_is_a_conflict(
    versions: Context, cases: dict[str, str],
) -> None:
    ref = cases["visa"]
    with versions.db.reading() as session:
        record = store.find_case(session, ref)
        seen = store.load_case(session, record, versions.catalog.get("pflege", 1)).digest(
            versions.catalog.get("pflege", 1))
        version = record.version
    to_v2(versions)
    before = dump(versions.db.engine)

    for stale in ({"expected_state": seen}, {"expected_version": version}):
        with pytest.raises(Conflict):
            casework.work(versions, ref, by="koord", items=["visa_granted"], **stale)
    assert dump(versions.db.engine) == before


def test_messages_go_out_only_when_asked(versions: Context, cases: dict[str, str]) -> None:
    def queued() -> int:
        with versions.db.reading() as session:
            return session.scalar(select(func.count()).select_from(OutboxRecord)) or 0

    before = queued()
    to_v2(versions, refs=[cases["recruited"]])
    assert queued() == before
    to_v2(versions, refs=[cases["visa"]], notify=True)
    with versions.db.reading() as session:
        rows = session.scalars(select(OutboxRecord).where(OutboxRecord.id > 0).order_by(
            OutboxRecord.id.desc()).limit(queued() - before)).all()
    assert rows and {r.recipient for r in rows} >= {"koord"}
    assert all("umgestellt (pflege v1 → pflege v2)" in r.body for r in rows)


def test_migrating_back_and_forth_keeps_every_done_item_and_fact(
    versions: Context, cases: dict[str, str],
) -> None:
    ref = cases["visa"]

    def state() -> tuple[Any, ...]:
        with versions.db.reading() as session:
            record = store.find_case(session, ref)
            case = store.load_case(session, record, versions.catalog.get("pflege", record.process_version))
            return record.stage, sorted(case.done), sorted(case.facts.items())

    start = state()
    to_v2(versions, refs=[ref])
    migrate(versions, "pflege", 1, by="koord", mapping=Mapping.model_validate(BACKWARD), refs=[ref])

    assert state() == start


def test_changes_at_the_same_time_as_a_migration_never_leave_a_case_half_moved(
    versions: Context,
) -> None:
    ctx = versions
    refs = [open_on_v1(ctx) for _ in range(12)]
    for ref in refs:
        bring_to(ctx, ref, "visa")
    add_v2(ctx)
    failures: list[BaseException] = []
    stop = threading.Event()

    def keep_changing() -> None:
        for ref in itertools.cycle(refs):
            if stop.is_set():
                return
            try:  # on v1 or v2: both know these; a refusal is a whole refusal
                casework.set_facts(ctx, ref, {"arrival_date": "2026-03-10"}, by="koord")
                casework.tick(ctx, ref, ["visa_granted"], by="koord", done=bool(len(ref) % 2))
            except LotseError:
                pass
            except BaseException as exc:  # reported below, in the test's thread
                failures.append(exc)
                return

    worker = threading.Thread(target=keep_changing)
    worker.start()
    try:
        result = to_v2(ctx)
    finally:
        stop.set()
        worker.join()

    assert not failures, failures
    assert statuses(result) == {ref: MIGRATED for ref in refs}
    with ctx.db.reading() as session:
        for record in session.scalars(select(CaseRecord).where(CaseRecord.ref.in_(refs))):  # type: ignore[attr-defined]
            process = ctx.catalog.get(record.process, record.process_version)
            assert record.process_version == 2 and record.stage == "visum"
            names = set(session.scalars(select(FactRecord.name).where(FactRecord.case_id == record.id)))
            items = set(session.scalars(select(ItemRecord.item).where(ItemRecord.case_id == record.id)))
            assert names <= set(process.facts) and items <= {i.id for _, i in process.items()}
            rows = store.history(session, record.id or 0)
            for earlier, row in itertools.pairwise(rows):
                assert row.from_stage == earlier.to_stage
            assert record.version == sum(1 for r in rows if r.action not in NEUTRAL)
            assert [r.action for r in rows].count("migrate") == 1
