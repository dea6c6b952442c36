"""Prefect's REST API read over plain HTTP, for `lotse doctor`: which server Lotse uses, whether it
answers, Lotse's deployments with their schedules, and when each last completed a run.

No `prefect` import: the doctor is a read-only command and must stay fast, and it runs where
Prefect is not configured at all. Every filter request sets `limit` and `sort` itself: some
FastAPI versions refuse the `null` Prefect's own client sends (see pyproject.toml).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lotse.config import hosts
from lotse.config.settings import Settings

TAG = "lotse"  # the tag of Lotse's deployments (flows/deployments.py)
UP_LOCK = "up.lock"  # `lotse up` holds it, with its pid, while it runs (flows/up.py `_only_one`)
TIMEOUT_S = 5.0
PAGE = 200  # the most a filter request returns by default


class ApiError(Exception):
    """The server did not answer, or not as expected; the message says what to do."""


@dataclass(frozen=True)
class Server:
    """The Prefect API Lotse uses, and why it is this one."""

    api: str
    reason: str  # "PREFECT_API_URL" or "lotse up (pid N)"


@dataclass(frozen=True)
class Schedule:
    cron: str | None
    interval: dt.timedelta | None
    timezone: str
    active: bool


@dataclass(frozen=True)
class Deployment:
    id: str
    name: str  # flow/deployment
    paused: bool
    schedules: list[Schedule]


def server(settings: Settings, environ: Mapping[str, str] | None = None) -> Server | None:
    """The server of PREFECT_API_URL, else the local one of a running `lotse up`, else None."""
    environ = os.environ if environ is None else environ
    given = environ.get("PREFECT_API_URL", "").strip()
    if given:
        return Server(given.rstrip("/"), "PREFECT_API_URL")
    pid = up_pid(settings.home)
    if pid is None:
        return None
    address = hosts.for_clients(settings.prefect_host)
    return Server(f"http://{address}:{settings.prefect_port}/api", f"lotse up, pid {pid}")


def up_pid(home: Path) -> int | None:
    """The pid of the `lotse up` running for this home, read from its lock file without taking
    the lock: a doctor must never make a starting `lotse up` think another one runs."""
    try:
        pid = int((home / UP_LOCK).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, under another user
        pass
    return pid


def shown(api: str) -> str:
    """The address without any user or password in it."""
    import httpx

    return str(httpx.URL(api).copy_with(username=None, password=None))


class Api:
    """A small client of the endpoints the doctor reads."""

    def __init__(self, api: str, environ: Mapping[str, str] | None = None) -> None:
        import httpx  # only where Prefect is configured: it adds a tenth of a second

        environ = os.environ if environ is None else environ
        self.client = httpx.Client(base_url=api.rstrip("/") + "/", headers=auth_headers(environ),
                                   timeout=TIMEOUT_S)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.client.close()

    def healthy(self) -> None:
        self._call("GET", "health")

    def deployments(self) -> list[Deployment]:
        """Lotse's deployments, by name."""
        found = self._call("POST", "deployments/filter", {
            "deployments": {"tags": {"all_": [TAG]}}, "sort": "NAME_ASC", "limit": PAGE, "offset": 0,
        })
        flows = {f["id"]: f["name"] for f in self._call("POST", "flows/filter", {
            "flows": {"id": {"any_": sorted({d["flow_id"] for d in found})}},
            "sort": "NAME_ASC", "limit": PAGE, "offset": 0,
        })} if found else {}
        return [Deployment(
            id=d["id"], name=f"{flows.get(d['flow_id'], '?')}/{d['name']}", paused=bool(d.get("paused")),
            schedules=[_schedule(s) for s in d.get("schedules") or []],
        ) for d in found]

    def last_completed(self, deployment_id: str) -> dt.datetime | None:
        """When the newest completed run of a deployment ended; None if none has."""
        runs = self._call("POST", "flow_runs/filter", {
            "flow_runs": {"deployment_id": {"any_": [deployment_id]},
                          "state": {"type": {"any_": ["COMPLETED"]}}},
            "sort": "END_TIME_DESC", "limit": 1, "offset": 0,
        })
        ended = runs[0].get("end_time") if runs else None
        return _moment(ended) if ended else None

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import httpx

        try:
            response = self.client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise ApiError(f"no answer ({type(exc).__name__}: {exc})") from None
        if response.status_code in (401, 403):
            raise ApiError(f"HTTP {response.status_code} on /{path}: set PREFECT_API_AUTH_STRING "
                           "(or PREFECT_API_KEY) as for the server")
        if response.status_code >= 400:
            raise ApiError(f"HTTP {response.status_code} on /{path}: {response.text[:200]}")
        try:
            return response.json()
        except ValueError:
            raise ApiError(f"/{path} did not answer JSON: is this a Prefect API?") from None


def auth_headers(environ: Mapping[str, str]) -> dict[str, str]:
    """The same Authorization header Prefect's client sends: the auth string first, else a key."""
    if auth := environ.get("PREFECT_API_AUTH_STRING"):
        return {"Authorization": f"Basic {base64.b64encode(auth.encode()).decode()}"}
    if key := environ.get("PREFECT_API_KEY"):
        return {"Authorization": f"Bearer {key}"}
    return {}


def _schedule(row: dict[str, Any]) -> Schedule:
    schedule = row.get("schedule") or {}
    seconds = schedule.get("interval")
    return Schedule(
        cron=schedule.get("cron"),
        interval=dt.timedelta(seconds=float(seconds)) if seconds is not None else None,
        timezone=schedule.get("timezone") or "UTC",
        active=bool(row.get("active", True)),
    )


def _moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
