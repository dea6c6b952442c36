"""How long a value may be, checked where input enters, before the database sees it.

SQLite stores a string of any length in a `VARCHAR(200)`; PostgreSQL refuses it, and then only at
the commit. So the widths of the columns (states/records.py) are checked here, the same on every
database, and a value too long is bad input naming the field and its limit, never the value.
"""

from __future__ import annotations

from lotse.states.errors import BadInput

NAME = 200  # a person's given or family name, an actor's name (`cases`, `actors`)
ID = 64  # an actor's id, a region, a process, stage, item or fact name
EMAIL = 320  # an e-mail address (RFC 5321: 64 + 1 + 255)
NOTE = 2000  # a note on a change: a sentence or two, not a document
REQUEST_ID = 100  # a request id (`history.request_id`)
INT32 = 2**31 - 1  # the largest number an INTEGER column keeps on PostgreSQL


def check_length(field: str, value: str, limit: int) -> str:
    """`value` if it is at most `limit` characters long; else bad input naming `field`."""
    if len(value) > limit:
        raise BadInput(f"{field} is {len(value):,} characters long; at most {limit} are kept")
    return value


def check_number(field: str, value: int, *, low: int = 0, high: int = INT32) -> int:
    """`value` if it lies between `low` and `high`; else bad input naming `field`."""
    if not low <= value <= high:
        raise BadInput(f"{field} must be between {low} and {high:,}")
    return value
