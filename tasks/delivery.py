"""Delivering the outbox: take the due rows, send each through its route, record the outcome.

Runs after the change's commit, from `lotse notify`, from the `deliver-notifications` flow and
right after `lotse case advance`. A row is sent at most once by Lotse: it is claimed before it is
sent and its outcome is recorded only under that claim (see `notifications.claims`). On the wire a
message can repeat only if the process dies after the server accepted it and before the row was
marked sent: then the claim expires and the next delivery sends it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from lotse.notifications import claims, dispatch, routes
from lotse.notifications.channels import Sender, SendFailed
from lotse.notifications.outbox import enqueue, listing
from lotse.notifications.routes import Address, Routes, Target
from lotse.notifications.smtp import RouteSender
from lotse.states import store
from lotse.states.errors import NotReady
from lotse.states.records import CaseRecord, OutboxRecord
from lotse.tasks.context import Context


@dataclass
class Report:
    """What one delivery did."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    left: int = 0  # taken but given back untried: the time was up
    lost: int = 0  # sent, but the claim had expired and another delivery took the row
    problems: list[dict[str, Any]] = field(default_factory=list)  # {id, to, status, error}
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        parts = [f"{self.sent} sent", f"{self.failed} failed", f"{self.dead} dead"]
        if self.left:
            parts.append(f"{self.left} left for the next delivery")
        return ", ".join(parts)


def deliver(
    ctx: Context, *, retry_now: bool = False, case_ref: str | None = None,
    sender: Sender | None = None, budget_seconds: float | None = None, row_ids: list[int] | None = None,
) -> Report:
    """Send every due row (of one case, or these rows, if given). `retry_now` tries failed rows at
    once, ignoring their backoff; `budget_seconds` stops taking rows after that long (the rest
    stays due)."""
    settings = ctx.settings
    table = routes.load(settings)
    own = None
    if sender is None:
        if not table.configured:
            raise NotReady("LOTSE_NOTIFY_CONFIG is not set: nothing can be sent and every message "
                           "waits in the outbox. Point it to an Apprise configuration "
                           "(see config/notify.example.yaml)")
        sender = own = RouteSender(settings.notify_timeout_seconds)
    report = Report(warnings=list(table.warnings))
    try:
        _deliver_batches(ctx, table, sender, report, retry_now=retry_now, case_ref=case_ref,
                         budget_seconds=budget_seconds, row_ids=row_ids)
    finally:
        if own is not None:
            own.close()
    return report


def _deliver_batches(
    ctx: Context, table: Routes, sender: Sender, report: Report, *, retry_now: bool,
    case_ref: str | None, budget_seconds: float | None, row_ids: list[int] | None,
) -> None:
    """Claim a batch, send its rows, settle their outcomes in one transaction; until none is due.
    A delivery killed mid-batch leaves the batch's rows claimed: sent or not, they are sent again
    once the claim expires, and counted as `resent` (notifications/claims.py)."""
    settings = ctx.settings
    started = time.monotonic()
    after = 0
    with ctx.db.reading() as session:
        case_id = store.find_case(session, case_ref).id if case_ref else None
        regions = dispatch.known_regions(session, ctx.regions)
    while True:
        with ctx.db.writing() as session:
            token, rows = claims.claim(
                session, now=ctx.clock(), lease_seconds=settings.notify_claim_seconds,
                limit=settings.notify_batch_size, retry_now=retry_now, after_id=after, case_id=case_id,
                row_ids=row_ids,
            )
        if not rows:
            return
        after = rows[-1].id or after
        outcomes: list[tuple[OutboxRecord, str | None]] = []
        try:
            targets = _routes_of(ctx, table, rows, token, regions)
            for index, row in enumerate(rows):
                if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                    with ctx.db.writing() as session:
                        claims.release(session, token, [r.id for r in rows[index:] if r.id is not None])
                    report.left += len(rows) - index
                    return
                outcomes.append((row, _send_row(table, sender, row, targets.get(row.id or 0))))
        finally:
            _settle(ctx, outcomes, token, report)


def deliver_after_change(ctx: Context, ref: str, warn: Callable[[str], None]) -> dict[str, int] | None:
    """Send a change's messages right after its commit, within a short time; whatever is left or
    fails waits in the outbox for `lotse notify` and the scheduled delivery. Never raises: the
    change is made, and a message that was not sent is not lost."""
    if not ctx.settings.notify_on_advance or ctx.settings.notify_config is None:
        return None
    try:
        report = deliver(ctx, case_ref=ref, budget_seconds=ctx.settings.notify_timeout_seconds)
    except Exception as exc:  # the outbox keeps every message; delivery is only tried here
        warn(f"messages of {ref} not sent yet ({exc}); they wait in the outbox (`lotse outbox`)")
        return None
    if report.failed or report.dead or report.left:
        warn(f"messages of {ref}: {report.summary()}; see `lotse outbox --case {ref}`")
    return {"sent": report.sent, "failed": report.failed + report.dead, "waiting": report.left}


def _send_row(table: Routes, sender: Sender, row: OutboxRecord, target: Target | None) -> str | None:
    """Send one claimed row through its route; the error, or None when the service took it."""
    if target is None:
        return _no_route(table, row)
    try:
        sender.send(target, row.subject, row.body, warning=row.dedup_key.startswith(dispatch.DEAD_PREFIX))
    except SendFailed as exc:
        return str(exc)
    return None


def _routes_of(
    ctx: Context, table: Routes, rows: list[OutboxRecord], token: str, regions: set[str],
) -> dict[int, Target]:
    """The route of each claimed row, by id. A row queued without a route, or whose route left the
    configuration, takes the routes its address has now (of its channel, if it had one): the first
    on this row, one new row each for the others; written for the batch in one transaction, on the
    rows still ours."""
    targets: dict[int, Target] = {}
    found: dict[int, list[Target]] = {}
    for row in rows:
        target = table.by_key(row.route)
        if target is not None:
            targets[row.id or 0] = target
            continue
        found[row.id or 0] = [t for t in table.find(Address.parse(row.tags), regions)
                              if row.channel in (None, t.channel)]
    rerouted = {row_id: routes for row_id, routes in found.items() if routes}
    if not rerouted:
        return targets
    with ctx.db.writing() as session:
        for row_id, held in claims.held_many(session, list(rerouted), token).items():
            first, *others = rerouted[row_id]
            held.route, held.channel = first.key, first.channel
            session.add(held)
            for other in others:
                enqueue(
                    session, case_id=held.case_id, recipient=held.recipient, tags=held.tags,
                    subject=held.subject, body=held.body, dedup_key=f"{held.dedup_key}|{other.key}",
                    now=ctx.clock(), channel=other.channel, route=other.key,
                    warning=held.last_error if (held.last_error or "").startswith("warning:") else None,
                )
            targets[row_id] = first
    return targets


def _settle(
    ctx: Context, outcomes: list[tuple[OutboxRecord, str | None]], token: str, report: Report,
) -> None:
    """Record the outcome of each row sent, in one transaction, for the rows still ours: the sent
    ones in one statement."""
    if not outcomes:
        return
    settings = ctx.settings
    now = ctx.clock()
    with ctx.db.writing() as session:
        mine = claims.held_ids(session, [row.id or 0 for row, _ in outcomes], token)
        report.lost += sum(1 for row, _ in outcomes if row.id not in mine)
        sent = [row.id for row, error in outcomes if error is None and row.id in mine]
        claims.mark_sent(session, [i for i in sent if i is not None], token, now)
        report.sent += len(sent)
        errors = {row.id: error for row, error in outcomes if error is not None and row.id in mine}
        if not errors:
            return
        for row_id, held in claims.held_many(session, [i for i in errors if i is not None], token).items():
            error = errors[row_id]
            status = claims.mark_failed(
                session, held, now, error, max_attempts=settings.notify_max_attempts,
                backoff_seconds=settings.notify_backoff_seconds,
            )
            if status == "dead":
                report.dead += 1
                dispatch.report_undeliverable(session, settings, held, now)
            else:
                report.failed += 1
            report.problems.append({"id": held.id, "to": held.recipient, "status": status, "error": error})


def _no_route(table: Routes, row: OutboxRecord) -> str:
    address = Address.parse(row.tags)
    if row.route:
        return (f"the {row.channel} route of this message is no longer in {table.source}, and "
                f"{address.describe()} has no other {row.channel} route")
    return table.explain_missing(address)


# -- looking without sending -----------------------------------------------------------------


def preview(ctx: Context, *, retry_now: bool = False, case_ref: str | None = None) -> list[dict[str, Any]]:
    """What a delivery would send now, rendered and routed, without sending or changing a row."""
    table = routes.load(ctx.settings)
    with ctx.db.reading() as session:
        case_id = store.find_case(session, case_ref).id if case_ref else None
        regions = dispatch.known_regions(session, ctx.regions)
        conditions = claims.due(now=ctx.clock(), retry_now=retry_now, case_id=case_id)
        rows = session.execute(
            select(OutboxRecord, CaseRecord.ref)
            .join(CaseRecord, CaseRecord.id == OutboxRecord.case_id, isouter=True)
            .where(*conditions).order_by(OutboxRecord.id)
        ).all()
    result = []
    for row, ref in rows:
        target = table.by_key(row.route)
        found = [target] if target else [
            t for t in table.find(Address.parse(row.tags), regions) if row.channel in (None, t.channel)
        ]
        result.append({
            "id": row.id, "case": ref, "to": row.recipient, "status": row.status,
            "channel": found[0].channel if found else row.channel,
            "routes": [t.label for t in found], "subject": row.subject, "body": row.body,
            "problem": None if found else _no_route(table, row),
        })
    return result


def outbox(ctx: Context, *, status: str | None = None, case_ref: str | None = None) -> list[dict[str, Any]]:
    """The rows for `lotse outbox`."""
    with ctx.db.reading() as session:
        case_id = store.find_case(session, case_ref).id if case_ref else None
        return listing(session, status=status, case_id=case_id)
