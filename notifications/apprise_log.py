"""What Apprise said: its log lines, caught around a call, become the error text of a message.

Apprise reports a failed send or a bad configuration line only through its logger. Lotse keeps
those lines (warnings, errors, and the socket exceptions Apprise logs one level lower) on the
outbox row or in the route report, and keeps them off the console, where a payload could leak.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

LOGGER = "apprise"
_MAX = 600


class Heard(logging.Handler):
    """The lines worth keeping from one call."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage().strip()
        # Socket exceptions say why (refused, timed out, unknown host); Apprise logs them as DEBUG.
        if record.levelno >= logging.WARNING or text.startswith(("Socket Exception", "Exception")):
            self.lines.append(" ".join(text.split()))

    def text(self, hide: Callable[[str], str] = str) -> str:
        """The lines in one text, shortened; `hide` masks secrets first, so that shortening
        never leaves half a secret."""
        joined = hide("; ".join(dict.fromkeys(self.lines)))
        return joined if len(joined) <= _MAX else joined[: _MAX - 3] + "..."


@contextmanager
def listening() -> Iterator[Heard]:
    """Catch Apprise's log lines for the duration of the block."""
    logger = logging.getLogger(LOGGER)
    heard = Heard()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(heard)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield heard
    finally:
        logger.removeHandler(heard)
        logger.setLevel(level)
        logger.propagate = propagate
