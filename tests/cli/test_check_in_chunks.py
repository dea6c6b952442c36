"""`lotse check --json` when the real run queues in chunks of one row: the same document as the dry
run of the same day (the one read the dry run makes), each reminder queued once."""

from __future__ import annotations

import json

import pytest

from lotse.tasks import deadlines
from lotse.tasks.context import Context
from tests.cli.conftest import Lotse
from tests.cli.test_check import KEYS, arrived, outbox
from tests.conftest import Clock


def test_check_json_in_chunks_is_the_document_of_the_dry_run(
    alliance: Context, clock: Clock, lotse: Lotse, monkeypatch: pytest.MonkeyPatch,
) -> None:
    arrived(alliance, clock)
    before = outbox(alliance)
    dry = lotse("check", "--as-of", "2026-04-16", "--dry-run", "--json")
    monkeypatch.setattr(deadlines, "CHECK_CHUNK", 1)

    real = lotse("check", "--as-of", "2026-04-16", "--json")
    queued = outbox(alliance)
    again = lotse("check", "--as-of", "2026-04-16", "--json")

    assert dry.code == real.code == again.code == 0, real.err
    assert real.out == dry.out  # byte for byte: the list, its indentation, the order
    rows = json.loads(real.out)
    assert len(rows) >= 2 and all(set(r) == KEYS and r["reminded"] for r in rows)
    assert queued - before == len(rows) and outbox(alliance) == queued
    assert json.loads(again.out) == [{**r, "reminded": False} for r in rows]
