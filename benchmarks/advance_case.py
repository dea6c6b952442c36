"""Benchmark: a click on "Run" answered. From creating an `advance-case` run through the API (as the
Prefect UI does) to the case row having changed, beside an empty flow on the same executor, in one
run: the runner of `lotse up`, then a Prefect process worker. Goal: median at most 2 s on a quiet
machine.

A local Prefect server on a free port, a fresh Lotse database with cases ready to move; first a
runner in this process serving `advance-case` (built exactly as `lotse up` builds it, polling every
LOTSE_POLL_SECONDS) and an empty flow, then the same two registered to a work pool as
`lotse deploy --pool` does, run by `prefect worker start` polling as often. Runs are created one at
a time, alternating. Printed per executor: the medians, the CPU time of the flow-run processes of
each kind, the ratio, and the idle load of polling (CPU while nothing runs).
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RUNS = 12
WARMUP = 2
GOAL_S = 2.0
IDLE_S = 20.0
EMPTY_FLOW = '''
from prefect import flow


@flow(name="empty")
def empty(case_ref: str, event: str, actor: str) -> None:
    return None
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(home: Path, count: int) -> list[str]:
    from recruited import ready_for_visa

    from lotse.config.settings import Settings
    from lotse.states import schema
    from lotse.tasks import directory
    from lotse.tasks.context import Context

    ctx = Context.from_settings(Settings(home=home), check_schema=False)
    schema.upgrade(ctx.db.engine)
    directory.add_actor(ctx, "koord", name="Koordination", roles=["coordinator"])
    directory.add_actor(ctx, "klinik", name="Klinik", roles=["employer"], region="SE-Nord")
    refs = ready_for_visa(ctx, count)
    ctx.db.dispose()
    return refs


def version(db: Path, ref: str) -> int:
    import sqlite3

    with sqlite3.connect(db) as connection:
        return int(connection.execute("SELECT version FROM cases WHERE ref = ?", (ref,)).fetchone()[0])


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of a running process (user + system), from /proc; with `children`, also of the
    children it has reaped."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure_runner(refs: list[str], db: Path, server_pid: int, poll: float) -> dict[str, Any]:
    """The runner of `lotse up`: advance-case built as `lotse up` builds it, and the empty flow."""
    from prefect import get_client
    from prefect.runner import Runner

    from lotse.config.settings import Settings
    from lotse.flows import deployments
    from lotse.tasks.context import Context

    ctx = Context.from_settings(Settings())
    built = await asyncio.to_thread(deployments.build, ctx)  # sync Prefect calls: outside the loop
    [advance] = [d for d in built.built if d.name == "advance-case"]
    from bench_empty import empty  # written into the temporary folder on PYTHONPATH

    runner = Runner(name="benchmark", query_seconds=poll)
    await runner.aadd_deployment(advance)
    await runner.aadd_deployment(await empty.ato_deployment(name="empty"))
    serving = asyncio.ensure_future(runner.start())
    while not runner.started:
        await asyncio.sleep(0.05)
    async with get_client() as client:
        await asyncio.sleep(poll * 2)  # let the runner's first polls pass: measure steady state
        idle = await _idle_load({"server": lambda: process_cpu(server_pid), "runner": self_cpu}, IDLE_S)
        result = await _series(client, refs, db, children_cpu)
    await runner.astop()
    serving.cancel()
    return {**result, "idle": idle}


def measure_worker(refs: list[str], db: Path, server_pid: int, poll: float, tmp: Path) -> dict[str, Any]:
    """A Prefect worker of a process pool, as `lotse deploy --pool` and the runbook set it up."""
    import subprocess

    from prefect.deployments.runner import EntrypointType

    from lotse.config.settings import Settings
    from lotse.flows import work_pool

    work_pool.deploy(Settings(), pool="benchmark", say=lambda _line: None)
    from bench_empty import empty

    # The floor starts the way `lotse deploy` makes Lotse's flows start.
    floor = empty.to_deployment(name="empty", entrypoint_type=EntrypointType.MODULE_PATH,
                                job_variables={"command": work_pool.engine_command()})
    floor.apply(work_pool_name="benchmark")
    env = {**os.environ, "PREFECT_WORKER_QUERY_SECONDS": f"{poll:g}", "PREFECT_HOME": str(tmp / "worker")}
    with (tmp / "worker.log").open("wb") as log:
        worker = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "worker", "start",
                                   "--pool", "benchmark"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        async def series() -> dict[str, Any]:
            from prefect import get_client

            async with get_client() as client:
                idle = await _idle_load({"server": lambda: process_cpu(server_pid),
                                         "worker": lambda: process_cpu(worker.pid)}, IDLE_S)
                return {**await _series(client, refs, db, lambda: process_cpu(worker.pid, children=True)),
                        "idle": idle}

        return asyncio.run(series())
    finally:
        worker.terminate()
        worker.wait(timeout=30)


async def _series(client: Any, refs: list[str], db: Path, cpu_of: Any) -> dict[str, Any]:
    """Alternating runs of the empty flow and advance-case, one at a time, on the same executor."""
    ids = {name: (await client.read_deployment_by_name(f"{flow}/{name}")).id
           for flow, name in (("advance-case", "advance-case"), ("empty", "empty"))}
    times: dict[str, list[float]] = {"empty": [], "advance_changed": [], "advance_completed": []}
    cpu = {"empty": 0.0, "advance": 0.0}
    for index, ref in enumerate(refs):
        parameters = {"case_ref": ref, "event": "apply_visa", "actor": "klinik"}
        took, spent = await _one(client, ids["empty"], parameters, cpu_of)
        if index >= WARMUP:
            times["empty"].append(took["completed"])
            cpu["empty"] += spent
        took, spent = await _one(client, ids["advance-case"], parameters, cpu_of,
                                 changed=lambda ref=ref: version(db, ref) > 0)
        if index >= WARMUP:
            times["advance_changed"].append(took["changed"])
            times["advance_completed"].append(took["completed"])
            cpu["advance"] += spent
    return {"times": times, "cpu": cpu, "runs": len(refs) - WARMUP}


async def _one(client: Any, deployment_id: Any, parameters: dict[str, Any], cpu_of: Any,
               changed: Any = None) -> tuple[dict[str, float], float]:
    """Create one run as the UI does; time until `changed()` holds and until the run completed;
    the CPU time of its flow-run process (counted once its parent has reaped it)."""
    before = cpu_of()
    started = time.perf_counter()
    run = await client.create_flow_run_from_deployment(deployment_id, parameters=parameters)
    took: dict[str, float] = {}
    deadline = started + 120
    while "completed" not in took:
        now = time.perf_counter()
        assert now < deadline, f"run {run.id} did not complete within 120 s"
        if changed is not None and "changed" not in took and await asyncio.to_thread(changed):
            took["changed"] = now - started
        state = (await client.read_flow_run(run.id)).state
        if state is not None and state.is_final():
            assert state.is_completed(), f"run {run.id} ended {state.name}: {state.message}"
            took["completed"] = time.perf_counter() - started
        await asyncio.sleep(0.02)
    if changed is not None and "changed" not in took:
        took["changed"] = took["completed"]
    while cpu_of() - before < 0.2 and time.perf_counter() < deadline:  # until it is reaped
        await asyncio.sleep(0.02)
    return took, cpu_of() - before


async def _idle_load(meters: dict[str, Any], seconds: float) -> dict[str, float]:
    """CPU seconds each process spends while nothing runs: the cost of polling."""
    before = {name: meter() for name, meter in meters.items()}
    await asyncio.sleep(seconds)  # a load reading over a window, not a wait for an outcome
    return {"seconds": seconds, **{name: meter() - before[name] for name, meter in meters.items()}}


def report(results: dict[str, dict[str, Any]], poll: float) -> int:
    met = True
    for where, result in results.items():
        times, cpu, idle, runs = result["times"], result["cpu"], result["idle"], result["runs"]
        median = {name: statistics.median(values) for name, values in times.items()}
        print(f"A click answered on {where}: {runs} runs of each, created through the API, polling "
              f"every {poll:g} s")
        print(f"  {'':<42}{'median':>8}{'max':>8}{'CPU/run':>10}")
        rows = [("empty flow: created -> completed (floor)", "empty", cpu["empty"]),
                ("advance-case: created -> case changed", "advance_changed", cpu["advance"]),
                ("advance-case: created -> completed", "advance_completed", None)]
        for label, name, spent in rows:
            per_run = f"{spent / runs:8.2f} s" if spent is not None else ""
            print(f"  {label:<42}{median[name]:7.2f}s{max(times[name]):7.2f}s{per_run:>10}")
        ratio = median["advance_changed"] / median["empty"]
        cpu_ratio = cpu["advance"] / cpu["empty"] if cpu["empty"] else float("nan")
        print(f"  ratio case changed / empty flow completed: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU")
        spent_idle = {k: v for k, v in idle.items() if k != "seconds"}
        share = sum(spent_idle.values()) / idle["seconds"]
        parts = " + ".join(f"{name} {value:.2f} s" for name, value in spent_idle.items())
        print(f"  idle load of polling every {poll:g} s: {parts} CPU in {idle['seconds']:.0f} s "
              f"({share:.1%} of one core)")
        ok = median["advance_changed"] <= GOAL_S
        met = met and ok
        print(f"  goal: case changed within {GOAL_S:g} s (median) -> {'ok' if ok else 'MISSED'}")
    return 0 if met else 1


def main() -> int:
    from lotse.config.settings import Settings

    poll = Settings().poll_seconds
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "lotse"
        (Path(tmp) / "bench_empty.py").write_text(EMPTY_FLOW, encoding="utf-8")
        sys.path.insert(0, tmp)
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [tmp, os.environ.get("PYTHONPATH")]))
        os.environ["LOTSE_HOME"] = str(home)
        refs = prepare(home, 2 * (RUNS + WARMUP))
        from lotse.flows.server import LocalServer

        server = LocalServer(free_port(), Path(tmp) / "prefect")
        server.start()
        try:
            server.wait_healthy()
            os.environ["PREFECT_API_URL"] = server.api
            from lotse.flows.cli.prefect_console import quiet

            quiet()
            assert server.process is not None
            pid, db, half = server.process.pid, home / "lotse.db", RUNS + WARMUP
            results = {"the runner of lotse up": asyncio.run(measure_runner(refs[:half], db, pid, poll)),
                       "a process worker": measure_worker(refs[half:], db, pid, poll, Path(tmp))}
            from prefect.logging.handlers import APILogWorker

            APILogWorker.drain_all(timeout=5)  # send the last logs while the server still runs
        finally:
            server.stop()
    return report(results, poll)


if __name__ == "__main__":
    sys.exit(main())
