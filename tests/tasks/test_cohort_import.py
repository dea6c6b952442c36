"""Enrolling a cohort from CSV or XLSX: every row checked first, every problem reported with its
line, nothing half-imported, and the same file twice enrols no one twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from lotse.tasks import case_file
from lotse.tasks.cohort_import import Enrolment, enrol
from lotse.tasks.context import Context

HEADER = "given_name,family_name,nationality,employer,process,arrival_date"
GOOD = [
    "Joanna,Villareal,PHL,klinik-nord,pflege,2026-05-01",
    "Anjali,Menon,IND,klinik-nord,,",
    "Youssef,Trabelsi,TUN,klinik-nord,pflege,2026-06-15",
]


def csv_file(tmp_path: Path, *lines: str, name: str = "cohort.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems(result: Enrolment) -> list[str]:
    return [str(p) for p in result.problems]


def cases(ctx: Context) -> list[dict[str, object]]:
    return case_file.list_cases(ctx)


def test_a_good_file_opens_one_case_per_row_with_its_facts_and_an_import_history(
    alliance: Context, tmp_path: Path
) -> None:
    result = enrol(alliance, csv_file(tmp_path, HEADER, *GOOD))

    assert not result.problems and len(result.enrolled) == 3
    opened = case_file.case_file(alliance, result.enrolled[0])
    assert (opened["given_name"], opened["stage"]) == ("Joanna", "recruited")
    assert opened["facts"] == {"arrival_date": "2026-05-01", "nationality": "PHL"}
    assert {h["via"] for h in opened["history"]} == {"import"}
    assert case_file.case_file(alliance, result.enrolled[1])["facts"] == {"nationality": "IND"}


def test_importing_the_same_file_again_enrols_no_one_twice(alliance: Context, tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER, *GOOD)
    first = enrol(alliance, path)

    again = enrol(alliance, csv_file(tmp_path, HEADER, *GOOD, "Priya,Nair,IND,klinik-nord,,"))

    assert again.already == first.enrolled and len(again.enrolled) == 1
    assert len(cases(alliance)) == 4


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("Priya,Nair,IND,klinik-nord,pflege,2026-02-30", "line 5: arrival_date: not a date between"),
        ("Priya,Nair,IND,klinik-nord,pflege,01.05.26", "line 5: arrival_date: not a date between"),
        ("Priya,Nair,IND,klinik-nord,pflege,9999-12-31", "line 5: arrival_date: not a date between"),
        ("Priya,Nair,IND,no-such-clinic,pflege,", "line 5: employer: no actor with this id"),
        ("Priya,Nair,IND,wohnbau-nord,pflege,", "line 5: employer: actor 'wohnbau-nord' is not an employer"),
        ("Priya,Nair,IND,klinik-nord,altenpflege,", "line 5: process: no such process; known: chancen"),
        ("Priya,Nair,XXX,klinik-nord,pflege,", "line 5: nationality: not an ISO 3166 alpha-3 code"),
        ("Priya,,IND,klinik-nord,pflege,", "line 5: family_name is empty"),
        ("Joanna,Villareal,PHL,klinik-nord,pflege,2026-05-01", "line 5: same person as line 2 (duplicate"),
        ("Priya,Nair,IND,klinik-nord,pflege,2026-05-01,extra", "line 5: a value in column(s) 7"),
    ],
)
def test_one_bad_row_is_reported_with_its_line_and_nothing_is_imported(
    alliance: Context, tmp_path: Path, row: str, expected: str
) -> None:
    result = enrol(alliance, csv_file(tmp_path, HEADER, *GOOD, row))

    assert result.refused and not result.enrolled
    assert len(result.problems) == 1 and problems(result)[0].startswith(expected)
    assert cases(alliance) == []


def test_every_bad_row_is_reported_not_only_the_first(alliance: Context, tmp_path: Path) -> None:
    result = enrol(alliance, csv_file(
        tmp_path, HEADER, "Priya,Nair,IND,nobody,pflege,", *GOOD, "Lina,Gharbi,TUN,klinik-nord,pflege,soon",
        "", "Rania,,JOR,klinik-nord,pflege,",
    ))

    assert [p.line for p in result.problems] == [2, 6, 8]
    assert cases(alliance) == []


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (("given_name,nationality,employer", "Priya,IND,klinik-nord"),
         "line 1: missing column(s) family_name"),
        ((f"{HEADER},shoe_size", "Priya,Nair,IND,klinik-nord,pflege,,42"),
         "line 1: column 7 is not a known column or fact"),
        ((f"{HEADER},employer", "Priya,Nair,IND,klinik-nord,pflege,,x"),
         "line 1: column 7 repeats column 'employer'"),
        ((HEADER,), "cohort.csv: no rows below the header"),
        (("",), "cohort.csv: the file is empty"),
    ],
)
def test_a_wrong_header_or_an_empty_file_is_reported_and_nothing_is_imported(
    alliance: Context, tmp_path: Path, lines: tuple[str, ...], expected: str
) -> None:
    result = enrol(alliance, csv_file(tmp_path, *lines))

    assert result.refused and problems(result)[0].startswith(expected)
    assert cases(alliance) == []


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("cohort.txt", b"given_name,family_name\n", "cohort.txt: not a CSV or XLSX file"),
        ("cohort.xlsx", b"given_name,family_name\n", "cohort.xlsx: not an XLSX workbook"),
        ("cohort.csv", b"PK\x03\x04\x00\x00\xff\xfe binary", "cohort.csv: not a UTF-8 text file"),
    ],
)
def test_a_file_that_is_not_csv_or_xlsx_is_refused(
    alliance: Context, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    result = enrol(alliance, path)

    assert result.refused and problems(result) == [problems(result)[0]]
    assert problems(result)[0].startswith(expected)


def test_problems_never_repeat_a_cells_value(alliance: Context, tmp_path: Path) -> None:
    # a shifted row: the family name lands in the date column, the given name in the employer's
    shifted = "IND,klinik-nord,pflege,Priya,Nair,Nairobi"
    result = enrol(alliance, csv_file(tmp_path, HEADER, shifted))

    assert result.refused
    assert not any(word in str(p) for p in result.problems for word in ("Priya", "Nair"))


def test_skipping_bad_rows_imports_the_good_ones_and_reports_the_skipped(
    alliance: Context, tmp_path: Path
) -> None:
    result = enrol(alliance, csv_file(tmp_path, HEADER, *GOOD, "Priya,Nair,IND,nobody,,"), skip_invalid=True)

    assert (len(result.enrolled), result.skipped, problems(result)) == (
        3, 1, ["line 5: employer: no actor with this id; see `lotse actor list`"])
    assert not result.refused and len(cases(alliance)) == 3


def test_a_fact_only_another_role_may_set_is_refused_unless_a_coordinator_enrols(
    alliance: Context, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, "given_name,family_name,nationality,employer,language_level",
                    "Priya,Nair,IND,klinik-nord,B1")

    refused = enrol(alliance, path)
    allowed = enrol(alliance, path, by="koord")

    assert "actor 'klinik-nord' may not set fact 'language_level'" in problems(refused)[0]
    assert len(allowed.enrolled) == 1
    assert case_file.case_file(alliance, allowed.enrolled[0])["facts"]["language_level"] == "B1"


def test_a_semicolon_separated_file_from_a_german_spreadsheet_is_read(
    alliance: Context, tmp_path: Path
) -> None:
    path = tmp_path / "kohorte.csv"
    path.write_text("\ufeffGiven Name;Family Name;Nationality;Employer\nAmela;Hadžić;BIH;klinik-nord\n",
                    encoding="utf-8")

    result = enrol(alliance, path)

    assert len(result.enrolled) == 1
    assert case_file.case_file(alliance, result.enrolled[0])["family_name"] == "Hadžić"


def test_an_xlsx_workbook_is_read_with_its_date_cells_and_line_numbers(
    alliance: Context, tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["given_name", "family_name", "nationality", "employer", "arrival_date"])
    sheet.append(["Thi Lan", "Nguyen", "VNM", "klinik-nord", dt.datetime(2026, 7, 1)])
    sheet.append(["Van Duc", "Tran", "VNM", "klinik-nord", "later"])
    path = tmp_path / "cohort.xlsx"
    book.save(path)

    refused = enrol(alliance, path)
    sheet.delete_rows(3)
    book.save(path)
    result = enrol(alliance, path)

    assert problems(refused) == [
        "sheet 'Sheet', row 3: arrival_date: not a date between 1900-01-01 and 2199-12-31 "
        "(YYYY-MM-DD or DD.MM.YYYY)"
    ]
    assert case_file.case_file(alliance, result.enrolled[0])["facts"]["arrival_date"] == "2026-07-01"


def test_progress_is_reported_up_to_the_last_row(alliance: Context, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []

    enrol(alliance, csv_file(tmp_path, HEADER, *GOOD), progress=lambda n, total: seen.append((n, total)))

    assert seen[-1] == (3, 3)


def test_the_outcome_as_data_names_references_and_lines_only(alliance: Context, tmp_path: Path) -> None:
    result = enrol(alliance, csv_file(tmp_path, HEADER, *GOOD, "Priya,Nair,IND,nobody,,"), skip_invalid=True)

    data = result.as_dict()

    assert data["refs"] == result.enrolled and data["problems"][0]["line"] == 5
    assert not any(n in str(data) for n in ("Joanna", "Villareal", "Priya", "Nair"))


@pytest.mark.parametrize(("by", "expected"), [
    ("nobody", "unknown actor 'nobody' for --by"),
    ("sprachschule", "actor 'sprachschule' may not open cases"),
])
def test_an_enrolling_actor_who_may_not_open_cases_refuses_the_whole_file_even_when_skipping(
    alliance: Context, tmp_path: Path, by: str, expected: str
) -> None:
    result = enrol(alliance, csv_file(tmp_path, HEADER, *GOOD), by=by, skip_invalid=True)

    assert result.refused and problems(result)[0].startswith(expected)
    assert cases(alliance) == []
