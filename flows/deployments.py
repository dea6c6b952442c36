"""One deployment per flow, with the schedules from the settings (cron, in the alliance's time zone).

`advance-case` offers the events of the loaded process definitions and the actors of the directory
as choices in the Prefect UI's run form; they are read when `lotse up` starts, so restart it after
adding actors or processes.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prefect.deployments.runner import EntrypointType
from prefect.schedules import Cron

from config.settings import Settings
from states.errors import BadInput
from tasks.context import Context

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

TAGS = ["lotse"]


@dataclass(frozen=True)
class Planned:
    """A flow to deploy: where it lives, and the setting holding its schedule (if any)."""

    module: str
    function: str
    name: str
    schedule_setting: str | None = None


PLANNED = [
    Planned("flows.advance_case", "advance_case", "advance-case"),
    Planned("flows.enrol_cohort", "enrol_cohort", "enrol-cohort"),
    Planned("flows.pipeline_report", "pipeline_report", "pipeline-report", "schedule_report"),
    Planned("flows.deliver_notifications", "deliver_notifications", "deliver-notifications",
            "schedule_deliver"),
    Planned("flows.check_deadlines", "check_deadlines", "check-deadlines", "schedule_check"),
]


@dataclass
class Deployments:
    built: list[RunnerDeployment]
    schedules: dict[str, str | None]  # deployment name -> cron, None when on demand only
    missing: list[str]  # flows not (yet) in this installation


def build(ctx: Context) -> Deployments:
    """The deployments of every flow present, with their schedules and the `advance-case` choices."""
    result = Deployments([], {}, [])
    for plan in PLANNED:
        flow = _load(plan)
        if flow is None:
            result.missing.append(plan.name)
            continue
        cron = schedule(ctx.settings, plan.schedule_setting) if plan.schedule_setting else None
        deployment = flow.to_deployment(
            name=plan.name, tags=TAGS, entrypoint_type=EntrypointType.MODULE_PATH,
            schedules=[Cron(cron, timezone=ctx.settings.timezone)] if cron else None,
        )
        if plan.name == "advance-case":
            offer_choices(deployment, event=events(ctx), actor=actors(ctx))
        result.built.append(deployment)
        result.schedules[plan.name] = cron
    return result


def schedule(settings: Settings, setting: str) -> str | None:
    """The cron of a schedule setting, or None when switched off (empty, `off`, `none`)."""
    value = (getattr(settings, setting) or "").strip()
    if value.lower() in ("", "off", "none", "false", "no"):
        return None
    try:
        Cron(value, timezone=settings.timezone)
    except ValueError as exc:
        raise BadInput(f"LOTSE_{setting.upper()}: '{value}' is not a cron schedule "
                       f"(e.g. '30 6 * * *'), or empty to switch it off: {exc}") from None
    return value


def events(ctx: Context) -> list[str]:
    return list(dict.fromkeys(e for p in ctx.catalog.latest() for e in p.events))


def actors(ctx: Context) -> list[str]:
    from states.store import list_actors

    with ctx.db.reading() as session:
        return [a.id for a in list_actors(session)]


def offer_choices(deployment: RunnerDeployment, **choices: list[str]) -> None:
    """Turn free-text parameters into pick lists of the run form (a JSON schema `enum`), the way
    Prefect itself marks frozen parameters."""
    properties: dict[str, Any] = deployment._parameter_openapi_schema.properties
    for name, values in choices.items():
        if name in properties and values:
            properties[name]["enum"] = values


def _load(plan: Planned) -> Any:
    try:
        module = importlib.import_module(plan.module)
    except ModuleNotFoundError as exc:
        if exc.name == plan.module:
            return None
        raise
    return getattr(module, plan.function, None)
