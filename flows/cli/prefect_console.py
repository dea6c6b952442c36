"""Commands that run a flow in this process (when PREFECT_API_URL is set) print their own lines:
they check the server answers first, and turn Prefect's console log (which shows a traceback for
a refused change) down to critical messages."""

from __future__ import annotations

import logging
import os

from lotse.states.errors import NotReady


def flow_run_ahead() -> None:
    """Refuse early when the server does not answer; quiet Prefect's console."""
    from lotse.flows.server import healthy

    api = os.environ.get("PREFECT_API_URL", "")
    if not healthy(api):
        raise NotReady(f"PREFECT_API_URL {api} does not answer; start `lotse up`, or unset it to run "
                       "without Prefect")
    quiet()


def quiet() -> None:
    from prefect.logging.handlers import PrefectConsoleHandler

    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs", ""):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, PrefectConsoleHandler):
                handler.setLevel(logging.CRITICAL)
