"""Publishing case overviews to Prefect, and knowing which are missing or stale.

Every change of a case, from any entry point, publishes the case's overview (the markdown artifact
`case-<ref>`, see tasks/case_overview.py) right after its commit, when a Prefect API is configured.
What each published overview showed is kept in `case_overviews` (the newest history row, the
reminder levels of the open deadlines, the language); `pipeline-report` publishes again every case
whose overview is missing or no longer matches.

Publishing never fails or slows down a change: it runs after the commit, over plain HTTP
(`POST /artifacts/`, no Prefect import, a few milliseconds a case), bounded in time and in
concurrency. When Prefect does not answer, the change stands, the caller gets one warning, and the
next `pipeline-report` publishes what was missed. Inside a flow run the artifacts carry the run's
id, so the UI lists them under the run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select

from lotse.states.records import CaseRecord, DeadlineRecord, HistoryRecord, OverviewRecord
from lotse.tasks import case_overview, case_views
from lotse.tasks.case_overview import CaseView
from lotse.tasks.context import Context
from lotse.tasks.prefect_api import auth_headers, shown

# Requests at once. Prefect's server writes each artifact in a transaction of its own: on SQLite it
# takes about 130 a second here with 4 at once, and no more with 8 or 16.
CONCURRENCY = 4
CHUNK = 500  # cases read, rendered, posted and recorded at a time
TIMEOUT_S = 5.0  # a request after a change; connecting gets less: a server that is down refuses at once
CONNECT_S = 2.0
BULK_TIMEOUT_S = 30.0  # a request of a batch in a flow run, where a busy server may queue writes
GIVE_UP_AFTER = 3  # requests in a row without an answer: the rest of a batch is not tried


@dataclass(frozen=True)
class PrefectApi:
    """Where overviews go: the API's address and the headers Prefect's own client would send."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> PrefectApi | None:
        """The API of PREFECT_API_URL, or None when none is configured."""
        environ = os.environ if environ is None else environ
        url = environ.get("PREFECT_API_URL", "").strip()
        return cls(url.rstrip("/"), auth_headers(environ)) if url else None


@dataclass
class Outcome:
    """What a publication did: how many overviews went out, how many not, and why not."""

    published: list[str] = field(default_factory=list)  # references
    failed: list[str] = field(default_factory=list)
    problem: str | None = None

    def add(self, other: Outcome) -> None:
        self.published += other.published
        self.failed += other.failed
        self.problem = self.problem or other.problem

    def warning(self) -> str | None:
        """One line for the caller when some were not published; None when all were."""
        if not self.failed:
            return None
        what = (f"the case overview of {self.failed[0]} was" if len(self.failed) == 1
                else f"{len(self.failed)} case overviews were")
        return (f"{what} not published ({self.problem}); the change stands, and the next "
                "pipeline-report publishes it")


@dataclass(frozen=True)
class Published:
    """One overview as it is posted: its key, markdown and one-line description."""

    view: CaseView
    key: str
    markdown: str
    description: str


def rendered(ctx: Context, view: CaseView) -> Published:
    """A case's overview in the alliance's language and time zone, with the desk link if set."""
    settings = ctx.settings
    return Published(
        view, case_overview.key(view.case.ref),
        case_overview.render(view, locale=settings.locale, timezone=settings.timezone,
                             public_url=settings.public_url),
        case_overview.summary(view, locale=settings.locale, timezone=settings.timezone),
    )


def after_change(ctx: Context, refs: Iterable[str], warn: Callable[[str], None],
                 environ: Mapping[str, str] | None = None) -> Outcome:
    """Publish the overviews of cases a committed change touched, when PREFECT_API_URL is set;
    never raises: a problem is one warning, and the next `pipeline-report` catches up."""
    api = PrefectApi.from_environ(environ)
    wanted = list(dict.fromkeys(refs))
    if api is None or not wanted:
        return Outcome()
    try:
        outcome = publish(ctx, api, refs=wanted)
    except Exception as exc:  # the change is committed: whatever fails here must not undo its exit code
        outcome = Outcome(failed=wanted, problem=f"{type(exc).__name__}: {_one_line(str(exc))}")
    if (line := outcome.warning()) is not None:
        warn(line)
    return outcome


def publish(
    ctx: Context, api: PrefectApi, *, refs: list[str] | None = None, ids: list[int] | None = None,
    flow_run_id: str | None = None, task_run_id: str | None = None, concurrency: int = CONCURRENCY,
    timeout: float = TIMEOUT_S,
) -> Outcome:
    """Publish the overviews of these cases (by reference or id), `CHUNK` at a time, and record
    what each showed. Stops trying when Prefect refuses the connection, or leaves three requests
    in a row without an answer."""
    outcome = Outcome()
    wanted: list[Any] = list(refs) if refs is not None else list(ids or [])
    with _Poster(api, concurrency, flow_run_id, task_run_id, timeout) as poster:
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start:start + CHUNK]
            views = (case_views.views(ctx, refs=chunk) if refs is not None
                     else case_views.views(ctx, ids=chunk))
            done = poster.post([rendered(ctx, view) for view in views])
            outcome.add(done)
            published = set(done.published)
            record(ctx, [view for view in views if view.case.ref in published])
    return outcome


def record(ctx: Context, views: list[CaseView]) -> None:
    """Remember what the published overviews show: their newest history row, levels, language."""
    if not views:
        return
    now = ctx.clock()
    rows = [{"case_id": v.case_id, "history_id": v.history_id, "deadline_levels": v.deadline_levels,
             "locale": ctx.settings.locale, "published_at": now} for v in views]
    with ctx.db.writing() as session:
        if ctx.db.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        statement = insert(OverviewRecord)
        session.execute(statement.on_conflict_do_update(
            index_elements=["case_id"],
            set_={name: statement.excluded[name]
                  for name in ("history_id", "deadline_levels", "locale", "published_at")},
        ), rows)


def stale(ctx: Context) -> list[int]:
    """The ids of every case whose overview was never published, or shows an older state: a newer
    history row, other reminder levels, another language."""
    newest = (select(HistoryRecord.case_id, func.max(HistoryRecord.id).label("id"))
              .group_by(HistoryRecord.case_id).subquery())
    levels = (select(DeadlineRecord.case_id, func.sum(DeadlineRecord.level).label("levels"))
              .where(DeadlineRecord.closed_at.is_(None))  # type: ignore[union-attr]
              .group_by(DeadlineRecord.case_id).subquery())
    o = OverviewRecord
    query = (
        select(CaseRecord.id)
        .outerjoin(o, o.case_id == CaseRecord.id)
        .outerjoin(newest, newest.c.case_id == CaseRecord.id)
        .outerjoin(levels, levels.c.case_id == CaseRecord.id)
        .where(or_(
            o.case_id.is_(None),  # type: ignore[attr-defined]
            o.history_id < func.coalesce(newest.c.id, 0),
            o.deadline_levels != func.coalesce(levels.c.levels, 0),
            o.locale != ctx.settings.locale,
        ))
        .order_by(CaseRecord.id)
    )
    with ctx.db.reading() as session:
        return list(session.scalars(query))


def publish_stale(ctx: Context, api: PrefectApi, **run: Any) -> Outcome:
    """Publish every missing or stale overview, in one batch."""
    return publish(ctx, api, ids=stale(ctx), **run)


class _Poster:
    """Posts overviews with a bounded number of requests at once; once Prefect fails to answer,
    the rest are not tried (each would wait for the timeout)."""

    def __init__(
        self, api: PrefectApi, concurrency: int, flow_run_id: str | None, task_run_id: str | None,
        timeout: float = TIMEOUT_S,
    ) -> None:
        import httpx  # only where overviews are published: a tenth of a second off every other command

        self.api, self.concurrency = api, max(1, concurrency)
        self.links = {k: v for k, v in (("flow_run_id", flow_run_id), ("task_run_id", task_run_id)) if v}
        self.client = httpx.Client(
            base_url=api.url + "/", headers=dict(api.headers),
            timeout=httpx.Timeout(timeout, connect=CONNECT_S),
            limits=httpx.Limits(max_connections=self.concurrency),
        )
        self.down: str | None = None
        self.unanswered = 0  # requests in a row
        self._lock = threading.Lock()

    def __enter__(self) -> _Poster:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.client.close()

    def post(self, overviews: list[Published]) -> Outcome:
        outcome = Outcome()
        if len(overviews) == 1 or self.concurrency == 1:
            results = [self._one(o) for o in overviews]
        else:
            with ThreadPoolExecutor(self.concurrency) as pool:
                results = list(pool.map(self._one, overviews))
        for published, problem in zip(overviews, results, strict=True):
            if problem is None:
                outcome.published.append(published.view.case.ref)
            else:
                outcome.failed.append(published.view.case.ref)
                outcome.problem = outcome.problem or problem
        return outcome

    def _one(self, overview: Published) -> str | None:
        """Post one overview; None when Prefect took it, else why not."""
        import httpx

        if self.down is not None:
            return self.down
        body = {"key": overview.key, "type": "markdown", "data": overview.markdown,
                "description": overview.description, **self.links}
        try:
            response = self.client.post("artifacts/", json=body)
        except httpx.HTTPError as exc:
            problem = f"Prefect at {shown(self.api.url)} did not answer: {type(exc).__name__}"
            with self._lock:
                self.unanswered += 1
                # Nobody listening is down for good; a slow answer may be a busy moment.
                if isinstance(exc, httpx.ConnectError) or self.unanswered >= GIVE_UP_AFTER:
                    self.down = self.down or problem
            return problem
        with self._lock:
            self.unanswered = 0
        if response.status_code in (401, 403):
            with self._lock:
                self.down = (f"Prefect at {shown(self.api.url)} refused with HTTP {response.status_code}; "
                             "set PREFECT_API_AUTH_STRING (or PREFECT_API_KEY) as for the server")
            return self.down
        if response.status_code >= 400:
            return f"Prefect answered HTTP {response.status_code}: {_one_line(response.text)[:200]}"
        return None


def _one_line(text: str) -> str:
    return " ".join(text.split())
