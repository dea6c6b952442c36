"""`lotse up` and the address of its Prefect server, through the real command line: beyond
loopback without Prefect's auth string is refused before anything starts."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from lotse.tasks.context import Context
from tests.conftest import run_lotse
from tests.notifications.conftest import free_port


def is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize(("args", "env"), [
    (["--host", "0.0.0.0"], {}),
    (["--host", "192.168.10.4"], {}),
    ([], {"LOTSE_PREFECT_HOST": "0.0.0.0"}),
])
def test_binding_beyond_loopback_without_the_auth_string_is_one_error_line_and_starts_nothing(
    ctx: Context, home: Path, args: list[str], env: dict[str, str],
) -> None:
    port = free_port()
    before = sorted(p.name for p in home.iterdir())

    result = run_lotse(home, "up", "--port", str(port), "--no-desk", *args,
                       env={"PREFECT_SERVER_API_AUTH_STRING": "", **env})

    assert result.returncode == 1, result.stdout + result.stderr
    host = args[1] if args else "0.0.0.0"
    assert result.stderr.splitlines() == [
        f"error: the Prefect server is not bound to {host} without its auth string: set "
        "PREFECT_SERVER_API_AUTH_STRING (Prefect's basic auth, user:password) and PREFECT_API_AUTH_STRING "
        "for the clients, or bind 127.0.0.1"]
    assert result.stdout == ""
    assert is_free(port)
    assert sorted(p.name for p in home.iterdir()) == before  # no lock, no Prefect home, no log


@pytest.mark.parametrize(("args", "env", "line"), [
    (["--host", "not a host!"], {}, "error: --host: 'not a host!' is not an IP address or host name"),
    ([], {"LOTSE_PREFECT_HOST": "0.0.0.0:4200"}, "error: setting LOTSE_PREFECT_HOST: '0.0.0.0:4200' is "
                                                 "not an IP address or host name"),
])
def test_a_host_that_is_no_address_is_one_error_line(
    ctx: Context, home: Path, args: list[str], env: dict[str, str], line: str,
) -> None:
    result = run_lotse(home, "up", "--no-desk", *args, env=env)

    assert result.returncode == 2
    [error] = result.stderr.splitlines()
    assert error.startswith(line)
