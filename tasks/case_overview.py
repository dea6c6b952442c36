"""The case overview: one case as markdown, for the artifact `case-<ref>` in Prefect.

Pure: a `CaseView` in, markdown out (`render`), in the alliance's language and time zone. It shows
where the case stands (process and version, stage with its title and since when, the responsible
organisation), the checklist of its stage (owner, due date, done on and by), each event allowed now
with what it still lacks, its open deadlines, and its timeline, newest first.

Prefect keeps every artifact for ever and shows it to every coordinator, so a view carries no name,
birth date or note by construction (`case_views.views` never reads them), and the renderer leaves out
the value of every fact the definition calls personal (`Process.is_personal`), also where a value
could be inferred from an unmet condition. Every text that comes from data (organisation names,
titles, values, legal bases) is escaped, so a `|` or a line break cannot break a table and `<`,
`*` or `[` cannot add markup.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from lotse.notifications.dispatch import nearest
from lotse.states import facts as fact_kinds
from lotse.states.case import Case
from lotse.states.deadlines import rule
from lotse.states.events import FamilyMemberAdded
from lotse.states.family import RELATIONS, is_family_item, label
from lotse.states.process import ChecklistItem, Condition, Process, Transition
from lotse.states.titles import Title, role_title

# The proof each entry point gives as a rule; the timeline names the proof only where it differs.
IMPLIED_PROOF = {"cli": "os", "flow": "os", "import": "os", "schedule": "os", "link": "link",
                 "desk": "sign-in"}


def proof_kind(proof: str | None) -> str | None:
    """The kind of a history row's proof (`os:alice` -> `os`): what an overview may show of it."""
    return proof.partition(":")[0] or None if proof else None


TIMELINE_ROWS = 200  # a case has a few dozen rows over years; the cap keeps an artifact small


@dataclass(frozen=True)
class Organisation:
    """An actor of the directory, as the overview names it."""

    id: str
    name: str
    roles: frozenset[str]
    region: str | None = None
    serves: frozenset[str] = frozenset()  # regions it serves besides its own


@dataclass(frozen=True)
class Tick:
    """The stored state of a checklist item: done or undone, when and by whom."""

    done: bool
    at: dt.datetime
    by: str


@dataclass(frozen=True)
class OpenDeadline:
    id: str
    due: dt.date
    level: int  # the highest level reminded so far


@dataclass(frozen=True)
class Entry:
    """A history row without its note: a note is free text and may name a person."""

    id: int
    at: dt.datetime
    action: str
    from_stage: str | None
    to_stage: str | None
    actor: str
    via: str
    detail: Any = None
    # How the author proved who they are, its kind only (`os`, `link`, `sign-in`): never the
    # operating-system user, nor a link's or sign-in's id.
    proof: str | None = None


@dataclass(frozen=True)
class CaseView:
    """What the overview of one case is made of; no name, no birth date, no note."""

    case_id: int
    process: Process
    case: Case
    stage_entered_at: dt.datetime
    ticks: Mapping[str, Tick] = field(default_factory=dict)
    deadlines: list[OpenDeadline] = field(default_factory=list)  # open ones, soonest first
    history: list[Entry] = field(default_factory=list)  # oldest first
    directory: Mapping[str, Organisation] = field(default_factory=dict)
    above: tuple[str, ...] = ()  # the regions above the case's, nearest first (states/regions.py)

    @property
    def history_id(self) -> int:
        """The newest history row shown: a newer one makes the published overview stale."""
        return self.history[-1].id if self.history else 0

    @property
    def deadline_levels(self) -> int:
        """The reminder levels of the open deadlines: a reminder makes the overview stale."""
        return sum(d.level for d in self.deadlines)


def key(ref: str) -> str:
    """The artifact key of a case: `case-se-2026-0042`."""
    return f"case-{ref.lower()}"


def render(view: CaseView, *, locale: str, timezone: str, public_url: str | None = None) -> str:
    """The overview of one case as markdown, in `locale` (de, en), times in `timezone`."""
    words = _WORDS[locale]
    out = _Writer(view, locale, ZoneInfo(timezone))
    lines = [f"# {words['case']} {view.case.ref}", "", *out.head(public_url), ""]
    for title, part in (
        (words["checklist"], out.checklist()),
        (words["events"], out.events()),
        (words["deadlines"], out.deadlines()),
        (words["timeline"], out.timeline()),
    ):
        lines += [f"## {title}", "", *part, ""]
    return "\n".join(lines)


def summary(view: CaseView, *, locale: str, timezone: str) -> str:
    """One line for the artifact's description: stage, since when, checklist done, deadlines."""
    out = _Writer(view, locale, ZoneInfo(timezone))
    words = _WORDS[locale]
    items = view.process.stages[view.case.stage].checklist
    done = sum(1 for item in items if item.id in view.case.done)
    parts = [f"{out.title(view.process.stages[view.case.stage].title)} {words['since']} "
             f"{out.moment(view.stage_entered_at)}"]
    if items:
        parts.append(words["done_of"].format(done=done, total=len(items)))
    if view.deadlines:
        parts.append(words["open_deadlines"].format(n=len(view.deadlines)))
    return f"{view.case.ref}: " + " · ".join(parts)


def escape(value: object) -> str:
    """Text from data, safe in a markdown table cell and in running text: one line, no markup."""
    flat = " ".join(str(value).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKUP.sub(r"\\\1", flat)


_MARKUP = re.compile(r"([\\`*_\[\]{}|~#!])")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "case": "Fall", "process": "Prozess", "version": "Version", "stage": "Stufe", "since": "seit",
        "responsible": "Zuständig", "case_version": "Stand des Falls", "desk": "Im Lotse-Desk",
        "checklist": "Checkliste der Stufe", "events": "Was jetzt möglich ist",
        "deadlines": "Offene Fristen", "timeline": "Verlauf (neueste zuerst)",
        "item": "Aufgabe", "owner": "Zuständig", "due": "Fällig", "done": "Erledigt",
        "open": "offen", "event": "Ereignis", "to": "führt zu", "who": "Wer darf", "lacks": "Es fehlt",
        "ready": "nichts – bereit", "deadline": "Frist", "level": "Erinnert", "role": "Rolle",
        "basis": "Grundlage", "when": "Wann", "what": "Was", "by": "Wer", "via": "Über",
        "none": "(keine)", "nobody": "niemand im Verzeichnis", "not_set": "nicht gesetzt",
        "now": "jetzt", "unmet": "Bedingung nicht erfüllt", "level_of": "{level} von {levels}",
        "not_yet": "noch nicht", "opened": "Fall eröffnet", "set": "Gesetzt", "ticked": "Erledigt",
        "unticked": "Zurückgenommen", "yes": "ja", "no": "nein", "older": "… und {n} ältere Einträge",
        "done_of": "{done} von {total} erledigt", "open_deadlines": "{n} offene Frist(en)",
        "==": "ist", "!=": "ist nicht", ">=": "mindestens", "<=": "höchstens", ">": "über", "<": "unter",
        "via_cli": "Kommandozeile", "via_flow": "Prefect", "via_import": "Import",
        "via_schedule": "Zeitplan", "via_link": "Antwortlink", "via_desk": "Lotse-Desk",
        "proof_os": "Konto des Betriebssystems", "proof_link": "Antwortlink", "proof_sign-in": "Anmeldung",
        "family_add": "Familienangehörige/r erfasst",
        "course_assign": "Sprachkursgruppe zugeordnet", "course_unassign": "aus Sprachkursgruppe genommen",
        "exam": "Sprachprüfung",
        "passed": "bestanden", "failed": "nicht bestanden",
        "change_employer": "Arbeitgeber gewechselt", "inside_period": "in der Frist des Abwerbeverzichts",
        "outside_period": "nach der Frist des Abwerbeverzichts", "before_arrival": "vor der Einreise",
        "hand-over": "Übergeben (aus dem Verzeichnis genommen)",
        "named_in_workbook": "Name in eine Auswertung (Excel) übernommen",
        "exported": "Auskunft an die Person (Art. 15 DSGVO)",
    },
    "en": {
        "case": "Case", "process": "Process", "version": "version", "stage": "Stage", "since": "since",
        "responsible": "Responsible", "case_version": "Case version", "desk": "In the Lotse desk",
        "checklist": "Checklist of the stage", "events": "What can happen now",
        "deadlines": "Open deadlines", "timeline": "Timeline (newest first)",
        "item": "Item", "owner": "Owner", "due": "Due", "done": "Done",
        "open": "open", "event": "Event", "to": "leads to", "who": "Who may", "lacks": "Still lacks",
        "ready": "nothing – ready", "deadline": "Deadline", "level": "Reminded", "role": "Role",
        "basis": "Basis", "when": "When", "what": "What", "by": "By", "via": "Via",
        "none": "(none)", "nobody": "no one in the directory", "not_set": "not set",
        "now": "now", "unmet": "condition not met", "level_of": "{level} of {levels}",
        "not_yet": "not yet", "opened": "Case opened", "set": "Set", "ticked": "Done",
        "unticked": "Undone", "yes": "yes", "no": "no", "older": "… and {n} older entries",
        "done_of": "{done} of {total} done", "open_deadlines": "{n} open deadline(s)",
        "==": "is", "!=": "is not", ">=": "at least", "<=": "at most", ">": "above", "<": "below",
        "via_cli": "command line", "via_flow": "Prefect", "via_import": "import",
        "via_schedule": "schedule", "via_link": "answer link", "via_desk": "Lotse desk",
        "proof_os": "operating-system account", "proof_link": "answer link", "proof_sign-in": "sign-in",
        "family_add": "family member recorded",
        "course_assign": "assigned to language course group",
        "course_unassign": "taken out of language course group", "exam": "language exam",
        "passed": "passed", "failed": "failed",
        "change_employer": "employer changed", "inside_period": "inside the no-poaching period",
        "outside_period": "after the no-poaching period", "before_arrival": "before the arrival",
        "hand-over": "handed over (taken out of the directory)",
        "named_in_workbook": "name written into a workbook",
        "exported": "data access for the person (Art. 15 GDPR)",
    },
}


class _Writer:
    """The parts of one overview; every text from data leaves through `escape`."""

    def __init__(self, view: CaseView, locale: str, zone: ZoneInfo) -> None:
        self.view, self.locale, self.zone = view, locale, zone
        self.words = _WORDS[locale]
        self.process, self.case = view.process, view.case

    # -- words -----------------------------------------------------------------------------------

    def title(self, title: str | None, fallback: str = "") -> str:
        return escape(Title(title or "").in_(self.locale) or fallback)

    def role(self, role: str) -> str:
        return escape(role_title(role, self.locale))

    def stage(self, stage: str | None) -> str:
        found = self.process.stages.get(stage or "")
        return self.title(found.title, stage or "") if found else escape(stage or "")

    def item(self, item_id: str) -> str:
        found = self.process.find_item(item_id)
        return self.title(found.title, item_id) if found else escape(item_id)

    def fact(self, name: str) -> str:
        found = self.process.facts.get(name)
        return self.title(found.title, name) if found else escape(name)

    def actor(self, actor_id: str) -> str:
        found = self.view.directory.get(actor_id)
        return escape(found.name if found else actor_id)

    def moment(self, at: dt.datetime) -> str:
        local = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(self.zone)
        return f"{self.day(local.date())} {local:%H:%M}"

    def day(self, day: dt.date) -> str:
        if self.locale == "de":
            return f"{day:%d.%m.%Y}"
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"

    def value(self, name: str, value: Any) -> str | None:
        """A fact's value as a reader writes it; None for a personal fact, whose value stays in Lotse."""
        if self.process.is_personal_in_history(name):
            return None
        kind = self.process.facts[name].type
        value = fact_kinds.from_json(kind, value)
        if isinstance(value, bool):
            return self.words["yes" if value else "no"]
        if isinstance(value, dt.date):
            return self.day(value)
        return escape(fact_kinds.display(value))

    def organisations(self, role: str) -> str:
        """Who holds a role for this case: its employer, else the role's actors nearest its region
        up the hierarchy, as the notifications address them (notifications/dispatch.py)."""
        if role == "employer":
            employer = self.view.directory.get(self.case.employer)
            found = [employer] if employer is not None else []
        else:
            serving = {o.id: o.serves | ({o.region} if o.region else set())
                       for o in self.view.directory.values() if role in o.roles}
            found = [self.view.directory[a] for a in nearest(serving, [self.case.region, *self.view.above])]
        names = ", ".join(escape(o.name) for o in found) or self.words["nobody"]
        return f"{names} ({self.role(role)})"

    # -- the parts -------------------------------------------------------------------------------

    def head(self, public_url: str | None) -> list[str]:
        w, stage = self.words, self.process.stages[self.case.stage]
        lines = [
            f"- **{w['process']}:** {self.title(self.process.title, self.process.name)} "
            f"({escape(self.process.name)}, {w['version']} {self.process.version})",
            f"- **{w['stage']}:** {self.title(stage.title, self.case.stage)}, {w['since']} "
            f"{self.moment(self.view.stage_entered_at)}",
            f"- **{w['responsible']}:** "
            + (self.organisations(stage.responsible) if stage.responsible else w["nobody"]),
            f"- **{w['case_version']}:** {self.case.version}",
        ]
        if public_url:  # the reference only: names are shown by the desk to signed-in coordinators
            lines.append(f"- **{w['desk']}:** [{self.case.ref}]({public_url}/cases/{self.case.ref})")
        return lines

    def checklist(self) -> list[str]:
        w = self.words
        items = [*self.process.stages[self.case.stage].checklist, *self._family_items()]
        if not items:
            return [w["none"]]
        due = self._item_due()
        rows = [f"| {w['item']} | {w['owner']} | {w['due']} | {w['done']} |", "|---|---|---|---|"]
        for item in items:
            tick = self.view.ticks.get(item.id)
            done = (f"{self.moment(tick.at)}, {self.actor(tick.by)}"
                    if tick is not None and tick.done and item.id in self.case.done else w["open"])
            when = self.day(due[item.id]) if item.id in due else "–"
            owner = self.organisations(item.owner)
            rows.append(f"| {self.title(item.title, item.id)} | {owner} | {when} | {done} |")
        return rows

    def events(self) -> list[str]:
        w = self.words
        transitions = self.process.transitions_from(self.case.stage)
        if not transitions:
            return [w["none"]]
        rows = [f"| {w['event']} | {w['to']} | {w['who']} | {w['lacks']} |", "|---|---|---|---|"]
        for t in transitions:
            who = ", ".join(self.role(r) for r in t.roles or ["coordinator"])
            lacks = "; ".join(self._lacks(t)) or w["ready"]
            # The id beside the title: the advance-case run form asks for it.
            event = f"{self.title(t.title, t.event)} (`{t.event}`)"
            rows.append(f"| {event} | {self.stage(t.to)} | {who} | {lacks} |")
        return rows

    def deadlines(self) -> list[str]:
        w = self.words
        if not self.view.deadlines:
            return [w["none"]]
        rows = [f"| {w['deadline']} | {w['due']} | {w['level']} | {w['role']} | {w['basis']} |",
                "|---|---|---|---|---|"]
        for d in self.view.deadlines:
            r = rule(self.process, d.id)
            if r is None:  # the definition dropped it since the row was opened
                rows.append(f"| {escape(d.id)} | {self.day(d.due)} | {d.level} | | |")
                continue
            level = (w["level_of"].format(level=d.level, levels=r.levels) if d.level else w["not_yet"])
            rows.append(f"| {self.title(r.title, r.id)} | {self.day(d.due)} | {level} | {self.role(r.role)} "
                        f"| {self.title(r.basis)} |")
        return rows

    def timeline(self) -> list[str]:
        w = self.words
        rows = [f"| {w['when']} | {w['what']} | {w['by']} | {w['via']} |", "|---|---|---|---|"]
        newest = list(reversed(self.view.history))
        for entry in newest[:TIMELINE_ROWS]:
            via = w.get(f"via_{entry.via}", entry.via)
            if entry.proof and entry.proof != IMPLIED_PROOF.get(entry.via):
                via = f"{via} ({w.get(f'proof_{entry.proof}', entry.proof)})"
            rows.append(f"| {self.moment(entry.at)} | {self._what(entry)} | {self.actor(entry.actor)} "
                        f"| {escape(via)} |")
        if len(newest) > TIMELINE_ROWS:
            rows.append(f"| | {w['older'].format(n=len(newest) - TIMELINE_ROWS)} | | |")
        return rows

    # -- details ---------------------------------------------------------------------------------

    def _family_items(self) -> list[ChecklistItem]:
        """The needs of the case's family members (states/family.py), open (with their deadline) or
        done: named by relation and number only, since a view holds no family member."""
        ids = [d.id for d in self.view.deadlines] + [i for i, t in self.view.ticks.items() if t.done]
        found = (self.process.find_item(i) for i in dict.fromkeys(ids) if is_family_item(i))
        return [item for item in found if item is not None]

    def _item_due(self) -> dict[str, dt.date]:
        """The earliest open due date of each checklist item that has a deadline."""
        due: dict[str, dt.date] = {}
        for d in self.view.deadlines:
            r = rule(self.process, d.id)
            if r is not None and r.item is not None:
                due[r.item] = min(d.due, due.get(r.item, d.due))
        return due

    def _lacks(self, transition: Transition) -> list[str]:
        items, conditions = self.case.unmet(self.process, transition)
        return [*(f"{self.item(i)} – {self.organisations(self.process.item(i).owner)}" for i in items),
                *(self._unmet(condition) for condition in conditions)]

    def _unmet(self, condition: Condition) -> str:
        w, name = self.words, condition.fact
        have = self.case.facts.get(name)
        if have is None:
            wanted = f" {w[condition.op]} {self._wanted(condition)}" if condition.op else ""
            return f"{self.fact(name)}{wanted} ({w['not_set']})"
        if self.process.is_personal(name):  # even the condition could tell the value
            return f"{self.fact(name)} ({w['unmet']})"
        shown = self.value(name, fact_kinds.to_json(self.process.facts[name].type, have))
        return f"{self.fact(name)} {w[condition.op or '==']} {self._wanted(condition)} ({w['now']} {shown})"

    def _wanted(self, condition: Condition) -> str:
        fact = self.process.facts[condition.fact]
        wanted = fact_kinds.parse_value(fact.type, condition.value, fact.values)
        if isinstance(wanted, bool):
            return self.words["yes" if wanted else "no"]
        if isinstance(wanted, dt.date):
            return self.day(wanted)
        return escape(fact_kinds.display(wanted))

    def _what(self, entry: Entry) -> str:
        w = self.words
        if entry.action == "open":
            return f"{w['opened']} ({self.stage(entry.to_stage)})"
        if entry.action == "set" and isinstance(entry.detail, dict):
            parts = []
            for name, stored in entry.detail.items():
                shown = self.value(name, stored)
                parts.append(self.fact(name) if shown is None else f"{self.fact(name)} = {shown}")
            return f"{w['set']}: {'; '.join(parts)}"
        if entry.action == FamilyMemberAdded.action and isinstance(entry.detail, dict):
            relation, number = entry.detail.get("relation"), entry.detail.get("number")
            if relation in RELATIONS and isinstance(number, int):
                return f"{w['family_add']}: {escape(label(str(relation), number, self.locale))}"
        # a group's id, an exam's level and outcome (never the exam's free-text name): docs/courses.md
        if entry.action in ("course_assign", "course_unassign") and isinstance(entry.detail, dict):
            return f"{w[entry.action]}: {escape(entry.detail.get('course'))}"
        if entry.action == "exam" and isinstance(entry.detail, dict):
            outcome = w["passed" if entry.detail.get("passed") else "failed"]
            return f"{w['exam']} {escape(entry.detail.get('level'))}: {outcome}"
        # the two employers and the period, never the note (docs/attrition.md)
        if entry.action == "change_employer" and isinstance(entry.detail, dict):
            inside, ends = entry.detail.get("inside_period"), entry.detail.get("period_ends")
            period = w["outside_period" if not inside else "inside_period" if ends else "before_arrival"]
            return (f"{w['change_employer']}: {self.actor(str(entry.detail.get('from')))} → "
                    f"{self.actor(str(entry.detail.get('to')))} ({period})")
        # who left and who took over; the items by title (tasks/hand_over.py), never the note
        if entry.action == "hand-over" and isinstance(entry.detail, dict):
            items = "; ".join(self.item(str(i)) for i in entry.detail.get("items") or [])
            return (f"{w['hand-over']}: {self.actor(str(entry.detail.get('from')))} → "
                    f"{self.actor(str(entry.detail.get('to')))}{f' ({items})' if items else ''}")
        if entry.action in ("named_in_workbook", "exported"):
            return w[entry.action]
        if entry.action in ("done", "undone") and isinstance(entry.detail, list):
            verb = w["ticked" if entry.action == "done" else "unticked"]
            return f"{verb}: {'; '.join(self.item(str(i)) for i in entry.detail)}"
        transition = next((t for t in self.process.transitions if t.event == entry.action), None)
        if transition is not None:
            return (f"{self.title(transition.title, entry.action)}: {self.stage(entry.from_stage)} → "
                    f"{self.stage(entry.to_stage)}")
        return escape(entry.action)
