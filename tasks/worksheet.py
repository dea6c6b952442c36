"""What can be done on one case now, as the `work-case` form offers it, and doing it.

A worksheet lists the events of the case's stage with what each still lacks, the open checklist
items of the stage, the facts that are not personal data (typed, with their values now) and the
organisations of the case that may act. It holds titles in `LOTSE_LOCALE`, stage and event ids,
the reference and organisation names: never a person's name and never a personal fact, since
everything of a form stays in Prefect's database.

An answer to it (ticks, facts, an event, on whose behalf) is applied as one change: all of it or
nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from lotse.states import scope, store
from lotse.states.actor import Actor
from lotse.states.case import Case
from lotse.states.errors import BadInput, Refused
from lotse.states.facts import CEFR_LEVELS
from lotse.states.process import COORDINATOR, Process, Transition
from lotse.states.records import CaseRecord
from lotse.states.regions import Regions
from lotse.states.titles import Title, role_title
from lotse.tasks import casework
from lotse.tasks.context import Context

NOTE_MAX = 200  # a reason, not a story: free text is where names creep in
_OPS = {">=": "≥", "<=": "≤", "!=": "≠", "==": "="}

WORDS: dict[str, dict[str, str]] = {
    "de": {
        "lacks": "fehlt", "ready": "bereit", "no_event": "kein Ereignis", "yes": "ja", "no": "nein",
        "event": "Ereignis", "on_behalf_of": "Im Auftrag von", "note": "Notiz",
        "owner": "zuständig", "now": "jetzt", "unset": "noch nicht gesetzt", "set_by": "setzen dürfen",
        "may": "auslösen dürfen", "to": "nach", "stage": "Stufe", "version": "Version",
        "open_items": "Offene Punkte der Stufe", "events": "Ereignisse jetzt", "none": "keine",
        "changed": "Geändert", "missing": "Was jetzt fehlt", "nothing": "Nichts geändert",
        "done": "erledigt", "set": "gesetzt", "moved": "Ereignis", "repeated":
            "Diese Eingabe war schon angewandt; nichts wurde ein zweites Mal geändert.",
        "refused": "Abgelehnt, nichts wurde geändert", "by": "im Auftrag von",
        "event_help": "Was geschehen ist und den Fall weiterbringt; wird nach den Haken und Fakten "
                      "angewandt. Was noch fehlt, steht in Klammern.",
        "item_help": "Erledigt melden",
        "actor_help": "Die Organisation, für die Sie handeln; sie muss die nötigen Rollen haben.",
        "note_help": f"Warum, in wenigen Worten (höchstens {NOTE_MAX} Zeichen), zum Ereignis. Nie "
                     "Namen, Geburtsdaten, Staatsangehörigkeit oder Passdaten: Prefect behält alles.",
        "intro": "Alles wird zusammen angewandt (Haken, Fakten, dann das Ereignis) oder nichts.",
    },
    "en": {
        "lacks": "lacks", "ready": "ready", "no_event": "no event", "yes": "yes", "no": "no",
        "event": "Event", "on_behalf_of": "On behalf of", "note": "Note",
        "owner": "owner", "now": "now", "unset": "not set yet", "set_by": "may be set by",
        "may": "may be fired by", "to": "to", "stage": "Stage", "version": "version",
        "open_items": "Open items of the stage", "events": "Events now", "none": "none",
        "changed": "Changed", "missing": "What is missing now", "nothing": "Nothing changed",
        "done": "done", "set": "set", "moved": "event", "repeated":
            "This input was applied before; nothing was changed a second time.",
        "refused": "Refused, nothing was changed", "by": "on behalf of",
        "event_help": "What happened and moves the case; applied after the ticks and facts. What "
                      "an event still lacks is in brackets.",
        "item_help": "Report done",
        "actor_help": "The organisation you act for; it needs the roles asked for.",
        "note_help": f"Why, in a few words (at most {NOTE_MAX} characters), with the event. Never a "
                     "name, birth date, nationality or passport data: Prefect keeps everything.",
        "intro": "Everything is applied together (ticks, facts, then the event) or nothing.",
    },
}


def words(locale: str) -> dict[str, str]:
    return WORDS.get(locale, WORDS["de"])


@dataclass(frozen=True)
class Option:
    """Something the form offers: its id, its label, a line that explains it, and its bare title
    (an event's label also says what it lacks)."""

    id: str
    label: str
    detail: str = ""
    title: str = ""


@dataclass(frozen=True)
class FactField:
    """A fact that is not personal data: its type, its choices and its value now (or None)."""

    name: str
    title: str
    kind: str
    values: tuple[str, ...] = ()
    now: Any = None
    detail: str = ""


@dataclass(frozen=True)
class Worksheet:
    ref: str
    process: str
    stage: str
    stage_title: str
    version: int
    locale: str
    events: tuple[Option, ...]
    items: tuple[Option, ...]
    facts: tuple[FactField, ...]
    actors: tuple[Option, ...]

    @property
    def words(self) -> dict[str, str]:
        return words(self.locale)


@dataclass(frozen=True)
class Answer:
    """What the form came back with: ids and typed values, only the facts that were changed."""

    actor: str
    items: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)
    event: str | None = None
    note: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.items or self.facts or self.event)


def worksheet(ctx: Context, ref: str, *, personal: bool = False) -> Worksheet:
    """The worksheet of a case as it stands; a closed case has none (a refusal). With `personal`
    it offers the personal facts too: for the desk, Lotse's own page, never for Prefect."""
    locale = ctx.settings.locale
    with ctx.db.reading() as session:
        record = store.find_case(session, ref)
        process = ctx.catalog.get(record.process, record.process_version)
        case = store.load_case(session, record, process)
        directory = store.list_actors(session)
        opener = store.opener(session, record)
    if process.is_final(case.stage):
        raise Refused(f"{case.ref} is closed (stage '{case.stage}'); nothing can change")
    transitions = process.transitions_from(case.stage)
    stage = process.stages[case.stage]
    items = [item for item in stage.checklist if item.id not in case.done]
    # a family member's needs (states/family.py) are items of every stage, named by relation and number
    items += [process.item(i) for i in case.family_items(process) if i not in case.done]
    facts = [name for name in process.facts if personal or not process.is_personal(name)]
    wanted = {COORDINATOR, *(r for t in transitions for r in t.roles), *(i.owner for i in items),
              *(r for name in facts for r in process.facts[name].set_by)}
    w = words(locale)
    return Worksheet(
        ref=case.ref, process=process.key, stage=case.stage,
        stage_title=_title(stage.title, case.stage, locale), version=case.version, locale=locale,
        events=_unique(
            Option(t.event, _event_label(case, process, t, locale), _event_detail(process, t, locale),
                   _title(t.title, t.event, locale))
            for t in transitions
        ),
        items=tuple(
            Option(i.id, _title(i.title, i.id, locale), f"{w['owner']}: {role_title(i.owner, locale)}")
            for i in items
        ),
        facts=tuple(_fact_field(process, case, name, locale) for name in facts),
        actors=_unique(
            Option(a.id, a.name, ", ".join(role_title(r, locale) for r in sorted(a.roles)))
            for a in sorted(directory, key=lambda a: a.name.casefold())
            if _may_act(a, record, wanted, opener, ctx.regions)
        ),
    )


def lacking(case: Case, process: Process, transition: Transition, locale: str) -> list[str]:
    """What an event still lacks, in titles: open items, missing or too low facts."""
    items, conditions = case.unmet(process, transition)
    gaps = [_title(process.item(i).title, i, locale) for i in items]
    for condition in conditions:
        name = _title(process.facts[condition.fact].title, condition.fact, locale)
        op = _OPS.get(condition.op or "", condition.op)
        gaps.append(name if condition.op is None else f"{name} {op} {condition.value}")
    return gaps


def apply(ctx: Context, sheet: Worksheet, answer: Answer, request_id: str | None) -> dict[str, Any]:
    """Apply an answer in one transaction, on the version the worksheet showed (else a conflict)."""
    offered = {f.name for f in sheet.facts}
    if unknown := sorted(set(answer.facts) - offered):
        raise BadInput(f"{sheet.ref}: {', '.join(unknown)} cannot be set through this form")
    if answer.empty:
        return {"ref": sheet.ref, "stage": sheet.stage, "version": sheet.version, "changed": False}
    result = casework.work(
        ctx, sheet.ref, by=answer.actor, items=list(answer.items), facts=answer.facts,
        event=answer.event, note=answer.note, via="flow", request_id=request_id,
        expected_version=sheet.version,
    )
    return {**result, "changed": not result["repeated"]}


def describe(sheet: Worksheet) -> str:
    """The form's heading in markdown: the case, its stage and version, all or nothing."""
    w = sheet.words
    lines = [f"**{sheet.ref}** · {sheet.process} · {w['stage']}: {sheet.stage_title} · "
             f"{w['version']} {sheet.version}", "", w["intro"]]
    return "\n".join(lines)


def outcome_markdown(
    before: Worksheet, answer: Answer, result: dict[str, Any] | None, after: Worksheet | None,
    refusal: str | None = None,
) -> str:
    """What a run changed and what is missing now, for the run's artifact."""
    w = before.words
    actor = next((a.label for a in before.actors if a.id == answer.actor), answer.actor)
    lines = [f"# {before.ref}", ""]
    if refusal is not None:
        lines += [f"**{w['refused']}:** {refusal}", ""]
    elif result is not None and result.get("repeated"):
        lines += [w["repeated"], ""]
    elif result is None or not result.get("changed"):
        lines += [f"**{w['nothing']}.**", ""]
    else:
        lines += [f"## {w['changed']} ({w['by']} {actor})", ""]
        items = {o.id: o.label for o in before.items}
        facts = {f.name: f for f in before.facts}
        lines += [f"- {w['done']}: {items.get(i, i)}" for i in answer.items]
        lines += [f"- {w['set']}: {facts[n].title} = {display(v, before.locale)}"
                  for n, v in answer.facts.items() if n in facts]
        if answer.event:
            title = next((o.title for o in before.events if o.id == answer.event), answer.event)
            stage_to = after.stage_title if after else result.get("to", "")
            lines.append(f"- {w['moved']}: {title} ({before.stage_title} → {stage_to})")
        lines.append("")
    now = after or before
    lines += [f"## {w['missing']}", "", f"{w['stage']}: {now.stage_title} · {w['version']} {now.version}", "",
              f"**{w['open_items']}**", ""]
    lines += [f"- {o.label} ({o.detail})" for o in now.items] or [f"- {w['none']}"]
    lines += ["", f"**{w['events']}**", ""]
    lines += [f"- {o.label}" for o in now.events] or [f"- {w['none']}"]
    return "\n".join(lines) + "\n"


def display(value: Any, locale: str) -> str:
    """A value as a reader of `locale` writes it (dates: 01.05.2026 in German)."""
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y") if locale == "de" else value.isoformat()
    if isinstance(value, bool):
        return words(locale)["yes" if value else "no"]
    return str(value)


def _title(title: str, fallback: str, locale: str) -> str:
    return Title(title).in_(locale) or fallback


def _event_label(case: Case, process: Process, transition: Transition, locale: str) -> str:
    w = words(locale)
    gaps = lacking(case, process, transition, locale)
    state = f"{w['lacks']}: {', '.join(gaps)}" if gaps else w["ready"]
    return f"{_title(transition.title, transition.event, locale)} ({state})"


def _event_detail(process: Process, transition: Transition, locale: str) -> str:
    w = words(locale)
    to = _title(process.stages[transition.to].title, transition.to, locale)
    roles = ", ".join(role_title(r, locale) for r in transition.roles or [COORDINATOR])
    return f"{w['to']} {to}; {w['may']}: {roles}"


def _fact_field(process: Process, case: Case, name: str, locale: str) -> FactField:
    w = words(locale)
    fact = process.facts[name]
    now = case.facts.get(name)
    values = CEFR_LEVELS if fact.type == "cefr" else tuple(fact.values or ())
    state = f"{w['now']}: {display(now, locale)}" if now is not None else w["unset"]
    roles = ", ".join(role_title(r, locale) for r in fact.set_by or [COORDINATOR])
    return FactField(name, _title(fact.title, name, locale), fact.type, values, now,
                     f"{state}; {w['set_by']}: {roles}")


def _may_act(actor: Actor, record: CaseRecord, roles: set[str], opener: str | None,
             regions: Regions) -> bool:
    """An organisation the case belongs to (`scope`: its employer, one of its region, or the one
    that opened it) with a role asked for, in the roles it holds on this case; coordinators always."""
    if not scope.belongs(actor, employer=record.employer_id, region=record.region, opener=lambda: opener,
                         regions=regions):
        return False
    if actor.is_coordinator or actor.id == record.employer_id:
        return True
    return bool(scope.as_on_case(actor, employer=record.employer_id).roles & roles)


def _unique(options: Any) -> tuple[Option, ...]:
    """Options whose labels are told apart: a label that occurs twice gets its id added."""
    found = list(options)
    seen = [o.label for o in found]
    return tuple(Option(o.id, f"{o.label} ({o.id})", o.detail, o.title) if seen.count(o.label) > 1 else o
                 for o in found)
