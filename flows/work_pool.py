"""`lotse deploy --pool`: the deployments `lotse up` serves, registered to a Prefect work pool
instead, so that `prefect worker start --pool NAME` runs them on any host where Lotse is installed.

The deployments come from `deployments.build`, the one place that builds them: the same names, run
forms, privacy schema (the server refuses a personal fact or a long note before a run exists),
schedules and tags as under `lotse up`.

Who serves a deployment is told by its work pool. One in a pool belongs to the pool's workers:
`lotse up` leaves it alone (`owners`), so it neither takes its runs nor pauses it when it stops.
One without a pool, not paused and polled within the last minute, is being served by a running
`lotse up`: `lotse deploy` refuses to take it from under that runner, which would keep taking its
runs and pause it when stopped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lotse.config.settings import Settings
from lotse.flows import server as prefect_server
from lotse.states.errors import BadInput, NotReady, Refused

Say = Callable[[str], None]
RUNNER_POLL_WINDOW = dt.timedelta(seconds=60)  # Prefect counts a deployment as not ready after this


def worker_types() -> list[str]:
    """The work pool types whose worker this installation has: Lotse's workers run where Lotse is
    installed, from this same set of packages."""
    from prefect.workers.base import BaseWorker

    return sorted(BaseWorker.get_all_available_worker_types())


def deploy(settings: Settings, *, pool: str, pool_type: str = "process", say: Say = print) -> list[str]:
    """Register every deployment to `pool` (made, of `pool_type`, if the server has none such).
    Everything that can be wrong is refused before anything is registered. Returns the names."""
    from lotse.flows import deployments
    from lotse.tasks.context import Context

    ctx = Context.from_settings(settings)  # no database: refused before anything else
    pool = pool.strip()
    if not pool:
        raise BadInput("--pool needs the name of a work pool, e.g. --pool lotse")
    types = worker_types()
    if pool_type not in types:
        raise BadInput(f"unknown work pool type '{pool_type}': this installation has workers of type "
                       f"{', '.join(types)}, and Lotse's workers run where Lotse is installed")
    api = _api_url()
    planned = deployments.build(ctx)  # a bad schedule setting: refused before the server is asked
    if not prefect_server.healthy(api):
        raise NotReady(f"PREFECT_API_URL points to no answering Prefect server: {api}")

    from prefect import get_client

    with _authorised(api), get_client(sync_client=True) as client:
        names = [d.name for d in planned.built]
        existing = _existing(client, names)
        _refuse_if_served_by_lotse_up(existing)
        made = _ensure_pool(client, pool, pool_type)
        for deployment in planned.built:
            deployment.job_variables = {**deployment.job_variables, "command": engine_command()}
            deployment.apply(work_pool_name=pool)

    say(f"Prefect API: {api}")
    say(f"work pool '{pool}' ({pool_type}): {'created' if made else 'exists'}")
    say(f"registered {len(names)} deployments (tag 'lotse') to work pool '{pool}':")
    for name, cron in planned.schedules.items():
        when = f"cron '{cron}' ({settings.timezone})" if cron else "on demand"
        say(f"  {name}/{name}: {when}{_taken_from(existing.get(name), pool)}")
    for name in planned.missing:
        say(f"  {name}: skipped, flows/{name.replace('-', '_')}.py is not in this installation")
    say("run them with one or more workers, each on a host with Lotse installed and the same LOTSE_* "
        f"settings as here ({', '.join(_lotse_settings_set()) or 'none set'}):")
    # Prefect's workers ask every 10 s by default: a click in the UI would wait that long.
    say(f"  PREFECT_API_URL={api} PREFECT_WORKER_QUERY_SECONDS={settings.poll_seconds:g} "
        f"prefect worker start --pool {pool}")
    say(f"each run starts as `{engine_command()}`: install Lotse at that path on every worker host")
    if relative := _relative_paths(settings):
        being = "is a relative path" if len(relative) == 1 else "are relative paths"
        say(f"note: {', '.join(relative)} {being}: a worker runs each flow in a new temporary folder, "
            "so give absolute paths")
    if ctx.db.engine.dialect.name == "sqlite":
        say(f"note: the Lotse database is a SQLite file ({ctx.db.display_url}): only workers on this host "
            "reach it; use PostgreSQL for workers elsewhere (docs/operations.md)")
    return names


def engine_command() -> str:
    """How a worker starts a flow run: the engine of this installation's Python, as the runner of
    `lotse up` does. Without a command Prefect's process worker resolves a workspace for every run,
    about a second of CPU more per run (benchmarks/advance_case.py)."""
    from prefect.utilities.processutils import command_to_string

    return command_to_string([sys.executable, "-m", "prefect.engine"])


def owners(names: list[str]) -> dict[str, str]:
    """The deployments of these names that belong to a work pool, with the pool's name (on the
    server of the current Prefect settings)."""
    from prefect import get_client

    with _authorised(None), get_client(sync_client=True) as client:
        return {name: d.work_pool_name for name, d in _existing(client, names).items() if d.work_pool_name}


@contextlib.contextmanager
def _authorised(api: str | None) -> Iterator[None]:
    """A server that wants its auth string and did not get it (or another): one line, no traceback."""
    from prefect.exceptions import PrefectHTTPStatusError

    try:
        yield
    except PrefectHTTPStatusError as exc:
        if exc.response.status_code not in (401, 403):
            raise
        where = api or str(exc.request.url).split("/api/")[0] + "/api"
        raise NotReady(f"the Prefect server at {where} refuses the request ({exc.response.status_code}): "
                       "set PREFECT_API_AUTH_STRING to its PREFECT_SERVER_API_AUTH_STRING") from None


def _api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()  # the environment, or the active Prefect profile
    if not api:
        raise NotReady("PREFECT_API_URL is not set: set it to the API of the Prefect server the workers "
                       "use, e.g. http://prefect.example:4200/api")
    return str(api)


def _existing(client: Any, names: list[str]) -> dict[str, Any]:
    from prefect.exceptions import ObjectNotFound

    found = {}
    for name in names:
        try:
            found[name] = client.read_deployment_by_name(f"{name}/{name}")
        except ObjectNotFound:
            continue
    return found


def _refuse_if_served_by_lotse_up(existing: dict[str, Any]) -> None:
    now = dt.datetime.now(dt.UTC)
    served = [name for name, d in existing.items()
              if d.work_pool_name is None and not d.paused and d.last_polled is not None
              and now - d.last_polled < RUNNER_POLL_WINDOW]
    if served:
        raise Refused(f"{', '.join(served)} {'is' if len(served) == 1 else 'are'} served by a running "
                      "`lotse up` (polled within the last minute); stop it first (it pauses them), "
                      "then deploy to the pool")


def _ensure_pool(client: Any, pool: str, pool_type: str) -> bool:
    """Make the pool unless it exists; True when made. One of another type is refused."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.base import BaseWorker

    try:
        found = client.read_work_pool(pool)
    except ObjectNotFound:
        worker = BaseWorker.get_worker_class_from_type(pool_type)
        assert worker is not None  # checked against worker_types() before
        try:
            client.create_work_pool(WorkPoolCreate(
                name=pool, type=pool_type, base_job_template=worker.get_default_base_job_template()))
            return True
        except ObjectAlreadyExists:  # another `lotse deploy` made it just now
            found = client.read_work_pool(pool)
    if found.type != pool_type:
        raise Refused(f"work pool '{pool}' exists with type '{found.type}', not '{pool_type}'; "
                      f"give --pool-type {found.type} or another --pool")
    return False


def _taken_from(earlier: Any, pool: str) -> str:
    if earlier is None or earlier.work_pool_name == pool:
        return ""
    return f"; was in work pool '{earlier.work_pool_name}'" if earlier.work_pool_name else (
        "; was served by `lotse up`, now by the pool")


def _relative_paths(settings: Settings) -> list[str]:
    names = ("home", "process_dir", "notify_config", "template_dir")
    return [f"LOTSE_{name.upper()}" for name in names
            if f"LOTSE_{name.upper()}" in os.environ and (path := getattr(settings, name)) is not None
            and not Path(path).is_absolute()]


def _lotse_settings_set() -> list[str]:
    """The names (never the values: they may hold passwords) of the LOTSE_* variables set here."""
    return sorted(name for name in os.environ if name.startswith("LOTSE_"))
