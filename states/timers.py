"""Deadlines as a process definition declares them: when one is due, who answers for it, why, and
the ladder of reminders that climbs when nothing happens.

Three kinds, one shape:

- a stage limit (`stages.visa.limit: 10 weeks`): due that long after the case entered the stage;
- a checklist item due relative to the stage entry or to a date fact
  (`address_registered`, due `14 days after arrival_date`, § 17 BMG);
- a date fact that expires, with reminders before it (`due: on residence_title_until`, a ladder of
  steps 90, 30 and 7 days before).

A ladder is a list of steps, each a span before or after the due date and the role it goes to
(`responsible`: the deadline's own role). Level n is due on the date of step n; the first step is
when a deadline starts to show in `lotse check`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from lotse.states.durations import Duration
from lotse.states.titles import Title

if TYPE_CHECKING:
    from lotse.states.process import Process

RESPONSIBLE = "responsible"
STAGE_ENTRY = "stage_entry"
# Ids are stored in columns of this width (deadlines, facts, items, stages, history actions) and
# make up the outbox's keys: a longer one is refused when the definition is loaded.
ID_LENGTH = 64
ID = rf"^[a-z][a-z0-9_]{{0,{ID_LENGTH - 1}}}$"
ID_RULE = f"lower case letters, digits and _, at most {ID_LENGTH} characters"
_ID = re.compile(ID)
_DUE = re.compile(r"^\s*(?:on|(\d+\s*[a-z]+)\s+(after|before))\s+([a-z][a-z0-9_]*)\s*$")
_DAYS = {"days": 1.0, "weeks": 7.0, "months": 30.44, "years": 365.25}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _span(value: Any) -> Any:
    return Duration.parse(value) if isinstance(value, str) else value


class Step(_Strict):
    """One rung of an escalation ladder: on the due date, or a span before or after it."""

    after: Duration | None = None
    before: Duration | None = None
    to: str = RESPONSIBLE

    @field_validator("after", "before", mode="before")
    @classmethod
    def _spans(cls, value: Any) -> Any:
        return _span(value)

    @model_validator(mode="after")
    def _one_side(self) -> Step:
        if self.after is not None and self.before is not None:
            raise ValueError("a step is either 'after' or 'before' the due date, not both")
        return self

    def on(self, due: dt.date) -> dt.date:
        if self.before is not None:
            return self.before.before(due)
        return self.after.after(due) if self.after is not None else due

    @property
    def days(self) -> float:
        """Roughly how many days from the due date; only to check that a ladder climbs."""
        span = self.after or self.before
        days = span.amount * _DAYS[span.unit] if span is not None else 0.0
        return -days if self.before is not None else days

    def __str__(self) -> str:
        when = f"{self.after} after" if self.after else f"{self.before} before" if self.before else "on"
        return f"{when} due -> {self.to}"


DEFAULT_LADDER = (Step(), Step(after=Duration(amount=14, unit="days"), to="coordinator"))


class Due(_Strict):
    """When a deadline is due: `14 days after arrival_date`, `30 days before visa_valid_until`,
    `10 weeks after stage_entry`, `on residence_title_until`."""

    span: Duration | None = None
    direction: Literal["after", "before"] = "after"
    anchor: str

    @classmethod
    def parse(cls, text: str) -> Due:
        match = _DUE.match(str(text))
        if not match:
            raise ValueError(
                f"'{text}' is not a due date like '14 days after arrival_date', "
                f"'30 days before visa_valid_until' or 'on residence_title_until'"
            )
        span, direction, anchor = match.groups()
        if span is None:
            return cls(anchor=anchor)
        return cls(span=Duration.parse(span), direction=direction, anchor=anchor)

    def on(self, anchor_date: dt.date) -> dt.date:
        if self.span is None:
            return anchor_date
        return self.span.after(anchor_date) if self.direction == "after" else self.span.before(anchor_date)

    def __str__(self) -> str:
        return f"on {self.anchor}" if self.span is None else f"{self.span} {self.direction} {self.anchor}"


class Deadline(_Strict):
    """A deadline of the `deadlines` section. Open while the case is in one of `stages` (default:
    the stage of `item`, else every stage that is not final), `when` holds, `unless` does not and
    the anchor is known; closed when `item` is ticked or every `until` condition holds."""

    title: Title
    role: str
    basis: Title
    due: Due
    stages: list[str] | None = None
    item: str | None = None
    until: list[str] = []
    when: list[str] = []
    unless: list[str] = []
    ladder: list[Step] | None = None

    @field_validator("due", mode="before")
    @classmethod
    def _due(cls, value: Any) -> Any:
        return Due.parse(value) if isinstance(value, str) else value

    @field_validator("basis")
    @classmethod
    def _basis(cls, value: Title) -> Title:
        if not value.strip():
            raise ValueError("name the legal basis or the reason of the deadline")
        return value

    @field_validator("stages", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


def limit_id(stage: str) -> str:
    """The id of a stage's limit as a deadline: `visa_limit`."""
    return f"{stage}_limit"


def check(
    process: Process,
    fail: Callable[[str, str], None],
    condition: Callable[[str, str], None],
) -> None:
    """The checks of the deadlines that pydantic cannot do: every name used is declared, every
    anchor is a date, every ladder climbs. `fail(path, problem)` raises."""
    roles = set(process.roles)

    def role(path: str, name: str) -> None:
        if name not in roles:
            fail(path, f"unknown role '{name}'; declared roles: {', '.join(process.roles)}")

    def ladder(path: str, steps: list[Step]) -> None:
        check_ladder(process, fail, path, steps)

    ladder("escalation", process.escalation)
    items = {item.id: stage for stage, item in process.items()}
    limits = set()
    for name, stage in process.stages.items():
        if stage.escalation is not None:
            if stage.limit is None:
                fail(f"stages.{name}.escalation", "an escalation ladder needs a 'limit' of the stage")
            ladder(f"stages.{name}.escalation", stage.escalation)
        if stage.limit is not None:
            limits.add(limit_id(name))
            if len(limit_id(name)) > ID_LENGTH:
                fail(f"stages.{name}.limit", f"the limit's id '{limit_id(name)}' is longer than "
                     f"{ID_LENGTH} characters; shorten the stage's name")
            if process.is_final(name):
                fail(f"stages.{name}.limit", f"'{name}' is final: a case stays there for good")
    for key, deadline in process.deadlines.items():
        at = f"deadlines.{key}"
        if not _ID.fullmatch(key):
            fail(at, f"a deadline id is {ID_RULE}")
        if key in limits:
            fail(at, f"'{key}' is the id of a stage's limit already; choose another")
        role(f"{at}.role", deadline.role)
        anchor = deadline.due.anchor
        if anchor != STAGE_ENTRY:
            if anchor not in process.facts:
                fail(f"{at}.due", f"unknown fact '{anchor}' (or use '{STAGE_ENTRY}')")
            elif process.facts[anchor].type != "date":
                fail(f"{at}.due", f"fact '{anchor}' is a {process.facts[anchor].type}, not a date")
        if deadline.item is not None and deadline.item not in items:
            fail(f"{at}.item", f"unknown checklist item '{deadline.item}'; known: {', '.join(items)}")
        for i, stage_name in enumerate(deadline.stages or []):
            if stage_name not in process.stages:
                fail(f"{at}.stages.{i}", f"unknown stage '{stage_name}'; stages: {', '.join(process.stages)}")
            if process.is_final(stage_name):
                fail(f"{at}.stages.{i}", f"'{stage_name}' is final: no deadline is open there")
        for part in ("until", "when", "unless"):
            for i, text in enumerate(getattr(deadline, part)):
                condition(f"{at}.{part}.{i}", text)
        if deadline.ladder is not None:
            ladder(f"{at}.ladder", deadline.ladder)


def check_ladder(process: Process, fail: Callable[[str, str], None], path: str, steps: list[Step]) -> None:
    """A ladder has a step, names declared roles, and climbs."""
    if not steps:
        fail(path, "a ladder needs at least one step")
    for i, step in enumerate(steps):
        if step.to != RESPONSIBLE and step.to not in process.roles:
            fail(f"{path}.{i}.to", f"unknown role '{step.to}'; declared roles: {', '.join(process.roles)}")
        if i and step.days <= steps[i - 1].days:
            fail(f"{path}.{i}", f"steps must climb: '{step}' is not later than '{steps[i - 1]}'")
