"""What a change tells whom: the messages of a stage change, of a deadline reminder, and of a
message that could not be delivered.

Called inside the transaction of the change; every message becomes one outbox row per recipient
and route, so the change and its messages commit together. Nothing here sends, and nothing here
may stop a change: a missing route or a broken template still queues a row, which carries the
problem for `lotse outbox` to show.

What a message may say: the case's reference and given name (chat channels: the reference only
when `LOTSE_CHAT_REFERENCE_ONLY` is set), what happened, what the recipient's roles are now
expected to do, and whom to contact. Never the family name, and never a fact marked `personal`
(nationality, birth date, passport, health).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from config.settings import Settings
from notifications import messages, routes
from notifications.outbox import enqueue, queued
from notifications.routes import Address
from states import facts as fact_kinds
from states import store
from states.events import StageChanged
from states.process import COORDINATOR, Process
from states.records import ActorRecord, ActorRoleRecord, CaseRecord, OutboxRecord

# A second guard behind `personal: true`: a fact whose name or title looks like one of these is
# never put in a message, even if a definition forgot to mark it.
_SENSITIVE = re.compile(
    r"birth|geburt|passport|reisepass|pass_no|nationalit|staatsang|citizenship|health|gesundheit|"
    r"diagnos|disab|behinder|pregnan|schwanger|religio", re.IGNORECASE,
)
DEAD_PREFIX = "dead:"


@dataclass(frozen=True)
class Reminder:
    """A deadline that is due, at one level of its escalation ladder."""

    deadline: str  # the deadline's id in the process definition
    title: str
    due: dt.date
    level: int
    role: str
    basis: str
    key: str  # unique per (case, deadline, level): the outbox dedup key


def recipients(session: Session, record: CaseRecord, role: str) -> list[str]:
    """The actors of a case for a role: its employer for `employer`, else the role's actors of
    the case's region (or without a region)."""
    if role == "employer":
        return [record.employer_id]
    query = (
        select(ActorRecord.id)
        .join(ActorRoleRecord, ActorRoleRecord.actor_id == ActorRecord.id)
        .where(ActorRoleRecord.role == role)
        .where((ActorRecord.region == record.region) | (ActorRecord.region.is_(None)))  # type: ignore[union-attr]
        .order_by(ActorRecord.id)
    )
    return list(session.scalars(query))


def addresses(session: Session, record: CaseRecord, roles: list[str]) -> list[Address]:
    """One address per recipient of a case: an actor with several of the roles is told once."""
    by_actor: dict[str, list[str]] = {}
    unstaffed: list[str] = []
    for role in dict.fromkeys(roles):
        found = recipients(session, record, role)
        if not found:
            unstaffed.append(role)
        for actor_id in found:
            by_actor.setdefault(actor_id, []).append(role)
    return [Address(tuple(r), record.region, actor) for actor, r in by_actor.items()] + [
        Address((role,), record.region) for role in unstaffed
    ]


def known_regions(session: Session) -> set[str]:
    found = set(session.scalars(select(ActorRecord.region).distinct()))
    found |= set(session.scalars(select(CaseRecord.region).distinct()))
    return {r for r in found if r}


def on_stage_changed(
    session: Session, settings: Settings, process: Process, record: CaseRecord,
    event: StageChanged, history_id: int, now: dt.datetime,
    due_dates: Mapping[str, dt.date] | None = None,
) -> int:
    """Queue the messages of a stage change to every role the transition names in `notify`;
    `due_dates` (checklist item -> date), where known, are shown beside what is expected."""
    transition = process.transition(event.event, event.from_stage)
    if transition is None or not transition.notify:
        return 0
    case = store.load_case(session, record, process)
    stage = process.stages[event.to_stage]
    today = _local_day(now, settings)
    common = {
        "event": {"id": event.event, "title": transition.title or event.event},
        "before": {"id": event.from_stage, "title": process.stages[event.from_stage].title},
        "after": {"id": event.to_stage, "title": stage.title},
        "by": actor_name(session, event.actor),
        "at": today,
        "stage_due": stage.limit.after(today) if stage.limit else None,
        "stage_basis": stage.limit_basis,
        "facts": _facts(process, case.facts, settings.locale),
    }
    queued_rows = 0
    for address in addresses(session, record, transition.notify):
        expected = [
            {"id": item.id, "title": item.title, "due": (due_dates or {}).get(item.id)}
            for item in stage.checklist if item.owner in address.roles and item.id not in case.done
        ]
        queued_rows += _queue(
            session, settings, record, address, f"h{history_id}:{address.recipient}", now,
            kind="stage_changed", topic=event.event, context={**common, "expected": expected},
        )
    return queued_rows


def remind(
    session: Session, settings: Settings, process: Process, record: CaseRecord,
    reminder: Reminder, now: dt.datetime,
) -> int:
    """Queue a deadline reminder to the actors of its role; once per (case, deadline, level)."""
    today = _local_day(now, settings)
    deadline = {
        "id": reminder.deadline, "title": reminder.title, "due": reminder.due, "level": reminder.level,
        "role": reminder.role, "basis": reminder.basis, "overdue_days": (today - reminder.due).days,
    }
    return sum(
        _queue(session, settings, record, address, f"{reminder.key}:{address.recipient}", now,
               kind="reminder", topic=reminder.deadline, context={"deadline": deadline, "at": today})
        for address in addresses(session, record, [reminder.role])
    )


def report_undeliverable(session: Session, settings: Settings, row: OutboxRecord, now: dt.datetime) -> int:
    """Tell the coordinator that a message is dead (not for a report that is dead itself)."""
    if row.dedup_key.startswith(DEAD_PREFIX):
        return 0
    record = session.get(CaseRecord, row.case_id) if row.case_id is not None else None
    if record is not None:
        targets = addresses(session, record, [COORDINATOR])
    else:
        coordinators = session.scalars(
            select(ActorRoleRecord.actor_id).where(ActorRoleRecord.role == COORDINATOR)
        ).all()
        targets = [Address((COORDINATOR,), None, a) for a in coordinators] or [Address((COORDINATOR,))]
    error = (row.last_error or "").removeprefix("warning: ")
    failed = {"id": row.id, "to": row.recipient, "channel": row.channel, "attempts": row.attempts,
              "error": error}
    return sum(
        _queue(session, settings, record, address, f"{DEAD_PREFIX}{row.id}:{address.recipient}", now,
               kind="undeliverable", topic=None, context={"failed": failed, "at": _local_day(now, settings)})
        for address in targets
    )


def test_message(settings: Settings, name: str, roles: tuple[str, ...], channel: str,
                 now: dt.datetime) -> messages.Rendered:
    """The text of `lotse notify test`."""
    context = {"recipient": {"name": name, "roles": list(roles)}, "channel": channel,
               "at": _local_day(now, settings)}
    return messages.render("test", context, locale=settings.locale, roles=roles,
                           template_dir=settings.template_dir)


# -- one message to one address ------------------------------------------------------------------


def _queue(
    session: Session, settings: Settings, record: CaseRecord | None, address: Address, key: str,
    now: dt.datetime, *, kind: str, topic: str | None, context: dict[str, Any],
) -> int:
    """One row per route of the address (the first under `key`, so a cause is queued once even
    if the routes change later), or one row without a route that waits for one."""
    if queued(session, key):
        return 0
    table = routes.load(settings)
    targets = table.find(address, known_regions(session)) if table.targets else []
    contact = _contact(session, record)
    texts: dict[str, messages.Rendered] = {}
    rows = 0
    for index, target in enumerate(targets or [None]):
        channel = target.channel if target else None
        if (channel or "") not in texts:
            texts[channel or ""] = messages.render(
                kind, {
                    **context,
                    "case": _case(record, settings, channel),
                    "recipient": {"name": actor_name(session, address.actor), "roles": list(address.roles)},
                    "contact": contact,
                    "channel": channel or "unknown",
                },
                locale=settings.locale, topic=topic, roles=address.roles, template_dir=settings.template_dir,
            )
        text = texts[channel or ""]
        rows += enqueue(
            session, case_id=record.id if record else None, recipient=address.recipient,
            tags=str(address), subject=text.subject, body=text.body,
            dedup_key=key if index == 0 else f"{key}|{target.key if target else index}", now=now,
            channel=channel, route=target.key if target else None, warning=text.warning,
        )
    return rows


def _case(record: CaseRecord | None, settings: Settings, channel: str | None) -> dict[str, Any] | None:
    if record is None:
        return None
    # A row without a route yet may end up in a chat: it gets the chat's rule.
    hide = settings.chat_reference_only and channel != routes.EMAIL
    return {"ref": record.ref, "name": None if hide else record.given_name, "process": record.process,
            "region": record.region}


def _facts(process: Process, values: Mapping[str, Any], locale: str) -> list[dict[str, str]]:
    shown = []
    for name, value in values.items():
        fact = process.facts.get(name)
        if fact is None or fact.personal or _SENSITIVE.search(name) or _SENSITIVE.search(fact.title):
            continue
        if isinstance(value, dt.date):
            text = messages.format_day(value, locale)
        elif isinstance(value, bool):
            text = {"de": {True: "ja", False: "nein"}, "en": {True: "yes", False: "no"}}[locale][value]
        else:
            text = fact_kinds.display(value)
        shown.append({"id": name, "title": fact.title or name, "value": text})
    return sorted(shown, key=lambda f: list(process.facts).index(f["id"]))


def _contact(session: Session, record: CaseRecord | None) -> dict[str, Any] | None:
    """The case's coordinator: of its region, else of the whole alliance."""
    if record is None:
        return None
    for actor_id in recipients(session, record, COORDINATOR):
        actor = session.get(ActorRecord, actor_id)
        if actor is not None:
            return {"name": actor.name, "email": actor.email}
    return None


def actor_name(session: Session, actor_id: str | None) -> str | None:
    actor = session.get(ActorRecord, actor_id) if actor_id else None
    return actor.name if actor else actor_id


def _local_day(now: dt.datetime, settings: Settings) -> dt.date:
    return now.astimezone(ZoneInfo(settings.timezone)).date()
