"""Funding programmes: the public money an alliance draws on (a state programme for language
courses, a federal one for integration support), named in configuration with a title, the rules
as text, and where those rules are published.

Lotse ships `config/programmes.yaml` with examples (each marked `example: true`); an alliance
names its own in a file of the same shape and points LOTSE_PROGRAMMES_FILE to it. A file is
checked when it is read; a mistake is one error naming the file and the key:

    programmes:
      sprachfoerderung-land:                      # the id a cost names (--programme)
        title: {de: Landesprogramm Sprachförderung, en: State programme for language courses}
        rules: Bis zu 80 % der Kursgebühren ...   # what it pays for, in words
        source: https://...                       # where the rules are published
        categories: [language_course]             # optional: the only categories it funds
        from: 2025-01-01                          # optional: first day a cost may fall on
        until: 2027-12-31                         # optional: last day
        example: true                             # shipped as an example, not a real programme

Only `categories`, `from` and `until` are checked on a cost; the rules text is for people.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

import lotse.config
from lotse.states.costs import CATEGORIES
from lotse.states.errors import BadInput, DefinitionError
from lotse.states.titles import Title
from lotse.states.yaml_errors import reported_as

SHIPPED = Path(lotse.config.__file__).parent / "programmes.yaml"
ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
MAX_BYTES = 1_000_000


class Programme(BaseModel):
    """One funding programme."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    id: str = ""
    title: Title
    rules: str = Field(min_length=1, max_length=4000)
    source: str = Field(min_length=1, max_length=500)
    categories: list[str] | None = None
    valid_from: dt.date | None = Field(None, alias="from")
    valid_until: dt.date | None = Field(None, alias="until")
    example: bool = False

    @field_validator("categories")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("lists no category; leave `categories` out to fund every category")
        for category in value:
            if category not in CATEGORIES:
                raise ValueError(f"unknown category '{category}'; categories: {', '.join(CATEGORIES)}")
        return value

    @model_validator(mode="after")
    def _in_order(self) -> Programme:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("`until` is before `from`")
        return self

    def title_in(self, locale: str) -> str:
        return self.title.in_(locale)

    def refusal(self, category: str, day: dt.date) -> str | None:
        """Why a cost of `category` on `day` cannot be charged to this programme, or None."""
        if self.categories is not None and category not in self.categories:
            return (f"programme '{self.id}' funds {', '.join(self.categories)} only, not {category} "
                    f"(its rules: {self.source})")
        if self.valid_from and day < self.valid_from:
            return (f"programme '{self.id}' funds costs from {self.valid_from.isoformat()} on, "
                    f"not {day.isoformat()}")
        if self.valid_until and day > self.valid_until:
            return (f"programme '{self.id}' funds costs until {self.valid_until.isoformat()}, "
                    f"not {day.isoformat()}")
        return None


def load(path: Path | None) -> dict[str, Programme]:
    """The programmes of `path` (LOTSE_PROGRAMMES_FILE), or the shipped examples when None."""
    file = path or SHIPPED
    name = str(file)
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise DefinitionError(name, "", "is larger than 1 MB; a list of programmes is a few kB")
        with reported_as(name):
            data = yaml.safe_load(raw.decode("utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{name}: no such file (LOTSE_PROGRAMMES_FILE); point it to the alliance's "
                       f"programmes, shaped like {SHIPPED}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(name, "", f"cannot be read: {exc}") from None
    return _programmes(data, name)


def _programmes(data: Any, file: str) -> dict[str, Programme]:
    if not isinstance(data, dict) or set(data) != {"programmes"}:
        raise DefinitionError(file, "", "must be a mapping with one key, `programmes`, mapping each "
                              "programme's id to its title, rules and source")
    entries = data["programmes"] or {}
    if not isinstance(entries, dict):
        raise DefinitionError(file, "programmes",
                              "must map each programme's id to its title, rules and source")
    found = {}
    for key, entry in entries.items():
        pid = str(key)
        if not re.fullmatch(ID, pid):
            raise DefinitionError(file, f"programmes.{pid[:65]}", "an id is lower case letters, digits, "
                                  "'-', '_' or '.', at most 64 characters")
        if not isinstance(entry, dict):
            raise DefinitionError(file, f"programmes.{pid}", "must be a mapping with title, rules and source")
        try:
            found[pid] = Programme.model_validate({**entry, "id": pid})
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(["programmes", pid, *(str(p) for p in error["loc"])])
            raise DefinitionError(file, where, error["msg"].removeprefix("Value error, ")) from None
    return found
