"""What the benchmarks measure of a command: run in a fresh process, its wall time, its CPU time
(user + system, from the kernel's accounting of that child) and its peak resident memory (VmHWM,
which the child reads of itself as it exits: not ru_maxrss, which Linux carries over from the
forking parent, a big benchmark)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# Runs `lotse` (or, with -c, a floor script) and reports its own peak memory on stderr.
_WRAPPER = """
import re, sys
try:
    if sys.argv[1] == "-c":
        code, sys.argv = sys.argv[2], ["<floor>", *sys.argv[3:]]
        exec(compile(code, "<floor>", "exec"), {"__name__": "__main__"})
    else:
        from lotse.flows.cli import main
        sys.argv = ["lotse", *sys.argv[1:]]
        main()
finally:
    status = open("/proc/self/status").read()
    print("peak_kb=" + re.search(r"VmHWM:\\s+(\\d+)", status).group(1), file=sys.stderr)
"""


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # seconds, user + system
    peak_mb: float
    err: str  # its stderr, the peak line taken off

    def ratio(self, floor: Run) -> str:
        return f"{self.wall / floor.wall:5.2f}x wall, {self.cpu / floor.cpu:5.2f}x CPU"

    def line(self) -> str:
        return f"{self.wall:7.2f} s wall {self.cpu:7.2f} s CPU  peak {self.peak_mb:5.0f} MB"


def lotse(home: Path, *args: str, stdout: Path | None = None) -> Run:
    """The real command line on the database under `home`; its output to `stdout` (default: none)."""
    return _run([*args], home, stdout)


def floor(code: str, home: Path, *args: str) -> Run:
    """A floor: Python code run the same way (`sys.argv[1]` is the database's path, then `args`)."""
    return _run(["-c", code, str(home / "lotse.db"), *args], home, None)


def _run(args: list[str], home: Path, stdout: Path | None) -> Run:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_API_URL"))},
           "LOTSE_HOME": str(home)}
    if (home / "routes.yaml").exists():
        env["LOTSE_NOTIFY_CONFIG"] = str(home / "routes.yaml")
    out = stdout.open("w") if stdout is not None else subprocess.DEVNULL
    try:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", _WRAPPER, *args], stdout=out, stderr=subprocess.PIPE,
                                 text=True, env=env)
        assert child.stderr is not None
        err = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout is not None:
            out.close()  # type: ignore[union-attr]
    lines = err.strip().splitlines()
    if child.returncode != 0 or not lines or not lines[-1].startswith("peak_kb="):
        raise SystemExit(f"{' '.join(args[:3])} failed ({child.returncode}): {err.strip()[-500:]}")
    peak = int(lines[-1].removeprefix("peak_kb=")) / 1024
    return Run(wall, usage.ru_utime + usage.ru_stime, peak, "\n".join(lines[:-1]))
