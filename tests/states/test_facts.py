"""Typed facts: every kind parses what fits, refuses what does not, and round-trips through JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lotse.states import facts
from lotse.states.errors import BadFactValue, BadInput

GOOD = [
    ("date", "2027-03-01", dt.date(2027, 3, 1)),
    ("date", " 2027-03-01 ", dt.date(2027, 3, 1)),
    ("date", dt.date(2027, 3, 1), dt.date(2027, 3, 1)),
    ("date", dt.datetime(2027, 3, 1, 10, 30), dt.date(2027, 3, 1)),
    ("date", "01.03.2027", dt.date(2027, 3, 1)),  # as German offices write it
    ("date", " 1.3.2027 ", dt.date(2027, 3, 1)),
    ("date", "1900-01-01", dt.date(1900, 1, 1)),
    ("date", "31.12.2199", dt.date(2199, 12, 31)),
    ("int", "42", 42),
    ("int", 7, 7),
    ("int", 3.0, 3),
    ("str", "  moved away ", "moved away"),
    ("bool", "true", True),
    ("bool", "ja", True),
    ("bool", "No", False),
    ("bool", False, False),
    ("cefr", "b2", "B2"),
    ("cefr", "C1", "C1"),
    ("country", "phl", "PHL"),
    ("country", "TUN", "TUN"),
]
BAD = [
    ("date", "2027-02-30"),
    ("date", "30.02.2027"),
    ("date", "01.03.27"),  # which century?
    ("date", "03/01/2027"),
    ("date", "1.3.2027 10:00"),
    ("date", "١.٣.٢٠٢٧"),
    ("date", "9999-12-31"),  # would overflow when a deadline is counted from it
    ("date", "1899-12-31"),
    ("date", "01.01.2200"),
    ("date", dt.date(9999, 12, 31)),
    ("date", ""),
    ("int", "three"),
    ("int", "2.5"),
    ("int", 2.5),
    ("int", True),
    ("str", ""),
    ("str", "   "),
    ("str", None),
    ("bool", "maybe"),
    ("cefr", "B3"),
    ("cefr", "native"),
    ("country", "PH"),
    ("country", "XXX"),
    ("country", "Philippines"),
]


@pytest.mark.parametrize(("kind", "raw", "value"), GOOD)
def test_a_fitting_value_is_parsed_to_its_kind(kind: str, raw: Any, value: Any) -> None:
    parsed = facts.parse_value(kind, raw)
    assert parsed == value and type(parsed) is type(value)
    assert facts.from_json(kind, facts.to_json(kind, parsed)) == parsed


@pytest.mark.parametrize(("kind", "raw"), BAD)
def test_a_value_that_does_not_fit_is_bad_input_saying_what_fits(kind: str, raw: Any) -> None:
    with pytest.raises(BadFactValue) as refused:
        facts.parse_value(kind, raw, name="some_fact")
    assert isinstance(refused.value, BadInput) and refused.value.exit_code == 2
    message = str(refused.value)
    # may reach Prefect: the fact and the rule, never the value
    assert message == f"some_fact: not {facts.expected(kind)}"
    if kind == "date":
        assert message == "some_fact: not a date between 1900-01-01 and 2199-12-31 (YYYY-MM-DD or DD.MM.YYYY)"
    assert not isinstance(raw, str) or len(raw.strip()) < 3 or raw.strip() not in message


def test_an_enum_takes_only_its_values_and_names_them() -> None:
    values = ["full", "adaptation_course", "knowledge_exam"]
    assert facts.parse_value("enum", "knowledge_exam", values) == "knowledge_exam"
    with pytest.raises(BadFactValue, match="one of full, adaptation_course, knowledge_exam"):
        facts.parse_value("enum", "Full", values)


def test_dates_are_stored_as_iso_text() -> None:
    assert facts.to_json("date", dt.date(2027, 3, 1)) == "2027-03-01"
    assert facts.display(dt.date(2027, 3, 1)) == "2027-03-01"


def test_cefr_levels_sort_in_their_own_order_not_alphabetically() -> None:
    levels = ["C2", "A2", "B1", "C1", "A1", "B2"]
    assert sorted(levels, key=lambda v: facts.sort_key("cefr", v)) == list(facts.CEFR_LEVELS)
