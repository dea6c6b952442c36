"""One deployment per flow, with the schedules from the settings (cron, in the alliance's time zone).

`advance-case` offers the events of the loaded process definitions and the actors of the directory
as choices in the Prefect UI's run form, and `enrol-cohort` the files of the inbox (by the hash of
their content, never their names); they are read when `lotse up` starts, so restart it after adding
actors or processes, or after `lotse enrol` put a file in the inbox that the form should offer.

Prefect stores a run's parameters when it creates the run, before any Lotse code sees them, and
keeps them for ever. So the form itself admits only the non-personal facts of the processes and a
short note, and the server enforces the form's schema: a run with a personal fact is refused at
creation and nothing of it is stored.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prefect.deployments.runner import EntrypointType
from prefect.schedules import Cron

from lotse.config.settings import Settings
from lotse.states.errors import BadInput
from lotse.tasks import inbox
from lotse.tasks.context import Context
from lotse.tasks.worksheet import NOTE_MAX  # one limit for every note that can reach Prefect

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

TAGS = ["lotse"]
NOTE_HELP = (f"Why, in a few words (at most {NOTE_MAX} characters). Never a person's name, birth date, "
             "nationality or passport data: Prefect keeps run parameters for ever.")
# The server checks a `pattern` but not a `format`: without it, a date field takes any text, a
# name included, and the run keeps it for ever. ISO, or as German offices write dates.
DATE_PATTERN = r"^\s*([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4})\s*$"
FACTS_HELP = ("Facts to set with the event. Only facts that are not personal data; set personal ones "
              "with `lotse case set` on the command line.")


@dataclass(frozen=True)
class Planned:
    """A flow to deploy: where it lives, and the setting holding its schedule (if any)."""

    module: str
    function: str
    name: str
    schedule_setting: str | None = None


PLANNED = [
    Planned("lotse.flows.advance_case", "advance_case", "advance-case"),
    Planned("lotse.flows.work_case", "work_case", "work-case"),
    Planned("lotse.flows.enrol_cohort", "enrol_cohort", "enrol-cohort"),
    Planned("lotse.flows.pipeline_report", "pipeline_report", "pipeline-report", "schedule_report"),
    Planned("lotse.flows.deliver_notifications", "deliver_notifications", "deliver-notifications",
            "schedule_deliver"),
    Planned("lotse.flows.check_deadlines", "check_deadlines", "check-deadlines", "schedule_check"),
    Planned("lotse.flows.apply_retention", "apply_retention", "apply-retention", "schedule_retention"),
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
            enforce_parameter_schema=True,  # the server refuses a run outside the form's schema
        )
        if plan.name == "enrol-cohort":
            offer_choices(deployment, file=inbox.names(ctx.settings.home))
        if plan.name == "advance-case":
            offer_choices(deployment, event=events(ctx), actor=actors(ctx))
            restrict_free_text(deployment, {name: fact_schema(ctx, name) for name in shareable_facts(ctx)})
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
    return list(dict.fromkeys(e for p in ctx.catalog.versions() for e in p.events))


def actors(ctx: Context) -> list[str]:
    from lotse.states.store import list_actors

    with ctx.db.reading() as session:
        return [a.id for a in list_actors(session)]


def shareable_facts(ctx: Context) -> list[str]:
    """The fact names no process version cases run on counts as personal data: the only ones a
    run may carry."""
    processes = ctx.catalog.versions()
    names = dict.fromkeys(name for p in processes for name in p.facts)
    return [n for n in names if not any(p.is_personal(n) for p in processes)]


def fact_schema(ctx: Context, name: str) -> dict[str, Any]:
    """A fact's field in the `facts` form, as text of its type: a date field for dates, a pick
    list for CEFR levels and enumerations (where every loaded process agrees on the type)."""
    from lotse.states.facts import CEFR_LEVELS

    facts = [p.facts[name] for p in ctx.catalog.versions() if name in p.facts]
    title = next((f.title.in_(ctx.settings.locale) for f in facts if f.title), name)
    schema: dict[str, Any] = {"type": "string", "title": f"{title} ({name})"}
    kinds = {f.type for f in facts}
    if kinds == {"date"}:
        schema.update(format="date", pattern=DATE_PATTERN)
    elif kinds == {"cefr"}:
        schema["enum"] = list(CEFR_LEVELS)
    elif kinds == {"enum"}:
        schema["enum"] = list(dict.fromkeys(v for f in facts for v in f.values or []))
    elif kinds == {"bool"}:
        schema["enum"] = ["true", "false"]
    return schema


def restrict_free_text(deployment: RunnerDeployment, facts: dict[str, dict[str, Any]]) -> None:
    """`facts` admits only the named facts (as text of their type), `note` only a short text with
    a warning."""
    properties: dict[str, Any] = deployment._parameter_openapi_schema.properties
    properties["facts"].update(
        anyOf=[{"type": "object", "additionalProperties": False, "propertyNames": {"enum": list(facts)},
                "properties": facts},
               {"type": "null"}],
        description=FACTS_HELP,
    )
    properties["note"].update(
        anyOf=[{"type": "string", "maxLength": NOTE_MAX}, {"type": "null"}], description=NOTE_HELP,
    )


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
