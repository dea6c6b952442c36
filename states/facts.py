"""Typed facts of a case: their kinds, and how a value is parsed, stored and compared.

A value arrives as text (command line, CSV) or as a YAML/JSON scalar; it is stored as JSON
(ISO dates, CEFR and country codes as strings) and compared in its own order.

Dates are read as ISO (2027-03-01) or as German offices write them (01.03.2027, 1.3.2027), and
only between 1900 and 2199: a birth date before is a typo, and a date near year 9999 would
overflow the moment a deadline is counted from it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from lotse.states.errors import BadFactValue

CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
KINDS = ("date", "int", "str", "bool", "cefr", "country", "enum")
ORDERED_KINDS = ("date", "int", "cefr")
_TRUE = {"true", "yes", "ja", "1", "y"}
_FALSE = {"false", "no", "nein", "0", "n"}
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
_GERMAN_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")


def parse_value(kind: str, raw: Any, values: list[str] | None = None, *, name: str = "") -> Any:
    """Turn text or a scalar into the fact's value; raise `BadFactValue` saying what fits."""
    try:
        return _PARSERS[kind](raw, values)
    except (ValueError, TypeError, LookupError) as exc:
        # the message may reach Prefect: the fact and the rule, never the value
        raise BadFactValue(f"{name or 'value'}: not {expected(kind, values)}") from exc


def expected(kind: str, values: list[str] | None = None) -> str:
    """What a value of this kind looks like, for a message that must not repeat the bad value."""
    return f"one of {', '.join(values or [])}" if kind == "enum" else _HINTS[kind]


def to_json(kind: str, value: Any) -> Any:
    """The stored form of a parsed value."""
    return value.isoformat() if kind == "date" else value


def from_json(kind: str, stored: Any) -> Any:
    """The parsed value of a stored form."""
    if kind == "date" and isinstance(stored, str):
        return dt.date.fromisoformat(stored)
    return stored


def display(value: Any) -> str:
    """A value as a person reads it: ISO dates, codes as they are."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def sort_key(kind: str, value: Any) -> Any:
    """A key that orders values of an ordered kind (CEFR: A1 < A2 < ... < C2)."""
    return CEFR_LEVELS.index(value) if kind == "cefr" else value


def parse_date(raw: Any) -> dt.date:
    """A date from ISO or German text (or a date a spreadsheet holds); ValueError outside 1900-2199."""
    if isinstance(raw, dt.datetime):
        day = raw.date()
    elif isinstance(raw, dt.date):
        day = raw
    else:
        text = str(raw).strip()
        german = _GERMAN_DATE.fullmatch(text)
        if german:
            day = dt.date(int(german.group(3)), int(german.group(2)), int(german.group(1)))
        else:
            day = dt.date.fromisoformat(text)
    if not EARLIEST <= day <= LATEST:
        raise ValueError("out of range")
    return day


def _parse_date(raw: Any, _: list[str] | None) -> dt.date:
    return parse_date(raw)


def _parse_int(raw: Any, _: list[str] | None) -> int:
    if isinstance(raw, bool):
        raise TypeError("bool is not int")
    if isinstance(raw, float) and not raw.is_integer():
        raise ValueError("not a whole number")
    return int(str(raw).strip()) if not isinstance(raw, (int, float)) else int(raw)


def _parse_str(raw: Any, _: list[str] | None) -> str:
    if raw is None or isinstance(raw, (dict, list)):
        raise TypeError("not text")
    text = str(raw).strip()
    if not text:
        raise ValueError("empty")
    return text


def _parse_bool(raw: Any, _: list[str] | None) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(word)


def _parse_cefr(raw: Any, _: list[str] | None) -> str:
    level = str(raw).strip().upper()
    if level not in CEFR_LEVELS:
        raise ValueError(level)
    return level


def _parse_country(raw: Any, _: list[str] | None) -> str:
    import pycountry  # its tables load on first use; a command that reads no country never needs them

    code = str(raw).strip().upper()
    if len(code) != 3 or pycountry.countries.get(alpha_3=code) is None:
        raise LookupError(code)
    return code


def _parse_enum(raw: Any, values: list[str] | None) -> str:
    word = str(raw).strip()
    if word not in (values or []):
        raise ValueError(word)
    return word


_PARSERS = {
    "date": _parse_date,
    "int": _parse_int,
    "str": _parse_str,
    "bool": _parse_bool,
    "cefr": _parse_cefr,
    "country": _parse_country,
    "enum": _parse_enum,
}
_HINTS = {
    "date": f"a date between {EARLIEST} and {LATEST} (YYYY-MM-DD or DD.MM.YYYY)",
    "int": "a whole number",
    "str": "non-empty text",
    "bool": "true or false",
    "cefr": "a CEFR level A1, A2, B1, B2, C1 or C2",
    "country": "an ISO 3166 alpha-3 code like PHL",
}
