"""What a change tells whom: the messages of a stage change and of a deadline reminder.

Called inside the transaction of the change; every message becomes one outbox row per recipient.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from config.settings import Settings
from notifications.outbox import enqueue
from states.events import StageChanged
from states.process import Process
from states.records import ActorRecord, ActorRoleRecord, CaseRecord


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


def on_stage_changed(
    session: Session, settings: Settings, process: Process, record: CaseRecord,
    event: StageChanged, history_id: int, now: dt.datetime,
) -> int:
    """Queue the messages of a stage change to every role the transition names in `notify`."""
    transition = process.transition(event.event, event.from_stage)
    queued = 0
    for role in transition.notify if transition else []:
        for actor_id in recipients(session, record, role) or [f"{role}@{record.region}"]:
            queued += enqueue(
                session, case_id=record.id, recipient=actor_id, tags=f"{actor_id}",
                subject=f"{record.ref}: {event.event}",
                body=f"{record.ref}: {event.from_stage} -> {event.to_stage}",
                dedup_key=f"h{history_id}:{role}:{actor_id}", now=now,
            )
    return queued


def remind(
    session: Session, settings: Settings, process: Process, record: CaseRecord,
    reminder: Reminder, now: dt.datetime,
) -> int:
    """Queue a deadline reminder to the actors of its role; once per (case, deadline, level)."""
    queued = 0
    for actor_id in recipients(session, record, reminder.role) or [f"{reminder.role}@{record.region}"]:
        queued += enqueue(
            session, case_id=record.id, recipient=actor_id, tags=actor_id,
            subject=f"{record.ref}: {reminder.title} due {reminder.due.isoformat()}",
            body=f"{record.ref}: {reminder.title}, due {reminder.due.isoformat()} ({reminder.basis})",
            dedup_key=f"{reminder.key}:{actor_id}", now=now,
        )
    return queued
