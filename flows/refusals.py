"""Refusals by the rules end a flow run as a failed state named `Refused` with the one-line
reason: an answer, not a crash. No traceback in the run's logs, nothing to retry."""

from __future__ import annotations

import logging

from prefect.states import Failed, State

from lotse.states.errors import LotseError, NotReady


def refused(error: LotseError) -> State:
    """The state a flow returns for a refusal; called as a function, the flow raises `error`."""
    return Failed(name="Refused", message=str(error), data=error)


class _Refusal(logging.Filter):
    """Drops the engine's "exited with unexpected exception" record when the exception is the
    refusal this flow returned: Prefect raises a failed run's result once more after the run has
    ended (in a deployment's process), and would log it with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, LotseError) or isinstance(error, NotReady)


def refusals_are_no_crash() -> None:
    """Install the filter on Prefect's engine loggers (once per process)."""
    for name in ("prefect.flow_runs", "prefect.engine"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Refusal) for f in logger.filters):
            logger.addFilter(_Refusal())
