"""Benchmark: the read-only commands (`case list`, `case show`, `process list`, `actor list`) on the
demo database, as a fresh process, the way a person or a script runs them. Goal (issue 15): each
within 1.2x of the floor, the bare interpreter importing the libraries every command needs (Typer,
SQLModel, pydantic-settings): what is left above it is Lotse's own work.

Creates the demo alliance (`lotse init --demo`) in a temporary folder, runs the floor and every
command a few times as a subprocess, alternating, and prints the medians of wall and CPU time (the
child's user + system time), each beside the floor's, and the ratios. Run it after `make bytecode`
(`make benchmark` does): where PYTHONDONTWRITEBYTECODE is set, Python never writes the bytecode
of Lotse's own modules and would compile them at every start.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7
GOAL = 1.2  # times the floor
LOTSE = [sys.executable, "-m", "lotse.flows.cli"]
FLOOR = [sys.executable, "-c", "import typer, sqlmodel, pydantic_settings"]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of the command as a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="lotse-bench-read-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_API_URL"))}
    env["LOTSE_HOME"] = str(home)
    subprocess.run([*LOTSE, "init", "--demo"], env=env, check=True, capture_output=True)
    cases = json.loads(subprocess.run([*LOTSE, "case", "list", "--json"], env=env, check=True,
                                      capture_output=True, text=True).stdout)
    ref = cases[len(cases) // 2]["ref"]
    commands = {
        "case list": ["case", "list"],
        "case list --json": ["case", "list", "--json"],
        f"case show {ref}": ["case", "show", ref],
        f"case show {ref} --json": ["case", "show", ref, "--json"],
        "process list": ["process", "list"],
        "actor list": ["actor", "list"],
    }
    print(f"demo database: {len(cases)} cases; {RUNS} runs each, alternating with the floor; "
          f"goal <= {GOAL:.1f}x the floor")
    print(f"{'':<44} {'wall':>8} {'floor':>7} {'ratio':>6}   {'CPU':>6} {'floor':>7} {'ratio':>6}")
    worst = 0.0
    for label, args in commands.items():
        floor_runs, runs = [], []
        for _ in range(RUNS):
            floor_runs.append(timed(FLOOR, env))
            runs.append(timed([*LOTSE, *args], env))
        (wall, cpu), (floor_wall, floor_cpu) = medians(runs), medians(floor_runs)
        worst = max(worst, wall / floor_wall)
        print(f"lotse {label:<38} {wall:7.3f}s {floor_wall:6.3f}s {wall / floor_wall:5.2f}x   "
              f"{cpu:5.3f}s {floor_cpu:6.3f}s {cpu / floor_cpu:5.2f}x")
    print(f"floor: {' '.join(FLOOR[1:])}")
    print(f"worst wall ratio {worst:.2f}x: {'within' if worst <= GOAL else 'OVER'} the goal of {GOAL:.1f}x")

if __name__ == "__main__":
    main()
