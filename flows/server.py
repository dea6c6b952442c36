"""The servers `lotse up` runs in child processes: the local Prefect server (when no
`PREFECT_API_URL` is set) and the desk.

Each runs in a process group of its own (the Prefect server: `prefect server start`, embedded
SQLite under its `PREFECT_HOME`, bound to LOTSE_PREFECT_HOST: 127.0.0.1, or beyond loopback only
behind Prefect's basic auth), so that Ctrl-C reaches `lotse up` alone, which then stops the served
flows first, the desk next and the server last. On Linux each also dies with its parent, should
`lotse up` itself be killed: no stray server keeps a port.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from lotse.config import hosts
from lotse.states.errors import NotReady

HOST = hosts.LOOPBACK
_PR_SET_PDEATHSIG = 1
AUTH = "PREFECT_SERVER_API_AUTH_STRING"  # the server's basic auth, user:password
CLIENT_AUTH = "PREFECT_API_AUTH_STRING"  # what Prefect's clients send


def api_url(port: int, host: str = HOST) -> str:
    """The API of a server bound to `host`, as clients on this machine reach it."""
    return f"http://{hosts.for_clients(host)}:{port}/api"


def bind_refusal(host: str, environ: Mapping[str, str]) -> str | None:
    """Why the Prefect server must not bind to `host` (None: it may). Its open-source server has
    no users: beyond loopback, whoever reaches the port could start any run, so only behind its
    basic auth."""
    if hosts.is_loopback(host) or environ.get(AUTH):
        return None
    return (f"the Prefect server is not bound to {host} without its auth string: set {AUTH} "
            f"(Prefect's basic auth, user:password) and {CLIENT_AUTH} for the clients, or bind 127.0.0.1")


def ui_url(api: str) -> str:
    return api.removesuffix("/").removesuffix("/api")


def healthy(api: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"{api.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def port_taken(port: int, host: str = HOST) -> bool:
    """Does something answer on the port where a server bound to `host` would listen?"""
    address = hosts.WILDCARDS.get(host, host) if host else HOST
    try:
        with socket.create_connection((address, port), timeout=1.0):
            return True
    except OSError:
        return False


class Child:
    """A server in a child process: `start()`, `wait_healthy()` (its `/health` answers 200),
    `stop()`. Its output goes to `log`."""

    what = "server"  # for messages: "the <what> did not answer ..."

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """The address under which `/health` answers once the server serves."""
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=self.environment(), start_new_session=True, preexec_fn=_die_with_parent,
            )

    def wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise NotReady(f"the {self.what} stopped at start (exit {self.process.returncode}); "
                               f"see {self.log}: {self._tail()}")
            if healthy(self.base, timeout=1.0):
                return
            time.sleep(0.25)
        self.stop()
        raise NotReady(f"the {self.what} did not answer within {timeout:.0f} s; see {self.log}")

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM to the server's process group, SIGKILL to whatever is left after `grace` s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def _tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " / ".join(lines[-3:])


class LocalServer(Child):
    """A Prefect server in a child process, with its own `PREFECT_HOME`."""

    what = "Prefect server"

    def __init__(self, port: int, home: Path, host: str = HOST) -> None:
        super().__init__(home / "server.log")
        self.port = port
        self.home = home
        self.host = host

    @property
    def api(self) -> str:
        return api_url(self.port, self.host)

    @property
    def base(self) -> str:
        return self.api

    def command(self) -> list[str]:
        return [sys.executable, "-m", "prefect", "server", "start", "--host", self.host,
                "--port", str(self.port), "--analytics-off"]

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env["PREFECT_HOME"] = str(self.home)
        # The UI asks the API where these say, not where `--port` put it; a UI reached from other
        # machines needs the address they reach the API at, which only the operator knows.
        env.update(PREFECT_SERVER_API_HOST=self.host, PREFECT_SERVER_API_PORT=str(self.port))
        if not (env.get("PREFECT_UI_API_URL") or env.get("PREFECT_SERVER_UI_API_URL")):
            env["PREFECT_UI_API_URL"] = self.api
        return env

    def start(self) -> None:
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)  # its database keeps every run
        super().start()


class LocalDesk(Child):
    """The desk (`python -m lotse.desk`) in a child process, logging to LOTSE_HOME/desk.log; it
    reads the same LOTSE_* settings, and publishes overviews to the same PREFECT_API_URL."""

    what = "desk"

    def __init__(self, host: str, port: int, home: Path) -> None:
        super().__init__(home / "desk.log")
        self.host, self.port = host, port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base(self) -> str:
        return f"http://{HOST if self.host in ('0.0.0.0', '') else self.host}:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "lotse.desk", "--host", self.host, "--port", str(self.port)]


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
