"""The machine: applies an event to a case under its process definition, or says why not.

Built with `transitions` on the plain `Case` (never on a table row: `transitions` adds attributes
that SQLModel objects refuse). A failed guard in `transitions` returns False silently, so every
refusal is decided here first and raised as a named error listing what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from transitions import Machine

from lotse.states.actor import Actor
from lotse.states.case import Case
from lotse.states.errors import EventNotAllowed, RequirementsMissing, RoleMissing
from lotse.states.events import StageChanged
from lotse.states.process import Process


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
    machine = _machine(position, case, process)
    if not machine.events[event].trigger(position):
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


def _machine(position: _Position, case: Case, process: Process) -> Machine:
    transitions = [
        {
            "trigger": t.event,
            "source": process.sources(t),
            "dest": t.to,
            "conditions": [lambda t=t: not case.missing(process, t)],
        }
        for t in process.transitions
    ]
    return Machine(
        model=position,
        states=list(process.stages),
        transitions=transitions,
        initial=position._stage,
        auto_transitions=False,
        model_attribute="_stage",
        model_override=False,  # bind onto the bare position; nothing there to override
    )
