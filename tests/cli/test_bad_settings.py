"""A bad LOTSE_* value is bad input: one `error:` line naming the setting, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_lotse


@pytest.mark.parametrize("command", [["check", "--dry-run"], ["up", "--port", "1"], ["process", "list"]])
def test_an_unknown_time_zone_is_named_in_one_error_line(home: Path, command: list[str]) -> None:
    assert run_lotse(home, "init").returncode == 0

    done = run_lotse(home, *command, env={"LOTSE_TIMEZONE": "Europe/Atlantis"})

    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: setting LOTSE_TIMEZONE: 'Europe/Atlantis' is not a time zone like Europe/Berlin"]


@pytest.mark.parametrize("address", ["lotse.allianz.example", "javascript:alert(1)",
                                     "https://lotse.example/a)[x](https://evil.example"])
def test_a_public_url_that_is_no_web_address_is_named_in_one_error_line(home: Path, address: str) -> None:
    assert run_lotse(home, "init").returncode == 0

    done = run_lotse(home, "case", "list", env={"LOTSE_PUBLIC_URL": address})

    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: setting LOTSE_PUBLIC_URL: '{address}' is not a web address like https://lotse.allianz.example"]
