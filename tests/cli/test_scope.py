"""Scope through the real command line (a subprocess): an organisation acting on a case that is not
its own is one `error:` line and exit 1, and nothing changes; every change records the
operating-system user that ran the command."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest

from lotse.states import store
from lotse.tasks import casework
from lotse.tasks.context import Context
from tests.conftest import run_lotse
from tests.tasks.test_scope import add_south, north_case, state


@pytest.fixture
def regions(alliance: Context) -> Context:
    return add_south(alliance)


@pytest.mark.parametrize(("by", "item", "why"), [
    ("klinik-sued", "employment_contract", "the case is of employer klinik-nord, and an employer acts on "
                                           "its own cases only"),
    ("wohnbau-sued", "housing_confirmed", "the case is of region SE-Nord and employer klinik-nord, and "
                                          "wohnbau-sued is not named on it"),
])
def test_ticking_an_item_on_a_case_that_is_not_ones_own_is_one_error_line_and_changes_nothing(
    regions: Context, home: Path, by: str, item: str, why: str,
) -> None:
    ref = north_case(regions)
    before = state(regions, ref)

    result = run_lotse(home, "case", "done", ref, item, "--by", by)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"error: actor '{by}' may not act on {ref}: {why}"]
    assert result.stdout == ""
    assert state(regions, ref) == before


def test_an_employer_enrolling_rows_for_another_employer_is_refused_and_nothing_is_written(
    regions: Context, home: Path, tmp_path: Path,
) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text("given_name,family_name,nationality,employer\nMaricel,Dalisay,PHL,klinik-nord\n",
                    encoding="utf-8")

    result = run_lotse(home, "enrol", str(path), "--by", "klinik-sued")

    assert result.returncode == 2  # a file with a bad row: bad input, as every import problem
    [line] = result.stderr.splitlines()
    assert line.startswith("error: cohort.csv: 1 problem(s), nothing imported: line 2: employer: actor "
                           "'klinik-sued' may open cases only for itself")
    assert "Maricel" not in line and "Dalisay" not in line
    assert run_lotse(home, "case", "list", "--json").stdout.strip() == "[]"


def test_a_change_on_the_command_line_records_the_operating_system_user(regions: Context, home: Path) -> None:
    ref = north_case(regions)

    assert run_lotse(home, "case", "done", ref, "employment_contract", "--by", "klinik-nord").returncode == 0

    with regions.db.reading() as session:
        last = store.history(session, store.find_case(session, ref).id or 0)[-1]
    assert (last.action, last.actor_id, last.via) == ("done", "klinik-nord", "cli")
    assert last.proof == "os:" + getpass.getuser()
    user = getpass.getuser()
    shown = run_lotse(home, "case", "show", ref)
    assert shown.stdout.splitlines()[-1].endswith(f"klinik-nord via cli (os:{user})")
    history = json.loads(run_lotse(home, "case", "show", ref, "--json").stdout)["history"]
    assert [h["proof"] for h in history] == [f"os:{user}"] * 3


def test_the_coordinator_may_act_on_any_case_from_the_command_line(regions: Context, home: Path) -> None:
    south = casework.open_case(regions, given_name="Anjali", family_name="Menon", nationality="IND",
                               employer="klinik-sued")
    result = run_lotse(home, "case", "done", south, "employment_contract", "--by", "koord")
    assert result.returncode == 0, result.stderr
