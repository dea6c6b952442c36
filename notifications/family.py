"""What recording a family member tells whom: each owner of a need the member brings (the youth
office of a Kita place, the school office of a school place, ...) gets one message listing its new
checklist items, with their due dates and answer links.

A message names the member by relation and number only ("Kind 1", "Partner/in"), never by name or
birth year: those stay in Lotse's database (the desk and `lotse case show`). Called inside the
transaction of the change, like notifications/dispatch.py, whose batch queues the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlmodel import Session

from lotse.config.settings import Settings
from lotse.notifications.dispatch import Batch
from lotse.states.family import Member
from lotse.states.process import Process
from lotse.states.records import CaseRecord

KIND = "family_needs"


def on_added(
    session: Session, settings: Settings, process: Process, record: CaseRecord, member: Member,
    items: list[str], due_dates: Mapping[str, dt.date], history_id: int, now: dt.datetime,
) -> int:
    """Queue to the owners of the member's new needs one message each (once per history row)."""
    if not items:
        return 0
    locale = settings.locale
    batch = Batch(session, settings, now)
    needs = [process.item(item) for item in items]
    for address in batch.addresses(record, list(dict.fromkeys(need.owner for need in needs))):
        expected = batch.expected(record, address, [need for need in needs if need.owner in address.roles],
                                  due_dates)
        batch.queue(record, address, f"h{history_id}:{address.recipient}", kind=KIND, topic=None,
                    context={"member": {"label": member.label(locale), "relation": member.relation},
                             "expected": expected, "at": batch.today})
    return batch.write()
