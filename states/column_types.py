"""Column types of our own: moments stored as UTC, amounts stored as whole cents.

Apart from the tables (states/records.py) so that the tables' Core metadata, kept in the cache
(states/tables.py), loads without building them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A moment, stored and read back as UTC on every database.

    SQLite keeps no time zone: it would store an aware moment's wall time as it is and hand back
    a naive one. So a moment is turned into UTC before it is written and marked UTC when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Cents(TypeDecorator[Decimal]):
    """An amount in euros, a `Decimal` with two places, stored as whole cents (an integer).

    SQLite has no exact decimal type: SQLAlchemy's `Numeric` goes through a float there (and
    warns so), and sums in SQL would be sums of floats. Integer cents are exact on every
    database, and so are their sums. An amount with more than two places is refused, never
    rounded."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> int | None:
        if value is None:
            return None
        cents = Decimal(value) * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"an amount has at most two decimal places, not {value}")
        return int(cents)

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-2)
