"""Family members of a case's person, and what each of them needs.

A definition may declare `family_needs`: a Kita place, a school place, the spouse's language course,
the family reunification visa, ... Each need names its owner role, which relation it applies to
(`spouse`, `child`), for children an age window at the time they arrive, whether it concerns only
a member who comes later (family reunification), a due rule relative to the member's arrival
(`3 months before arrives`), its legal basis and optionally its own reminder ladder.

Every need of every member is a checklist item of the case, with an id made of the member's
relation and number and the need's id (`family_child1_kita_place`, `family_spouse_job_search`):
no name, no birth year, so the id may go wherever an item id goes (deadlines, messages, the
overview in Prefect). A reader names the member the same way: "Kind 1", "Partner/in".

Pure: a definition and plain members in, ids, titles and dates out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lotse.states.durations import Duration
from lotse.states.timers import ID_LENGTH, Due, Step
from lotse.states.titles import LOCALES, Title

if TYPE_CHECKING:
    from lotse.states.process import Process

SPOUSE = "spouse"
CHILD = "child"
RELATIONS = (SPOUSE, CHILD)
ARRIVES = "arrives"  # the anchor of a need's due rule: the member's arrival
# For a member who came with the person or is here already: the person's arrival (a date fact).
PERSON_ARRIVAL = "arrival_date"
PREFIX = "family_"
MAX_CHILDREN = 99
# `family_child99_` + the need's id must fit the 64-character id columns (items, deadlines).
NEED_ID_LENGTH = ID_LENGTH - len(f"{PREFIX}{CHILD}{MAX_CHILDREN}_")
NEED_ID = rf"^[a-z][a-z0-9_]{{0,{NEED_ID_LENGTH - 1}}}$"
# The item ids a family produces: a declared checklist item or deadline may not look like one.
ITEM = re.compile(rf"^{PREFIX}(?:({SPOUSE})|{CHILD}([1-9][0-9]?))_([a-z][a-z0-9_]*)$")
# Settings a need's lead time may come from (config/settings.py), in months.
LEAD_SETTINGS = ("childcare_lead_months",)
_LABELS = {"de": {SPOUSE: "Partner/in", CHILD: "Kind {n}"},
           "en": {SPOUSE: "partner", CHILD: "child {n}"}}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class AgeWindow(_Strict):
    """Ages (in years, by birth year) at the time a child arrives, both ends included."""

    start: int = Field(alias="from", ge=0, le=30)
    end: int = Field(alias="to", ge=0, le=30)

    @model_validator(mode="after")
    def _ordered(self) -> AgeWindow:
        if self.end < self.start:
            raise ValueError(f"'to' ({self.end}) is below 'from' ({self.start})")
        return self

    def holds(self, age: int) -> bool:
        return self.start <= age <= self.end


class Need(_Strict):
    """A need a family member brings: a checklist item of the case per member it applies to."""

    title: Title
    owner: str
    applies_to: list[Literal["spouse", "child"]]
    age: AgeWindow | None = None  # children only
    arrives_later: bool = False  # only for a member who comes later (family reunification)
    due: Due
    lead_setting: str | None = None  # a setting that replaces the span of `due`, in months
    basis: Title
    ladder: list[Step] | None = None

    @field_validator("applies_to", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("due", mode="before")
    @classmethod
    def _due(cls, value: Any) -> Any:
        return Due.parse(value) if isinstance(value, str) else value

    @field_validator("basis")
    @classmethod
    def _basis(cls, value: Title) -> Title:
        if not value.strip():
            raise ValueError("name the legal basis or the reason of the need")
        return value


@dataclass(frozen=True)
class Member:
    """A family member as the rules see it: relation and number, birth year, arrival; no name."""

    id: int
    relation: str  # spouse, child
    number: int  # children 1, 2, ... in the order they were recorded; 0 for the spouse
    added_on: dt.date  # recorded on this day (the alliance's calendar)
    birth_year: int | None = None
    arrives: dt.date | None = None  # comes later (family reunification) on this day

    @property
    def key(self) -> str:
        """`spouse`, `child1`: the member's part of an item id."""
        return SPOUSE if self.relation == SPOUSE else f"{CHILD}{self.number}"

    def label(self, locale: str) -> str:
        """How every message and the overview name the member: "Kind 1", "Partner/in"."""
        return label(self.relation, self.number, locale)

    @property
    def age_at_arrival(self) -> int | None:
        """Age in years by birth year when the member arrives (or, here already, was recorded)."""
        if self.birth_year is None:
            return None
        return (self.arrives or self.added_on).year - self.birth_year


def label(relation: str, number: int, locale: str) -> str:
    words = _LABELS.get(locale, _LABELS["en"])
    return words[relation].format(n=number)


def item_id(member: Member, need_id: str) -> str:
    """The checklist item (and deadline) id of a member's need: `family_child1_kita_place`."""
    return f"{PREFIX}{member.key}_{need_id}"


def parse_item(item: str) -> tuple[str, int, str] | None:
    """(relation, number, need id) of a family item id; None for any other id."""
    match = ITEM.fullmatch(item)
    if match is None:
        return None
    spouse, number, need = match.groups()
    return (SPOUSE, 0, need) if spouse else (CHILD, int(number), need)


def is_family_item(item: str) -> bool:
    return ITEM.fullmatch(item) is not None


def need_of(process: Process, item: str) -> tuple[str, int, str, Need] | None:
    """(relation, number, need id, need) of a family item id of this definition; None otherwise."""
    parsed = parse_item(item)
    if parsed is None:
        return None
    relation, number, need_id = parsed
    need = process.family_needs.get(need_id)
    if need is None or relation not in need.applies_to:
        return None
    return relation, number, need_id, need


def item_title(need: Need, relation: str, number: int) -> Title:
    """"Kita-Platz (Kind 1)", "Daycare place (child 1)"."""
    return Title({locale: f"{need.title.in_(locale)} ({label(relation, number, locale)})"
                  for locale in LOCALES})


def needs_of(process: Process, member: Member) -> list[tuple[str, Need]]:
    """The needs the definition gives this member: its relation, a child's age when it arrives,
    and whether it comes later."""
    found = []
    for need_id, need in process.family_needs.items():
        if member.relation not in need.applies_to:
            continue
        if need.arrives_later and member.arrives is None:
            continue
        if member.relation == CHILD and need.age is not None:
            age = member.age_at_arrival
            if age is None or not need.age.holds(age):
                continue
        found.append((need_id, need))
    return found


def items(process: Process, members: tuple[Member, ...] | list[Member]) -> list[str]:
    """Every family item id of a case, member by member."""
    return [item_id(m, need_id) for m in members for need_id, _ in needs_of(process, m)]


def lead(need: Need, leads: Mapping[str, int] | None) -> Duration | None:
    """The span of a need's due rule: its setting's months where one is given, else the rule's."""
    if need.lead_setting is not None and leads and need.lead_setting in leads:
        return Duration(amount=leads[need.lead_setting], unit="months")
    return need.due.span


def due_on(need: Need, member: Member, *, fallback: dt.date | None,
           leads: Mapping[str, int] | None = None) -> dt.date:
    """When a member's need is due: the rule applied to the day the member arrives (for one who
    came with the person or is here already: the person's arrival, else the day it was recorded),
    never before the day it was recorded: a need recorded late is due at once, not years ago."""
    anchor = member.arrives or fallback or member.added_on
    span = lead(need, leads)
    if span is None:
        due = anchor
    else:
        due = span.after(anchor) if need.due.direction == "after" else span.before(anchor)
    return max(due, member.added_on)


def check(process: Process, fail: Callable[[str, str], None],
          ladder: Callable[[str, list[Step]], None]) -> None:
    """The checks of `family_needs` pydantic cannot do; `fail(path, problem)` raises."""
    roles = set(process.roles)
    for key in [item.id for _, item in process.items()]:
        if is_family_item(key):
            fail("stages", f"checklist item '{key}' looks like a family member's need "
                 f"({PREFIX}spouse_..., {PREFIX}child1_...); choose another id")
    for key in process.deadlines:
        if is_family_item(key):
            fail(f"deadlines.{key}", f"'{key}' looks like a family member's need "
                 f"({PREFIX}spouse_..., {PREFIX}child1_...); choose another id")
    for need_id, need in process.family_needs.items():
        at = f"family_needs.{need_id}"
        if not re.fullmatch(NEED_ID, need_id):
            fail(at, f"a need's id is lower case letters, digits and _, at most {NEED_ID_LENGTH} "
                 f"characters (its item id '{PREFIX}{CHILD}{MAX_CHILDREN}_<id>' must fit {ID_LENGTH})")
        if need.owner not in roles:
            fail(f"{at}.owner", f"unknown role '{need.owner}'; declared roles: {', '.join(process.roles)}")
        if not need.applies_to:
            fail(f"{at}.applies_to", f"name one or more of {', '.join(RELATIONS)}")
        if need.age is not None and CHILD not in need.applies_to:
            fail(f"{at}.age", "an age window is for children: add 'child' to applies_to, or drop it")
        if need.due.anchor != ARRIVES:
            fail(f"{at}.due", f"a need is due relative to the member's arrival, like "
                 f"'3 months before {ARRIVES}', not '{need.due.anchor}'")
        if need.lead_setting is not None and need.lead_setting not in LEAD_SETTINGS:
            fail(f"{at}.lead_setting",
                 f"unknown setting '{need.lead_setting}'; one of {', '.join(LEAD_SETTINGS)}")
        if need.ladder is not None:
            ladder(f"{at}.ladder", need.ladder)
