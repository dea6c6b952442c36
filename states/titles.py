"""Titles in the reader's language: what a definition calls its process, stages, checklist items,
facts, events and deadlines, and what the alliance calls its roles.

A definition gives a title as plain text (one text for every language) or per language:

    title: Visumverfahren
    title: {de: Visumverfahren, en: Visa procedure}

`Title` is a `str` holding the German text, so f-strings, comparisons and sorting read German as
before; it also knows its other languages. To show a title in a locale:

    stage.title.in_("en")          # "Visa procedure"; German where no English was given
    str(stage.title)               # "Visumverfahren"
    Title(text_or_title).in_(loc)  # any plain str too: one text for every language
    role_title("housing", "en")    # "housing company" (config/roles.yaml)
    stage.limit.in_("de")          # "10 Wochen" (a `Duration` of states/durations.py)

A mapping with an unknown language, an empty text or no language at all is refused when the
definition is loaded, with the key path of the title.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

import lotse.config

LOCALES = ("de", "en")
DEFAULT_LOCALE = "de"
ROLES_FILE = Path(lotse.config.__file__).parent / "roles.yaml"


class Title(str):
    """A title: its German text as a `str`, and its text per language (`in_`)."""

    _given: dict[str, str]
    _plain: bool

    def __new__(cls, value: str | Mapping[str, Any] = "") -> Title:
        if isinstance(value, Title):
            return value
        if isinstance(value, Mapping):
            given = _checked(value)
            self = super().__new__(cls, given.get(DEFAULT_LOCALE) or next(iter(given.values())))
            self._given, self._plain = given, False
            return self
        if not isinstance(value, str):
            raise ValueError(
                "a title is text, or text per language like {de: Visumverfahren, en: Visa procedure}"
            )
        self = super().__new__(cls, value)
        self._given, self._plain = ({DEFAULT_LOCALE: value} if value else {}), True
        return self

    def in_(self, locale: str) -> str:
        """The text in `locale`; German, or the one language given, where it has none."""
        return self._given.get(locale) or str(self)

    @property
    def given(self) -> str | dict[str, str]:
        """As the definition wrote it: the plain text, or the mapping of languages."""
        return str(self) if self._plain else dict(self._given)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Title):
            return str.__eq__(self, other) and self._given == other._given
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__

    def __reduce__(self) -> tuple[Any, ...]:  # copy and pickle keep the other languages
        return (Title, (self.given,))

    def __repr__(self) -> str:
        return f"Title({self.given!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler,
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda title: title.given, when_used="json"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler,
    ) -> JsonSchemaValue:
        text = {"type": "string"}
        return {"anyOf": [text, {"type": "object", "properties": dict.fromkeys(LOCALES, text),
                                 "additionalProperties": False}]}


def _checked(value: Mapping[str, Any]) -> dict[str, str]:
    if not value:
        raise ValueError(f"a title per language needs at least one of {', '.join(LOCALES)}")
    given = {}
    for locale, text in value.items():
        if locale not in LOCALES:
            raise ValueError(f"unknown language '{locale}' in a title; languages: {', '.join(LOCALES)}")
        if not isinstance(text, str):
            raise ValueError(f"the {locale} title must be text")
        if not text.strip():
            raise ValueError(f"the {locale} title is empty")
        given[locale] = text
    return given


def role_title(role: str, locale: str = DEFAULT_LOCALE) -> str:
    """A role as a reader names it ("Wohnungsunternehmen", "housing company"); a role that
    config/roles.yaml does not know is shown by its id."""
    title = role_titles().get(role)
    return title.in_(locale) if title else role


@lru_cache(maxsize=1)
def role_titles() -> dict[str, Title]:
    """Every role title of config/roles.yaml, checked like a definition's titles."""
    import yaml  # here: most commands started cold show no role title (issue 15)

    data = yaml.safe_load(ROLES_FILE.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{ROLES_FILE}: must map each role to its title")
    titles = {}
    for role, value in data.items():
        try:
            titles[str(role)] = Title(value)
        except ValueError as exc:
            raise ValueError(f"{ROLES_FILE}: {role}: {exc}") from None
    return titles
