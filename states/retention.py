"""How long a closed case is kept before its personal data is erased (Art. 5(1)(e), 17 GDPR).

A process definition says `retention: 3 years after closed`: a case in a final stage is erased
once the span has passed since it entered that stage. Only "after closed" is an anchor: an open
case is still needed for its purpose.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, model_validator

from lotse.states.durations import Duration

ANCHOR = "closed"
_PATTERN = re.compile(r"^\s*(.+?)\s+after\s+([a-z]+)\s*$")


class Retention(BaseModel, frozen=True, defer_build=True):
    keep: Duration
    after: str = ANCHOR

    @model_validator(mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        match = _PATTERN.match(value.lower())
        wrong = f"'{value}' is not a retention like '3 years after closed'"
        if not match or match.group(2) != ANCHOR:
            raise ValueError(wrong)
        try:
            keep = Duration.parse(match.group(1))
        except ValueError:
            raise ValueError(wrong) from None
        if keep.amount < 1:
            raise ValueError(f"{wrong}: it is at least one day")
        return {"keep": keep, "after": ANCHOR}

    def erase_on(self, closed: dt.date) -> dt.date:
        """The first day on which a case closed on `closed` is past its retention."""
        return self.keep.after(closed)

    def __str__(self) -> str:
        return f"{self.keep} after {self.after}"
