"""The `work-case` form: a Prefect `RunInput` model generated from one case's worksheet, and the
answer read back from what the Prefect UI sent.

The UI draws the form from the model's JSON schema: a pick list for each `enum`, a date field for
`"format": "date"`, a switch for each boolean. Optional fields carry no `null` alternative in the
schema (the UI would show a type switch for it); left empty, the UI leaves them out.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from prefect.input import RunInput
from pydantic import ConfigDict, Field, WithJsonSchema, create_model

from lotse.tasks.worksheet import NOTE_MAX, Answer, FactField, Worksheet, describe

TEXT_MAX = 200  # a text fact: a short code or word, not prose
# The server checks a `pattern`, not a `format`: without it a date field takes any text, a name
# included, and keeps it with the run. The UI's date field sends ISO dates.
DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_TYPES: dict[str, Any] = {
    "date": (dt.date, {"type": "string", "format": "date", "pattern": DATE_PATTERN}),
    "int": (int, {"type": "integer"}),
    "str": (str, {"type": "string", "maxLength": TEXT_MAX}),
    "country": (str, {"type": "string", "pattern": "^[A-Z]{3}$"}),
}


class _Form(RunInput):
    # The server stores what it validates: a field the form does not have (a typo of a personal
    # fact) is refused, not kept.
    model_config = ConfigDict(extra="forbid")


def model(sheet: Worksheet) -> type[RunInput]:
    """A `RunInput` subclass whose fields are what this case offers now, titled in its locale."""
    w = sheet.words
    position = iter(range(1000))
    # Prefect 3.8's UI shows the pause's description at zero height: the first field repeats it.
    about_events = " ".join([w["event_help"], *(f"{o.title}: {o.detail}." for o in sheet.events)])
    fields: dict[str, Any] = {
        "event": _choice(
            [o.label for o in sheet.events] + [w["no_event"]], w["no_event"], w["event"],
            f"{describe(sheet)}\n\n{about_events}", next(position),
        ),
    }
    for item in sheet.items:
        fields[f"done_{item.id}"] = (bool, Field(False, title=item.label, description=item.detail,
                                                 json_schema_extra={"position": next(position)}))
    for fact in sheet.facts:
        fields[f"fact_{fact.name}"] = _fact(fact, sheet, next(position))
    actors = [o.label for o in sheet.actors]
    fields["on_behalf_of"] = (  # required: a change is always made on someone's behalf
        Literal[tuple(actors)],
        _field(..., w["on_behalf_of"],
               " ".join([w["actor_help"], *(f"{o.label}: {o.detail}." for o in sheet.actors)]),
               next(position)),
    )
    fields["note"] = (_optional(str, {"type": "string", "maxLength": NOTE_MAX}),
                      _field(None, w["note"], w["note_help"], next(position)))
    form = create_model("WorkCase", __base__=_Form, **fields)
    form._description = describe(sheet)  # shown above the form when resuming
    return form


def answer(sheet: Worksheet, given: RunInput) -> Answer:
    """The ids and typed values of a submitted form; a fact counts only where it was changed."""
    values = given.model_dump()
    events = {o.label: o.id for o in sheet.events}
    actors = {o.label: o.id for o in sheet.actors}
    facts = {}
    for fact in sheet.facts:
        value = _typed(fact, sheet, values.get(f"fact_{fact.name}"))
        if value is not None and value != fact.now:
            facts[fact.name] = value
    note = (values.get("note") or "").strip() or None
    return Answer(
        actor=actors[values["on_behalf_of"]],
        items=tuple(i.id for i in sheet.items if values.get(f"done_{i.id}")),
        facts=facts, event=events.get(values["event"]), note=note,
    )


def _fact(fact: FactField, sheet: Worksheet, position: int) -> tuple[Any, Any]:
    now = fact.now
    if fact.kind in ("cefr", "enum"):
        return _choice(list(fact.values), now, fact.title, fact.detail, position)
    if fact.kind == "bool":
        w = sheet.words
        shown = None if now is None else w["yes" if now else "no"]
        return _choice([w["yes"], w["no"]], shown, fact.title, fact.detail, position)
    kind, schema = _TYPES[fact.kind]
    shown = now.isoformat() if isinstance(now, dt.date) else now
    return _optional(kind, schema), _field(now, fact.title, fact.detail, position, shown)


def _typed(fact: FactField, sheet: Worksheet, value: Any) -> Any:
    if value is None or fact.kind != "bool":
        return value
    return value == sheet.words["yes"]


def _choice(
    labels: list[str], default: str | None, title: str, description: str, position: int,
) -> tuple[Any, Any]:
    kind = Literal[tuple(labels)]  # type: ignore[valid-type]
    schema = {"type": "string", "enum": labels}
    if default is None:
        return _optional(kind, schema), _field(None, title, description, position)
    return kind, _field(default, title, description, position, default)


def _optional(kind: Any, schema: dict[str, Any]) -> Any:
    return Annotated[kind | None, WithJsonSchema(schema)]


def _field(default: Any, title: str, description: str, position: int, shown: Any = None) -> Any:
    extra: dict[str, Any] = {"position": position}
    if shown is not None:
        extra["default"] = shown

    def schema(properties: dict[str, Any]) -> None:
        properties.pop("default", None)  # pydantic writes `null`; the UI would show "None"
        properties.update(extra)

    return Field(default, title=title, description=description, json_schema_extra=schema)
