"""The machine: applies an event to a case under its process definition, or says why not.

Built with `transitions` on the plain `Case` (never on a table row: `transitions` adds attributes
that SQLModel objects refuse). A failed guard in `transitions` returns False silently, so every
refusal is decided here first and raised as a named error listing what is missing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lotse.states.actor import Actor
from lotse.states.case import Case
from lotse.states.errors import EventNotAllowed, RequirementsMissing, RoleMissing
from lotse.states.events import StageChanged
from lotse.states.process import Process

if TYPE_CHECKING:
    from transitions import Machine


@dataclass(frozen=True)
class Option:
    """An event the case could take now, and what it still lacks."""

    event: str
    to: str
    roles: tuple[str, ...]
    missing: tuple[str, ...]


def options(case: Case, process: Process) -> list[Option]:
    return [
        Option(t.event, t.to, tuple(t.roles), tuple(case.missing(process, t)))
        for t in process.transitions_from(case.stage)
    ]


def fire(case: Case, process: Process, event: str, actor: Actor, note: str | None = None) -> StageChanged:
    """Move the case by `event`; the case is changed only if the event is allowed."""
    transition = process.transition(event, case.stage)
    if transition is None:
        allowed = [t.event for t in process.transitions_from(case.stage)]
        raise EventNotAllowed(case.ref, event, case.stage, allowed)
    if not actor.has_any(transition.roles):
        raise RoleMissing(actor.id, f"fire '{event}'", transition.roles or ["coordinator"])
    missing = case.missing(process, transition)
    if missing:
        raise RequirementsMissing(case.ref, event, missing)

    before = case.stage
    position = _Position(case.stage)
    machine = _machine(process)
    machine.add_model(position, initial=position._stage)
    try:
        moved = machine.events[event].trigger(position, case=case)
    finally:
        machine.remove_model(position)
    if not moved:
        raise RequirementsMissing(case.ref, event, case.missing(process, transition))
    case.stage = position._stage
    return StageChanged(
        ref=case.ref, process=process.name, process_version=process.version, event=event,
        from_stage=before, to_stage=case.stage, actor=actor.id, note=note,
    )


class _Position:
    """What the machine moves: the stage alone. `transitions` binds methods named after the events
    onto its model; on the case an event called `missing` or `tick` would replace the case's own
    method. No event name (it starts with a letter) can name this object's one attribute."""

    def __init__(self, stage: str) -> None:
        self._stage = stage


_KEPT = 32  # machines per thread
_built = threading.local()  # a machine is not safe for two threads at once: one per thread


def _machine(process: Process) -> Machine:
    """The machine of a process, built once per thread; each case joins it for one event only.
    Its guards read the case the event is fired with."""
    machines: dict[int, tuple[Process, Machine]] = _built.__dict__.setdefault("machines", {})
    held = machines.get(id(process))
    if held is not None and held[0] is process:
        return held[1]
    # Imported by the first event fired: what a case may do next (`options`) needs no machine.
    from transitions import Machine

    transitions = [
        {
            "trigger": t.event,
            "source": process.sources(t),
            "dest": t.to,
            "conditions": [lambda data, t=t: not data.kwargs["case"].missing(process, t)],
        }
        for t in process.transitions
    ]
    machine = Machine(
        model=None,
        states=list(process.stages),
        transitions=transitions,
        initial=process.initial,
        auto_transitions=False,
        send_event=True,
        model_attribute="_stage",
        model_override=False,  # bind onto the bare position; nothing there to override
    )
    if len(machines) >= _KEPT:  # a long-running server loads its definitions again now and then
        machines.clear()
    machines[id(process)] = (process, machine)
    return machine
