"""Cohort files as offices make them: a cover sheet, a title above the header, merged cells,
formulas no program has computed, German dates. The sheet with the header is found (or the one
named), and every message says which sheet and row, and what the sheet hides."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from lotse.tasks import case_file
from lotse.tasks.cohort_import import Enrolment, enrol
from lotse.tasks.context import Context

HEADER = ["given_name", "family_name", "nationality", "employer", "arrival_date"]
PEOPLE = [
    ["Joanna", "Villareal", "PHL", "klinik-nord", "01.05.2026"],
    ["Anjali", "Menon", "IND", "klinik-nord", None],
    ["Youssef", "Trabelsi", "TUN", "klinik-nord", "15.6.2026"],
]


def workbook(path: Path, sheets: dict[str, list[list[Any]]], change: Any = None) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    if change is not None:
        change(book)
    book.save(path)
    return path


def problems(result: Enrolment) -> list[str]:
    return [str(p) for p in result.problems]


def cohort_sheet(*rows: list[Any]) -> list[list[Any]]:
    """A sheet as an office makes it: a title, a date line, an empty row, then the header."""
    return [["Kohorte Pflege März 2026"], ["Stand: 02.03.2026"], [], HEADER, *rows]


def test_a_cover_sheet_and_a_title_above_the_header_are_skipped(alliance: Context, tmp_path: Path) -> None:
    path = workbook(tmp_path / "kohorte.xlsx", {
        "Deckblatt": [["Fachkräfteallianz Süd-Ost"], ["Kohorte März 2026", "vertraulich"]],
        "Kohorte": cohort_sheet(*PEOPLE),
    })

    result = enrol(alliance, path)

    assert problems(result) == [] and result.rows == 3 and len(result.enrolled) == 3
    first = case_file.case_file(alliance, result.enrolled[0])
    assert first["given_name"] == "Joanna" and first["facts"]["arrival_date"] == "2026-05-01"
    assert case_file.case_file(alliance, result.enrolled[2])["facts"]["arrival_date"] == "2026-06-15"


def test_a_problem_names_the_sheet_and_the_row(alliance: Context, tmp_path: Path) -> None:
    path = workbook(tmp_path / "kohorte.xlsx", {
        "Deckblatt": [["Fachkräfteallianz"]],
        "Kohorte": cohort_sheet(*PEOPLE, ["Priya", "Nair", "IND", None, "31.12.9999"]),
    })

    result = enrol(alliance, path)

    assert problems(result) == [
        "sheet 'Kohorte', row 8: employer is empty",
        "sheet 'Kohorte', row 8: arrival_date: not a date between 1900-01-01 and 2199-12-31 "
        "(YYYY-MM-DD or DD.MM.YYYY)",
    ]
    assert result.as_dict()["problems"][0] == {
        "line": 8, "where": "sheet 'Kohorte', row 8", "reason": "employer is empty"}
    assert case_file.list_cases(alliance) == []
    assert "Kohorte" not in result.summary() and "line 8: employer is empty" in result.summary()


def test_the_named_sheet_is_used_when_several_have_a_header(alliance: Context, tmp_path: Path) -> None:
    path = workbook(tmp_path / "kohorten.xlsx", {
        "März": [HEADER, PEOPLE[0]],
        "April": [HEADER, PEOPLE[1], PEOPLE[2]],
    })

    april = enrol(alliance, path, sheet="April", dry_run=True)
    march = enrol(alliance, path, dry_run=True)

    assert (april.rows, march.rows) == (2, 1)
    assert april.dry_run and not april.enrolled and case_file.list_cases(alliance) == []
    missing = enrol(alliance, path, sheet="Mai")
    assert problems(missing) == ["kohorten.xlsx: no sheet 'Mai'; the sheets are 'März', 'April'"]


def test_a_workbook_without_a_header_row_on_any_sheet_says_so(alliance: Context, tmp_path: Path) -> None:
    path = workbook(tmp_path / "kohorte.xlsx", {
        "Deckblatt": [["Fachkräfteallianz"]],
        "Kohorte": [["Vorname", "Nachname", "Staatsangehörigkeit", "Arbeitgeber"], PEOPLE[0][:4]],
    })

    result = enrol(alliance, path)

    assert problems(result) == [
        "kohorte.xlsx: none of the 2 sheets has a header row with given_name, family_name, nationality, "
        "employer within its first 20 rows; name the sheet with --sheet"]


def test_a_single_sheet_without_the_required_columns_names_what_is_missing(
    alliance: Context, tmp_path: Path
) -> None:
    path = workbook(tmp_path / "kohorte.xlsx", {"Liste": [[], ["given_name", "family_name"], ["A", "B"]]})

    assert problems(enrol(alliance, path))[0].startswith(
        "sheet 'Liste', row 2: missing column(s) nationality, employer")


def test_merged_cells_are_named_as_such_not_as_empty_cells(alliance: Context, tmp_path: Path) -> None:
    both_at_nord = [["Priya", "Nair", "IND", "klinik-nord", None], ["Rania", "Haddad", "JOR", None, None]]

    def merge(book: Any) -> None:
        book["Kohorte"].merge_cells("A1:E1")  # the title across the table: harmless
        book["Kohorte"].merge_cells("D8:D9")  # one employer for two people

    path = workbook(tmp_path / "kohorte.xlsx", {"Kohorte": cohort_sheet(*PEOPLE, *both_at_nord)}, merge)

    result = enrol(alliance, path)

    assert problems(result) == ["sheet 'Kohorte', rows 8-9: merged cells in column employer; unmerge them"]
    assert case_file.list_cases(alliance) == []
    skipping = enrol(alliance, path, skip_invalid=True)
    assert (len(skipping.enrolled), skipping.skipped) == (3, 2)


def test_a_merged_header_refuses_the_file(alliance: Context, tmp_path: Path) -> None:
    header = [*HEADER[:4], "arrival_date", None]

    def merge(book: Any) -> None:
        book["Kohorte"].merge_cells("E1:F1")

    path = workbook(tmp_path / "kohorte.xlsx", {"Kohorte": [header, PEOPLE[0]]}, merge)

    result = enrol(alliance, path, skip_invalid=True)

    assert "sheet 'Kohorte', row 1: merged cells in column arrival_date; unmerge them" in problems(result)
    assert not result.enrolled and case_file.list_cases(alliance) == []


def test_a_formula_without_a_saved_value_is_named_as_such(alliance: Context, tmp_path: Path) -> None:
    # openpyxl writes a formula as Excel would before computing it: no value saved beside it.
    rows = [*PEOPLE, ["Priya", "Nair", '=UPPER("ind")', "klinik-nord", None]]
    path = workbook(tmp_path / "kohorte.xlsx", {"Kohorte": cohort_sheet(*rows)})

    result = enrol(alliance, path)

    assert problems(result) == [
        "sheet 'Kohorte', row 8, column nationality: a formula without a saved value; "
        "open and save the file in Excel"]


def test_a_csv_with_a_title_above_the_header_is_read_with_its_line_numbers(
    alliance: Context, tmp_path: Path
) -> None:
    path = tmp_path / "kohorte.csv"
    path.write_text("Kohorte März 2026;;;;\n;;;;\n" + ";".join(HEADER) + "\n"
                    "Joanna;Villareal;PHL;klinik-nord;01.05.2026\nAnjali;Menon;IND;;\n", encoding="utf-8")

    result = enrol(alliance, path)

    assert problems(result) == ["line 5: employer is empty"]


def test_a_csv_takes_no_sheet(alliance: Context, tmp_path: Path) -> None:
    path = tmp_path / "kohorte.csv"
    path.write_text(",".join(HEADER) + "\n" + "Joanna,Villareal,PHL,klinik-nord,\n", encoding="utf-8")

    assert problems(enrol(alliance, path, sheet="Kohorte")) == [
        "kohorte.csv: --sheet is for .xlsx workbooks; a CSV file has no sheets"]


@pytest.mark.parametrize("content", [b"given_name,family_name\n\xfcber,x\n", b"\x00\x01binary"])
def test_a_file_that_is_not_utf8_text_is_one_problem_naming_no_cell(
    alliance: Context, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "kohorte.csv"
    path.write_bytes(content)

    result = enrol(alliance, path)

    assert len(result.problems) == 1 and result.problems[0].line == 0
    assert "UTF-8" in str(result.problems[0]) and "ber" not in str(result.problems[0])


def test_a_formula_whose_value_excel_saved_is_read_as_that_value(alliance: Context, tmp_path: Path) -> None:
    rows = [["Priya", "Nair", '=UPPER("ind")', "klinik-nord", None]]
    path = workbook(tmp_path / "kohorte.xlsx", {"Kohorte": cohort_sheet(*rows)})
    saved_by_excel(path, '<c r="C5"><f>UPPER("ind")</f><v /></c>',
                   '<c r="C5" t="str"><f>UPPER("ind")</f><v>IND</v></c>')

    result = enrol(alliance, path)

    assert problems(result) == [] and len(result.enrolled) == 1
    assert case_file.case_file(alliance, result.enrolled[0])["facts"]["nationality"] == "IND"


def test_a_formula_whose_saved_value_is_empty_text_is_an_empty_cell(
    alliance: Context, tmp_path: Path
) -> None:
    rows = [["Priya", "Nair", "IND", "klinik-nord", '=IF(TRUE,"","")']]
    path = workbook(tmp_path / "kohorte.xlsx", {"Kohorte": cohort_sheet(*rows)})
    saved_by_excel(path, '<c r="E5"><f>IF(TRUE,"","")</f><v /></c>',
                   '<c r="E5" t="str"><f>IF(TRUE,"","")</f><v></v></c>')

    result = enrol(alliance, path)

    assert problems(result) == [] and len(result.enrolled) == 1


def saved_by_excel(path: Path, cell: str, computed: str) -> None:
    """The workbook as Excel saves it: a formula's value beside the formula."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    assert cell.encode() in parts[sheet]
    parts[sheet] = parts[sheet].replace(cell.encode(), computed.encode())
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_a_list_of_many_bad_rows_lists_the_first_thousand_and_counts_them_all(
    alliance: Context, tmp_path: Path
) -> None:
    path = tmp_path / "kohorte.csv"
    path.write_text(",".join(HEADER) + "\n" + "".join(f"V{n},F{n},PHL,,\n" for n in range(1500)),
                    encoding="utf-8")

    result = enrol(alliance, path)

    assert (len(result.problems), result.problem_count) == (1000, 1500)
    assert str(result.problems[-1]) == "line 1001: employer is empty"
    assert result.summary().startswith("kohorte.csv: 1500 problem(s), nothing imported: line 2: employer")
    assert result.as_dict()["problem_count"] == 1500
    skipping = enrol(alliance, path, skip_invalid=True)
    assert (skipping.skipped, skipping.enrolled, skipping.refused) == (1500, [], False)


def test_a_title_with_a_line_break_above_the_header_keeps_the_line_numbers(
    alliance: Context, tmp_path: Path
) -> None:
    path = tmp_path / "kohorte.csv"
    title = '"Kohorte\nMärz 2026"\n'
    path.write_text(title + ",".join(HEADER) + "\nJoanna,Villareal,PHL,,\n", encoding="utf-8")

    assert problems(enrol(alliance, path)) == ["line 4: employer is empty"]


SHEET, BOOK = "xl/worksheets/sheet1.xml", "xl/workbook.xml"


@pytest.mark.parametrize(("part", "damage"), [
    (SHEET, lambda xml: xml.replace(b'<row r="2"', b'<row r="x"', 1)),  # a row numbered with letters
    (SHEET, lambda xml: xml[: len(xml) // 2]),  # cut off in the middle
    (BOOK, lambda xml: xml[: len(xml) // 2]),
], ids=["row number", "sheet cut off", "workbook cut off"])
def test_a_damaged_workbook_is_one_problem_not_a_traceback(
    alliance: Context, tmp_path: Path, part: str, damage: Any
) -> None:
    path = workbook(tmp_path / "kohorte.xlsx", {"Kohorte": [HEADER, PEOPLE[0]]})
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    assert damage(parts[part]) != parts[part]
    parts[part] = damage(parts[part])
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)

    result = enrol(alliance, path)

    assert len(result.problems) == 1 and result.problems[0].line == 0
    assert "save" in result.problems[0].reason and case_file.list_cases(alliance) == []
