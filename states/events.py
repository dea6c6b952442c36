"""Domain events: what happened to a case. Each becomes one history row; notifications and
deadlines react to them in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The history action of a case moved to another version of its process (`lotse process migrate`).
MIGRATE = "migrate"


@dataclass(frozen=True)
class CaseOpened:
    ref: str
    process: str
    process_version: int
    stage: str
    actor: str
    action = "open"


@dataclass(frozen=True)
class FactsSet:
    ref: str
    stage: str
    actor: str
    values: dict[str, Any] = field(default_factory=dict)  # stored (JSON) form
    action = "set"


@dataclass(frozen=True)
class ItemsTicked:
    ref: str
    stage: str
    actor: str
    items: tuple[str, ...]
    done: bool = True

    @property
    def action(self) -> str:
        return "done" if self.done else "undone"


@dataclass(frozen=True)
class StageChanged:
    ref: str
    process: str
    process_version: int
    event: str
    from_stage: str
    to_stage: str
    actor: str
    note: str | None = None

    @property
    def action(self) -> str:
        return self.event


@dataclass(frozen=True)
class FamilyMemberAdded:
    """A family member recorded (`lotse family add`): named by relation and number only; the
    member's name and birth year stay in `family_members`."""

    ref: str
    stage: str
    actor: str
    relation: str
    number: int
    items: tuple[str, ...]  # the checklist items (needs) it brings
    action = "family_add"


DomainEvent = CaseOpened | FactsSet | ItemsTicked | StageChanged | FamilyMemberAdded
