"""The case: one person's way through a process, as a plain object the machine can drive.

It holds no names of people; those stay in the store. Changing a fact or a checklist item checks
who may do it (the definition says; the coordinator may do everything) and returns the event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lotse.states import facts as fact_kinds
from lotse.states import family
from lotse.states.actor import Actor
from lotse.states.errors import NotFound, Refused, RoleMissing
from lotse.states.events import FactsSet, ItemsTicked
from lotse.states.process import Condition, Process, Transition


@dataclass
class Case:
    ref: str
    process: str
    process_version: int
    stage: str
    employer: str
    region: str
    version: int = 0
    facts: dict[str, Any] = field(default_factory=dict)  # parsed values
    done: set[str] = field(default_factory=set)
    family: tuple[family.Member, ...] = ()  # relation, number, birth year, arrival; no names

    def set_facts(self, process: Process, actor: Actor, values: dict[str, Any]) -> FactsSet:
        """Set parsed fact values; only roles named in the fact's `set_by` (or the coordinator)."""
        self._open(process)
        stored = {}
        for name, value in values.items():
            fact = process.fact(name)
            if not actor.has_any(fact.set_by):
                raise RoleMissing(actor.id, f"set fact '{name}'", fact.set_by or ["coordinator"])
            self.facts[name] = value
            stored[name] = fact_kinds.to_json(fact.type, value)
        return FactsSet(self.ref, self.stage, actor.id, stored)

    def tick(self, process: Process, actor: Actor, items: list[str], done: bool = True) -> ItemsTicked:
        """Tick (or untick) checklist items; only the item's owner role (or the coordinator)."""
        self._open(process)
        for item_id in items:
            item = process.item(item_id)
            if family.is_family_item(item_id) and item_id not in self.family_items(process):
                raise NotFound(f"{self.ref} has no family member's need '{item_id}'; "
                               f"see `lotse family list {self.ref}`")
            if not actor.has_any([item.owner]):
                verb = "tick" if done else "untick"
                raise RoleMissing(actor.id, f"{verb} '{item_id}'", [item.owner])
        for item_id in items:
            (self.done.add if done else self.done.discard)(item_id)
        return ItemsTicked(self.ref, self.stage, actor.id, tuple(items), done)

    def family_items(self, process: Process) -> list[str]:
        """The checklist items the case's family members bring (states/family.py)."""
        return family.items(process, self.family)

    def unmet(self, process: Process, transition: Transition) -> tuple[list[str], list[Condition]]:
        """What a transition still needs: its open checklist items (ids) and its unmet conditions.
        Each reader words them its own way (an error, a form, the overview)."""
        items = [item_id for item_id in transition.requires.items if item_id not in self.done]
        return items, [c for c in process.conditions(transition) if not self.meets(process, c)]

    def missing(self, process: Process, transition: Transition) -> list[str]:
        """Every unmet requirement of a transition, in words."""
        items, conditions = self.unmet(process, transition)
        gaps = [f"checklist item '{i}' (owner {process.item(i).owner})" for i in items]
        for condition in conditions:
            now = self.facts.get(condition.fact)
            state = "not set" if now is None else f"now {fact_kinds.display(now)}"
            gaps.append(f"fact '{condition}' ({state})")
        return gaps

    def meets(self, process: Process, condition: Condition) -> bool:
        value = self.facts.get(condition.fact)
        if value is None:
            return False
        if condition.op is None:
            return True
        fact = process.facts[condition.fact]
        wanted = fact_kinds.parse_value(fact.type, condition.value, fact.values)
        have, want = fact_kinds.sort_key(fact.type, value), fact_kinds.sort_key(fact.type, wanted)
        return {
            "==": have == want, "!=": have != want, ">=": have >= want,
            "<=": have <= want, ">": have > want, "<": have < want,
        }[condition.op]

    def digest(self, process: Process) -> str:
        """What a reader saw of the case, digested (`state_digest`): a change made on what someone
        saw is refused if anything changed since, a tick or a fact as well as the stage."""
        stored = {name: fact_kinds.to_json(process.facts[name].type, value)
                  for name, value in self.facts.items() if name in process.facts}
        items = {item.id for _, item in process.items()}
        return state_digest(self.version, self.stage, stored, [i for i in self.done if i in items])

    def _open(self, process: Process) -> None:
        if process.is_final(self.stage):
            raise Refused(f"{self.ref} is closed (stage '{self.stage}'); nothing can change")


def state_digest(version: int, stage: str, facts: Mapping[str, Any], done: Iterable[str]) -> str:
    """A digest of a case's stage, version, facts (as stored) and done checklist items."""
    state = [version, stage, sorted(facts.items()), sorted(set(done))]
    return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()[:32]
