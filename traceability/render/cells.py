"""Spreadsheet cells from user text that stay text: no formula ever runs in an export.

A producer's product name, a counterfeit report's message or a lot code is typed by people
outside the office; an officer opens the periodic report and a print shop opens labels.csv
in Excel or LibreOffice. Text such as `=HYPERLINK("http://…?"&A2,"…")` or
`=1+cmd|' /C calc'!A0` must arrive as the characters typed (OWASP, "CSV Injection"):

- CSV: a value that starts with a character a spreadsheet reads as the start of a formula
  (= + - @, tab, carriage return, line feed, and their full-width forms) gets a leading
  apostrophe, which spreadsheets hide and which makes the cell text.
- XLSX: every string is written as a string cell (openpyxl would make `=…` a formula), with
  the "quote prefix" style where it starts like a formula, so editing the cell keeps it text;
  characters XML cannot hold (most control characters) are dropped instead of failing the
  whole workbook.
"""
from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def looks_like_formula(value: str) -> bool:
    return value.startswith(FORMULA_STARTS)


def csv_text(value: Any) -> Any:
    """A CSV field: strings that could start a formula are prefixed with an apostrophe;
    numbers and other values are left as they are."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


def xlsx_cell(sheet: Any, value: Any) -> Any:
    """An openpyxl cell for `value` on `sheet` (for `sheet.append`): strings are always
    string cells, never formulas."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

    if not isinstance(value, str):
        return value
    cell = Cell(sheet, value=None)
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.data_type = "s"
    if looks_like_formula(cell.value):
        cell.quotePrefix = True
    return cell
