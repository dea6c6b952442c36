"""A cohort file as rows of cells: a CSV (UTF-8, `,` `;` or tab) or a sheet of an XLSX workbook.

Only the reading: where the header is, and the non-empty rows below it with their line numbers,
read as they are needed, never the whole file at once (a 50 MB list stays far below 200 MB).
What the cells mean is checked by tasks/cohort_import.py.

The header is the first row, within the first 20, that holds the required columns: a title row
above it is skipped, and of a workbook the sheet used is the first that has such a row (a cover
sheet is skipped) or the one named. What a spreadsheet hides is said as it is: merged cells, and
formulas whose value was never saved (a file written by a program, not by Excel), are `Mark`s of
the rows they cover. An unreadable file is `Unreadable`, whose message names no cell.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError, iterparse

REQUIRED = ("given_name", "family_name", "nationality", "employer")
OPTIONAL = ("process", "region")
HEADER_WITHIN = 20  # rows searched for the header: room for a title, a date, a note
_SAVE_AGAIN = "a formula without a saved value; open and save the file in Excel"

Line = tuple[int, list[Any]]  # a line number and its cells


class Unreadable(Exception):
    """The file cannot be read as a cohort list at all."""


@dataclass(frozen=True)
class Mark:
    """Rows `first` to `last` of a sheet that cannot be read as they look: merged, or a formula."""

    first: int
    last: int
    reason: str
    column: str = ""  # the one column it is about, when it is one cell


@dataclass
class Cohort:
    """An opened cohort file: its header, where that is, and its rows, read anew by each `lines()`."""

    path: Path
    header: list[str]
    header_line: int
    sheet: str | None = None  # the workbook's sheet; None for a CSV
    marks: list[Mark] = field(default_factory=list)
    delimiter: str = ","

    def lines(self) -> Iterator[Line]:
        """The non-empty rows below the header, with their line (CSV) or row (XLSX) numbers."""
        if self.sheet is None:
            source = _csv_rows(self.path, self.delimiter)
        else:
            source = _sheet_rows(self.path, self.sheet)
        for number, cells in source:
            if number > self.header_line and any(str(c).strip() for c in cells):
                yield number, cells

    def row(self, line: int) -> str:
        """How a reader finds a row: `line 7` of a CSV, `row 7` of a sheet."""
        return f"line {line}" if self.sheet is None else f"row {line}"

    def where(self, line: int, last: int = 0) -> str:
        """`line 7`, `sheet 'Kohorte', row 7`, `sheet 'Kohorte', rows 5-6`; the file or sheet for 0."""
        sheet = f"sheet '{self.sheet}'" if self.sheet is not None else ""
        if not line:
            return sheet
        rows = f"rows {line}-{last}" if last > line else self.row(line)
        return f"{sheet}, {rows}" if sheet else rows

    def place(self, mark: Mark) -> str:
        """Where a mark is: `sheet 'Kohorte', row 9, column nationality`."""
        column = f", column {mark.column}" if mark.column else ""
        return self.where(mark.first, mark.last) + column


def open_cohort(path: Path, sheet: str | None = None) -> Cohort:
    """Find the header (and of a workbook the sheet); the rows are read later, by `Cohort.lines`."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise Unreadable("no such file")
    if suffix == ".csv":
        if sheet is not None:
            raise Unreadable("--sheet is for .xlsx workbooks; a CSV file has no sheets")
        return _open_csv(path)
    if suffix == ".xlsx":
        return _open_workbook(path, sheet)
    raise Unreadable("not a CSV or XLSX file; save the list as .csv (UTF-8) or .xlsx")


def normalise(cells: list[Any] | tuple[Any, ...]) -> list[str]:
    """Header cells as column names: `Given Name` -> `given_name`."""
    words = (str(c if c is not None else "").strip().lower() for c in cells)
    return [word.replace(" ", "_").replace("-", "_") for word in words]


def _is_header(cells: list[Any] | tuple[Any, ...]) -> bool:
    return set(REQUIRED) <= set(normalise(cells))


def _empty() -> Unreadable:
    return Unreadable(f"the file is empty; it needs a header line with {', '.join(REQUIRED)}")


# -- CSV -------------------------------------------------------------------------------------------


def _open_csv(path: Path) -> Cohort:
    lines = _text_lines(path)
    sample = list(islice(lines, HEADER_WITHIN))
    lines.close()
    if not any(text.strip() for text in sample):
        raise _empty()
    for delimiter in ",;\t":
        for number, cells in _sample_rows(sample, delimiter):
            if _is_header(cells):
                return Cohort(path, normalise(cells), number, delimiter=delimiter)
    # No row holds every required column: the first non-empty row is the header, and the check
    # of the header says which columns it lacks.
    first = next(text for text in sample if text.strip())
    delimiter = max(",;\t", key=first.count)  # spreadsheets in German locales write `;`
    for number, cells in _sample_rows(sample, delimiter):
        if any(c.strip() for c in cells):
            return Cohort(path, normalise(cells), number, delimiter=delimiter)
    raise _empty()


def _sample_rows(sample: list[str], delimiter: str) -> Iterator[Line]:
    reader = csv.reader(sample, delimiter=delimiter)
    try:
        for cells in reader:
            yield reader.line_num, cells  # the line a row ends on, as `_csv_rows` counts
    except csv.Error:
        return  # not this delimiter, or not CSV: said when the rows are read


def _text_lines(path: Path) -> Iterator[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            for text in file:
                if "\x00" in text:
                    raise Unreadable("not a CSV text file; export the list as CSV (UTF-8) or .xlsx")
                yield text
    except UnicodeDecodeError:
        raise Unreadable("not a UTF-8 text file; export the list as CSV (UTF-8) or .xlsx") from None


def _csv_rows(path: Path, delimiter: str) -> Iterator[Line]:
    reader = csv.reader(_text_lines(path), delimiter=delimiter)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        raise Unreadable(f"line {reader.line_num}: not valid CSV ({exc})") from None


# -- XLSX ------------------------------------------------------------------------------------------


def _workbook(path: Path) -> Any:
    from openpyxl import load_workbook  # only where a workbook is read
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, ParseError, KeyError, OSError, ValueError, TypeError):
        raise Unreadable("not an XLSX workbook; save the list as .xlsx or .csv (UTF-8)") from None


def _open_workbook(path: Path, wanted: str | None) -> Cohort:
    book = _workbook(path)
    try:
        names = [sheet.title for sheet in book.worksheets]  # chart sheets hold no rows
        if wanted is not None and wanted not in names:
            raise Unreadable(f"no sheet '{wanted}'; the sheets are {_listed(names)}")
        for name in [wanted] if wanted is not None else names:
            found = _header_in(book[name])
            if found is not None:
                number, cells = found
                return Cohort(path, normalise(cells), number, name,
                              _marks(path, book[name], normalise(cells), number))
        if wanted is None and len(names) > 1:
            # The sheets go unnamed: a name may be a person's, and this reaches Prefect.
            raise Unreadable(f"none of the {len(names)} sheets has a header row with {', '.join(REQUIRED)} "
                             f"within its first {HEADER_WITHIN} rows; name the sheet with --sheet")
        name = names[0] if wanted is None else wanted
        first = _first_row(book[name])
        if first is None:
            raise _empty()
        # The first non-empty row is taken as the header: the check of the header names what it lacks.
        return Cohort(path, normalise(first[1]), first[0], name)
    finally:
        book.close()


def _listed(names: list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def _header_in(sheet: Any) -> tuple[int, tuple[Any, ...]] | None:
    for number, cells in _rows(sheet, HEADER_WITHIN):
        if _is_header(cells):
            return number, cells
    return None


def _first_row(sheet: Any) -> tuple[int, tuple[Any, ...]] | None:
    for number, cells in _rows(sheet):
        if any(str(c if c is not None else "").strip() for c in cells):
            return number, cells
    return None


def _sheet_rows(path: Path, name: str) -> Iterator[Line]:
    book = _workbook(path)
    try:
        for number, values in _rows(book[name]):
            yield number, ["" if v is None else v for v in values]
    finally:
        book.close()


def _rows(sheet: Any, last: int | None = None) -> Iterator[tuple[int, tuple[Any, ...]]]:
    sheet.reset_dimensions()  # a workbook's stored dimensions may be wrong: read every row
    try:
        yield from enumerate(sheet.iter_rows(max_row=last, values_only=True), start=1)
    except (ParseError, ValueError, TypeError, KeyError, zipfile.BadZipFile, OSError):
        raise Unreadable("a sheet of the workbook cannot be read; open the file and save it again "
                         "as .xlsx, or as .csv (UTF-8)") from None


# -- what the read-only reader does not show: merged cells, formulas without a saved value ---------

_CELL = re.compile(r"([A-Z]{1,3})([0-9]+)")


def _marks(path: Path, sheet: Any, header: list[str], header_line: int) -> list[Mark]:
    """Read from the sheet's XML itself, streaming: openpyxl's read-only mode shows neither a merge
    (the covered cells read as empty) nor a formula whose value was never saved (it reads as empty)."""
    columns = {index: name for index, name in enumerate(header, start=1) if name}
    marks: list[Mark] = []
    try:
        with zipfile.ZipFile(path) as archive, archive.open(sheet._worksheet_path) as xml:
            marks = list(_scan(xml, columns, header_line))
    except (KeyError, ValueError, ParseError, zipfile.BadZipFile, OSError):
        raise Unreadable("not an XLSX workbook; save the list as .xlsx or .csv (UTF-8)") from None
    return sorted(marks, key=lambda m: (m.first, m.last))


def _scan(xml: Any, columns: dict[int, str], header_line: int) -> Iterator[Mark]:
    row, column, parent = 0, 0, None
    formula = value = False
    for event, element in iterparse(xml, events=("start", "end")):
        tag = element.tag.rsplit("}", 1)[-1]
        if event == "start":
            if tag == "sheetData":
                parent = element
            elif tag == "row":
                row = int(element.get("r") or row + 1)
                column = 0
            elif tag == "c":
                # A formula whose text result is empty is saved as an empty value of type "str";
                # an empty value of any other type is one never computed.
                formula, value = False, element.get("t") == "str"
                where = _CELL.fullmatch(element.get("r") or "")
                column = _column_number(where.group(1)) if where else column + 1
            continue
        if tag == "f":
            formula = True
        elif tag == "v":
            value = value or bool((element.text or "").strip())
        elif tag == "c":
            if formula and not value and row > header_line and column in columns:
                yield Mark(row, row, _SAVE_AGAIN, columns[column])
        elif tag == "row" and parent is not None:
            parent.clear()  # rows read are dropped: memory stays flat however long the sheet
        elif tag == "mergeCell":
            mark = _merged(element.get("ref") or "", columns, header_line)
            if mark is not None:
                yield mark


def _merged(ref: str, columns: dict[int, str], header_line: int) -> Mark | None:
    corners = [_CELL.fullmatch(part) for part in ref.split(":")]
    if len(corners) != 2 or not all(corners):
        return None
    (left, top), (right, bottom) = ((_column_number(c.group(1)), int(c.group(2))) for c in corners if c)
    named = [columns[i] for i in range(left, right + 1) if i in columns]
    if bottom < header_line or not named:
        return None  # a merged title above the header, or beside the named columns: harmless
    which = f"column {named[0]}" if len(named) == 1 else f"columns {', '.join(named)}"
    return Mark(max(top, header_line), bottom, f"merged cells in {which}; unmerge them")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number
