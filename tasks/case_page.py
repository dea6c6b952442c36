"""The case page of the desk: everything about one case for a signed-in coordinator, and its form.

It reads what `lotse case show` reads (`case_file`) and offers what the `work-case` form offers
(`worksheet`), with the personal facts too: this page is Lotse's own, never Prefect's. Titles are
in LOTSE_LOCALE, organisations by name. `answer` reads the posted form back: the items ticked, the
facts changed (a field left as it was asks nothing), the event and its note.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from lotse.states import facts as fact_kinds
from lotse.states import store
from lotse.states.case import state_digest
from lotse.states.errors import BadFactValue, BadInput, LotseError, Refused
from lotse.states.process import Process
from lotse.states.records import HistoryRecord
from lotse.states.titles import role_title
from lotse.tasks import case_file, casework, directory
from lotse.tasks.context import Context
from lotse.tasks.worksheet import NOTE_MAX, FactField, Worksheet, lacking, worksheet

FACT_PREFIX = "fact:"  # the form's field of a fact: fact:<name>


class BadField(BadFactValue):
    """A value in the form that does not fit its fact; `field` says which, the value is not repeated."""

    def __init__(self, field: Field) -> None:
        self.field = field
        super().__init__(f"{field.title}: {fact_kinds.expected(field.kind, list(field.choices))}")


@dataclass(frozen=True)
class Field:
    """A fact's field in the form: its kind decides the input (date, choices, yes/no, number, text)."""

    name: str
    title: str
    kind: str
    choices: tuple[str, ...]
    value: str  # as the form shows it now: ISO date, true/false, the text
    detail: str

    @property
    def input_name(self) -> str:
        return f"{FACT_PREFIX}{self.name}"


@dataclass(frozen=True)
class CasePage:
    ref: str
    version: int
    given_name: str
    family_name: str
    process: str
    stage: str
    stage_title: str
    employer: str  # the employer's name
    region: str
    created_at: dt.datetime
    stage_entered_at: dt.datetime
    facts: list[dict[str, Any]]  # title, value, personal
    checklist: list[dict[str, Any]]  # the stage's items: title, owner, done, by, at
    deadlines: list[dict[str, Any]]  # title, due, level, role
    history: list[dict[str, Any]]  # at, action, from, to, by, via, proof, note
    messages: list[dict[str, Any]]  # to, channel, status, at
    sheet: Worksheet | None  # None: the case is closed, nothing can change
    seen: str  # what the page shows of the case's state, digested: a form of another state is stale
    fields: list[Field] = field(default_factory=list)
    # label, relation, given_name, birth_year, arrives, needs (title, owner, done, due): names shown
    # here to the signed-in coordinator only
    family: list[dict[str, Any]] = field(default_factory=list)
    # the case's language course groups (id, school, level, pace, start, end, place) and exam
    # results (date, level, exam, passed, by): docs/courses.md
    courses: list[dict[str, Any]] = field(default_factory=list)
    exams: list[dict[str, Any]] = field(default_factory=list)

    @property
    def items(self) -> list[Any]:
        return list(self.sheet.items) if self.sheet else []

    @property
    def events(self) -> list[Any]:
        return list(self.sheet.events) if self.sheet else []


def case_page(ctx: Context, ref: str) -> CasePage:
    """The page of one case as it stands now (`NotFound` for an unknown reference)."""
    locale = ctx.settings.locale
    shown = case_file.case_file(ctx, ref)
    process = ctx.catalog.get(shown["process"], shown["process_version"])
    names = {actor.id: actor.name for actor in directory.list_actors(ctx)}
    try:
        sheet: Worksheet | None = worksheet(ctx, shown["ref"], personal=True)
    except Refused:
        sheet = None
    stage_title = _stage_titles(process, locale)
    return CasePage(
        ref=shown["ref"], version=shown["version"], given_name=shown["given_name"],
        family_name=shown["family_name"], process=process.key, stage=shown["stage"],
        stage_title=shown["stage_title"], employer=names.get(shown["employer"], shown["employer"]),
        region=shown["region"], created_at=_moment(shown["created_at"]),
        stage_entered_at=_moment(shown["stage_entered_at"]),
        facts=[
            {"name": name, "title": (process.facts[name].title.in_(locale) or name),
             "value": _display(fact_kinds.from_json(process.facts[name].type, value), locale),
             "personal": process.is_personal(name)}
            for name, value in shown["facts"].items()
        ],
        checklist=[
            {"id": i["id"], "title": i["title"] or i["id"], "owner": role_title(i["owner"], locale),
             "done": i["done"], "by": names.get(i["by"], i["by"]) if i["by"] else None,
             "at": _moment(i["at"]) if i["at"] else None}
            for i in shown["checklist"] if i["stage"] == shown["stage"]
        ],
        deadlines=[
            {"title": d["title"], "due": dt.date.fromisoformat(d["due"]), "level": d["level"],
             "role": role_title(d["role"], locale) if d["role"] else ""}
            for d in shown["deadlines"]
        ],
        history=[
            {"at": _moment(h["at"]), "action": h["action"], "from": stage_title(h["from"]),
             "to": stage_title(h["to"]), "by": names.get(h["actor"], h["actor"]) if h["actor"] else "",
             "via": h["via"], "proof": h["proof"] or "", "note": h["note"] or ""}
            for h in shown["history"]
        ],
        messages=[
            {"to": _recipient(m["to"], names, locale), "channel": m["channel"] or "", "status": m["status"],
             "at": _moment(m["at"]) if m["at"] else None}
            for m in shown["messages"]
        ],
        sheet=sheet,
        seen=_seen(shown),
        fields=[_field(f) for f in sheet.facts] if sheet else [],
        family=[
            {**{k: m[k] for k in ("label", "relation", "given_name", "birth_year")},
             "arrives": dt.date.fromisoformat(m["arrives"]) if m["arrives"] else None,
             "needs": [{"id": n["item"], "title": n["title"], "owner": role_title(n["owner"], locale),
                        "done": n["done"], "due": dt.date.fromisoformat(n["due"]) if n["due"] else None}
                       for n in m["needs"]]}
            for m in shown["family"]
        ],
        courses=[
            {**c, "school": names.get(c["school"], c["school"]), "start": dt.date.fromisoformat(c["start"]),
             "end": dt.date.fromisoformat(c["end"])}
            for c in shown.get("courses", [])
        ],
        exams=[
            {**e, "date": dt.date.fromisoformat(e["date"]),
             "by": names.get(e["recorded_by"], e["recorded_by"])}
            for e in shown.get("exams", [])
        ],
    )


def applied(ctx: Context, request_id: str) -> bool:
    """Whether a change with this request id was made: a form sent twice."""
    with ctx.db.reading() as session:
        found = session.scalars(select(HistoryRecord.id).where(HistoryRecord.request_id == request_id))
        return found.first() is not None


def answer(page: CasePage, form: Mapping[str, Any]) -> dict[str, Any]:
    """The change a posted form asks for, as `casework.work` takes it: items, facts (text, parsed
    there by their type), event, note. Only what the page offered; a fact left unchanged asks nothing.
    `form` maps a field's name to its list of values."""
    offered_items = {o.id for o in page.items}
    offered_events = {o.id for o in page.events}
    items = [i for i in dict.fromkeys(_all(form, "item")) if i]
    if unknown := [i for i in items if i not in offered_items]:
        raise BadInput(f"{page.ref}: {', '.join(unknown[:3])} cannot be ticked now; reload the page")
    facts = {}
    for f in page.fields:
        given = _one(form, f.input_name).strip()
        if given and given != f.value:
            try:
                facts[f.name] = fact_kinds.parse_value(f.kind, given, list(f.choices) or None, name=f.name)
            except BadFactValue:
                raise BadField(f) from None
    event = _one(form, "event").strip() or None
    if event is not None and event not in offered_events:
        raise BadInput(f"{page.ref}: this event is not offered now; reload the page")
    note = " ".join(_one(form, "note").split()) or None
    if note is not None and len(note) > NOTE_MAX:
        raise BadInput(f"the note is longer than {NOTE_MAX} characters")
    return {"items": items, "facts": facts, "event": event, "note": note}


def still_lacking(ctx: Context, ref: str, wanted: Mapping[str, Any]) -> list[str]:
    """What the form's event lacks, in titles, once its ticks and facts are counted: the reason a
    refused form gives. Reads only; nothing is written."""
    with ctx.db.reading() as session:
        record = store.find_case(session, ref)
        process = ctx.catalog.get(record.process, record.process_version)
        case = store.load_case(session, record, process)
    transition = process.transition(wanted["event"], case.stage) if wanted.get("event") else None
    if transition is None:
        return []
    case.done.update(wanted.get("items") or [])
    with contextlib.suppress(LotseError):  # a bad value was refused first: read without it
        case.facts.update(casework.parse_facts(process, dict(wanted.get("facts") or {})))
    return lacking(case, process, transition, ctx.settings.locale)


def form_value(value: Any) -> str:
    """A fact's value as a form field holds it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _seen(shown: Mapping[str, Any]) -> str:
    """The page's state as `Case.digest` reads it inside the change's transaction."""
    return state_digest(shown["version"], shown["stage"], shown["facts"],
                        [i["id"] for i in shown["checklist"] if i["done"]])


def _field(fact: FactField) -> Field:
    return Field(fact.name, fact.title, fact.kind, fact.values, form_value(fact.now), fact.detail)


def _display(value: Any, locale: str) -> str:
    if isinstance(value, bool):
        return {"de": {True: "ja", False: "nein"}, "en": {True: "yes", False: "no"}}[locale][value]
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y") if locale == "de" else value.isoformat()
    return fact_kinds.display(value)


def _stage_titles(process: Process, locale: str) -> Any:
    def title(stage: str | None) -> str:
        if not stage:
            return ""
        found = process.stages.get(stage)
        return (found.title.in_(locale) if found else "") or stage

    return title


def _recipient(recipient: str, names: Mapping[str, str], locale: str) -> str:
    role, at, region = recipient.partition("@")
    if at:
        title = role_title(role, locale)
        return f"{title} ({region})" if region and region != "*" else title
    return names.get(recipient, recipient)


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _all(form: Mapping[str, Any], name: str) -> list[str]:
    value = form.get(name, [])
    return [str(v) for v in (value if isinstance(value, list | tuple) else [value])]


def _one(form: Mapping[str, Any], name: str) -> str:
    values = _all(form, name)
    return values[-1] if values else ""
