"""Benchmark: the read-only commands (`case list`, `case show`, `process list`, `actor list`) on the
demo database (goal: well under a second each, as a fresh process, the way a person or a script
runs them).

Creates the demo alliance (`lotse init --demo`) in a temporary folder, runs every command a few
times as a subprocess and prints the median and the slowest run. The floor beside it is the bare
interpreter importing the libraries every command needs (Typer, SQLModel, pydantic-settings): what
is left above it is Lotse's own work.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7
GOAL_S = 1.0
LOTSE = [sys.executable, "-m", "lotse.flows.cli"]
FLOOR = [sys.executable, "-c", "import typer, sqlmodel, pydantic_settings"]


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


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
    floor = statistics.median(timed(FLOOR, env) for _ in range(RUNS))
    print(f"demo database: {len(cases)} cases; {RUNS} runs per command; goal < {GOAL_S:.1f} s")
    print(f"{'floor (import typer, sqlmodel, pydantic_settings)':<52} median {floor:.3f} s")
    worst = 0.0
    for label, args in commands.items():
        runs = [timed([*LOTSE, *args], env) for _ in range(RUNS)]
        worst = max(worst, statistics.median(runs))
        print(f"lotse {label:<46} median {statistics.median(runs):.3f} s  max {max(runs):.3f} s")
    print(f"slowest median {worst:.3f} s: {'within' if worst < GOAL_S else 'OVER'} the goal")
    sys.exit(0 if worst < GOAL_S else 1)


if __name__ == "__main__":
    main()
