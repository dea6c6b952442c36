"""Fixtures of the flow tests: one real Prefect server for the whole session, started only when a
flow test asks for it (it takes about 10 s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def lotse_env(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Flows read their settings from the environment, as a served deployment does."""
    monkeypatch.setenv("LOTSE_HOME", str(home))
    monkeypatch.delenv("LOTSE_DATABASE_URL", raising=False)
    monkeypatch.delenv("LOTSE_LOCALE", raising=False)
