"""Publishing case overviews: what counts as missing or stale (a newer history row, a reminder, another
language), posting in bulk with bounded concurrency, and a Prefect that does not answer or refuses:
the change stands, one warning, nothing recorded as published. On SQLite and on PostgreSQL.

The Prefect API here is a small HTTP server on loopback that keeps what is posted to `/artifacts/`;
tests/flows/test_case_overviews.py posts to a real Prefect server."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from lotse.config.settings import Settings
from lotse.states import schema
from lotse.tasks import casework, deadlines, directory, overviews
from lotse.tasks.context import Context
from lotse.tasks.overviews import PrefectApi
from tests.conftest import Clock
from tests.postgres import fresh_database


class FakePrefect:
    """POST /artifacts/ answered with `status`; keeps the bodies and the most requests it held at
    once. With `together`, each request waits until that many are there (a barrier, not a clock)."""

    def __init__(self, status: int = 201, together: int = 0, unanswered: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.most_at_once = 0
        self.status = status
        self.barrier = threading.Barrier(together) if together else None
        self.unanswered = unanswered  # the first requests get no answer until the server stops
        self.seen = 0
        self.stopping = threading.Event()
        now = [0]
        lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with lock:
                    now[0] += 1
                    fake.most_at_once = max(fake.most_at_once, now[0])
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with lock:
                    fake.seen += 1
                    hang = fake.seen <= fake.unanswered
                if hang:
                    fake.stopping.wait()
                    return
                if fake.barrier is not None:
                    try:
                        fake.barrier.wait(timeout=10)
                    except threading.BrokenBarrierError:  # fewer came at once: most_at_once tells
                        fake.barrier.reset()
                with lock:
                    now[0] -= 1
                    fake.bodies.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                self.send_response(fake.status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api = PrefectApi(f"http://127.0.0.1:{self.server.server_address[1]}/api")
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def keys(self) -> list[str]:
        return sorted(body["key"] for body in self.bodies)

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def prefect() -> Iterator[FakePrefect]:
    fake = FakePrefect()
    yield fake
    fake.stop()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def opened(ctx: Context, n: int = 0) -> str:
    return casework.open_case(ctx, given_name=f"Ana{n}", family_name="Muster", nationality="PHL",
                              employer="klinik-nord")


def refs_of(ctx: Context, ids: list[int]) -> list[str]:
    from lotse.tasks import case_views

    return [v.case.ref for v in case_views.views(ctx, ids=ids)]


def test_a_case_is_stale_until_published_and_again_after_a_change_a_reminder_or_another_language(
    alliance: Context, clock: Clock, prefect: FakePrefect,
) -> None:
    first, second = opened(alliance, 1), opened(alliance, 2)
    assert refs_of(alliance, overviews.stale(alliance)) == [first, second]

    done = overviews.publish(alliance, prefect.api, refs=[first, second])

    assert done.published == [first, second] and overviews.stale(alliance) == []
    casework.tick(alliance, second, ["employment_contract"], by="klinik-nord")
    assert refs_of(alliance, overviews.stale(alliance)) == [second]
    overviews.publish_stale(alliance, prefect.api)
    assert overviews.stale(alliance) == []
    deadlines.check_deadlines(alliance, as_of=dt.date(2026, 9, 3))  # both past the 6 months of `recruited`
    assert refs_of(alliance, overviews.stale(alliance)) == [first, second]
    overviews.publish_stale(alliance, prefect.api)
    alliance.settings = alliance.settings.model_copy(update={"locale": "en"})
    assert refs_of(alliance, overviews.stale(alliance)) == [first, second]
    assert prefect.keys() == sorted([f"case-{first.lower()}"] * 2 + [f"case-{second.lower()}"] * 3)


def test_an_overview_is_posted_as_markdown_under_the_cases_key_with_the_runs_ids(
    alliance: Context, prefect: FakePrefect,
) -> None:
    ref = opened(alliance)

    overviews.publish(alliance, prefect.api, refs=[ref], flow_run_id="f-1", task_run_id="t-1")

    [body] = prefect.bodies
    assert body["path"] == "/api/artifacts/" and body["key"] == f"case-{ref.lower()}"
    assert body["type"] == "markdown" and body["data"].startswith(f"# Fall {ref}\n")
    assert body["description"].startswith(f"{ref}: Angeworben seit 02.03.2026 10:00")
    assert (body["flow_run_id"], body["task_run_id"]) == ("f-1", "t-1")
    assert "Ana0" not in json.dumps(body) and "Muster" not in json.dumps(body)


def test_many_overviews_go_out_in_one_batch_with_a_bounded_number_of_requests_at_once(
    alliance: Context,
) -> None:
    fours = FakePrefect(together=4)
    try:
        refs = [opened(alliance, n) for n in range(40)]

        done = overviews.publish(alliance, fours.api, refs=refs, concurrency=4)
    finally:
        fours.stop()

    assert sorted(done.published) == sorted(refs) and not done.failed
    assert len(fours.bodies) == 40 and fours.most_at_once == 4
    assert overviews.stale(alliance) == []


def test_a_prefect_that_does_not_answer_is_one_warning_and_nothing_counts_as_published(
    alliance: Context,
) -> None:
    refs = [opened(alliance, n) for n in range(3)]
    down = PrefectApi(f"http://127.0.0.1:{closed_port()}/api")
    warnings: list[str] = []

    started = time.perf_counter()
    done = overviews.after_change(alliance, refs, warnings.append,
                                  environ={"PREFECT_API_URL": down.url})
    took = time.perf_counter() - started

    assert len(done.failed) == 3 and not done.published
    assert warnings == [f"3 case overviews were not published (Prefect at {down.url} did not answer: "
                        "ConnectError); the change stands, and the next pipeline-report publishes it"]
    assert len(overviews.stale(alliance)) == 3
    assert took < 2.0  # a refused connection is not waited for, case after case


def test_one_unanswered_request_costs_one_overview_and_three_in_a_row_end_the_batch(
    alliance: Context,
) -> None:
    refs = [opened(alliance, n) for n in range(6)]
    busy, gone = FakePrefect(unanswered=1), FakePrefect(unanswered=99)
    try:
        once = overviews.publish(alliance, busy.api, refs=refs, concurrency=1, timeout=0.2)
        always = overviews.publish(alliance, gone.api, refs=refs, concurrency=1, timeout=0.2)
    finally:
        busy.stop()
        gone.stop()

    assert (once.failed, once.published) == (refs[:1], refs[1:])
    assert once.problem == f"Prefect at {busy.api.url} did not answer: ReadTimeout"
    assert len(always.failed) == 6 and gone.seen == 3  # the other three were not tried
    assert refs_of(alliance, overviews.stale(alliance)) == refs[:1]


def test_a_prefect_that_wants_its_auth_string_gets_it_and_a_refusal_names_the_setting(
    alliance: Context,
) -> None:
    refusing = FakePrefect(status=401)
    ref = opened(alliance)
    warnings: list[str] = []
    try:
        overviews.after_change(alliance, [ref], warnings.append, environ={
            "PREFECT_API_URL": refusing.api.url, "PREFECT_API_AUTH_STRING": "admin:secret"})
    finally:
        refusing.stop()

    assert refusing.bodies[0]["auth"] == "Basic YWRtaW46c2VjcmV0"
    assert len(warnings) == 1 and "refused with HTTP 401; set PREFECT_API_AUTH_STRING" in warnings[0]
    assert "secret" not in warnings[0]
    assert len(overviews.stale(alliance)) == 1


def test_without_prefect_api_url_nothing_is_posted(alliance: Context, prefect: FakePrefect) -> None:
    warnings: list[str] = []

    done = overviews.after_change(alliance, [opened(alliance)], warnings.append, environ={})

    assert (done.published, done.failed, warnings, prefect.bodies) == ([], [], [], [])


@pytest.mark.postgres
def test_publication_records_and_the_stale_query_work_on_postgresql(
    home: Any, clock: Clock, prefect: FakePrefect,
) -> None:
    with fresh_database() as url:
        ctx = Context.from_settings(Settings(home=home, database_url=url, _env_file=None),  # type: ignore[call-arg]
                                    check_schema=False)
        schema.upgrade(ctx.db.engine)
        ctx.clock = clock
        try:
            directory.add_actor(ctx, "klinik-nord", name="Klinik Nord", roles=["employer"], region="SE-Nord")
            refs = [opened(ctx, n) for n in range(3)]
            assert overviews.publish_stale(ctx, prefect.api).published == refs
            casework.tick(ctx, refs[1], ["employment_contract"], by="klinik-nord")
            deadlines.check_deadlines(ctx, as_of=dt.date(2026, 9, 3))
            assert refs_of(ctx, overviews.stale(ctx)) == refs
            casework.tick(ctx, refs[2], ["employment_contract"], by="klinik-nord")

            again = overviews.publish_stale(ctx, prefect.api)

            assert again.published == refs and overviews.stale(ctx) == []
            assert len(prefect.bodies) == 6
        finally:
            ctx.db.dispose()
