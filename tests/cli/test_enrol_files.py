"""`lotse enrol --sheet NAME --dry-run` through the real command line, and the memory a big list
costs: a 50 MB CSV is read as a stream, checked in under 200 MB (peak RSS of the real command)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.conftest import LOTSE, run_lotse
from tests.tables import dump

HEADER = ["given_name", "family_name", "nationality", "employer", "arrival_date"]
# The peak RSS of the command that runs `sys.argv[1:]`, measured by a parent of its own, so that
# no other child of the test session counts.
MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"code": done.returncode, "out": done.stdout, "err": done.stderr[-3000:],
                  "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("enrol-files") / "home"
    assert run_lotse(home, "init").returncode == 0
    for args in (["koord", "--name", "Koordination", "--role", "coordinator"],
                 ["klinik-nord", "--name", "Klinik Nord", "--role", "employer", "--region", "SE-Nord"]):
        assert run_lotse(home, "actor", "add", *args).returncode == 0
    return home


def tables(home: Path) -> dict[str, list[tuple[object, ...]]]:
    return dump(f"sqlite:///{home / 'lotse.db'}")


def test_the_named_sheet_is_checked_by_a_dry_run_that_writes_nothing(home: Path, tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "Deckblatt"
    book.active.append(["Kohorte April"])
    for title, people in (("März", 1), ("April", 2)):
        sheet = book.create_sheet(title)
        sheet.append(["Kohorte", title])
        sheet.append(HEADER)
        for n in range(people):
            sheet.append([f"Vorname{n}", f"Name{title}{n}", "PHL", "klinik-nord", "01.04.2026"])
    path = tmp_path / "kohorten.xlsx"
    book.save(path)
    before = tables(home)

    checked = run_lotse(home, "enrol", str(path), "--sheet", "April", "--dry-run")
    wrong = run_lotse(home, "enrol", str(path), "--sheet", "Mai", "--dry-run")

    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == (
        "kohorten.xlsx: 2 row(s) checked, 2 valid, 0 bad row(s); nothing written (--dry-run)")
    assert wrong.returncode == 2 and wrong.stderr.strip().splitlines() == [
        "error: kohorten.xlsx: 1 problem(s), nothing imported: kohorten.xlsx: no sheet 'Mai'; the sheets "
        "are 'Deckblatt', 'März', 'April'"]
    assert tables(home) == before
    enrolled = run_lotse(home, "enrol", str(path), "--json")  # no --sheet: the first with the header
    assert enrolled.returncode == 0, enrolled.stderr
    assert json.loads(enrolled.stdout)["enrolled"] == 1


def test_a_bad_row_of_a_sheet_is_one_error_line_naming_sheet_and_row(home: Path, tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "Kohorte"
    book.active.append(["Kohorte Mai"])
    book.active.append(HEADER)
    book.active.append(["Ana", "Reyes", "PHL", None, "2026-05-01"])
    path = tmp_path / "kohorte.xlsx"
    book.save(path)
    before = tables(home)

    result = run_lotse(home, "enrol", str(path), "--dry-run")

    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "error: kohorte.xlsx: 1 problem(s), nothing imported: sheet 'Kohorte', row 3: employer is empty"]
    assert "Reyes" not in result.stderr and tables(home) == before


def write_big_cohort(path: Path, size: int, employer: str) -> int:
    """Invented people, numbered, until the file holds `size` bytes; returns the rows written."""
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write(",".join(HEADER) + "\n")
        while file.tell() < size:
            block = "".join(
                f"Vorname{n},Familienname{n},{('PHL', 'IND', 'TUN')[n % 3]},{employer},"
                f"{1 + n % 28:02}.{1 + n % 12:02}.2026\n"
                for n in range(rows, rows + 10_000)
            )
            file.write(block)
            rows += 10_000
    return rows


@pytest.mark.parametrize("employer", ["klinik-nord", ""], ids=["every row good", "every row bad"])
def test_a_50_mb_list_is_checked_in_under_200_mb(home: Path, tmp_path: Path, employer: str) -> None:
    path = tmp_path / "kohorte.csv"
    rows = write_big_cohort(path, 50 * 1024 * 1024, employer)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_API_URL"))}
    environment["LOTSE_HOME"] = str(home)

    command = [*LOTSE, "enrol", str(path), "--dry-run", "--json"]
    measured = subprocess.run([sys.executable, "-c", MEASURE, *command],
                              capture_output=True, text=True, env=environment, timeout=900)

    report = json.loads(measured.stdout)
    result = json.loads(report["out"])
    if employer:
        assert report["code"] == 0, report["err"]
        assert (result["rows"], result["skipped"], result["dry_run"]) == (rows, 0, True)
    else:  # a million problems are counted; the first thousand are listed
        assert report["code"] == 2 and report["err"].startswith(f"error: kohorte.csv: {rows} problem(s)")
        assert (result["problem_count"], len(result["problems"])) == (rows, 1000)
    peak_mb = report["peak_kib"] / 1024
    print(f"\npeak RSS of `lotse enrol --dry-run` on {path.stat().st_size / 2**20:.0f} MB, {rows} rows: "
          f"{peak_mb:.0f} MB")
    assert peak_mb < 200


def test_sheet_is_refused_before_a_flow_run_exists(home: Path, tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(HEADER)
    path = tmp_path / "kohorte.xlsx"
    book.save(path)

    result = run_lotse(home, "enrol", str(path), "--sheet", "Sheet",
                       env={"PREFECT_API_URL": "http://127.0.0.1:9/api"})

    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "error: --sheet is not yet passed to the enrol-cohort flow; leave it out (the sheet with the "
        "header row is found) or run without PREFECT_API_URL"]
