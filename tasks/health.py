"""Is this installation ready to run: the checks of `lotse doctor`, one result each.

A check is a plain function of the installation that returns results (name, ok/warn/fail, a
one-line detail, data for scripts). A failure is a result, never an exception: a missing,
uninitialised, stale or unreachable database is a `fail` saying what to do. Nothing here writes:
a SQLite file is opened only when it is there, and Prefect is asked over HTTP only when it is
configured (PREFECT_API_URL, or a running `lotse up`), without importing it.

To add a check, write a function and list it in CHECKS.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from lotse.config.settings import Settings
from lotse.states import definitions, schema
from lotse.states.database import Database
from lotse.states.errors import BadInput, DefinitionError
from lotse.states.process import Catalog, Process, load_file
from lotse.states.records import OutboxRecord, utcnow
from lotse.tasks import prefect_api
from lotse.tasks import secret_key as keys

Status = Literal["ok", "warn", "fail"]
PG_CONNECT_TIMEOUT_S = 5  # a server that does not answer is a fail line, not a hang


@dataclass(frozen=True)
class Result:
    name: str
    status: Status
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.status:<6}{self.name}: {self.detail}"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "data": self.data}


@dataclass
class Installation:
    """What the checks look at. The database and the definitions are set by their checks when
    they are usable, for the checks after them."""

    settings: Settings
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock: Callable[[], dt.datetime] = utcnow
    db: Database | None = None
    catalog: Catalog | None = None


Check = Callable[[Installation], list[Result]]


def examine(installation: Installation) -> list[Result]:
    """Every check, in order."""
    results: list[Result] = []
    try:
        for check in CHECKS:
            results += check(installation)
    finally:
        if installation.db is not None:
            installation.db.dispose()
    return results


def failed(results: list[Result]) -> bool:
    return any(r.status == "fail" for r in results)


# -- the database ----------------------------------------------------------------------------------


def database(inst: Installation) -> list[Result]:
    """Reachable, made by `lotse init`, and at the schema revision of this Lotse."""
    try:
        db = _open(inst.settings.db_url)  # a bad URL is a bad setting: one error line, exit 2
    except ImportError as exc:
        return [_fail("database", f"the driver of LOTSE_DATABASE_URL is not installed ({exc.name})")]
    shown, head = make_url(inst.settings.db_url).render_as_string(hide_password=True), schema.head()
    data: dict[str, Any] = {"url": shown, "revision": None, "head": head}
    # Opening a SQLite file that is not there would create it.
    if db.sqlite_file is not None and not db.sqlite_file.is_file():
        db.dispose()
        return [_fail("database", f"no Lotse database at {db.sqlite_file}; run `lotse init`", data)]
    try:
        have = schema.current(db.engine)
    except DBAPIError as exc:
        db.dispose()
        reason = " ".join(str(exc.orig).split())
        return [_fail("database", f"cannot open {shown}: {reason}; start the database server or "
                                  "fix LOTSE_DATABASE_URL, then run `lotse init`", data)]
    data["revision"] = have
    if have is None:
        db.dispose()
        return [_fail("database", f"{shown} has no Lotse schema; run `lotse init`", data)]
    if have != head:
        db.dispose()
        if _newer(have, head):
            return [_fail("database", f"{shown} schema {have} is newer than this Lotse knows ({head}); "
                                      "install the Lotse version that wrote it", data)]
        return [_fail("database", f"{shown} schema {have}, this Lotse needs {head}; back it up "
                                  "(`lotse backup FILE`), then run `lotse init` to upgrade", data)]
    inst.db = db
    return [Result("database", "ok", f"{shown} schema {have} (current)", data)]


def _open(url: str) -> Database:
    db = Database(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return db
    db.dispose()
    timed = parsed.update_query_dict({"connect_timeout": str(PG_CONNECT_TIMEOUT_S)})
    return Database(timed.render_as_string(hide_password=False))


def _newer(have: str, head: str) -> bool:
    return have.isdigit() and head.isdigit() and int(have) > int(head)


# -- the process definitions -----------------------------------------------------------------------


def processes(inst: Installation) -> list[Result]:
    """Every definition file loads, and every case runs on a definition that is loaded."""
    layers: list[list[Process]] = []
    problems: list[str] = []
    for folder in inst.settings.process_dirs:
        if not folder.is_dir():
            problems.append(f"{folder}: process folder does not exist (LOTSE_PROCESS_DIR)")
            continue
        layers.append([])
        for path in sorted(folder.glob("*.y*ml")):
            try:
                layers[-1].append(load_file(path))
            except DefinitionError as exc:
                problems.append(str(exc))
    loaded = [p for layer in layers for p in layer]
    try:
        catalog = Catalog.layered(layers)
        loaded = catalog.versions()
    except DefinitionError as exc:
        problems.append(str(exc))
        catalog = None
    else:
        inst.catalog = catalog
        problems += _stored_copies(inst, catalog)
    keys = sorted(p.key for p in loaded)
    data = {"loaded": keys, "problems": problems}
    if problems:
        return [_fail("processes", "; ".join(problems), data)]
    return [Result("processes", "ok", f"{', '.join(keys)} ({len(loaded)} files)", data)]


def _stored_copies(inst: Installation, catalog: Catalog) -> list[str]:
    """Versions edited in place under running cases, and cases on a version nothing defines."""
    if inst.db is None:
        return []
    try:
        edited = definitions.bind(catalog, inst.db)
    except DefinitionError as exc:
        return [str(exc)]
    _, unknown = definitions.adopt(catalog, inst.db, inst.clock(), write=False)
    return [str(e) for e in edited] + [str(u) for u in unknown]


# -- notification routes ---------------------------------------------------------------------------


def routes(inst: Installation) -> list[Result]:
    """Every role or actor a message may go to (route_check.messaged_roles) has a route."""
    if inst.db is None or inst.catalog is None:
        return [Result("routes", "warn", "not checked: needs the database and the definitions")]
    settings = inst.settings
    if settings.notify_config is None:  # a trial (the demo) runs without: its messages wait
        return [Result("routes", "warn", "LOTSE_NOTIFY_CONFIG is not set: no one is told of a change and "
                                         "every message waits in the outbox; set it to an Apprise file "
                                         "(see config/notify.example.yaml)")]
    from lotse.tasks import route_check  # Apprise only where routes are read
    from lotse.tasks.context import Context

    summary, problems = route_check.route_report(Context(inst.db, inst.catalog, settings))
    data = {"routes": summary, "problems": problems}
    if problems:
        more = f" (and {len(problems) - 1} more: `lotse doctor --json` lists them)" if problems[1:] else ""
        return [_fail("routes", f"{problems[0]}{more}", data)]
    return [Result("routes", "ok", f"{summary}; every notified role has one", data)]


# -- the outbox ------------------------------------------------------------------------------------


def outbox(inst: Installation) -> list[Result]:
    """What waits to be sent: pending and failed rows warn, a dead row fails."""
    if inst.db is None:
        return [Result("outbox", "warn", "not checked: needs the database")]
    with inst.db.reading() as session:
        counts = dict(session.execute(
            select(OutboxRecord.status, func.count()).group_by(OutboxRecord.status)).all())
        oldest = session.scalar(select(func.min(OutboxRecord.created_at))
                                .where(OutboxRecord.status == "pending"))
        resent = int(session.scalar(select(func.count()).where(OutboxRecord.resent > 0)) or 0)  # type: ignore[operator]
    pending, failed_, dead = (int(counts.get(s, 0)) for s in ("pending", "failed", "dead"))
    demo = int(counts.get("demo", 0))
    data = {"pending": pending, "failed": failed_, "dead": dead, "sent": int(counts.get("sent", 0)),
            "demo": demo, "oldest_pending": oldest.isoformat(timespec="seconds") if oldest else None,
            "resent": resent}
    detail = f"{pending} pending, {failed_} failed, {dead} dead"
    if resent:
        detail += (f", {resent} maybe sent twice (a delivery died while sending; RESENT in "
                   "`lotse outbox`)")
    history = f"; {demo} of the demo alliance are kept as history, never sent" if demo else ""
    if dead:
        return [_fail("outbox", f"{detail}: delivery gave up on {dead}; see `lotse outbox --status "
                                f"dead`, fix the route (`lotse notify test`), then `lotse outbox retry "
                                f"--dead --by ACTOR_ID`{history}", data)]
    if failed_:
        return [Result("outbox", "warn", f"{detail}: failed ones are retried with backoff; see "
                                         f"`lotse outbox --status failed`{history}", data)]
    if pending:
        since = f" (oldest {_ago(inst.clock() - oldest)} ago)" if oldest else ""
        return [Result("outbox", "warn", f"{detail}{since}: `lotse notify` or the "
                                         f"deliver-notifications flow sends them{history}", data)]
    return [Result("outbox", "ok", f"{detail}{history}", data)]


# -- Prefect ---------------------------------------------------------------------------------------


def prefect(inst: Installation) -> list[Result]:
    """The Prefect API answers, and each scheduled Lotse deployment completed a run lately."""
    server = prefect_api.server(inst.settings, inst.environ)
    if server is None:
        return [Result("prefect", "ok", "not used: PREFECT_API_URL is not set and `lotse up` is not "
                                        "running; commands work on the database directly")]
    api = prefect_api.shown(server.api)
    data: dict[str, Any] = {"api": api, "via": server.reason}
    with prefect_api.Api(server.api, inst.environ) as client:
        try:
            client.healthy()
            deployments = client.deployments()
        except prefect_api.ApiError as exc:
            hint = ("start the server, or fix PREFECT_API_URL" if server.reason == "PREFECT_API_URL" else
                    "is LOTSE_PREFECT_PORT the port `lotse up` serves on?")
            return [_fail("prefect", f"{api} ({server.reason}): {exc}; {hint}", data)]
        scheduled = [d for d in deployments if d.schedules]
        data["deployments"] = [d.name for d in deployments]
        if not deployments:
            return [Result("prefect", "warn", f"{api} answers ({server.reason}), but has no Lotse "
                                              "deployment (tag 'lotse'); run `lotse up`", data)]
        results = [Result("prefect", "ok", f"{api} answers ({server.reason}); {len(deployments)} Lotse "
                                           f"deployments, {len(scheduled)} scheduled", data)]
        for deployment in scheduled:
            try:
                results.append(schedule(inst, deployment, client.last_completed(deployment.id)))
            except prefect_api.ApiError as exc:
                results.append(_fail(f"schedule {deployment.name}", str(exc)))
    return results


def schedule(inst: Installation, deployment: prefect_api.Deployment, last: dt.datetime | None) -> Result:
    """A scheduled deployment's line: warn when paused, never completed, or last completed more
    than two of its intervals ago."""
    name = f"schedule {deployment.name}"
    now = inst.clock()
    plan = deployment.schedules[0]
    every = _interval(plan, now)
    what = f"cron '{plan.cron}' ({plan.timezone})" if plan.cron else (
        f"every {_ago(every)}" if every else "a schedule")
    data: dict[str, Any] = {
        "deployment": deployment.name, "cron": plan.cron, "timezone": plan.timezone,
        "interval_s": every.total_seconds() if every else None, "paused": deployment.paused,
        "last_completed": last.isoformat(timespec="seconds") if last else None,
    }
    if deployment.paused or not any(s.active for s in deployment.schedules):
        return Result(name, "warn", f"{what} is paused: no run is made; `lotse up` resumes it", data)
    if last is None:
        return Result(name, "warn", f"{what}: no completed run yet", data)
    age = now - last
    done = f"{what}: last completed {_ago(age)} ago"
    if every is not None and age > 2 * every:
        return Result(name, "warn", f"{done}, more than two intervals ({_ago(every)} each); are "
                                    "`lotse up` and its runs working? see the Prefect UI", data)
    return Result(name, "ok", done, data)


def _interval(plan: prefect_api.Schedule, now: dt.datetime) -> dt.timedelta | None:
    """The time between the schedule's next two runs."""
    if plan.interval is not None:
        return plan.interval
    if not plan.cron:
        return None
    # cronsim: a dependency of Lotse (pyproject.toml), and of Prefect's scheduler too.
    from cronsim import CronSim, CronSimError

    try:
        runs = CronSim(plan.cron, now.astimezone(ZoneInfo(plan.timezone)))
        first, second = next(runs), next(runs)
    except (CronSimError, ZoneInfoNotFoundError, StopIteration, ValueError):
        return None
    return second.astimezone(dt.UTC) - first.astimezone(dt.UTC)


def _ago(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = seconds / size
            shown = f"{amount:.0f}" if amount >= 10 or amount == int(amount) else f"{amount:.1f}"
            return f"{shown} {'day' if unit == 'days' and shown == '1' else unit}"
    return f"{seconds} s"


# -- the secret key and the privacy of the files ---------------------------------------------------


def secret_key(inst: Installation) -> list[Result]:
    """A key signs the links (LOTSE_SECRET_KEY, or the file `lotse init` writes), and the home,
    the key file and the SQLite database are private. Never shows the key."""
    settings = inst.settings
    url = make_url(settings.db_url)
    sqlite_file = (Path(url.database) if url.get_backend_name() == "sqlite"
                   and url.database not in (None, "", ":memory:") else None)
    opened = keys.too_open(keys.private_paths(settings, sqlite_file))
    path = settings.secret_key_file.resolve()
    data: dict[str, Any] = {"source": None, "file": str(path), "too_open": [str(o.path) for o in opened]}
    fixes = "; ".join(str(o) for o in opened)
    if settings.secret_key is not None:
        data["source"] = "LOTSE_SECRET_KEY"
        found = "LOTSE_SECRET_KEY is set"
    elif settings.signing_key() is not None:
        data["source"] = "file"
        found = f"{path}"
    else:
        problem = (f"{path} holds no usable key (at least 32 characters): remove it and run `lotse init`, "
                   "or set LOTSE_SECRET_KEY" if path.exists() else
                   f"no key to sign answer and sign-in links: run `lotse init` (it writes {path}, mode 0600) "
                   "or set LOTSE_SECRET_KEY")
        return [_fail("secret key", problem + (f"; also {fixes}" if fixes else ""), data)]
    if opened:
        return [Result("secret key", "warn", f"{found}, but {fixes}", data)]
    return [Result("secret key", "ok", f"{found}; home, key and database are private", data)]


def public_url(inst: Installation) -> list[Result]:
    """Links in messages point to LOTSE_PUBLIC_URL; without it, to the desk on this machine."""
    settings = inst.settings
    data = {"links_to": settings.desk_url}
    if settings.public_url is None:
        detail = (f"LOTSE_PUBLIC_URL is not set: links in messages point to {settings.desk_url}, reachable "
                  "on this machine only; set it to the address the desk is reached at")
        return [Result("public url", "warn", detail, data)]
    return [Result("public url", "ok", f"links in messages point to {settings.public_url}", data)]


def programmes(inst: Installation) -> list[Result]:
    """The funding programmes costs are charged to load (LOTSE_PROGRAMMES_FILE); without the
    setting, the shipped examples stand in, which an alliance replaces with its own."""
    from lotse.states import programmes as funding

    given = inst.settings.programmes_file
    try:
        found = funding.load(given)
    except BadInput as exc:  # a file missing or invalid: named, with its key
        return [_fail("programmes", str(exc))]
    data = {"file": str(given or funding.SHIPPED), "programmes": sorted(found)}
    if given is None:
        return [Result("programmes", "warn", f"the shipped examples only ({', '.join(found)}); name the "
                       "alliance's funding programmes in LOTSE_PROGRAMMES_FILE (docs/costs.md)", data)]
    return [Result("programmes", "ok", f"{len(found)} funding programme(s) in {given}", data)]


def _fail(name: str, detail: str, data: dict[str, Any] | None = None) -> Result:
    return Result(name, "fail", detail, data or {})


CHECKS: list[Check] = [database, processes, routes, outbox, prefect, secret_key, public_url, programmes]
