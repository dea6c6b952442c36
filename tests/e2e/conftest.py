"""`lotse up` as a real subprocess: its own Prefect server on a free port, with a temporary
PREFECT_HOME and Lotse database. Started once for the end-to-end tests (it takes 10-20 s)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import run_lotse

LOTSE = [sys.executable, "-m", "lotse.flows.cli"]
READY = "Ctrl-C stops lotse up"
FINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS = Path(__file__).parents[2] / "docs"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(home: Path, prefect_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_"))}
    env.update({
        "LOTSE_HOME": str(home), "PREFECT_HOME": str(prefect_home),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",  # pick up a triggered run within a second
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    })
    return env


@dataclass
class Up:
    """A running `lotse up`, its output file, and the addresses it serves."""

    process: subprocess.Popen[bytes]
    home: Path
    port: int
    output: Path
    env: dict[str, str]
    descendants: set[int] = field(default_factory=set)
    desk_port: int = 0

    @property
    def desk(self) -> str:
        return f"http://127.0.0.1:{self.desk_port}"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def lotse(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_lotse(self.home, *args)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60) -> int:
        self.descendants |= children(self.process.pid)
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for pid in [self.process.pid, *self.descendants]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            raise


def start(
    tmp: Path, *, demo: bool = False, timeout: float = 150, env: dict[str, str] | None = None,
    desk_port: int | None = None,
) -> Up:
    home, prefect_home = tmp / "lotse-home", tmp / "prefect-home"
    made = run_lotse(home, "init", *(["--demo"] if demo else []))
    assert made.returncode == 0, made.stderr
    port, desk_port = free_port(), desk_port or free_port()
    output = tmp / "lotse-up.out"
    env = {**environment(home, prefect_home), **(env or {})}
    with output.open("wb") as out:
        up_args = ["up", "--port", str(port), "--desk-port", str(desk_port), *(["--demo"] if demo else [])]
        process = subprocess.Popen([*LOTSE, *up_args], stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env)
    up = Up(process, home, port, output, env, desk_port=desk_port)
    deadline = time.monotonic() + timeout
    while READY not in up.text():
        if process.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(Exception):
                up.stop(signal.SIGKILL, timeout=10)
            pytest.fail(f"lotse up did not get ready (exit {process.poll()}):\n{up.text()}")
        time.sleep(0.25)
    assert httpx.get(f"{up.api}/health", timeout=5).status_code == 200
    up.descendants = children(process.pid)
    if "pipeline-report run" in up.text():
        try:
            wait_until_reported(up.api)
        except BaseException:
            with contextlib.suppress(Exception):
                up.stop(signal.SIGKILL, timeout=10)
            raise
    return up


def wait_until_reported(api: str, timeout: float = 180) -> None:
    """Until the pipeline-report run `lotse up` starts (at once, or after the demo's runs) has
    ended: a test acting meanwhile would compete with its artifacts for the Prefect server's
    SQLite, and stopping `lotse up` would cut it off mid-run."""
    deadline = time.monotonic() + timeout
    while True:
        found = httpx.post(f"{api}/flow_runs/filter", timeout=10,
                           json={"flows": {"name": {"any_": ["pipeline-report"]}}}).json()
        runs = [run for run in found if not run["auto_scheduled"]]  # not the schedule's next days
        if runs and all(run["state_type"] in FINAL_STATES for run in runs):
            return
        assert time.monotonic() < deadline, f"the pipeline-report run has not ended: {runs}"
        time.sleep(0.5)


PREFECTS_OWN_LOCK = "sqlite3.OperationalError: database is locked"
LOGGED_AT = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \|")


def server_log_errors(up: Up) -> list[str]:
    """The lines of the Prefect server's log that report an error (its services log there only).

    Left out, and only this: Prefect's own SQLite refusing a state change with "database is
    locked" (its server upgrades a read transaction to a write, which SQLite refuses at once
    instead of waiting, when a pause and a resume meet). The proposal is refused, not lost, and
    the client proposes it again; Lotse cannot change it, and docs/operations.md puts Prefect on
    PostgreSQL for real use. Every other error still fails the run."""
    log = Path(up.env["PREFECT_HOME"]) / "server.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    errors: list[str] = []
    block: list[str] = []
    for line in [*lines, "00:00:00.0 | end"]:
        if LOGGED_AT.match(line) and block:  # a new entry: judge the one before, with its traceback
            if PREFECTS_OWN_LOCK not in "\n".join(block):
                errors += [b for b in block if "ERROR" in b or b.startswith("Traceback")]
            block = []
        block.append(line)
    return errors


def children(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """One `lotse up` over the demo alliance for the end-to-end tests; stopped with SIGTERM after."""
    up = start(tmp_path_factory.mktemp("served"), demo=True)
    yield up
    if up.process.poll() is None:
        code = up.stop()
        assert code == 0, up.text()
    assert not [pid for pid in up.descendants if alive(pid)], up.text()
    assert server_log_errors(up) == []


@contextlib.contextmanager
def prefect_at(api: str) -> Iterator[Any]:
    """The Prefect client settings pointed at one server (also inside the flow tests' harness)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api}):
        yield


def newest_artifact(api: str, key: str, timeout: float = 90) -> dict[str, Any]:
    """The newest artifact of a key, waiting for the run that makes it (a served run starts within
    a second or two, and needs a few more to import Lotse)."""
    from tests.flows.server_reads import artifacts

    deadline = time.monotonic() + timeout
    while not (found := artifacts(key, api)):
        assert time.monotonic() < deadline, f"no artifact '{key}' after {timeout:.0f} s"
        time.sleep(0.5)
    return found[0]


@contextlib.contextmanager
def chromium():  # type: ignore[no-untyped-def]
    """Headless Debian `chromium` (never a downloaded browser); skips the test where it is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed: apt-get update && apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser needed)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page():  # type: ignore[no-untyped-def]
    """A page in headless chromium, per test module."""
    with chromium() as browser:
        yield browser.new_page(viewport={"width": 1400, "height": 900})


def keep(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """A screenshot into the test's folder, and into docs/ with LOTSE_UPDATE_SCREENSHOTS=1."""
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    if os.environ.get("LOTSE_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copy(shot, DOCS / name)
