"""Process definitions (pathways): stages, events, checklists, facts and limits, validated at load.

A definition is a YAML file in `config/processes/` or in the alliance's `LOTSE_PROCESS_DIR`. It is
data only: no Python, no `eval`. Every error names the file, the key path and the problem.

Titles (process, stages, checklist items, facts, events, deadlines) are `Title`s: plain text or
text per language. `stage.title.in_(locale)` is the title in a locale (states/titles.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from lotse.states import facts as fact_kinds
from lotse.states import family
from lotse.states.durations import Duration
from lotse.states.errors import DefinitionError, NotFound
from lotse.states.retention import Retention
from lotse.states.timers import DEFAULT_LADDER, ID_LENGTH, ID_RULE, Deadline, Step, check_ladder
from lotse.states.timers import ID as _ID
from lotse.states.timers import check as check_deadlines
from lotse.states.titles import LOCALES, ROLES_FILE, Title
from lotse.states.yaml_errors import reported_as

COORDINATOR = "coordinator"
ANY_STAGE = "*"
_CONDITION = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(==|!=|>=|<=|>|<)\s*(\S.*?)\s*$")
MAX_BYTES = 1_000_000  # a real pathway has some 20 kB; parsing megabytes costs seconds per command
# A second guard behind `personal: true`: a fact whose name or title looks like one of these is
# personal data even if its definition forgot to say so (never in messages, never in Prefect).
_SENSITIVE = re.compile(
    r"birth|geburt|passport|reisepass|pass_no|nationalit|staatsang|citizenship|health|gesundheit|"
    r"diagnos|disab|behinder|pregnan|schwanger|religio|reason|(?<![a-zäöüß])grund",
    re.IGNORECASE,
)

# What decides what a definition file checks to, beside the file itself: these modules' code and
# the role titles (states/definition_cache.py keeps a checked definition under a digest of them).
CHECKED_BY = [
    *(Path(__file__).with_name(f"{module}.py") for module in (
        "process", "definition_yaml", "yaml_errors", "errors", "facts", "family", "timers",
        "durations", "retention", "titles")),
    ROLES_FILE,
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ChecklistItem(_Strict):
    id: str = Field(pattern=_ID)
    title: Title
    owner: str


class Stage(_Strict):
    title: Title
    responsible: str | None = None
    limit: Duration | None = None
    limit_basis: Title | None = None
    escalation: list[Step] | None = None  # the ladder of the limit; default: the process's
    checklist: list[ChecklistItem] = []

    @field_validator("limit", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return Duration.parse(value) if isinstance(value, str) else value

    def open_items(self, owner: str, done: Collection[str]) -> list[str]:
        """The ids of the stage's checklist items that `owner` is asked for and that are not done."""
        return [item.id for item in self.checklist if item.owner == owner and item.id not in done]


class Fact(_Strict):
    type: Literal["date", "int", "str", "bool", "cefr", "country", "enum"]
    title: Title = Title("")
    values: list[str] | None = None
    set_by: list[str] = []
    personal: bool = False  # personal data: never in messages, reports or Prefect


class Condition(_Strict):
    """A requirement on a fact: present (`op` None) or compared (`language_level >= B2`)."""

    fact: str
    op: str | None = None
    value: Any = None

    def __str__(self) -> str:
        return self.fact if self.op is None else f"{self.fact} {self.op} {self.value}"


class Requirements(_Strict):
    items: list[str] = []
    facts: list[str] = []


class Transition(_Strict):
    event: str = Field(pattern=_ID)
    source: list[str] = Field(alias="from")
    to: str
    title: Title = Title("")
    roles: list[str] = []
    requires: Requirements = Requirements()
    notify: list[str] = []
    dated_by: str | None = None  # a date fact that says when it happened (arrive: arrival_date)

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Process(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=ID_LENGTH)
    version: int = Field(ge=1, lt=2**31)  # stored in a 32-bit column on PostgreSQL
    title: Title
    initial: str
    final: list[str]
    roles: list[str]
    facts: dict[str, Fact] = {}
    stages: dict[str, Stage]
    transitions: list[Transition]
    escalation: list[Step] = list(DEFAULT_LADDER)  # the ladder of every deadline without its own
    deadlines: dict[str, Deadline] = {}
    # What family members need (states/family.py): each need of each member is an item of the case.
    family_needs: dict[str, family.Need] = {}
    retention: Retention | None = None  # `3 years after closed`: then a closed case is erased
    # The occupation recruited for. § 38 BeschV (the WHO safeguards list) binds health and care
    # occupations only; a definition that does not say is treated as one, the stricter reading.
    occupation: Literal["health", "education", "other"] = "health"
    source: str = ""  # the file it came from, set by the loader
    _text: str = PrivateAttr(default="")  # the YAML it was read from, comments and all
    _digest: str = PrivateAttr(default="")  # `digest` of a definition read from a file, once

    @property
    def text(self) -> str:
        """The YAML text the definition was read from (stored with its first case); a definition
        built in code has none, and is written out from its fields."""
        if self._text:
            return self._text
        import yaml  # only for a definition built in code

        return yaml.safe_dump(self.model_dump(mode="json", by_alias=True, exclude={"source"}),
                              allow_unicode=True, sort_keys=False)

    # -- looking things up ---------------------------------------------------------------------

    @property
    def key(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def safeguarded(self) -> bool:
        """Whether § 38 BeschV's WHO safeguards-list rule applies: health and care occupations."""
        return self.occupation == "health"

    def is_final(self, stage: str) -> bool:
        return stage in self.final

    def transitions_from(self, stage: str) -> list[Transition]:
        if self.is_final(stage):
            return []
        return [t for t in self.transitions if stage in self.sources(t)]

    def sources(self, transition: Transition) -> list[str]:
        if ANY_STAGE in transition.source:
            return [s for s in self.stages if not self.is_final(s)]
        return transition.source

    def transition(self, event: str, stage: str) -> Transition | None:
        return next((t for t in self.transitions_from(stage) if t.event == event), None)

    @property
    def events(self) -> list[str]:
        return list(dict.fromkeys(t.event for t in self.transitions))

    def items(self) -> list[tuple[str, ChecklistItem]]:
        return [(name, item) for name, stage in self.stages.items() for item in stage.checklist]

    def item(self, item_id: str) -> ChecklistItem:
        found = self.find_item(item_id)
        if found is not None:
            return found
        known = ", ".join(i.id for _, i in self.items())
        raise NotFound(f"process {self.name} has no checklist item '{item_id}'; known: {known}")

    def find_item(self, item_id: str) -> ChecklistItem | None:
        """A declared checklist item, or a family member's need (`family_child1_kita_place`,
        states/family.py) whatever case has it; None if the definition knows neither."""
        for _, item in self.items():
            if item.id == item_id:
                return item
        need = family.need_of(self, item_id)
        if need is None:
            return None
        relation, number, _, found = need
        return ChecklistItem(id=item_id, title=family.item_title(found, relation, number), owner=found.owner)

    def fact(self, name: str) -> Fact:
        if name not in self.facts:
            from lotse.states.errors import BadFactValue

            raise BadFactValue(
                f"process {self.name} has no fact '{name}'; known: {', '.join(self.facts)}"
            )
        return self.facts[name]

    def is_personal(self, fact_name: str) -> bool:
        """Personal data: marked `personal`, or named or titled like it (`birth_date`, `Reisepass`)."""
        fact = self.facts.get(fact_name)
        titles = " ".join(fact.title.in_(locale) for locale in LOCALES) if fact is not None else ""
        if fact is not None and (fact.personal or _SENSITIVE.search(titles)):
            return True
        return bool(_SENSITIVE.search(fact_name))

    def is_personal_in_history(self, fact_name: str) -> bool:
        """A fact named in an older history row: personal as above, and so is a fact this version
        does not define (renamed or dropped by a migration), whose definition is not at hand."""
        return fact_name not in self.facts or self.is_personal(fact_name)

    def conditions(self, transition: Transition) -> list[Condition]:
        return [parse_condition(text) for text in transition.requires.facts]


def parse_condition(text: str) -> Condition:
    """`arrival_date` (present) or `language_level >= B2` (compared)."""
    text = str(text)
    if re.fullmatch(_ID, text.strip()):
        return Condition(fact=text.strip())
    match = _CONDITION.match(text)
    if not match:
        raise ValueError(f"'{text}' is neither a fact name nor a comparison like 'fact >= value'")
    return Condition(fact=match.group(1), op=match.group(2), value=match.group(3))


# -- loading and checking ------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    """A definition file's bytes, up to the limit; `DefinitionError` when it cannot be read."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise DefinitionError(str(path), "", f"cannot be read: {exc}") from None
    if len(raw) > MAX_BYTES:
        raise DefinitionError(str(path), "", f"is larger than {MAX_BYTES // 1_000_000} MB; a definition "
                              "is a few kB of stages, facts and events")
    return raw


def load_file(path: Path) -> Process:
    """Read and validate one definition; raise `DefinitionError` naming file, key path, problem."""
    return _load_bytes(_read(path), str(path))


def _load_bytes(raw: bytes, file: str) -> Process:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionError(file, "", f"cannot be read: {exc}") from None
    process = load_text(text, file)
    process._digest = digest(process)  # kept with the checked definition (definition_cache.py)
    return process


def load_text(text: str, file: str) -> Process:
    """Validate a definition's YAML text; `file` names where it came from in every error."""
    if len(text) > MAX_BYTES:
        raise DefinitionError(file, "", f"is larger than {MAX_BYTES // 1_000_000} MB; a definition "
                              "is a few kB of stages, facts and events")
    from lotse.states import definition_yaml  # YAML only when a definition is checked

    with reported_as(file):
        data = definition_yaml.parse(text, file)
    if not isinstance(data, dict):
        raise DefinitionError(file, "", "must be a mapping with name, version, stages, ...")
    try:
        process = Process.model_validate({**data, "source": file})
    except ValidationError as exc:
        error = exc.errors()[0]
        path_ = ".".join(str(p) for p in error["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        problem = error["msg"]
        if error["type"] == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == _ID:
            problem = f"an id is {ID_RULE}"
        raise DefinitionError(file, path_, f"{problem}{more}") from None
    check(process, file)
    process._text = text
    return process


def digest(process: Process) -> str:
    """A digest of what the definition means: equal for two files that differ only in comments,
    layout or key order, different as soon as a stage, item, fact, event, title or timer differs."""
    if process._digest:
        return process._digest
    meaning = process.model_dump(mode="json", by_alias=True, exclude={"source"})
    return hashlib.sha256(json.dumps(meaning, sort_keys=True).encode()).hexdigest()


def check(process: Process, file: str) -> None:
    """The checks pydantic cannot do: every name used is declared, every stage is reachable."""

    def fail(path: str, problem: str) -> None:
        raise DefinitionError(file, path, problem)

    stages, roles = set(process.stages), set(process.roles)
    for kind, names in (("stages", process.stages), ("roles", process.roles)):
        for name in names:
            if not re.fullmatch(_ID, name):
                fail(f"{kind}.{name[:ID_LENGTH + 1]}", f"a {kind[:-1]} name is {ID_RULE}")
    if COORDINATOR not in roles:
        fail("roles", f"must include '{COORDINATOR}'")

    def role(path: str, name: str) -> None:
        if name not in roles:
            fail(path, f"unknown role '{name}'; declared roles: {', '.join(process.roles)}")

    def stage(path: str, name: str) -> None:
        if name not in stages:
            fail(path, f"unknown stage '{name}'; stages: {', '.join(process.stages)}")

    stage("initial", process.initial)
    for i, name in enumerate(process.final):
        stage(f"final.{i}", name)
    for name, fact in process.facts.items():
        if not re.fullmatch(_ID, name):
            fail(f"facts.{name}", f"a fact name is {ID_RULE}")
        if fact.type == "enum" and not fact.values:
            fail(f"facts.{name}.values", "an enum fact needs a list of values")
        for i, r in enumerate(fact.set_by):
            role(f"facts.{name}.set_by.{i}", r)
    item_ids: set[str] = set()
    for name, st in process.stages.items():
        if st.responsible:
            role(f"stages.{name}.responsible", st.responsible)
        for i, item in enumerate(st.checklist):
            if item.id in item_ids:
                fail(f"stages.{name}.checklist.{i}.id", f"duplicate checklist item '{item.id}'")
            item_ids.add(item.id)
            role(f"stages.{name}.checklist.{i}.owner", item.owner)
    seen: set[tuple[str, str]] = set()
    for i, t in enumerate(process.transitions):
        at = f"transitions.{i}"
        for j, source in enumerate(t.source):
            if source != ANY_STAGE:
                stage(f"{at}.from.{j}", source)
                if source in process.final:
                    fail(f"{at}.from.{j}", f"'{source}' is final: nothing leaves it")
        stage(f"{at}.to", t.to)
        for source in process.sources(t):
            if (t.event, source) in seen:
                fail(f"{at}.event", f"duplicate event '{t.event}' from stage '{source}'")
            seen.add((t.event, source))
        for j, r in enumerate(t.roles):
            role(f"{at}.roles.{j}", r)
        for j, r in enumerate(t.notify):
            role(f"{at}.notify.{j}", r)
        for j, item in enumerate(t.requires.items):
            if item not in item_ids:
                fail(f"{at}.requires.items.{j}", f"unknown checklist item '{item}'")
        for j, text in enumerate(t.requires.facts):
            _check_condition(process, f"{at}.requires.facts.{j}", text, fail)
        if t.dated_by is not None and t.dated_by not in process.facts:
            fail(f"{at}.dated_by", f"unknown fact '{t.dated_by}'")
        if t.dated_by is not None and process.facts[t.dated_by].type != "date":
            fail(f"{at}.dated_by", f"fact '{t.dated_by}' is a {process.facts[t.dated_by].type}, not a date")
    check_deadlines(process, fail, lambda path, text: _check_condition(process, path, text, fail))
    family.check(process, fail, lambda path, steps: check_ladder(process, fail, path, steps))
    reached = _reachable(process)
    for name in process.stages:
        if name not in reached:
            fail(f"stages.{name}", f"stage '{name}' cannot be reached from '{process.initial}'")


def _check_condition(process: Process, path: str, text: str, fail: Any) -> None:
    try:
        condition = parse_condition(text)
    except ValueError as exc:
        fail(path, str(exc))
    if condition.fact not in process.facts:
        fail(path, f"unknown fact '{condition.fact}'")
    if condition.op is None:
        return
    fact = process.facts[condition.fact]
    if condition.op not in ("==", "!=") and fact.type not in fact_kinds.ORDERED_KINDS:
        fail(path, f"'{condition.op}' needs an ordered fact (date, int, cefr), not {fact.type}")
    try:
        fact_kinds.parse_value(fact.type, condition.value, fact.values, name=condition.fact)
    except Exception as exc:  # BadFactValue: reported with the definition's path
        fail(path, str(exc))


def _reachable(process: Process) -> set[str]:
    reached, queue = {process.initial}, deque([process.initial])
    while queue:
        for t in process.transitions_from(queue.popleft()):
            if t.to not in reached:
                reached.add(t.to)
                queue.append(t.to)
    return reached


class Catalog:
    """Every definition a case may run on, by name and version. The files offer versions to new
    cases (the newest by default); the database keeps every version a case ran on, which stays
    in force when its file is gone or was edited in place (states/definitions.py)."""

    def __init__(self, processes: list[Process]) -> None:
        self._by_key: dict[tuple[str, int], Process] = {}
        self._offered: dict[tuple[str, int], Process] = {}  # as the files define them now
        # (name, version) known to be stored in the database: no lookup when the next case opens
        self.stored: set[tuple[str, int]] = set()
        for p in processes:
            if (p.name, p.version) in self._by_key:
                other = self._by_key[(p.name, p.version)].source
                raise DefinitionError(p.source, "version", f"{p.key} is also defined in {other}")
            self._by_key[(p.name, p.version)] = p
            self._offered[(p.name, p.version)] = p

    @classmethod
    def load(cls, folders: list[Path], cache: Path | None = None) -> Catalog:
        """The definitions of the folders; a process named in a later folder (the alliance's own,
        LOTSE_PROCESS_DIR) replaces the one of that name shipped in an earlier folder. With a
        `cache` folder, files checked before with the same bytes are not checked again."""
        files: list[list[tuple[str, bytes]]] = []
        for folder in folders:
            if not folder.is_dir():
                raise DefinitionError(str(folder), "", "process folder does not exist")
            files.append([(str(path), _read(path)) for path in sorted(folder.glob("*.y*ml"))])

        def checked() -> list[list[Process]]:
            return [[_load_bytes(raw, file) for file, raw in layer] for layer in files]

        if cache is None:
            return cls.layered(checked())
        from lotse.states import definition_cache

        return cls.layered(definition_cache.checked("processes", files, checked, cache, CHECKED_BY))

    @classmethod
    def layered(cls, layers: list[list[Process]]) -> Catalog:
        """The definitions of folders in order; a name in a later folder hides the earlier ones."""
        processes: list[Process] = []
        for found in layers:
            replaced = {p.name for p in found}
            processes = [p for p in processes if p.name not in replaced] + found
        return cls(processes)

    def names(self) -> list[str]:
        """The processes the files offer to new cases."""
        return sorted({name for name, _ in self._offered})

    def latest(self) -> list[Process]:
        """The newest offered version of each process: what a new case opens on."""
        return [self.get(name) for name in self.names()]

    def versions(self) -> list[Process]:
        """Every version known, offered or only stored, by name and version."""
        return [self._by_key[key] for key in sorted(self._by_key)]

    def offered(self, name: str, version: int) -> Process | None:
        """The version as its file defines it now, if a file does."""
        return self._offered.get((name, version))

    def keep_in_force(self, process: Process) -> None:
        """Run the cases of this version on `process` (a stored copy), whatever its file says."""
        self._by_key[(process.name, process.version)] = process

    def get(self, name: str, version: int | None = None) -> Process:
        if version is not None and (name, version) in self._by_key:
            return self._by_key[(name, version)]
        versions = sorted(v for n, v in self._offered if n == name)
        if not versions or version is not None:
            which = f"{name} v{version}" if version is not None else name
            raise NotFound(f"unknown process '{which}'; known: {', '.join(self.names())}")
        return self._by_key[(name, versions[-1])]
