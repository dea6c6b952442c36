"""The scale path for real: a Prefect server on PostgreSQL, Lotse on PostgreSQL, `lotse deploy
--pool`, and two `prefect worker start` processes, each with its own PREFECT_HOME and the same
LOTSE_* settings as the deploying host (the routes file's secret only in the workers' environment).

Twenty `advance-case` runs fired at once on twenty cases: every case moves exactly once, with one
history row and one message per recipient, each sent once, no run executed twice; and a delivery
run that Prefect's scheduler made is executed by a worker (it sends the messages of a change made
outside Prefect). No process is left behind, and no log holds an error."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from prefect.deployments.flow_runs import arun_deployment
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from lotse.config.settings import Settings
from lotse.states import schema
from lotse.states.records import CaseRecord, HistoryRecord, OutboxRecord
from lotse.tasks import casework, directory
from lotse.tasks.context import Context
from tests.e2e.conftest import prefect_at
from tests.e2e.prefect_processes import LOTSE, Background, clean_environment, prefect_server, worker
from tests.notifications.conftest import Webhook
from tests.postgres import fresh_database

pytestmark = [pytest.mark.prefect, pytest.mark.postgres]

POOL = "lotse-workers"
CASES = 20
TOKEN = "hook-secret"  # stands for a webhook's secret: only in the workers' environment
ACTORS = {"koord": "coordinator", "klinik-nord": "employer", "vermittlung": "agency",
          "abh-nord": "foreigners_office"}


def test_two_workers_move_twenty_cases_at_once_exactly_once_and_run_a_scheduled_delivery(
    tmp_path: Path,
) -> None:
    with ExitStack() as running:
        lotse_db = running.enter_context(fresh_database())
        prefect_db = running.enter_context(fresh_database()).replace("+psycopg://", "+asyncpg://")
        hook = running.enter_context(webhook())
        refs, reference = prepare(lotse_db, tmp_path / "lotse-home")
        lotse_env = {
            "LOTSE_HOME": str(tmp_path / "lotse-home"), "LOTSE_DATABASE_URL": lotse_db,
            "LOTSE_NOTIFY_CONFIG": str(write_routes(tmp_path / "routes.yaml", hook.port)),
            "LOTSE_SCHEDULE_DELIVER": "* * * * *",
        }
        server = prefect_server(tmp_path / "prefect-server", database_url=prefect_db,
                                PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="1")
        running.callback(server.background.stop)
        deployed = subprocess.run(
            [*LOTSE, "deploy", "--pool", POOL], capture_output=True, text=True, timeout=120,
            env=clean_environment(PREFECT_API_URL=server.api, PREFECT_HOME=str(tmp_path / "deployer"),
                                  **lotse_env))
        assert deployed.returncode == 0, deployed.stderr
        assert f"prefect worker start --pool {POOL}" in deployed.stdout
        workers: list[Background] = []
        for name in ("w1", "w2"):
            env = clean_environment(PREFECT_API_URL=server.api, PREFECT_WORKER_QUERY_SECONDS="1",
                                    LOTSE_HOOK_TOKEN=TOKEN, **lotse_env)
            workers.append(worker(tmp_path / name, name, POOL, env))
            running.callback(workers[-1].stop)
        versions = case_versions(lotse_db)

        fired = fire(server.api, refs)
        runs = wait_until_final(server.api, list(fired.values()), timeout=150)
        scheduled = wait_for_scheduled_delivery(server.api, timeout=120)
        wait_until_sent(lotse_db, timeout=90)

        for each in workers:
            assert each.stop() == 0, each.text()  # stopped while the server still answers
        server.background.stop()
        moved = changes(lotse_db, [*refs, reference])

    assert {run.state.name for run in runs} == {"Completed"}, [(r.name, r.state.message) for r in runs]
    assert {(run.work_pool_name, run.work_queue_name) for run in runs} == {(POOL, "default")}
    executed = [executed_by(each) for each in workers]
    assert not executed[0] & executed[1], "a flow run was executed by both workers"
    assert {str(run.id) for run in runs} <= executed[0] | executed[1]
    assert all(executed), f"one worker ran nothing: {[len(e) for e in executed]}"
    assert scheduled.auto_scheduled and scheduled.work_pool_name == POOL
    assert str(scheduled.id) in executed[0] | executed[1]

    expected_recipients = moved[reference]["recipients"]
    assert sorted(expected_recipients) == ["abh-nord", "klinik-nord", "vermittlung"]
    for ref in refs:
        assert moved[ref]["stage"] == "visa" and moved[ref]["version"] == versions[ref] + 1, ref
        assert moved[ref]["request_ids"] == [f"flow-run:{fired[ref]}"], ref  # one history row, by its run
        assert moved[ref]["recipients"] == expected_recipients, ref
    posts = Counter((post["path"], post["json"]["title"]) for post in hook.posts)
    assert [key for key, count in posts.items() if count > 1] == []  # no message sent twice
    assert set(posts) == {(f"/{TOKEN}/{recipient}", subject)
                          for ref in [*refs, reference] for recipient, subject in moved[ref]["messages"]}
    for each in [server.background, *workers]:
        assert each.errors() == [], f"{each.name}:\n{each.text()[-5000:]}"


def prepare(url: str, home: Path) -> tuple[list[str], str]:
    """Twenty-one cases ready for `apply_visa`; the last is moved here, outside Prefect, as the
    measure of what one advance writes. Its messages wait for the scheduled delivery."""
    settings = Settings(database_url=url, home=home, _env_file=None)  # type: ignore[call-arg]
    ctx = Context.from_settings(settings, check_schema=False)
    try:
        schema.upgrade(ctx.db.engine)
        for actor_id, role in ACTORS.items():
            directory.add_actor(ctx, actor_id, name=actor_id.title(), roles=[role], region="SE-Nord",
                                email=f"{actor_id}@example.org")
        refs = []
        for number in range(CASES + 1):
            ref = casework.open_case(ctx, given_name="Test", family_name=f"Person {number}",
                                     nationality="PHL", employer="klinik-nord")
            casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
            refs.append(ref)
        casework.advance(ctx, refs[-1], "apply_visa", by="vermittlung")
        return refs[:-1], refs[-1]
    finally:
        ctx.db.dispose()


def write_routes(path: Path, port: int) -> Path:
    """Every actor's messages to its own path of the loopback webhook; the path's secret from
    the environment, as a real route's password would."""
    lines = ["version: 1", "urls:"]
    for actor_id in ACTORS:
        url = f"json://127.0.0.1:{port}/${{LOTSE_HOOK_TOKEN}}/{actor_id}"
        lines += [f'  - "{url}":', f"      tag: {actor_id}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def webhook() -> Iterator[Webhook]:
    server = Webhook()
    try:
        yield server
    finally:
        server.stop()


def fire(api: str, refs: list[str]) -> dict[str, str]:
    """One `advance-case` run per case, all created at once; the run id per case."""

    async def all_at_once() -> list[Any]:
        return await asyncio.gather(*(
            arun_deployment("advance-case/advance-case", timeout=0,
                            parameters={"case_ref": ref, "event": "apply_visa", "actor": "vermittlung"})
            for ref in refs))

    with prefect_at(api):
        runs = asyncio.run(all_at_once())
    return {ref: str(run.id) for ref, run in zip(refs, runs, strict=True)}


def wait_until_final(api: str, ids: list[str], timeout: float) -> list[Any]:
    deadline = time.monotonic() + timeout
    with prefect_at(api), get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(run_id) for run_id in ids]  # type: ignore[arg-type]
            if all(run.state is not None and run.state.is_final() for run in runs):
                return runs
            waiting = Counter(run.state.name for run in runs if run.state is not None)
            assert time.monotonic() < deadline, f"runs not final after {timeout:.0f} s: {waiting}"
            time.sleep(1)


def wait_for_scheduled_delivery(api: str, timeout: float) -> Any:
    """A `deliver-notifications` run Prefect's scheduler made (never this test), completed."""
    deadline = time.monotonic() + timeout
    with prefect_at(api), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("deliver-notifications/deliver-notifications")
        while True:
            runs = [run for run in client.read_flow_runs(limit=200)
                    if run.deployment_id == deployment.id and run.auto_scheduled]
            done = [run for run in runs if run.state is not None and run.state.is_completed()]
            if done:
                return done[0]
            failed = [run.state.name for run in runs if run.state is not None and run.state.is_final()]
            assert not failed, f"scheduled delivery runs ended {failed}"
            assert time.monotonic() < deadline, f"no scheduled delivery completed ({len(runs)} made)"
            time.sleep(1)


def wait_until_sent(url: str, timeout: float) -> None:
    """Until the outbox holds nothing unsent (the scheduled delivery sends what is left)."""
    deadline = time.monotonic() + timeout
    engine = create_engine(url)
    try:
        while True:
            with Session(engine) as session:
                left = Counter(session.scalars(select(OutboxRecord.status)))
            if set(left) == {"sent"}:
                return
            assert time.monotonic() < deadline, f"outbox not delivered after {timeout:.0f} s: {left}"
            time.sleep(1)
    finally:
        engine.dispose()


def case_versions(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            return {record.ref: record.version for record in session.scalars(select(CaseRecord))}
    finally:
        engine.dispose()


def changes(url: str, refs: list[str]) -> dict[str, dict[str, Any]]:
    """Per case: stage, version, the request ids of its `apply_visa` history rows, and the
    recipients and subjects of the messages those rows wrote."""
    engine = create_engine(url)
    found: dict[str, dict[str, Any]] = {}
    try:
        with Session(engine) as session:
            for ref in refs:
                record = session.scalars(select(CaseRecord).where(CaseRecord.ref == ref)).one()
                rows = list(session.scalars(select(HistoryRecord).where(
                    HistoryRecord.case_id == record.id, HistoryRecord.action == "apply_visa")))
                keys = tuple(f"h{row.id}:" for row in rows)
                messages = sorted((m.recipient, m.subject) for m in session.scalars(
                    select(OutboxRecord).where(OutboxRecord.case_id == record.id))
                    if m.dedup_key.startswith(keys))
                found[ref] = {"stage": record.stage, "version": record.version,
                              "request_ids": [row.request_id for row in rows], "messages": messages,
                              "recipients": [recipient for recipient, _ in messages]}
    finally:
        engine.dispose()
    return found


def executed_by(worker_process: Background) -> set[str]:
    """The flow runs a worker submitted to its infrastructure (not those the server took back
    because the other worker had them already)."""
    text = worker_process.text()
    submitted = set(re.findall(r"submitting flow run '([0-9a-f-]{36})'", text))
    aborted = set(re.findall(r"Aborted submission of flow run '([0-9a-f-]{36})'", text))
    return submitted - aborted
