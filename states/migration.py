"""Moving a running case to another version of its process: the mapping between two versions,
checked against both, and the plan for one case.

Pure: two definitions, a mapping and a case in; a plan out. A mapping renames stages, checklist
items, facts and events (`old: new`) and names what is dropped; an id that exists in both versions
maps to itself. Whatever a case holds that has no target and is not dropped keeps it where it is:
a migration never loses a done item or a fact silently. tasks/process_migration.py applies plans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lotse.states.case import Case
from lotse.states.errors import BadInput
from lotse.states.family import is_family_item
from lotse.states.process import Process

MAX_BYTES = 1_000_000  # a mapping is a few dozen lines


class Dropped(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    items: list[str] = []
    facts: list[str] = []
    events: list[str] = []


class Mapping(BaseModel):
    """`stages`, `items`, `facts`, `events`: old id -> new id; `drop`: old ids given up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stages: dict[str, str] = Field(default_factory=dict)
    items: dict[str, str] = Field(default_factory=dict)
    facts: dict[str, str] = Field(default_factory=dict)
    events: dict[str, str] = Field(default_factory=dict)
    drop: Dropped = Dropped()


def read_mapping(path: Path) -> Mapping:
    """A mapping file (YAML); a bad one is one line naming the file and the key."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise BadInput(f"{path}: is larger than 1 MB; a mapping is a few lines")
    try:
        data = yaml.safe_load(raw.decode("utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise BadInput(f"{path}: not a YAML mapping file{line}") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: must be a mapping with stages, items, facts, events, drop")
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"])
        if error["type"] == "extra_forbidden":
            where = ("a mapping has stages, items, facts, events and drop" if len(error["loc"]) == 1
                     else "drop has items, facts and events")
            raise BadInput(f"{path}: {key}: unknown key; {where}") from None
        raise BadInput(f"{path}: {key}: {error['msg']}") from None


def check_mapping(mapping: Mapping, old: Process, new: Process, file: str = "the mapping") -> None:
    """Every key is an id of the old version, every value an id of the new one, every dropped id
    one of the old version; raise `BadInput` naming the first key that is not."""
    old_items = {i.id for _, i in old.items()}
    new_items = {i.id for _, i in new.items()}
    kinds: list[tuple[str, dict[str, str], set[str], set[str]]] = [
        ("stages", mapping.stages, set(old.stages), set(new.stages)),
        ("items", mapping.items, old_items, new_items),
        ("facts", mapping.facts, set(old.facts), set(new.facts)),
        ("events", mapping.events, set(old.events), set(new.events)),
    ]
    for kind, renames, before, after in kinds:
        for source, target in renames.items():
            if source not in before:
                raise BadInput(f"{file}: {kind}.{source}: {old.key} has no {kind[:-1]} '{source}'")
            if target not in after:
                raise BadInput(f"{file}: {kind}.{source}: {new.key} has no {kind[:-1]} '{target}'")
    for name, target in mapping.stages.items():
        if new.is_final(target) and not old.is_final(name):
            raise BadInput(f"{file}: stages.{name}: '{target}' is a final stage of {new.key}; a migration "
                           "does not close a case: map it to a running stage")
    for kind, dropped, before in (("items", mapping.drop.items, old_items),
                                  ("facts", mapping.drop.facts, set(old.facts)),
                                  ("events", mapping.drop.events, set(old.events))):
        for i, name in enumerate(dropped):
            if name not in before:
                raise BadInput(f"{file}: drop.{kind}.{i}: {old.key} has no {kind[:-1]} '{name}'")
            if name in getattr(mapping, kind):
                raise BadInput(f"{file}: drop.{kind}.{i}: '{name}' is both mapped and dropped")
    for name, target in mapping.facts.items():
        before_kind, after_kind = old.facts[name].type, new.facts[target].type
        if before_kind != after_kind:
            raise BadInput(f"{file}: facts.{name}: a {before_kind} in {old.key}, but '{target}' is a "
                           f"{after_kind} in {new.key}; map it to a fact of the same type or drop it")


@dataclass
class Plan:
    """What migrating one case does, or why it cannot be migrated (`problems`)."""

    ref: str
    source: str  # "pflege v1"
    target: str  # "pflege v2"
    from_stage: str
    to_stage: str | None
    items_kept: dict[str, str] = field(default_factory=dict)  # done items: old id -> new id
    items_dropped: list[str] = field(default_factory=list)
    items_new: list[str] = field(default_factory=list)  # open items the old stage did not have
    facts_kept: dict[str, str] = field(default_factory=dict)
    facts_dropped: list[str] = field(default_factory=list)
    deadlines_closed: list[str] = field(default_factory=list)  # filled in by the store
    deadlines_opened: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        """Ids only: no fact value, no name."""
        return {
            "ref": self.ref, "from": self.source, "to": self.target,
            "stage": {"from": self.from_stage, "to": self.to_stage},
            "items": {"kept": self.items_kept, "dropped": self.items_dropped, "new": self.items_new},
            "facts": {"kept": self.facts_kept, "dropped": self.facts_dropped},
            "deadlines": {"closed": self.deadlines_closed, "opened": self.deadlines_opened},
            "problems": self.problems,
        }


def plan(case: Case, old: Process, new: Process, mapping: Mapping) -> Plan:
    """Where the case would stand on `new`, what it keeps, drops and gains, or why it cannot move."""
    to_stage = _target(case.stage, mapping.stages, new.stages)
    result = Plan(case.ref, old.key, new.key, case.stage, to_stage)
    if old.is_final(case.stage):  # its record is complete: it stays as it was decided
        result.problems.append(f"the case is closed (stage '{case.stage}'); a closed case keeps its version")
        return result
    if to_stage is None:
        result.problems.append(f"stage '{case.stage}' has no target in {new.key}; map it under stages:")
    elif new.is_final(to_stage):
        result.problems.append(f"stage '{case.stage}' is final in {new.key}; a migration does not close a "
                               "case: map it under stages: to a running stage")
    new_items = {i.id for _, i in new.items()}
    for item in sorted(case.done):
        target = _target(item, mapping.items, new_items)
        if target is None and is_family_item(item) and new.find_item(item) is not None:
            target = item  # a family member's need that the new version declares too
        if target is not None:
            result.items_kept[item] = target
        elif item in mapping.drop.items:
            result.items_dropped.append(item)
        else:
            result.problems.append(f"done item '{item}' has no target in {new.key}; map it under items: "
                                   "or name it under drop: items:")
    for name in sorted(case.facts):
        target = _target(name, mapping.facts, set(new.facts))
        if target is not None and old.facts.get(name) and old.facts[name].type != new.facts[target].type:
            result.problems.append(f"fact '{name}' is a {old.facts[name].type} in {old.key} but a "
                                   f"{new.facts[target].type} in {new.key}; map it or drop it")
        elif target is not None and not _allowed(new, target, case.facts[name]):
            result.problems.append(f"fact '{name}' holds a value that '{target}' of {new.key} does not "
                                   "allow; correct it first or drop it")
        elif target is not None:
            result.facts_kept[name] = target
        elif name in mapping.drop.facts:
            result.facts_dropped.append(name)
        else:
            result.problems.append(f"fact '{name}' has no target in {new.key}; map it under facts: "
                                   "or name it under drop: facts:")
    if to_stage is not None:
        # New: an item of the new stage that the old stage did not ask for (under any name).
        before = {i.id for i in old.stages[case.stage].checklist}
        earlier = {target: source for source, target in mapping.items.items()}
        done = set(result.items_kept.values())
        result.items_new = [i.id for i in new.stages[to_stage].checklist
                            if i.id not in done and earlier.get(i.id, i.id) not in before]
    return result


def moved(case: Case, result: Plan, new: Process) -> Case:
    """The case as it stands on `new` once `result` is applied (its version counted up)."""
    assert result.to_stage is not None
    return Case(
        ref=case.ref, process=new.name, process_version=new.version, stage=result.to_stage,
        employer=case.employer, region=case.region, version=case.version + 1,
        facts={result.facts_kept[n]: v for n, v in case.facts.items() if n in result.facts_kept},
        done={result.items_kept[i] for i in case.done if i in result.items_kept}, family=case.family,
    )


def _target(old_id: str, renames: dict[str, str], new_ids: Any) -> str | None:
    if old_id in renames:
        return renames[old_id]
    return old_id if old_id in new_ids else None


def _allowed(new: Process, name: str, value: Any) -> bool:
    fact = new.facts[name]
    return fact.type != "enum" or value in (fact.values or [])
