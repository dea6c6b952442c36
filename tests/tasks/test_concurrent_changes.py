"""Several OS processes change the same cases at once (events, facts, checklist ticks, new cases),
on one SQLite file and on PostgreSQL. Afterwards every case's history is a valid chain, every
accepted change is in it exactly once, no refused change left a trace, and no process crashed
(no "database is locked", no lost update, no duplicate reference)."""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import random
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lotse.config.settings import Settings
from lotse.states import schema, store
from lotse.states.errors import LotseError
from lotse.states.moments import local_date
from lotse.states.records import CaseRecord, HistoryRecord
from lotse.tasks import casework, directory
from lotse.tasks.context import Context
from tests.postgres import fresh_database
from tests.regions import TWO_COUNTIES
from tests.requirements import meeting_texts, sample_text

WORKERS = 4
CHANGES_PER_WORKER = 40
ACTORS = {
    "koord": ["coordinator"], "klinik-nord": ["employer"], "vermittlung": ["agency"],
    "wohnbau-nord": ["housing"], "sprachschule": ["language_school"], "beratung": ["counsellor"],
}
NEUTRAL = {"open", "set", "done", "undone"}


def prepare(ctx: Context) -> list[str]:
    """The alliance and four cases every worker goes for."""
    schema.upgrade(ctx.db.engine)
    for actor_id, roles in ACTORS.items():
        directory.add_actor(ctx, actor_id, name=actor_id.title(), roles=roles, region="SE-Nord")
    return [
        casework.open_case(ctx, given_name="Test", family_name=f"Person {i}", nationality="PHL",
                           employer="klinik-nord", process=process)
        for i, process in enumerate(["pflege", "pflege", "chancen", "pflege"])
    ]


def work(url: str, worker: int, refs: list[str], start: Any, results: Any) -> None:
    """One worker process: opens a case at the same moment as the others, then changes random
    cases; reports every change it tried, accepted (with the outcome) or refused (with why)."""
    tried: list[dict[str, Any]] = []
    try:
        ctx = Context.from_settings(Settings(  # type: ignore[call-arg]
            database_url=url, regions_file=TWO_COUNTIES, _env_file=None))
        chance = random.Random(worker)
        start.wait(timeout=60)
        tried.append(_try(ctx, f"w{worker}-open", "open", None, lambda rid: casework.open_case(
            ctx, given_name="New", family_name=f"Worker {worker}", nationality="IND",
            employer="klinik-nord", region="HL-Ost", request_id=rid)))
        for n in range(CHANGES_PER_WORKER):
            ref = chance.choice(refs)
            tried.extend(_random_changes(ctx, chance, f"w{worker}-{n}", ref))
        results.put((worker, tried, None))
    except Exception:  # a crash is what this test looks for: report it, do not hang
        results.put((worker, tried, traceback.format_exc()))


def _random_changes(ctx: Context, chance: random.Random, rid: str, ref: str) -> list[dict[str, Any]]:
    with ctx.db.reading() as session:
        record = store.find_case(session, ref)
    process = ctx.catalog.get(record.process, record.process_version)
    kind = chance.choice(["tick", "set", "advance", "advance", "stale"])
    if kind == "tick":
        items = [item.id for _, item in process.items()]
        picked = chance.sample(items, 2)
        done = chance.random() < 0.8
        return [_try(ctx, rid, kind, ref, lambda r: casework.tick(
            ctx, ref, picked, by="koord", done=done, request_id=r))]
    if kind == "set":
        name = chance.choice(list(process.facts))
        return [_try(ctx, rid, kind, ref, lambda r: casework.set_facts(
            ctx, ref, {name: sample_text(process, name)}, by="koord", request_id=r))]
    onward = [t for t in process.transitions_from(record.stage) if t.event != "withdraw"]
    transition = chance.choice(onward or process.transitions)  # a closed case refuses them all
    facts = meeting_texts(process, transition)
    if kind == "advance":  # meet the items too, in a transaction of its own: others may interleave
        items = [_try(ctx, f"{rid}-items", "tick", ref, lambda r: casework.tick(
            ctx, ref, list(transition.requires.items), by="koord", request_id=r))
        ] if transition.requires.items else []
        return [*items, _try(ctx, rid, kind, ref, lambda r: casework.advance(
            ctx, ref, transition.event, by="koord", facts=facts, note=rid, request_id=r))]
    return [_try(ctx, rid, "advance", ref, lambda r: casework.advance(
        ctx, ref, transition.event, by="koord", facts=facts, note=rid, request_id=r,
        expected_version=record.version))]


def _try(ctx: Context, rid: str, kind: str, ref: str | None, change: Any) -> dict[str, Any]:
    try:
        return {"rid": rid, "kind": kind, "ref": ref, "accepted": change(rid)}
    except LotseError as refusal:
        return {"rid": rid, "kind": kind, "ref": ref, "refused": type(refusal).__name__}


def run_workers(url: str, refs: list[str]) -> list[dict[str, Any]]:
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters: nothing shared but the database
    start, results = spawn.Barrier(WORKERS), spawn.Queue()
    workers = [spawn.Process(target=work, args=(url, w, refs, start, results)) for w in range(WORKERS)]
    for process in workers:
        process.start()
    reports = [results.get(timeout=240) for _ in workers]
    for process in workers:
        process.join(timeout=30)
    crashes = [crash for _, _, crash in reports if crash]
    assert not crashes, crashes[0]
    return [change for _, tried, _ in reports for change in tried]


def check_every_change_is_kept(ctx: Context, tried: list[dict[str, Any]]) -> None:
    with ctx.db.reading() as session:
        records = session.scalars(select(CaseRecord)).all()
        for record in records:
            rows = store.history(session, record.id or 0)
            assert rows[0].action == "open" and rows[0].from_stage == rows[0].to_stage
            for before, row in itertools.pairwise(rows):
                assert row.from_stage == before.to_stage, (record.ref, before.id, row.id)
                assert (row.from_stage == row.to_stage) == (row.action in NEUTRAL)
            assert rows[-1].to_stage == record.stage
            assert record.version == sum(1 for row in rows if row.action not in NEUTRAL)
        by_request = {
            row.request_id: row
            for row in session.scalars(select(HistoryRecord).where(HistoryRecord.request_id.is_not(None)))
        }
    accepted = [c for c in tried if "accepted" in c]
    refused = [c for c in tried if "refused" in c]
    assert accepted and refused, "the workers should both get through and be refused"
    assert {c["rid"] for c in accepted} == set(by_request), "an accepted change is lost, or a refusal wrote"
    for change in accepted:
        row = by_request[change["rid"]]
        if change["kind"] == "advance":
            outcome = change["accepted"]
            assert (row.action, row.from_stage, row.to_stage, row.note) == (
                outcome["action"], outcome["from"], outcome["to"], change["rid"])
    opened = sorted(c["accepted"] for c in accepted if c["kind"] == "open")
    year = local_date(dt.datetime.now(dt.UTC), ctx.settings.timezone).year  # the alliance's year
    assert opened == [f"HL-{year}-{n:04d}" for n in range(1, WORKERS + 1)]


def test_processes_changing_the_same_cases_on_one_sqlite_file_lose_nothing(ctx: Context) -> None:
    refs = prepare(ctx)
    tried = run_workers(ctx.db.url, refs)
    check_every_change_is_kept(ctx, tried)


@pytest.fixture
def postgres_ctx(settings: Settings) -> Iterator[Context]:
    with fresh_database() as url:
        context = Context.from_settings(settings.model_copy(update={"database_url": url}), check_schema=False)
        try:
            yield context
        finally:
            context.db.dispose()


@pytest.mark.postgres
def test_processes_changing_the_same_cases_on_postgresql_lose_nothing(postgres_ctx: Context) -> None:
    refs = prepare(postgres_ctx)
    tried = run_workers(postgres_ctx.db.url, refs)
    check_every_change_is_kept(postgres_ctx, tried)


def test_the_worker_reports_a_crash_instead_of_hiding_it(tmp_path: Path) -> None:
    """The harness itself: a worker on a database without schema reports its traceback."""

    class Now:
        def wait(self, timeout: float) -> None:
            return None

    class Box(list):  # type: ignore[type-arg]
        def put(self, item: Any) -> None:
            self.append(item)

    box = Box()
    work(f"sqlite:///{tmp_path / 'missing.db'}", 0, ["SE-2026-0001"], Now(), box)
    assert box[0][2] is not None and "NotReady" in box[0][2]
