"""What a change of employer tells whom: both employers, the one the case leaves and the one it
moves to, one message each, in the transaction of the change (like notifications/dispatch.py).

The message names the case (the given name only where the channel allows it, as every message),
the two employers, the day, who moved it and whether it happened inside the no-poaching period;
never the note, which is free text and may say something about the person. The new employer's
message lists the employer's open items of the case's stage, each with its answer link.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from lotse.config.settings import Settings
from lotse.notifications.dispatch import Batch
from lotse.notifications.routes import Address
from lotse.states.process import Process
from lotse.states.records import CaseRecord

KIND = "employer_changed"
EMPLOYER = "employer"


def on_changed(
    session: Session, settings: Settings, record: CaseRecord, history_id: int, before: str, after: str,
    by: str, inside_period: bool, period_ends: dt.date | None, now: dt.datetime, *,
    process: Process, open_items: list[str],
) -> int:
    """Queue the message to the old and the new employer; returns the rows queued. `open_items`:
    the employer's items of the case's stage not done yet, which the new employer is asked for."""
    batch = Batch(session, settings, now)
    context = {"old": batch.actor_name(before), "new": batch.actor_name(after), "by": batch.actor_name(by),
               "at": batch.today, "inside_period": inside_period, "period_ends": period_ends}
    above = tuple(batch.regions.chain(record.region)[1:])
    for actor_id, side in ((before, "old"), (after, "new")):
        address = Address((EMPLOYER,), record.region, actor_id, above)
        expected = batch.expected(record, address, [process.item(item) for item in open_items]) \
            if side == "new" else []
        batch.queue(record, address, f"h{history_id}:{address.recipient}", kind=KIND, topic=None,
                    context={**context, "side": side, "expected": expected})
    return batch.write()
