"""Spreadsheet cells: user text that stays text, and the CSV convention of the exports.

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

CSV exports for people (the periodic report, the import template) follow the Vietnamese
convention, which Excel set to Vietnamese regional settings opens as columns of numbers and
dates with no import step: UTF-8 with a BOM, fields separated by `;`, decimals with a comma
(`120,5`, no thousands separator), dates as `30/11/2026`, times in Vietnam time. The labels
CSV for print shops keeps commas (render/labels.py): it holds no decimals or dates, and
variable-data printing tools expect commas.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .. import formats

CSV_DELIMITER = ";"

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


def csv_value(value: Any) -> str:
    """A value as a field of a Vietnamese CSV (module docstring); text through csv_text."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        local = formats.to_vietnam(value)
        return f"{formats.date(local)} {local:%H:%M}"
    if isinstance(value, dt.date):
        return formats.date(value)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return formats.decimal(value, "vi", group=False)
    return csv_text(value)


def vietnamese_csv(headings: Iterable[Any], rows: Iterable[Iterable[Any]]) -> bytes:
    """A whole CSV file in the Vietnamese convention (module docstring)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow([csv_value(h) for h in headings])
    for row in rows:
        writer.writerow([csv_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
