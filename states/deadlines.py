"""Which deadlines a case has, when they are due, and which level of their ladder is due on a day.

Pure: a process definition and a case in, dates out. Stage limits and the `deadlines` section are
resolved into one list of rules per process; the store keeps one row per open deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lotse.states import family
from lotse.states.case import Case
from lotse.states.durations import Duration
from lotse.states.errors import Refused
from lotse.states.process import COORDINATOR, Condition, Process, parse_condition
from lotse.states.timers import RESPONSIBLE, STAGE_ENTRY, Due, Step, limit_id
from lotse.states.titles import LOCALES, Title


@dataclass(frozen=True)
class Rule:
    """A deadline of a process, stage limits included, with its ladder resolved."""

    id: str
    title: Title
    role: str
    basis: Title
    due: Due
    stages: frozenset[str]
    ladder: tuple[Step, ...]
    item: str | None = None
    until: tuple[Condition, ...] = ()
    when: tuple[Condition, ...] = ()
    unless: tuple[Condition, ...] = ()

    def due_on(self, case: Case, entered: dt.date) -> dt.date | None:
        """The due date for this case, or None while its anchor fact is not set."""
        anchor = entered if self.due.anchor == STAGE_ENTRY else case.facts.get(self.due.anchor)
        return self.due.on(anchor) if isinstance(anchor, dt.date) else None

    def is_open_for(self, process: Process, case: Case) -> bool:
        if case.stage not in self.stages or (self.item is not None and self.item in case.done):
            return False
        if self.until and all(case.meets(process, c) for c in self.until):
            return False
        if not all(case.meets(process, c) for c in self.when):
            return False
        return not any(case.meets(process, c) for c in self.unless)

    @property
    def levels(self) -> int:
        return len(self.ladder)

    def level_on(self, due: dt.date, day: dt.date) -> int:
        """The highest level due on `day` (0: not yet)."""
        return sum(1 for step in self.ladder if step.on(due) <= day)

    def level_date(self, due: dt.date, level: int) -> dt.date | None:
        """The day `level` (1-based) is due, or None beyond the top of the ladder."""
        return self.ladder[level - 1].on(due) if 1 <= level <= len(self.ladder) else None

    def role_of(self, level: int) -> str:
        """Who a reminder of `level` goes to."""
        step = self.ladder[max(level, 1) - 1]
        return self.role if step.to == RESPONSIBLE else step.to


@dataclass(frozen=True)
class Opening:
    """A deadline a case has now: the rule and its due date."""

    rule: Rule
    due: dt.date

    @property
    def key(self) -> tuple[str, dt.date]:
        return (self.rule.id, self.due)

    @property
    def alert_on(self) -> dt.date:
        """The day its first reminder is due: from then on it shows in `lotse check`."""
        return self.rule.ladder[0].on(self.due)


_RULES: dict[int, tuple[Process, tuple[Rule, ...]]] = {}


def rules(process: Process) -> tuple[Rule, ...]:
    """Every deadline of a process: the limits of its stages, then its `deadlines` section."""
    cached = _RULES.get(id(process))
    if cached is not None and cached[0] is process:
        return cached[1]
    found = tuple(_limits(process)) + tuple(_declared(process))
    _RULES[id(process)] = (process, found)
    return found


def rule(process: Process, deadline: str) -> Rule | None:
    """A deadline of the definition by id: declared, a stage's limit, or a family member's need."""
    found = next((r for r in rules(process) if r.id == deadline), None)
    return found if found is not None else family_rule(process, deadline)


def family_rule(process: Process, item: str) -> Rule | None:
    """The deadline of a family member's need: its id is the item's id; open in every stage that
    is not final until the item is ticked; due as `due_on` of states/family.py says."""
    found = family.need_of(process, item)
    if found is None:
        return None
    relation, number, _, need = found
    return Rule(
        id=item, title=family.item_title(need, relation, number), role=need.owner, basis=need.basis,
        due=need.due, stages=frozenset(s for s in process.stages if not process.is_final(s)),
        ladder=tuple(need.ladder or process.escalation), item=item,
    )


def openings(process: Process, case: Case, entered: dt.date,
             leads: Mapping[str, int] | None = None) -> list[Opening]:
    """The deadlines `case` has now, given its stage (entered on `entered`), facts, items and
    family members (`leads`: the settings a need's lead time may come from, in months).
    A case in a final stage (integrated, withdrawn) has none."""
    if process.is_final(case.stage):
        return []
    found = _family_openings(process, case, leads)
    for r in rules(process):
        if not r.is_open_for(process, case):
            continue
        try:
            due = r.due_on(case, entered)
            if due is not None:
                found.append(Opening(r, due))
                for step in r.ladder:  # every rung of its ladder lies inside the calendar too
                    step.on(due)
        except OverflowError:
            # Dates are bounded when read (`facts`); a value stored before that cannot stick a case.
            raise Refused(
                f"{case.ref}: the deadline '{r.id}' would fall outside the calendar: '{r.due.anchor}' is "
                f"far off. Correct it (`lotse case set {case.ref} {r.due.anchor}=YYYY-MM-DD`), "
                "then try again"
            ) from None
    return found


def _family_openings(process: Process, case: Case, leads: Mapping[str, int] | None) -> list[Opening]:
    arrived = case.facts.get(family.PERSON_ARRIVAL)
    found = []
    for member in case.family:
        for need_id, need in family.needs_of(process, member):
            r = family_rule(process, family.item_id(member, need_id))
            if r is None or r.id in case.done:
                continue
            fallback = arrived if isinstance(arrived, dt.date) else None
            found.append(Opening(r, family.due_on(need, member, fallback=fallback, leads=leads)))
    return found


def why_closed(process: Process, case: Case, r: Rule | None, still: set[str]) -> str:
    """In a word, why a case no longer has a deadline: done, left, closed or changed."""
    if process.is_final(case.stage):
        return "closed"
    if r is None or r.id in still:
        return "changed"  # a new due date replaced it, or the definition dropped it
    if case.stage not in r.stages:
        return "left"
    if (r.item is not None and r.item in case.done) or (
        r.until and all(case.meets(process, c) for c in r.until)
    ):
        return "done"
    return "changed"


def _limits(process: Process) -> list[Rule]:
    return [
        Rule(
            id=limit_id(name), title=_limit_title(stage.title, stage.limit),
            role=stage.responsible or COORDINATOR,
            basis=stage.limit_basis or Title(f"limit of the stage {name}"),
            due=Due(span=stage.limit, anchor=STAGE_ENTRY), stages=frozenset([name]),
            ladder=tuple(stage.escalation or process.escalation),
        )
        for name, stage in process.stages.items()
        if stage.limit is not None and not process.is_final(name)
    ]


def _limit_title(stage: Title, limit: Duration) -> Title:
    """"Visumverfahren: 10 Wochen", "Visa procedure: 10 weeks"."""
    return Title({locale: f"{stage.in_(locale)}: {limit.in_(locale)}" for locale in LOCALES})


def _declared(process: Process) -> list[Rule]:
    item_stage = {item.id: stage for stage, item in process.items()}
    open_stages = [s for s in process.stages if not process.is_final(s)]
    found = []
    for key, d in process.deadlines.items():
        stages = d.stages or ([item_stage[d.item]] if d.item else open_stages)
        found.append(Rule(
            id=key, title=d.title, role=d.role, basis=d.basis, due=d.due, stages=frozenset(stages),
            ladder=tuple(d.ladder or process.escalation), item=d.item,
            until=_conditions(d.until), when=_conditions(d.when), unless=_conditions(d.unless),
        ))
    return found


def _conditions(texts: list[Any]) -> tuple[Condition, ...]:
    return tuple(parse_condition(t) for t in texts)
