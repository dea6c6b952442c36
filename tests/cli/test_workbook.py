"""`lotse report --xlsx FILE`: the workbook opened with openpyxl (sheets, charts per sheet and their
types, values), on a SQLite file and on PostgreSQL; a name starting with '=' stays text; names only
with --with-names by a coordinator; bad input is one error line and no file; LibreOffice renders it
to PDF where it is installed."""

from __future__ import annotations

import getpass
import os
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.chart import BarChart

from lotse.config.settings import Settings
from lotse.tasks.context import Context
from tests import known_cohort
from tests.cli.backends import Db, db  # noqa: F401 - the fixture
from tests.cli.conftest import Lotse
from tests.conftest import Clock

AS_OF = known_cohort.AS_OF.isoformat()
SHEETS = ["pipeline", "funnel", "time in stage", "stuck cases", "attrition", "costs", "language groups"]


@pytest.fixture
def refs(
    db: Db, settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> Iterator[dict[str, str]]:
    """The known cohort in the database of the `db` fixture (SQLite file or PostgreSQL); headers in
    English (the report's keys) unless a test says otherwise."""
    monkeypatch.setenv("LOTSE_LOCALE", "en")
    ctx = Context.from_settings(settings.model_copy(update={"database_url": db.url}), check_schema=False)
    ctx.clock = clock
    try:
        yield known_cohort.build(known_cohort.add_alliance(ctx), clock)
    finally:
        ctx.db.dispose()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """The folder workbooks are written to (the database lives beside it)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def cells(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def table_after(sheet: Any, header_first: str) -> list[dict[str, Any]]:
    """The rows of the table whose header row starts with `header_first`, as dicts."""
    rows = cells(sheet)
    start = next(i for i, r in enumerate(rows) if r and r[0] == header_first)
    header = [h for h in rows[start] if h is not None]
    found = []
    for r in rows[start + 1:]:
        if r[0] is None:
            break
        found.append(dict(zip(header, r[:len(header)], strict=True)))
    return found


def test_the_workbook_has_every_sheet_its_charts_and_the_figures(
    lotse: Lotse, refs: dict[str, str], out: Path,
) -> None:
    file = out / "bericht.xlsx"

    done = lotse("report", "--xlsx", str(file), "--as-of", AS_OF, "--json")

    assert done.code == 0, done.err
    assert done.json()["sheets"] == SHEETS and done.json()["charts"] == 3
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert [p.name for p in out.iterdir()] == ["bericht.xlsx"]  # no temporary file left
    book = openpyxl.load_workbook(file)
    assert book.sheetnames == SHEETS
    charts = {name: [type(c) for c in book[name]._charts] for name in SHEETS}
    assert charts == {"pipeline": [], "funnel": [BarChart], "time in stage": [BarChart], "stuck cases": [],
                      "attrition": [], "costs": [BarChart], "language groups": []}
    assert book["costs"]._charts[0].grouping == "stacked"
    assert book["funnel"]._charts[0].grouping == "clustered"
    costs = table_after(book["costs"], "employer")
    assert [(r["employer"], r["recruitment_fee"], r["travel"], r["total"]) for r in costs] == [
        ("heim-see", 0, 250.5, 250.5), ("klinik-nord", 1000, 300, 1300), ("(all)", 1000, 550.5, 1550.5)]
    withdrawals = table_after(book["attrition"], "by")
    assert {"by": "category", "process": "pflege v2", "stage": "recruited", "what": "homesickness",
            "entered": 4, "withdrawn": 1, "share": "25.0 %"} in withdrawals
    funnel_rows = table_after(book["funnel"], "process")
    assert {"process": "pflege", "cohort": "2026-03", "cases": 3, "stage": "visa", "reached": 2,
            "share": 0.6667, "median_days": 15, "p90_days": 20} in funnel_rows
    matrix = cells(book["funnel"])
    assert matrix[2][:3] == ["pflege: cases reached", "2026-03 (3)", "2026-04 (1)"]
    assert matrix[3][:3] == ["recruited", 3, 1] and matrix[4][:3] == ["visa", 2, 1]
    stays = {r["stage"]: (r["left"], r["median_days"], r["p90_days"], r["open"])
             for r in table_after(book["time in stage"], "process")}
    assert stays == {"recruited": (3, 10, 20, 0), "visa": (1, 30, 30, 2), "arrival": (0, None, None, 1)}
    stuck = table_after(book["stuck cases"], "ref")
    assert [(s["ref"], s["stage"], s["overdue_days"]) for s in stuck] == [
        (refs["B"], "visa", 30), (refs["D"], "visa", 16)]
    assert "name" not in stuck[0]
    history = lotse("case", "show", refs["B"], "--json").json()["history"]
    assert "named_in_workbook" not in [h["action"] for h in history]  # no names, nothing to record
    pipeline = table_after(book["pipeline"], "by")
    assert {"by": "stage", "process": "pflege v2", "where": "visa", "open": 2} in pipeline
    every_text = " ".join(str(v) for name in SHEETS for row in cells(book[name]) for v in row if v)
    assert "Muster" not in every_text and "Ana" not in every_text and "HYPERLINK" not in every_text


def test_with_names_for_a_coordinator_a_name_starting_with_equals_is_text_not_a_formula(
    lotse: Lotse, refs: dict[str, str], out: Path,
) -> None:
    file = out / "mit-namen.xlsx"

    done = lotse("report", "--xlsx", str(file), "--as-of", AS_OF, "--with-names", "--by", "koord")

    assert done.code == 0, done.err
    assert "with names" in done.out
    sheet = openpyxl.load_workbook(file)["stuck cases"]
    stuck = table_after(sheet, "ref")
    assert [(s["ref"], s["name"]) for s in stuck] == [
        (refs["B"], f"{known_cohort.FORMULA_NAME} Muster"), (refs["D"], "Dana Muster")]
    named = f"{known_cohort.FORMULA_NAME} Muster"
    name_cell = next(c for row in sheet.iter_rows() for c in row if c.value == named)
    assert name_cell.data_type == "s"
    with zipfile.ZipFile(file) as archive:
        xml = b"".join(archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in xml and b"<f " not in xml  # no formula anywhere in the book
    book = openpyxl.load_workbook(file)
    other_sheets = " ".join(str(v) for name in SHEETS if name != "stuck cases"
                            for row in cells(book[name]) for v in row if v)
    assert "Muster" not in other_sheets
    # each case named says so in its history, as the person's own export shows it; no other case does
    for ref in refs.values():
        named = [h for h in lotse("case", "show", ref, "--json").json()["history"]
                 if h["action"] == "named_in_workbook"]
        expected = 1 if ref in (refs["B"], refs["D"]) else 0
        assert len(named) == expected, ref
        assert all((h["actor"], h["proof"]) == ("koord", f"os:{getpass.getuser()}") for h in named)
    told = lotse("person", "export", refs["D"], "--format", "json").json()["history"]  # Art. 15
    assert [h["detail"] for h in told if h["action"] == "named_in_workbook"] == [{"sheet": "stuck cases"}]


@pytest.mark.parametrize("args, says", [
    (["--with-names"], "--with-names needs --by"),
    (["--with-names", "--by", "klinik-nord"], "'klinik-nord' is not one"),
    (["--with-names", "--by", "nobody"], "'nobody' is not an actor"),
    (["--period", "week"], "unknown period 'week'"),
])
def test_names_without_a_coordinator_or_a_bad_period_are_one_error_and_no_file(
    lotse: Lotse, refs: dict[str, str], out: Path, args: list[str], says: str,
) -> None:
    file = out / "bericht.xlsx"

    done = lotse("report", "--xlsx", str(file), "--as-of", AS_OF, *args)

    assert done.code == 2 and says in done.error
    assert list(out.iterdir()) == []


def test_a_folder_that_is_not_there_or_not_writable_is_one_error_and_no_file(
    lotse: Lotse, out: Path,
) -> None:
    missing = lotse("report", "--xlsx", str(out / "nicht-da" / "bericht.xlsx"))
    not_writable = lotse("report", "--xlsx", "/proc/self/bericht.xlsx")  # not even root writes there
    a_folder = lotse("report", "--xlsx", str(out))
    not_xlsx = lotse("report", "--xlsx", str(out / "bericht.csv"))
    names_alone = lotse("report", "--with-names")

    assert missing.code == 2 and "does not exist" in missing.error
    assert not_writable.code == 2 and "cannot write into /proc/self" in not_writable.error
    assert a_folder.code == 2 and "ends in .xlsx" in a_folder.error
    assert not_xlsx.code == 2 and "ends in .xlsx" in not_xlsx.error
    assert names_alone.code == 2 and "go with --xlsx" in names_alone.error
    assert list(out.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder; /proc/self stands in above")
def test_a_folder_without_write_permission_is_one_error(lotse: Lotse, tmp_path: Path) -> None:
    folder = tmp_path / "nur-lesen"
    folder.mkdir(mode=0o500)

    done = lotse("report", "--xlsx", str(folder / "bericht.xlsx"))

    assert done.code == 2 and "cannot write into" in done.error
    assert list(folder.iterdir()) == []


def test_a_second_run_replaces_the_workbook_whole(lotse: Lotse, refs: dict[str, str], out: Path) -> None:
    file = out / "bericht.xlsx"
    file.write_text("an old file")
    file.chmod(0o644)

    done = lotse("report", "--xlsx", str(file), "--as-of", AS_OF, "--period", "quarter")

    assert done.code == 0, done.err
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    cohorts = {r["cohort"] for r in table_after(openpyxl.load_workbook(file)["funnel"], "process")}
    assert cohorts == {"2026-Q1", "2026-Q2"}


def test_libreoffice_opens_the_workbook_and_renders_it_to_pdf(
    lotse: Lotse, refs: dict[str, str], tmp_path: Path,
) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: `make office` installs it")
    file = tmp_path / "bericht.xlsx"
    assert lotse("report", "--xlsx", str(file), "--as-of", AS_OF).code == 0
    out = tmp_path / "pdf"

    done = subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
         "--convert-to", "pdf", "--outdir", str(out), str(file)],
        capture_output=True, text=True, timeout=180, check=False)

    pdf = out / "bericht.pdf"
    assert done.returncode == 0 and pdf.is_file(), done.stderr
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF") and content.count(b"/Type /Page") + content.count(b"/Type/Page") >= 7
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "cases reached" in text and "Days in stage" in text


def test_an_alliance_without_cases_gets_every_sheet_and_no_chart(
    lotse: Lotse, db: Db, out: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    monkeypatch.setenv("LOTSE_LOCALE", "en")
    file = out / "leer.xlsx"

    done = lotse("report", "--xlsx", str(file), "--period", "quarter", "--region-level", "region", "--json")

    assert done.code == 0, done.err
    assert done.json()["charts"] == 0
    book = openpyxl.load_workbook(file)
    assert book.sheetnames == SHEETS
    assert table_after(book["funnel"], "process") == [
        {"process": "(none)", "cohort": None, "cases": None, "stage": None, "reached": None, "share": None,
         "median_days": None, "p90_days": None}]


def test_in_german_by_default_titles_headers_and_cost_categories(
    lotse: Lotse, refs: dict[str, str], out: Path,
) -> None:
    file = out / "bericht.xlsx"

    done = lotse("report", "--xlsx", str(file), "--as-of", AS_OF, env={"LOTSE_LOCALE": "de"})

    assert done.code == 0, done.err
    book = openpyxl.load_workbook(file)
    assert cells(book["funnel"])[0][0] == "Trichter nach Monat der Eröffnung, Stand 2026-06-30"
    assert cells(book["funnel"])[2][0] == "pflege: erreichte Fälle"
    stays = table_after(book["time in stage"], "Prozess")
    assert {"Prozess": "pflege", "Version": 2, "Stufe": "recruited", "weitergegangen": 3,
            "Median (Tage)": 10, "90. Perzentil (Tage)": 20, "abgebrochen": 1, "offen": 0,
            "längster offener (Tage)": None} in stays
    assert [r["Vermittlungsgebühr"] for r in table_after(book["costs"], "Arbeitgeber")] == [0, 1000, 1000]
    assert book["time in stage"]._charts[0].title is not None


def test_a_broken_programmes_file_keeps_out_the_costs_only_with_a_warning(
    lotse: Lotse, refs: dict[str, str], out: Path, tmp_path: Path,
) -> None:
    broken = tmp_path / "programmes.yaml"
    broken.write_text("programmes: [unclosed\n", encoding="utf-8")
    file = out / "bericht.xlsx"

    done = lotse("report", "--xlsx", str(file), "--as-of", AS_OF, env={"LOTSE_PROGRAMMES_FILE": str(broken)})

    assert done.code == 0, done.err
    [warning] = done.err.strip().splitlines()
    assert warning.startswith("warning: costs: not in the workbook: ") and "programmes.yaml" in warning
    book = openpyxl.load_workbook(file)
    assert cells(book["costs"]) == [["This report could not be made; `lotse doctor` says why."]]
    assert book["costs"]._charts == [] and len(book["funnel"]._charts) == 1


def test_region_level_counts_regions_at_that_level_of_the_hierarchy(
    lotse: Lotse, refs: dict[str, str], out: Path,
) -> None:
    file = out / "bericht.xlsx"

    done = lotse("report", "--xlsx", str(file), "--as-of", AS_OF, "--region-level", "region")

    assert done.code == 0, done.err
    book = openpyxl.load_workbook(file)
    rows = cells(book["time in stage"])
    start = next(i for i, r in enumerate(rows) if r[:4] == ["process", "version", "stage", "region"])
    by_region = {r[3] for r in rows[start + 1:] if r[0] is not None}
    assert by_region == {"SE-Nord"}  # the Seestadt case counted under its target region
    pipeline = table_after(book["pipeline"], "by")
    assert {"by": "region", "process": None, "where": "SE-Nord", "open": 3} in pipeline  # "" reads as empty
