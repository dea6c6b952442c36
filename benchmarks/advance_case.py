"""Benchmark: wall time of an `advance-case` run against an empty flow on the same Prefect server,
in the same process (goal: at most 1.2x).

Starts a local Prefect server on a free port with a temporary PREFECT_HOME, a fresh Lotse database
with cases ready to move, then calls both flows directly (each call is a real flow run on that
server), alternating, and prints the median and mean per run and their ratio.
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

RUNS = 20
GOAL = 1.2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(home: Path) -> list[str]:
    from lotse.config.settings import Settings
    from lotse.states import schema
    from lotse.tasks import casework, directory
    from lotse.tasks.context import Context

    ctx = Context.from_settings(Settings(home=home), check_schema=False)
    schema.upgrade(ctx.db.engine)
    directory.add_actor(ctx, "koord", name="Koordination", roles=["coordinator"])
    directory.add_actor(ctx, "klinik", name="Klinik", roles=["employer"], region="SE-Nord")
    refs = []
    for n in range(RUNS + 2):
        ref = casework.open_case(ctx, given_name=f"Given{n}", family_name=f"Family{n}", nationality="PHL",
                                 employer="klinik")
        casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
        refs.append(ref)
    ctx.db.dispose()
    return refs


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "lotse"
        os.environ["LOTSE_HOME"] = str(home)
        refs = prepare(home)
        from lotse.flows.server import LocalServer

        server = LocalServer(free_port(), Path(tmp) / "prefect")
        server.start()
        try:
            server.wait_healthy()
            os.environ["PREFECT_API_URL"] = server.api
            return measure(refs)
        finally:
            server.stop()


def measure(refs: list[str]) -> int:
    from prefect import flow

    from lotse.flows.advance_case import advance_case
    from lotse.flows.cli.prefect_console import quiet

    @flow(name="empty")
    def empty(case_ref: str, event: str, actor: str) -> None:
        return None

    quiet()
    empty_times, advance_times = [], []
    for index, ref in enumerate(refs):
        started = time.perf_counter()
        empty(case_ref=ref, event="apply_visa", actor="klinik")
        middle = time.perf_counter()
        result = advance_case(case_ref=ref, event="apply_visa", actor="klinik")
        ended = time.perf_counter()
        assert result["to"] == "visa"
        if index >= 2:  # the first runs warm up imports and connections
            empty_times.append(middle - started)
            advance_times.append(ended - middle)
    ratio = statistics.median(advance_times) / statistics.median(empty_times)
    print(f"advance-case vs an empty flow, {RUNS} direct flow runs each on one local Prefect server:")
    for name, times in (("empty flow", empty_times), ("advance-case", advance_times)):
        print(f"  {name:<13} median {statistics.median(times) * 1000:7.1f} ms   "
              f"mean {statistics.mean(times) * 1000:7.1f} ms   max {max(times) * 1000:7.1f} ms")
    print(f"  ratio (medians): {ratio:.2f}x   goal: at most {GOAL}x -> {'ok' if ratio <= GOAL else 'MISSED'}")
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)  # send the last logs while the server still runs
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
