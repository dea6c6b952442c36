"""Answering from a message: what an answer link asks, and the answer its recipient gives.

`look` is what opening a link does: it changes nothing in the case (mail scanners open every
link), it only reads what the link asks. `answer` is the confirmation: one change of the case, in
one transaction, audited `via=link` with the link's organisation as author, `link:<id>` as proof
and as request id, so that the same link posted twice changes the case once.

A link that can no longer be answered raises `Dead`, saying why in a word (`Dead.why`) that the
desk turns into a sentence. Every look and every answer, refused or not, is recorded in
`link_uses` under the link's random id: never its token, never a name or a value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import select
from sqlmodel import Session

from lotse.notifications import answer_links
from lotse.notifications.answer_links import AnswerLink
from lotse.notifications.signing import BadToken
from lotse.states import scope, store
from lotse.states.case import Case
from lotse.states.deadlines import rule
from lotse.states.errors import BadFactValue, NotFound, NotYours, Refused, RoleMissing
from lotse.states.facts import CEFR_LEVELS
from lotse.states.family import is_family_item
from lotse.states.moments import local_date
from lotse.states.process import COORDINATOR, Fact, Process
from lotse.states.records import (
    ActorRecord,
    ActorRoleRecord,
    CaseRecord,
    DeadlineRecord,
    FactRecord,
    HistoryRecord,
    ItemRecord,
    LinkUseRecord,
)
from lotse.tasks import casework
from lotse.tasks.context import Context

KIND = "answer"  # link_uses.kind

# Why a link is dead, and the status the desk answers with.
STATUS = {
    "unreadable": 400,  # tampered, cut short, or made with another key
    "expired": 410,
    "used": 409,  # this link reported already
    "done": 409,  # the item was reported done by someone else
    "entered": 409,  # the fact was entered by someone else, and the stage asks nothing more of it
    "moved-on": 410,  # the case left the stage entry the link was made for
    "not-asked": 410,  # the stage does not ask for this item or fact
    "closed": 410,  # the case is in a final stage
    "gone": 410,  # no such case (any more)
    "actor-gone": 410,  # the organisation left the directory
    "not-allowed": 403,  # the organisation may not report this (roles, or not its case)
    "csrf": 403,  # a form that does not come from the desk's page
}


class Dead(Exception):
    """The link can no longer be answered; nothing was changed."""

    def __init__(self, why: str, *, case_id: int | None = None, on: dt.date | None = None,
                 by: str | None = None, contact: dict[str, Any] | None = None) -> None:
        super().__init__(why)
        self.why, self.case_id, self.on, self.by = why, case_id, on, by
        self.contact = contact if contact is not None else {}  # {}: the alliance's office, unnamed

    @property
    def status(self) -> int:
        return STATUS[self.why]


@dataclass(frozen=True)
class Field:
    """How a fact is entered: its kind, and the choices where there are a few."""

    kind: str  # date, int, str, bool, cefr, country, enum
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """What a link asks, as its page shows it."""

    link: AnswerLink
    case_id: int
    version: int
    ref: str
    given_name: str
    organisation: str  # the name of the link's actor
    kind: str  # item or fact
    name: str
    title: str
    due: dt.date | None  # the open deadline of the item or fact, if it has one
    field: Field | None  # for a fact
    contact: dict[str, Any]  # the case's coordinator; {} when the directory has none
    state: str | None = None  # `Case.digest` when it was asked: an answer on a changed case is refused


@dataclass(frozen=True)
class Answered:
    question: Question
    on: dt.date  # when it was reported, in the alliance's calendar
    repeated: bool  # the link had reported before: nothing changed now
    history_id: int


class BadValue(Exception):
    """The value given for a fact does not fit its kind; nothing was changed."""

    def __init__(self, question: Question) -> None:
        super().__init__(question.name)
        self.question = question


def look(ctx: Context, key: bytes, token: str) -> Question:
    """What the link asks; `Dead` when it can no longer be answered. Changes nothing in the case."""
    link = _read(ctx, key, token)
    with ctx.db.reading() as session:
        try:
            question, earlier = _inspect(session, ctx, link)
            if earlier is not None:
                raise Dead("used", case_id=question.case_id, on=_day(ctx, earlier.at),
                           contact=question.contact)
        except Dead as dead:
            _refused(ctx, link, dead)
            raise
    _record(ctx, link, question.case_id, "opened")
    return question


def answer(ctx: Context, key: bytes, token: str, value: str | None = None) -> Answered:
    """Report the item done, or enter the fact, as the link's organisation; the same link again
    changes nothing (`Answered.repeated`). `Dead` or `BadValue`: nothing changed."""
    link = _read(ctx, key, token)
    linked = dataclasses.replace(ctx, proof=link.request_id)
    with ctx.db.reading() as session:
        try:
            question, earlier = _inspect(session, ctx, link)
        except Dead as dead:
            _refused(ctx, link, dead)
            raise
        process = ctx.catalog.get(*_process_key(session, question.case_id))
    if earlier is not None:
        return _repeated(ctx, link, question, earlier)
    facts = None
    if link.kind == "fact":
        try:
            facts = casework.parse_facts(process, {link.name: "" if value is None else value})
        except BadFactValue:
            _record(ctx, link, question.case_id, "refused:bad-value")
            raise BadValue(question) from None
    try:
        result = casework.work(
            linked, question.ref, by=link.actor, items=[link.name] if link.kind == "item" else None,
            facts=facts, via="link", request_id=link.request_id, expected_version=question.version,
            expected_state=question.state,
        )
    except Refused as exc:
        dead = _why_refused(ctx, link, question, exc)
        _refused(ctx, link, dead)
        raise dead from None
    with ctx.db.reading() as session:
        row = _earlier(session, link)
    assert row is not None and row.id is not None
    if result["repeated"]:  # the same link, posted twice at once: the other post made the change
        return _repeated(ctx, link, question, row)
    _record(ctx, link, question.case_id, "used", row.id)
    return Answered(question, _day(ctx, row.at), repeated=False, history_id=row.id)


def refuse(ctx: Context, key: bytes, token: str, why: str) -> Dead:
    """Record a use the desk refused before reading the case (a form without its CSRF field);
    the `Dead` to show, with the case's contact where the link is readable."""
    try:
        link = answer_links.read(token, key)
    except BadToken:
        link = None
    with ctx.db.reading() as session:
        record = _case(session, link.ref) if link is not None else None
        dead = Dead(why, case_id=record.id if record else None, contact=contact(session, record))
    _record_use(ctx, link.id if link else None, dead.case_id, link.actor if link else None,
                f"refused:{why}")
    return dead


def contact(session: Session, record: CaseRecord | None) -> dict[str, Any]:
    """Whom to ask about a case: a coordinator of its region, else one for the whole alliance,
    else any coordinator; {} when the directory has none."""
    region = record.region if record is not None else None
    rank = sql_case((ActorRecord.region == region, 0), (ActorRecord.region.is_(None), 1), else_=2)  # type: ignore[union-attr]
    found = session.scalars(
        select(ActorRecord)
        .join(ActorRoleRecord, ActorRoleRecord.actor_id == ActorRecord.id)
        .where(ActorRoleRecord.role == COORDINATOR)
        .order_by(rank, ActorRecord.id)
    ).first()
    return {"name": found.name, "email": found.email} if found is not None else {}


# -- reading a link and the case it points to ----------------------------------------------------


def _read(ctx: Context, key: bytes, token: str) -> AnswerLink:
    try:
        return answer_links.read(token, key)
    except BadToken:
        _record_use(ctx, None, None, None, "refused:unreadable")
        with ctx.db.reading() as session:
            raise Dead("unreadable", contact=contact(session, None)) from None


def _inspect(session: Session, ctx: Context, link: AnswerLink) -> tuple[Question, HistoryRecord | None]:
    """The question a link asks, and the change it made if it was answered before; `Dead` when
    it can no longer be answered."""
    record = _case(session, link.ref)
    if record is None or record.id is None:
        raise Dead("gone", contact=contact(session, None))
    reach = contact(session, record)

    def dead(why: str, **more: Any) -> Dead:
        return Dead(why, case_id=record.id, contact=reach, **more)

    try:
        process = ctx.catalog.get(record.process, record.process_version)
    except NotFound:  # a definition no longer loaded
        raise dead("gone") from None
    actor = session.get(ActorRecord, link.actor)
    earlier = _earlier(session, link)
    if earlier is not None:  # answered: the rest no longer matters
        asked = _asked(process, link, record.stage, ctx.settings.locale, strict=False)
        title, field = asked or (link.name, None)
        return _question(session, ctx, link, record, process, actor, title, field, reach), earlier
    if link.expired(ctx.clock()):
        raise dead("expired")
    if process.is_final(record.stage):
        raise dead("closed")
    if answer_links.stage_entry(record.stage_entered_at) != link.stage_entry:
        raise dead("moved-on")
    if actor is None:
        raise dead("actor-gone")
    asked = _asked(process, link, record.stage, ctx.settings.locale, strict=True)
    if asked is None:
        raise dead("not-asked")
    title, field = asked
    author = store.get_actor(session, link.actor)
    if not scope.belongs(author, employer=record.employer_id, region=record.region,
                         opener=lambda: store.opener(session, record), regions=ctx.regions):
        raise dead("not-allowed")  # not its case (any more): another employer's, another region's
    author = scope.as_on_case(author, employer=record.employer_id)
    case = store.load_case(session, record, process)
    if link.kind == "item":
        if is_family_item(link.name) and link.name not in case.family_items(process):
            raise dead("not-asked")
        if not author.has_any([process.item(link.name).owner]):
            raise dead("not-allowed")
        if link.name in case.done:
            item = session.get(ItemRecord, (record.id, link.name))
            raise dead("done", **_when_by(ctx, session, item.at if item else None, item.by if item else None))
    else:
        if not author.has_any(process.facts[link.name].set_by):
            raise dead("not-allowed")
        if _entered(process, case, link.name):
            fact = session.get(FactRecord, (record.id, link.name))
            raise dead("entered", **_when_by(ctx, session, fact.set_at if fact else None,
                                             fact.set_by if fact else None))
    question = _question(session, ctx, link, record, process, actor, title, field, reach)
    return dataclasses.replace(question, state=case.digest(process)), None


def _asked(process: Process, link: AnswerLink, stage: str, locale: str,
           *, strict: bool) -> tuple[str, Field | None] | None:
    """The title of what a link asks (and the field of a fact); None if the process has no such
    item or fact, or, with `strict`, if the case's stage does not ask for it."""
    if link.kind == "item":
        items = process.stages[stage].checklist if strict else [item for _, item in process.items()]
        found = next((item for item in items if item.id == link.name), None)
        if is_family_item(link.name):  # a family member's need: asked in every stage
            found = process.find_item(link.name)
        return (found.title.in_(locale), None) if found is not None else None
    fact = process.facts.get(link.name)
    return (fact.title.in_(locale) or link.name, _field(fact)) if fact is not None else None


def _field(fact: Fact) -> Field:
    if fact.type == "enum":
        return Field("enum", tuple(fact.values or ()))
    if fact.type == "cefr":
        return Field("cefr", CEFR_LEVELS)
    return Field(fact.type)


def _entered(process: Process, case: Case, name: str) -> bool:
    """A fact the stage asks no more of: set, and meeting every condition on it of the ways on."""
    if case.facts.get(name) is None:
        return False
    conditions = [c for t in process.transitions_from(case.stage) for c in process.conditions(t)
                  if c.fact == name]
    return all(case.meets(process, c) for c in conditions)


def _question(
    session: Session, ctx: Context, link: AnswerLink, record: CaseRecord, process: Process,
    actor: ActorRecord | None, title: str, field: Field | None, reach: dict[str, Any],
) -> Question:
    assert record.id is not None
    return Question(
        link=link, case_id=record.id, version=record.version, ref=record.ref,
        given_name=record.given_name, organisation=actor.name if actor else link.actor,
        kind=link.kind, name=link.name, title=title, due=_due(session, process, record.id, link),
        field=field, contact=reach,
    )


def _due(session: Session, process: Process, case_id: int, link: AnswerLink) -> dt.date | None:
    """The earliest open deadline of the item (or of the fact, for a deadline that runs until
    it is set)."""
    rows = session.scalars(select(DeadlineRecord).where(
        DeadlineRecord.case_id == case_id, DeadlineRecord.closed_at.is_(None),  # type: ignore[union-attr]
    ))
    due = []
    for row in rows:
        r = rule(process, row.deadline)
        if r is None:
            continue
        if (link.kind == "item" and r.item == link.name) or (
                link.kind == "fact" and any(c.fact == link.name for c in r.until)):
            due.append(row.due)
    return min(due, default=None)


def _case(session: Session, ref: str) -> CaseRecord | None:
    return session.scalars(select(CaseRecord).where(CaseRecord.ref == ref)).first()


def _process_key(session: Session, case_id: int) -> tuple[str, int]:
    record = session.get(CaseRecord, case_id)
    assert record is not None
    return record.process, record.process_version


def _earlier(session: Session, link: AnswerLink) -> HistoryRecord | None:
    return session.scalars(select(HistoryRecord).where(HistoryRecord.request_id == link.request_id)).first()


def _when_by(ctx: Context, session: Session, at: dt.datetime | None, by: str | None) -> dict[str, Any]:
    actor = session.get(ActorRecord, by) if by else None
    return {"on": _day(ctx, at) if at else None, "by": actor.name if actor else by}


def _day(ctx: Context, moment: dt.datetime) -> dt.date:
    return local_date(moment, ctx.settings.timezone)


# -- what a refused change means -------------------------------------------------------------------


def _why_refused(ctx: Context, link: AnswerLink, question: Question, exc: Exception) -> Dead:
    """The `Dead` of a change casework refused: the author may not, or the case changed between
    reading it and the change (read it again to say how)."""
    if isinstance(exc, (RoleMissing, NotYours)):
        return Dead("not-allowed", case_id=question.case_id, contact=question.contact)
    with ctx.db.reading() as session:
        try:
            _inspect(session, ctx, link)
        except Dead as dead:
            return dead
    if isinstance(exc, NotFound):
        return Dead("actor-gone", case_id=question.case_id, contact=question.contact)
    return Dead("moved-on", case_id=question.case_id, contact=question.contact)


def _repeated(ctx: Context, link: AnswerLink, question: Question, earlier: HistoryRecord) -> Answered:
    assert earlier.id is not None
    _record(ctx, link, question.case_id, "repeated", earlier.id)
    return Answered(question, _day(ctx, earlier.at), repeated=True, history_id=earlier.id)


# -- link_uses ---------------------------------------------------------------------------------------


def _refused(ctx: Context, link: AnswerLink, dead: Dead) -> None:
    _record(ctx, link, dead.case_id, f"refused:{dead.why}")


def _record(ctx: Context, link: AnswerLink, case_id: int | None, outcome: str,
            history_id: int | None = None) -> None:
    _record_use(ctx, link.id, case_id, link.actor, outcome, history_id)


def _record_use(ctx: Context, link_id: str | None, case_id: int | None, actor_id: str | None,
                outcome: str, history_id: int | None = None) -> None:
    with ctx.db.writing() as session:
        session.add(LinkUseRecord(link_id=link_id, kind=KIND, case_id=case_id, actor_id=actor_id,
                                  at=ctx.clock(), outcome=outcome, history_id=history_id))
