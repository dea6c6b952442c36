"""Dates as German offices write them (01.03.2027) are read everywhere a date is read, and every
date is bounded to 1900-2199 when it is read: `9999-12-31` is bad input, not a case stuck later on
an overflow. The refusal names the fact and the forms, never the value (it may reach Prefect)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_lotse
from tests.tables import dump

RULE = "not a date between 1900-01-01 and 2199-12-31 (YYYY-MM-DD or DD.MM.YYYY)"


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("dates") / "home"
    assert run_lotse(home, "init").returncode == 0
    for args in (["koord", "--name", "Koordination", "--role", "coordinator"],
                 ["klinik-nord", "--name", "Klinik Nord", "--role", "employer", "--region", "SE-Nord"]):
        assert run_lotse(home, "actor", "add", *args).returncode == 0
    added = run_lotse(home, "case", "add", "--given-name", "Priya", "--family-name", "Nair",
                      "--nationality", "IND", "--employer", "klinik-nord",
                      "--set", "arrival_date=1.3.2027", "--json")
    assert added.returncode == 0, added.stderr
    return home, json.loads(added.stdout)["ref"]


def facts(home: Path, ref: str) -> dict[str, str]:
    shown = run_lotse(home, "case", "show", ref, "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)["facts"]


def test_a_german_date_is_stored_as_the_same_day(opened: tuple[Path, str]) -> None:
    home, ref = opened
    assert facts(home, ref)["arrival_date"] == "2027-03-01"
    result = run_lotse(home, "case", "set", ref, "arrival_date=15.04.2027", "--by", "koord")
    assert result.returncode == 0, result.stderr
    assert facts(home, ref)["arrival_date"] == "2027-04-15"


@pytest.mark.parametrize("value", ["9999-12-31", "31.12.9999", "1899-12-31", "01.03.27", "Quraishi"])
def test_a_date_out_of_range_or_form_is_one_line_naming_the_fact_not_the_value(
    opened: tuple[Path, str], value: str
) -> None:
    home, ref = opened
    before = dump(f"sqlite:///{home / 'lotse.db'}")
    result = run_lotse(home, "case", "set", ref, f"arrival_date={value}", "--by", "koord")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: arrival_date: {RULE}"]
    assert value not in result.stderr and value not in result.stdout
    assert dump(f"sqlite:///{home / 'lotse.db'}") == before


def test_the_day_of_a_report_is_read_in_german_too(opened: tuple[Path, str]) -> None:
    home, _ = opened
    german = run_lotse(home, "check", "--as-of", "16.04.2027", "--dry-run", "--json")
    iso = run_lotse(home, "check", "--as-of", "2027-04-16", "--dry-run", "--json")
    assert german.returncode == iso.returncode == 0, german.stderr
    assert german.stdout == iso.stdout
    refused = run_lotse(home, "check", "--as-of", "9999-12-31")
    assert refused.returncode == 2 and refused.stderr.startswith("error: --as-of")
