"""What a hand-over tells whom: the actor that takes over a removed actor's open cases gets one
message per case, in the transaction of the hand-over (like notifications/employer_change.py).

The message names the case (the given name only where the channel allows it, as every message),
the organisation it takes over from, whether it is the case's employer from now on, and the open
checklist items it is asked for from now on, each with an answer link bound to it. Never the
note, which is free text and may say something about the person. The removed actor is told
nothing: it left the alliance, and its unsent messages are cancelled (notifications/outbox.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from lotse.config.settings import Settings
from lotse.notifications.dispatch import Batch
from lotse.notifications.routes import Address
from lotse.states.process import Process
from lotse.states.records import CaseRecord

KIND = "handed_over"
EMPLOYER = "employer"


@dataclass(frozen=True)
class Handed:
    """One case handed over: its history row, whether its employment moved, and the open items of
    its current stage the new actor is asked for now."""

    record: CaseRecord
    process: Process
    history_id: int
    employer: bool
    items: tuple[str, ...]


def on_handed_over(
    session: Session, settings: Settings, handed: list[Handed], *, old: str, new: str, by: str,
    now: dt.datetime,
) -> int:
    """Queue one message per handed-over case to the actor taking it over; returns the rows queued."""
    batch = Batch(session, settings, now)
    context = {"old": batch.actor_name(old), "by": batch.actor_name(by), "at": batch.today}
    for case in handed:
        record = case.record
        owners = (case.process.item(item).owner for item in case.items)
        roles = tuple(dict.fromkeys([*([EMPLOYER] if case.employer else []), *owners]))
        address = Address(roles, record.region, new, tuple(batch.regions.chain(record.region)[1:]))
        expected = batch.expected(record, address, [case.process.item(item) for item in case.items])
        batch.queue(record, address, f"h{case.history_id}:{new}", kind=KIND, topic=None,
                    context={**context, "employer": case.employer, "expected": expected})
    return batch.write(fresh=True)
