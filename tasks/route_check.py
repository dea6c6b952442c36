"""Are the notification routes there, and do they work: the route report of `lotse init` and the
test messages of `lotse notify test`. A route whose test message went through works: its dead
messages, and the dead ones that found no route and would take it now, are queued again
(`outbox_retry.revive_route`); nothing else touches the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from lotse.notifications import dispatch, messages, routes
from lotse.notifications.channels import AppriseSender, Sender, SendFailed
from lotse.notifications.routes import Address
from lotse.states import deadlines
from lotse.states.courses import LANGUAGE_SCHOOL
from lotse.states.errors import NotFound
from lotse.states.process import COORDINATOR, Process
from lotse.states.records import ActorRecord, ActorRegionRecord, ActorRoleRecord
from lotse.tasks import outbox_retry
from lotse.tasks.context import Context


def route_report(ctx: Context) -> tuple[str, list[str]]:
    """The notification setup in one line, and every problem of it, one line each: the
    configuration, the templates, and every role a message may go to (`messaged_roles`) that has
    no route for some actor or region."""
    settings = ctx.settings
    if settings.notify_config is None:
        return ("LOTSE_NOTIFY_CONFIG is not set: messages wait in the outbox until it is "
                "(see config/notify.example.yaml)", [])
    table = routes.load(settings)
    problems = [f"{table.source}: {w}" for w in table.warnings] + messages.check(settings.template_dir)
    with ctx.db.reading() as session:
        regions = dispatch.known_regions(session, ctx.regions)
        for role in messaged_roles(ctx.catalog.versions()):
            addresses = _above(_addresses_of_role(session, role, regions), ctx)
            missing = [a for a in addresses if not table.find(a, regions)]
            for who in dict.fromkeys(a.actor for a in missing):
                gaps = [a for a in missing if a.actor == who]
                everywhere = len(gaps) > 1 and len(gaps) == len([a for a in addresses if a.actor == who])
                shown = [Address(gaps[0].roles, None, who)] if everywhere else gaps
                problems += [table.explain_missing(a, with_warnings=False) for a in shown]
    return f"{len(table.targets)} route(s) from {table.source}", problems


def messaged_roles(processes: Iterable[Process]) -> list[str]:
    """Every role a message may go to: those a transition notifies, those a deadline's reminders
    climb to, the owners of family members' needs, the coordinator (dead messages, course groups)
    and the language school where a process has a language course (course groups)."""
    roles = {COORDINATOR}
    for process in processes:
        roles |= {role for transition in process.transitions for role in transition.notify}
        roles |= {rule.role_of(level) for rule in deadlines.rules(process)
                  for level in range(1, rule.levels + 1)}
        roles |= {need.owner for need in process.family_needs.values()}
        if LANGUAGE_SCHOOL in process.roles:
            roles.add(LANGUAGE_SCHOOL)
    return sorted(roles)


def send_test(ctx: Context, who: str, sender: Sender | None = None) -> dict[str, Any]:
    """Send a test message to an actor, or to every actor (and region) of a role, through each of
    its routes. Returns what was sent and what has no route."""
    settings = ctx.settings
    table = routes.load(settings)
    sender = sender or AppriseSender()
    known_roles = {role for p in ctx.catalog.versions() for role in p.roles}
    with ctx.db.reading() as session:
        regions = dispatch.known_regions(session, ctx.regions)
        actor = session.get(ActorRecord, who)
        if actor is not None and actor.removed_at is None:
            roles = tuple(session.scalars(
                select(ActorRoleRecord.role).where(ActorRoleRecord.actor_id == who)).all())
            served = sorted(({actor.region} if actor.region else set()) | set(session.scalars(
                select(ActorRegionRecord.region).where(ActorRegionRecord.actor_id == who))))
            targets = [Address(roles, region, actor.id) for region in served or _regions(None, regions)]
        elif who in known_roles:
            targets = _addresses_of_role(session, who, regions)
        else:
            raise NotFound(f"'{who}' is neither an actor nor a role; see `lotse actor list` "
                           f"(roles: {', '.join(sorted(known_roles))})")
        names = {a.actor: dispatch.actor_name(session, a.actor) for a in targets}
    sent: list[dict[str, Any]] = []
    missing: list[str] = []
    tried: set[str] = set()
    for address in _above(targets, ctx):
        found = table.find(address, regions)
        if not found:
            missing.append(table.explain_missing(address, with_warnings=False))
        for target in found:
            if target.key in tried:
                continue
            tried.add(target.key)
            name = names.get(address.actor) or address.recipient
            text = dispatch.test_message(settings, name, address.roles, target.channel, ctx.clock())
            outcome: dict[str, Any] = {"to": address.recipient, "route": target.label,
                                       "channel": target.channel, "ok": True, "error": None,
                                       "revived": []}
            try:
                sender.send(target, text.subject, text.body)
            except SendFailed as exc:
                outcome.update(ok=False, error=str(exc))
            else:
                outcome["revived"] = outbox_retry.revive_route(ctx, target, table, regions)
            sent.append(outcome)
    return {"sent": sent, "missing": missing, "warnings": list(table.warnings)}


def _addresses_of_role(session: Any, role: str, regions: set[str]) -> list[Address]:
    """The addresses messages to a role can have: each of its actors in each region it serves
    (all regions, if it has none), or the role itself in each region where it has no actor."""
    actors = dispatch.serving(session, role)  # each with its region and the regions it serves besides
    if not actors:
        return [Address((role,), region) for region in _regions(None, regions)]
    return [Address((role,), region, actor_id)
            for actor_id, served in actors.items()
            for region in (sorted(served) if served else _regions(None, regions))]


def _above(addresses: list[Address], ctx: Context) -> list[Address]:
    """The addresses with the regions above theirs: routes fall back to those (states/regions.py)."""
    return [replace(a, above=tuple(ctx.regions.chain(a.region)[1:])) if a.region else a for a in addresses]


def _regions(home: str | None, regions: set[str]) -> list[str | None]:
    if home:
        return [home]
    return list(sorted(regions)) or [None]
