"""Spans of time in process definitions ("14 days", "10 weeks", "4 months") and date arithmetic.

Legal deadlines count calendar days, weeks and months (§§ 187-188 BGB); a month added to the 31st
ends on the last day of a shorter month. A span is at most ten years: no legal timer or retention
of the domain is longer, and a date plus a span stays far inside the calendar (no OverflowError).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from pydantic import BaseModel, model_validator

_UNITS = {"day": "days", "days": "days", "week": "weeks", "weeks": "weeks",
          "month": "months", "months": "months", "year": "years", "years": "years"}
_PATTERN = re.compile(r"^\s*(\d+)\s*([a-z]+)\s*$")
MAX_SPAN = {"days": 3653, "weeks": 522, "months": 120, "years": 10}  # ten years in each unit
LONGEST = "10 years (3653 days, 522 weeks, 120 months)"
_WORDS = {  # (one, many) per unit and language, for a reader
    "de": {"days": ("Tag", "Tage"), "weeks": ("Woche", "Wochen"), "months": ("Monat", "Monate"),
           "years": ("Jahr", "Jahre")},
    "en": {"days": ("day", "days"), "weeks": ("week", "weeks"), "months": ("month", "months"),
           "years": ("year", "years")},
}


class Duration(BaseModel, frozen=True, defer_build=True):
    amount: int
    unit: str  # days, weeks, months or years

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _PATTERN.match(str(text).lower())
        if not match or match.group(2) not in _UNITS:
            raise ValueError(f"'{text}' is not a span of time like '14 days', '10 weeks', '4 months'")
        amount, unit = match.group(1), _UNITS[match.group(2)]
        # Checked before int(): thousands of digits are slow to convert, then refused anyway.
        if len(amount) > 6 or int(amount) > MAX_SPAN[unit]:
            raise ValueError(f"'{amount} {unit}' is too long: a span of time is at most {LONGEST}"
                             if len(amount) <= 12 else f"a span of time is at most {LONGEST}")
        return cls(amount=int(amount), unit=unit)

    @model_validator(mode="after")
    def _bounded(self) -> Duration:
        if self.unit not in MAX_SPAN:
            raise ValueError(f"'{self.unit}' is not a unit; use days, weeks, months or years")
        if not 0 <= self.amount <= MAX_SPAN[self.unit]:
            raise ValueError(f"'{self}' is not a span of time from 0 days to {LONGEST}")
        return self

    def after(self, day: dt.date) -> dt.date:
        if self.unit == "days":
            return day + dt.timedelta(days=self.amount)
        if self.unit == "weeks":
            return day + dt.timedelta(weeks=self.amount)
        months = self.amount * (12 if self.unit == "years" else 1)
        return add_months(day, months)

    def before(self, day: dt.date) -> dt.date:
        if self.unit in ("days", "weeks"):
            return day - dt.timedelta(**{self.unit: self.amount})
        months = self.amount * (12 if self.unit == "years" else 1)
        return add_months(day, -months)

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"

    def in_(self, locale: str) -> str:
        """As a reader of `locale` writes it: "10 Wochen", "1 Monat" (de), "1 month" (en)."""
        one, many = _WORDS.get(locale, _WORDS["en"])[self.unit]
        return f"{self.amount} {one if self.amount == 1 else many}"


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))
