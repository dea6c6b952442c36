"""Where the Prefect server of `lotse up` binds, and when it may leave loopback: no server is
started here."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lotse.config import hosts
from lotse.config.settings import Settings
from lotse.flows import server


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "localhost", "LOCALHOST"])
def test_loopback_addresses_stay_on_this_machine(host: str) -> None:
    assert hosts.is_loopback(hosts.check(host))
    assert server.bind_refusal(host, {}) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.10.4", "lotse.allianz.example", "localhost.evil"])
def test_every_other_address_leaves_it_and_is_refused_without_the_auth_string(host: str) -> None:
    assert not hosts.is_loopback(hosts.check(host))
    assert server.bind_refusal(host, {}) == (
        f"the Prefect server is not bound to {host} without its auth string: set "
        "PREFECT_SERVER_API_AUTH_STRING (Prefect's basic auth, user:password) and PREFECT_API_AUTH_STRING "
        "for the clients, or bind 127.0.0.1")
    assert server.bind_refusal(host, {"PREFECT_SERVER_API_AUTH_STRING": "admin:pass"}) is None


@pytest.mark.parametrize("host", ["", "not a host!", "http://0.0.0.0", "0.0.0.0:4200", "a..b", "-x"])
def test_a_host_that_is_no_address_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match="is not an IP address or host name"):
        hosts.check(host)


def test_clients_reach_a_wildcard_over_loopback_and_an_ipv6_address_in_brackets() -> None:
    assert server.api_url(4200) == "http://127.0.0.1:4200/api"
    assert server.api_url(4200, "0.0.0.0") == "http://127.0.0.1:4200/api"
    assert server.api_url(4200, "::") == "http://[::1]:4200/api"
    assert server.api_url(4200, "192.168.10.4") == "http://192.168.10.4:4200/api"


def test_the_setting_is_checked_and_defaults_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOTSE_PREFECT_HOST", raising=False)
    assert Settings(_env_file=None).prefect_host == "127.0.0.1"  # type: ignore[call-arg]
    monkeypatch.setenv("LOTSE_PREFECT_HOST", " 0.0.0.0 ")
    assert Settings(_env_file=None).prefect_host == "0.0.0.0"  # type: ignore[call-arg]
    monkeypatch.setenv("LOTSE_PREFECT_HOST", "not a host")
    with pytest.raises(ValidationError, match="is not an IP address or host name"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_the_server_binds_where_told_and_its_ui_keeps_an_address_the_operator_gave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PREFECT_UI_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_SERVER_UI_API_URL", raising=False)
    local = server.LocalServer(4321, tmp_path, "0.0.0.0")
    assert local.command()[local.command().index("--host") + 1] == "0.0.0.0"
    env = local.environment()
    assert (env["PREFECT_SERVER_API_HOST"], env["PREFECT_UI_API_URL"]) == ("0.0.0.0", "http://127.0.0.1:4321/api")
    monkeypatch.setenv("PREFECT_UI_API_URL", "https://prefect.allianz.example/api")
    assert local.environment()["PREFECT_UI_API_URL"] == "https://prefect.allianz.example/api"
