"""The retention of a process definition: `retention: 3 years after closed`."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest

from lotse.config.settings import PACKAGED_PROCESS_DIR
from lotse.states.process import Catalog
from lotse.states.retention import Retention
from tests.states.test_process_definitions import VALID, broken, load_file, write


def test_a_retention_loads_and_says_when_a_closed_case_is_erased(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID) | {"retention": "3 years after closed"}
    process = load_file(write(tmp_path, data))
    assert process.retention is not None and str(process.retention) == "3 years after closed"
    assert process.retention.erase_on(dt.date(2024, 2, 29)) == dt.date(2027, 2, 28)


def test_a_definition_without_retention_keeps_its_cases(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, VALID)).retention is None


@pytest.mark.parametrize(
    "text", ["3 years", "3 years after opened", "soon after closed", "0 days after closed"])
def test_a_bad_retention_is_named_with_its_key(tmp_path: Path, text: str) -> None:
    error = broken(tmp_path, lambda d: d.update(retention=text))
    assert error.path.startswith("retention") and "after closed" in error.problem


def test_every_shipped_process_has_a_retention() -> None:
    for process in Catalog.load([PACKAGED_PROCESS_DIR]).latest():
        assert process.retention == Retention.model_validate("3 years after closed"), process.key
