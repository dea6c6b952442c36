"""What meets a transition's requirements, worked out from the definition itself, so tests cover
every event of every shipped process without repeating the YAML."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lotse.states import facts as fact_kinds
from lotse.states.process import Condition, Process, Transition

SAMPLE_TEXT = {
    "date": "2027-03-01",
    "int": "3",
    "str": "moved to another region",
    "bool": "true",
    "cefr": "B2",
    "country": "PHL",
}


def sample_text(process: Process, fact: str) -> str:
    """A valid value of the fact as it is typed on the command line."""
    definition = process.facts[fact]
    if definition.type == "enum":
        return (definition.values or [""])[0]
    return SAMPLE_TEXT[definition.type]


def meeting_value(process: Process, condition: Condition) -> Any:
    """A parsed value of the condition's fact that meets the condition."""
    fact = process.facts[condition.fact]
    if condition.op is None:
        return fact_kinds.parse_value(fact.type, sample_text(process, condition.fact), fact.values)
    wanted = fact_kinds.parse_value(fact.type, condition.value, fact.values)
    if condition.op in ("==", ">=", "<="):
        return wanted
    if condition.op == "!=":
        others = {
            "bool": [not wanted], "cefr": list(fact_kinds.CEFR_LEVELS),
            "enum": fact.values or [], "int": [wanted + 1], "date": [wanted + dt.timedelta(days=1)],
        }.get(fact.type, [f"not {wanted}"])
        return next(v for v in others if v != wanted)
    step = +1 if condition.op == ">" else -1
    if fact.type == "cefr":
        return fact_kinds.CEFR_LEVELS[fact_kinds.CEFR_LEVELS.index(wanted) + step]
    if fact.type == "date":
        return wanted + dt.timedelta(days=step)
    return wanted + step


def meeting_facts(process: Process, transition: Transition) -> dict[str, Any]:
    """Parsed fact values that meet every fact condition of the transition."""
    return {c.fact: meeting_value(process, c) for c in process.conditions(transition)}


def meeting_texts(process: Process, transition: Transition) -> dict[str, str]:
    """The same values as command-line text (`KEY=VALUE` right-hand sides)."""
    return {
        name: fact_kinds.display(value).lower() if isinstance(value, bool) else fact_kinds.display(value)
        for name, value in meeting_facts(process, transition).items()
    }


def requirement_count(process: Process, transition: Transition) -> int:
    return len(transition.requires.items) + len(process.conditions(transition))


def path_to(process: Process, stage: str) -> list[Transition]:
    """The shortest chain of transitions from the initial stage to `stage`."""
    paths: dict[str, list[Transition]] = {process.initial: []}
    frontier = [process.initial]
    while frontier and stage not in paths:
        following = []
        for here in frontier:
            for t in process.transitions_from(here):
                if t.to not in paths:
                    paths[t.to] = [*paths[here], t]
                    following.append(t.to)
        frontier = following
    return paths[stage]
