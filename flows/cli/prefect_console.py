"""Commands that run a flow in this process print their own lines: Prefect's console log (which
shows a traceback for a refused change) is turned down to critical messages."""

from __future__ import annotations

import logging


def quiet() -> None:
    from prefect.logging.handlers import PrefectConsoleHandler

    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs", ""):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, PrefectConsoleHandler):
                handler.setLevel(logging.CRITICAL)
