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

A message to an actor carries answer links (notifications/answer_links.py): one per open checklist
item of the case's stage that the actor's roles own, one per fact the stage asks for that they may
set. A link binds an organisation, so a row to a role without a known actor gets none; without a
secret key no message gets any. A link carries no name and no fact value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

from lotse.config.settings import Settings
from lotse.notifications import answer_links, masked, messages, outbox, reminded, roster, routes
from lotse.notifications.routes import Address, Target
from lotse.states import facts as fact_kinds
from lotse.states import regions as region_hierarchy
from lotse.states.case import Case
from lotse.states.events import StageChanged
from lotse.states.moments import local_date
from lotse.states.process import ANY_STAGE, COORDINATOR, ChecklistItem, Fact, Process
from lotse.states.records import ActorRecord, ActorRoleRecord, CaseRecord, OutboxRecord
from lotse.states.regions import Regions
from lotse.states.titles import Title, role_title, role_titles

DEAD_PREFIX = "dead:"


@dataclass(frozen=True)
class Reminder:
    """A deadline that is due, at one level of its escalation ladder."""

    deadline: str  # the deadline's id in the process definition
    title: str  # a `Title`, or text in the reader's language
    due: dt.date
    level: int
    role: str  # whom this level reminds
    basis: str
    key: str  # unique per (case, deadline, level): the outbox dedup key, `...:L<level>`
    responsible: str | None = None  # the deadline's own role; default: `role`
    item: str | None = None  # the open checklist item of the case's current stage it is about
    owner: str | None = None  # that item's owner: only its actors get the item's answer link


def serving(session: Session, role: str) -> dict[str, frozenset[str]]:
    """The actors of a role, each with the regions it serves: its own and those of
    `actor_regions`; an empty set: the whole alliance (read from the directory's roster)."""
    return roster.of(session).serving(role)


def nearest(actors: Mapping[str, frozenset[str]], chain: list[str]) -> list[str]:
    """The actors of the nearest level of `chain` (a region, then the regions above it) that has
    any; else those serving the whole alliance. Sorted by id."""
    for level in chain:
        found = sorted(a for a, served in actors.items() if level in served)
        if found:
            return found
    return sorted(a for a, served in actors.items() if not served)


def known_regions(session: Session, hierarchy: Regions) -> set[str]:
    """Every region a route's tag may name, so that a route tagged with one is no other region's
    route: the hierarchy's (a town no case or actor is in yet included), the actors' and the
    cases' (one the hierarchy no longer has)."""
    found = set(session.scalars(select(ActorRecord.region).distinct()))
    return {r for r in found if r} | set(hierarchy.codes) | case_regions(session)


def case_regions(session: Session) -> set[str]:
    """The regions of the cases, one index lookup per region rather than a scan of every case:
    every change that queues messages asks, and an alliance has many cases in few regions."""
    return {r for r in session.scalars(_CASE_REGIONS) if r}


_CASE_REGIONS = text(
    "WITH RECURSIVE found(region) AS ("
    " SELECT min(region) FROM cases"
    " UNION ALL"
    " SELECT (SELECT min(region) FROM cases WHERE region > found.region) FROM found"
    " WHERE found.region IS NOT NULL)"
    " SELECT region FROM found WHERE region IS NOT NULL"
)


def on_stage_changed(
    session: Session, settings: Settings, process: Process, record: CaseRecord, case: Case,
    event: StageChanged, history_id: int, now: dt.datetime,
    due_dates: Mapping[str, dt.date] | None = None,
) -> int:
    """Queue the messages of a stage change to every role the transition names in `notify`;
    `case` is the case as the change left it; `due_dates` (checklist item -> date), where known,
    are shown beside what is expected."""
    transition = process.transition(event.event, event.from_stage)
    if transition is None or not transition.notify:
        return 0
    # The day it happened: the arrival date given with `arrive`, not the day it was recorded.
    happened = case.facts.get(transition.dated_by) if transition.dated_by else None
    return _stage_messages(
        session, settings, process, record, case, event, history_id, now, due_dates,
        title=transition.title.in_(settings.locale) or event.event,
        before=process.stages[event.from_stage].title.in_(settings.locale),
        happened=happened if isinstance(happened, dt.date) else None, roles=transition.notify,
    )


MIGRATED = {"de": "Auf eine neue Fassung des Ablaufs umgestellt",
            "en": "Moved to a new version of the process"}


def on_migrated(
    session: Session, settings: Settings, old: Process, new: Process, record: CaseRecord, case: Case,
    event: StageChanged, history_id: int, now: dt.datetime, due_dates: Mapping[str, dt.date],
    roles: list[str],
) -> int:
    """Queue the messages of a case moved to another version of its process (`lotse process
    migrate --notify`) to `roles`, worded as a stage change from the old version's stage."""
    return _stage_messages(
        session, settings, new, record, case, event, history_id, now, due_dates,
        title=f"{MIGRATED.get(settings.locale, MIGRATED['en'])} ({old.key} → {new.key})",
        before=old.stages[event.from_stage].title.in_(settings.locale),
        happened=None, roles=roles,
    )


def _stage_messages(
    session: Session, settings: Settings, process: Process, record: CaseRecord, case: Case,
    event: StageChanged, history_id: int, now: dt.datetime, due_dates: Mapping[str, dt.date] | None,
    *, title: str, before: str, happened: dt.date | None, roles: list[str],
) -> int:
    batch = Batch(session, settings, now)
    locale = settings.locale
    stage = process.stages[event.to_stage]
    common = {
        "event": {"id": event.event, "title": title, "date": happened or batch.today},
        "before": {"id": event.from_stage, "title": before},
        "after": {"id": event.to_stage, "title": stage.title.in_(locale)},
        "by": batch.actor_name(event.actor),
        "at": batch.today,
        "stage_due": stage.limit.after(batch.today) if stage.limit else None,
        "stage_basis": stage.limit_basis.in_(locale) if stage.limit_basis else None,
        "facts": _facts(process, case.facts, locale),
    }
    asked = asked_facts(process, case)
    for address in batch.addresses(record, roles):
        expected = batch.expected(record, address, [
            item for item in stage.checklist if item.owner in address.roles and item.id not in case.done
        ], due_dates)
        # Coordinators set facts in the desk, signed in: their messages ask for none.
        setters = set(address.roles) - {COORDINATOR}
        asks = [
            {"id": name, "title": fact.title.in_(locale) or name, "type": fact.type,
             "link": batch.link(record, address, "fact", name)}
            for name, fact in asked if setters.intersection(fact.set_by)
        ]
        batch.queue(record, address, f"h{history_id}:{address.recipient}", kind="stage_changed",
                    topic=event.event, context={**common, "expected": expected, "asks": asks})
    return batch.write(fresh=True)


def asked_facts(process: Process, case: Case) -> list[tuple[str, Fact]]:
    """The facts the case's stage asks for: those named in an unmet condition of a transition
    leaving it, in the order the transitions name them. A transition from every stage (`*`,
    the withdrawal) is a decision of its own, not what this stage asks for."""
    names: dict[str, None] = {}
    for transition in process.transitions_from(case.stage):
        if ANY_STAGE in transition.source:
            continue
        for condition in case.unmet(process, transition)[1]:
            names.setdefault(condition.fact)
    return [(name, process.facts[name]) for name in names]


def remind(
    session: Session, settings: Settings, process: Process, record: CaseRecord,
    reminder: Reminder, now: dt.datetime,
) -> int:
    """Queue a deadline reminder to the actors of its role; once per (case, deadline, level)."""
    return remind_many(session, settings, [(record, reminder)], now)


def remind_many(
    session: Session, settings: Settings, reminders: Iterable[tuple[CaseRecord, Reminder]], now: dt.datetime,
) -> int:
    """Queue the reminders of a check in one batch: the directory, the routes and the templates
    are read once, the keys queued before in one query per chunk, the new rows in one insert.
    A reminder above level 1 says which lower levels were queued before, and to whom: only
    those, since levels due on the same day are queued at once, the highest only."""
    batch = Batch(session, settings, now)
    locale = settings.locale
    pairs = list(reminders)
    climbing = {(record.id or 0, prefix) for record, reminder in pairs
                if reminder.level > 1 and (prefix := reminded.series(reminder.key))}
    before = reminded.earlier(session, climbing)
    for record, reminder in pairs:
        responsible = reminder.responsible or reminder.role
        prefix = reminded.series(reminder.key)
        series = before.setdefault((record.id or 0, prefix or ""), [])
        earlier = [e for e in series if e.level < reminder.level]
        deadline = {
            "id": reminder.deadline, "title": Title(reminder.title).in_(locale), "due": reminder.due,
            "level": reminder.level, "role": reminder.role, "role_title": role_title(reminder.role, locale),
            "basis": Title(reminder.basis).in_(locale), "overdue_days": (batch.today - reminder.due).days,
            "escalated": reminder.role != responsible,
            "responsible": {
                "role": responsible, "title": role_title(responsible, locale),
                "names": [batch.actor_name(a) for a in batch.recipients(record, responsible)],
            },
            # None: not known (a key of another shape); []: nothing was sent before this level
            "reminded": None if prefix is None else [
                {"level": e.level, "to": batch.recipient_name(e.recipient),
                 "on": local_date(e.queued_at, settings.timezone),
                 "sent": e.sent} for e in earlier
            ],
        }
        for address in batch.addresses(record, [reminder.role]):
            # an escalation to a role that does not own the item reports nothing itself
            owns = reminder.item is not None and reminder.owner in address.roles
            link = batch.link(record, address, "item", reminder.item) if owns and reminder.item else None
            batch.queue(record, address, f"{reminder.key}:{address.recipient}", kind="reminder",
                        topic=reminder.deadline,
                        context={"deadline": {**deadline, "item": reminder.item, "link": link},
                                 "at": batch.today})
            # a lower level queued earlier in this batch reads as if queued by a check before
            if not any((e.level, e.recipient) == (reminder.level, address.recipient) for e in series):
                series.append(reminded.Earlier(reminder.level, address.recipient, now, sent=False))
    return batch.write()


def report_undeliverable(session: Session, settings: Settings, row: OutboxRecord, now: dt.datetime) -> int:
    """Tell the coordinator that a message is dead (not for a report that is dead itself)."""
    if row.dedup_key.startswith(DEAD_PREFIX):
        return 0
    batch = Batch(session, settings, now)
    record = session.get(CaseRecord, row.case_id) if row.case_id is not None else None
    if record is not None:
        targets = batch.addresses(record, [COORDINATOR])
    else:
        coordinators = session.scalars(
            select(ActorRoleRecord.actor_id).where(ActorRoleRecord.role == COORDINATOR)
        ).all()
        targets = [Address((COORDINATOR,), None, a) for a in coordinators] or [Address((COORDINATOR,))]
    error = masked.hide((row.last_error or "").removeprefix("warning: "))
    failed = {"id": row.id, "to": row.recipient, "to_name": batch.recipient_name(row.recipient),
              "channel": row.channel, "attempts": row.attempts, "error": error}
    # A row that dies again after `lotse outbox retry` is reported again.
    again = f"+{len(row.revivals)}" if row.revivals else ""
    for address in targets:
        batch.queue(record, address, f"{DEAD_PREFIX}{row.id}{again}:{address.recipient}",
                    kind="undeliverable", topic=None, context={"failed": failed, "at": batch.today})
    return batch.write()


def test_message(settings: Settings, name: str, roles: tuple[str, ...], channel: str,
                 now: dt.datetime) -> messages.Rendered:
    """The text of `lotse notify test`."""
    titles = [role_title(role, settings.locale) for role in roles]
    context = {"recipient": {"name": name, "roles": list(roles), "role_titles": titles},
               "channel": channel, "at": local_date(now, settings.timezone)}
    return messages.render("test", context, locale=settings.locale, roles=roles,
                           template_dir=settings.template_dir, channel=channel)


# -- the messages of one transaction -------------------------------------------------------------


@dataclass(frozen=True)
class _Message:
    record: CaseRecord | None
    address: Address
    key: str  # the first row's dedup key; a second route's row gets `key|route`
    kind: str
    topic: str | None
    context: dict[str, Any]


class Batch:
    """The messages of one transaction, queued together. The directory, the routes, the known
    regions and the templates are looked up once per batch, not once per message; the keys
    queued before are read together, and the new rows written in one insert."""

    def __init__(self, session: Session, settings: Settings, now: dt.datetime) -> None:
        self.session = session
        self.settings = settings
        self.now = now
        self.today = local_date(now, settings.timezone)
        self._texts = messages.Texts(settings.locale, settings.template_dir)
        self._staff: dict[tuple[str, str | None], list[str]] = {}
        self._contacts: dict[str | None, dict[str, Any] | None] = {}
        self._routes: dict[Address, list[Target]] = {}
        self._regions: set[str] | None = None
        self._table: routes.Routes | None = None
        self._planned: list[_Message] = []

    @cached_property
    def roster(self) -> roster.Roster:
        """The directory, read once for the batch (or held by the transaction of a change)."""
        return roster.of(self.session)

    @cached_property
    def _signing_key(self) -> bytes | None:
        return self.settings.signing_key()

    @cached_property
    def _desk_url(self) -> str:
        return self.settings.desk_url

    def link(self, record: CaseRecord | None, address: Address, kind: answer_links.Kind,
             name: str) -> str | None:
        """An answer link for one item or fact of the case's current stage entry, bound to the
        address's actor; None for a row without an actor (a link binds an organisation) or
        without a secret key (`lotse init` makes one; `lotse doctor` says when it is missing)."""
        if record is None or address.actor is None or self._signing_key is None:
            return None
        made = answer_links.new(record.ref, kind, name, address.actor, record.stage_entered_at, self.now,
                                self.settings.link_days)
        token = answer_links.token(made, self._signing_key)
        return messages.Verbatim(answer_links.url(self._desk_url, token))

    def expected(self, record: CaseRecord, address: Address, items: Iterable[ChecklistItem],
                 due_dates: Mapping[str, dt.date] | None = None) -> list[dict[str, Any]]:
        """What a message asks of its address: each item's title, due date (where known) and
        answer link bound to the address's actor."""
        return [{"id": item.id, "title": item.title.in_(self.settings.locale),
                 "due": (due_dates or {}).get(item.id), "link": self.link(record, address, "item", item.id)}
                for item in items]

    def recipients(self, record: CaseRecord, role: str) -> list[str]:
        """The actors of a case for a role: its employer for `employer`, else the role's actors
        nearest the case's region up the hierarchy (states/regions.py): those of the case's
        region or serving it, else of the region above, ... up to the county; else the role's
        actors of the whole alliance (no region, none served)."""
        if role == "employer":
            return [record.employer_id]
        if (role, record.region) not in self._staff:
            chain = self.regions.chain(record.region)
            self._staff[(role, record.region)] = nearest(self.roster.serving(role), chain)
        return self._staff[(role, record.region)]

    @cached_property
    def regions(self) -> Regions:
        return region_hierarchy.load(self.settings.regions_path)

    def addresses(self, record: CaseRecord, roles: list[str]) -> list[Address]:
        """One address per recipient of a case: an actor with several of the roles is told once."""
        by_actor: dict[str, list[str]] = {}
        unstaffed: list[str] = []
        for role in dict.fromkeys(roles):
            found = self.recipients(record, role)
            if not found:
                unstaffed.append(role)
            for actor_id in found:
                by_actor.setdefault(actor_id, []).append(role)
        above = tuple(self.regions.chain(record.region)[1:])
        return [Address(tuple(r), record.region, actor, above) for actor, r in by_actor.items()] + [
            Address((role,), record.region, None, above) for role in unstaffed
        ]

    def recipient_name(self, recipient: str) -> str:
        """An outbox row's recipient as a reader names it: the actor's name, or the role's title
        and region (`Wohnungsunternehmen (SE-Nord)`) where no actor is known."""
        role, at, region = recipient.partition("@")
        if at:
            title = role_title(role, self.settings.locale)
            return f"{title} ({region})" if region and region != "*" else title
        return self.actor_name(recipient) or recipient

    def actor_name(self, actor_id: str | None) -> str | None:
        if actor_id is None:
            return None
        entry = self.roster.actors.get(actor_id)
        return entry.name if entry else actor_id

    def contact(self, record: CaseRecord | None) -> dict[str, Any] | None:
        """The case's coordinator: of its region, else of the whole alliance."""
        if record is None:
            return None
        if record.region not in self._contacts:
            self._contacts[record.region] = None
            for actor_id in self.recipients(record, COORDINATOR):
                actor = self.roster.actors.get(actor_id)
                if actor is not None:
                    self._contacts[record.region] = {"name": actor.name, "email": actor.email}
                    break
        return self._contacts[record.region]

    def queue(
        self, record: CaseRecord | None, address: Address, key: str, *,
        kind: str, topic: str | None, context: dict[str, Any],
    ) -> None:
        """Plan one message to one address; `write` queues it, unless `key` was queued before."""
        self._planned.append(_Message(record, address, key, kind, topic, context))

    def write(self, *, fresh: bool = False) -> int:
        """Queue what is planned and was not queued before: one row per route of the address (the
        first under its key, so a cause is queued once even if the routes change later), or one
        row without a route that waits for one. Returns the number of rows queued. `fresh`: every
        key names a history row written in this transaction (the history is append-only, its ids
        are never used again), so none can have been queued before and none is looked up."""
        planned = [(message, self._keyed_targets(message)) for message in self._planned]
        self._planned = []
        keys = [key for _, keyed in planned for key, _ in keyed]
        done = set() if fresh else outbox.queued_keys(self.session, keys)
        rows = []
        for message, keyed in planned:
            if message.key in done:
                continue
            texts: dict[str | None, messages.Rendered] = {}
            for key, target in keyed:
                if key in done:
                    continue
                done.add(key)
                channel = target.channel if target else None
                if channel not in texts:
                    texts[channel] = self._render(message, channel)
                rows.append(self._row(message, key, target, texts[channel]))
        outbox.write(self.session, rows)
        return len(rows)

    def _keyed_targets(self, message: _Message) -> list[tuple[str, Target | None]]:
        """The routes of a message's address, each with its row's key; or one row without a route."""
        if message.address not in self._routes:
            if self._table is None:
                self._table = routes.load(self.settings)
            if self._table.targets and self._regions is None:
                self._regions = self._route_regions(self._table)
            found = self._table.find(message.address, self._regions or set()) if self._table.targets else []
            self._routes[message.address] = found
        found = self._routes[message.address]
        if not found:
            return [(message.key, None)]
        return [(message.key if index == 0 else f"{message.key}|{target.key}", target)
                for index, target in enumerate(found)]

    def _route_regions(self, table: routes.Routes) -> set[str]:
        """The regions a route's tags may name (a route tagged with a region other than the
        message's is not its route): those of the directory and the hierarchy; those of the
        cases besides only when a tag is neither of these, nor an actor, nor a role."""
        known = self.roster.regions() | set(self.regions.codes)
        named = {name.lower() for name in (*known, *self.roster.actors, *role_titles(),
                                           *(r for held in self.roster.roles.values() for r in held))}
        if any(tag not in named for target in table.targets for tag in target.tags):
            known |= case_regions(self.session)
        return known

    def _render(self, message: _Message, channel: str | None) -> messages.Rendered:
        address = message.address
        return self._texts.render(message.kind, {
            **message.context,
            "case": _case(message.record, self.settings, channel),
            "recipient": {"name": self.actor_name(address.actor), "roles": list(address.roles),
                          "role_titles": [role_title(r, self.settings.locale) for r in address.roles]},
            "contact": self.contact(message.record),
            "channel": channel or "unknown",
            "link_days": self.settings.link_days,
        }, topic=message.topic, roles=address.roles, channel=channel)

    def _row(
        self, message: _Message, key: str, target: Target | None, text: messages.Rendered,
    ) -> dict[str, Any]:
        record = message.record
        return outbox.row(
            case_id=record.id if record else None, recipient=message.address.recipient,
            tags=str(message.address), subject=text.subject, body=text.body, dedup_key=key, now=self.now,
            channel=target.channel if target else None, route=target.key if target else None,
            warning=text.warning,
        )


def _case(record: CaseRecord | None, settings: Settings, channel: str | None) -> dict[str, Any] | None:
    if record is None:
        return None
    # A row without a route yet may end up in a chat: it gets the chat's rule.
    hide = settings.chat_reference_only and channel != routes.EMAIL
    desk = settings.public_url
    return {"ref": record.ref, "name": None if hide else record.given_name, "process": record.process,
            "region": record.region, "overview": f"case-{record.ref.lower()}",
            "url": messages.Verbatim(f"{desk}/cases/{record.ref}") if desk else None}


def _facts(process: Process, values: Mapping[str, Any], locale: str) -> list[dict[str, str]]:
    shown = []
    for name, value in values.items():
        fact = process.facts.get(name)
        if fact is None or process.is_personal(name):
            continue
        if isinstance(value, dt.date):
            text = messages.format_day(value, locale)
        elif isinstance(value, bool):
            text = {"de": {True: "ja", False: "nein"}, "en": {True: "yes", False: "no"}}[locale][value]
        else:
            text = fact_kinds.display(value)
        shown.append({"id": name, "title": fact.title.in_(locale) or name, "value": text})
    return sorted(shown, key=lambda f: list(process.facts).index(f["id"]))


def actor_name(session: Session, actor_id: str | None) -> str | None:
    actor = session.get(ActorRecord, actor_id) if actor_id else None
    return actor.name if actor else actor_id
