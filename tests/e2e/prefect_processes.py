"""Prefect's own processes as real subprocesses for the scale-path tests: a `prefect server start`
(on SQLite or PostgreSQL), `prefect worker start` and `lotse up --no-server`, each in a process
group of its own with its own log file, stopped without leaving a process behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.e2e.conftest import alive, children, free_port

PYTHON = sys.executable
PREFECT = [PYTHON, "-m", "prefect"]
LOTSE = [PYTHON, "-m", "lotse.flows.cli"]


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any LOTSE_* or PREFECT_* setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_"))}
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env.update(settings)
    return env


@dataclass
class Background:
    """A subprocess in its own process group, writing to `log`."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    descendants: set[int] = field(default_factory=set)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def errors(self) -> list[str]:
        """The log's lines that report an error or start a traceback."""
        return [line for line in self.text().splitlines() if "ERROR" in line or "Traceback" in line]

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no '{text}' (exit {self.process.poll()}):\n{self.text()}")
            time.sleep(0.2)

    def stop(self, grace: float = 30, *, group: bool = True) -> int:
        """SIGTERM to the whole group (or, as Ctrl-C's stand-in, to the leader alone, which then
        stops its own children), SIGKILL to the group after `grace` s; nothing below is left."""
        self.descendants |= children(self.process.pid)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if group:
                    os.killpg(self.process.pid, signal.SIGTERM)
                else:
                    self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while (left := [pid for pid in self.descendants if alive(pid)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in left:  # outside the group (none expected): still never left running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert not left, f"{self.name} left processes {left} running"
        return self.process.returncode


def start(name: str, command: list[str], env: dict[str, str], log: Path) -> Background:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=True)
    return Background(name, process, log)


@dataclass
class PrefectServer:
    background: Background
    port: int

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"


def prefect_server(home: Path, *, database_url: str | None = None, timeout: float = 120,
                   **settings: str) -> PrefectServer:
    """`prefect server start` on a free port with its own PREFECT_HOME; on `database_url` (a
    `postgresql+asyncpg://` URL) or its embedded SQLite; answering when returned."""
    port = free_port()
    env = clean_environment(PREFECT_HOME=str(home), PREFECT_SERVER_API_HOST="127.0.0.1",
                            PREFECT_SERVER_API_PORT=str(port), **settings)
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    command = [*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--analytics-off"]
    server = PrefectServer(start("prefect server", command, env, home / "server.log"), port)
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.api}/health", timeout=2).status_code == 200:
                return server
        if server.background.process.poll() is not None or time.monotonic() > deadline:
            server.background.stop()
            raise AssertionError(f"the Prefect server did not answer:\n{server.background.text()}")
        time.sleep(0.25)


def worker(home: Path, name: str, pool: str, env: dict[str, str], *, limit: int = 10) -> Background:
    """`prefect worker start --pool POOL` with its own PREFECT_HOME, started when returned."""
    command = [*PREFECT, "worker", "start", "--pool", pool, "--name", name, "--limit", str(limit)]
    started = start(f"worker {name}", command, {**env, "PREFECT_HOME": str(home)}, home / "worker.log")
    started.wait_for(f"Worker '{name}' started!", timeout=90)
    return started


def lotse_up(tmp: Path, env: dict[str, str]) -> Background:
    """`lotse up --no-server` on the server of env's PREFECT_API_URL, ready when returned."""
    up = start("lotse up", [*LOTSE, "up", "--no-server"], env, tmp / "lotse-up.out")
    up.wait_for("Ctrl-C stops lotse up", timeout=120)
    return up
