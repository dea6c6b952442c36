"""A cohort file as rows of cells: a CSV (UTF-8, `,` `;` or tab) or an XLSX workbook's first sheet.

Only the reading: which header, which non-empty rows on which line. What the cells mean is checked
by tasks/cohort_import.py. An unreadable file is `Unreadable`, whose message names no cell.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REQUIRED = ("given_name", "family_name", "nationality", "employer")
OPTIONAL = ("process", "region")

Line = tuple[int, list[Any]]  # a line number and its cells


class Unreadable(Exception):
    """The file cannot be read as a cohort list at all."""


def read(path: Path) -> tuple[list[str], list[Line]]:
    """The normalised header and the non-empty rows with their line numbers."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise Unreadable("no such file")
    if suffix == ".csv":
        lines = _csv_lines(path)
    elif suffix == ".xlsx":
        lines = _xlsx_lines(path)
    else:
        raise Unreadable("not a CSV or XLSX file; save the list as .csv (UTF-8) or .xlsx")
    try:
        first = next(lines)
    except StopIteration:
        raise Unreadable(f"the file is empty; it needs a header line with {', '.join(REQUIRED)}") from None
    header = [str(c or "").strip().lower().replace(" ", "_").replace("-", "_") for c in first[1]]
    return header, list(lines)


def _csv_lines(path: Path) -> Iterator[Line]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("not a UTF-8 text file; export the list as CSV (UTF-8) or .xlsx") from None
    if "\x00" in text:
        raise Unreadable("not a CSV text file; export the list as CSV (UTF-8) or .xlsx")
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # spreadsheets in German locales write `;`
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                yield reader.line_num, cells
    except csv.Error as exc:
        raise Unreadable(f"line {reader.line_num}: not valid CSV ({exc})") from None


def _xlsx_lines(path: Path) -> Iterator[Line]:
    from openpyxl import load_workbook  # only where a workbook is read
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError):
        raise Unreadable("not an XLSX workbook; save the list as .xlsx or .csv (UTF-8)") from None
    try:
        sheet = book.active
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if v is None else v for v in values]
            if any(str(c).strip() for c in cells):
                yield number, cells
    finally:
        book.close()
