"""Read an uploaded table (the first worksheet of an XLSX, or a CSV) row by row, stopping at
each limit as soon as it is passed; nothing a file says about its own size is believed.

An XLSX is a ZIP of XML parts. Its worksheet may claim any dimension and its members any
size, so the parts are parsed here as a stream with expat, cell by cell: only cells that
hold a value are kept, rows are never padded, a DTD is refused before any entity could be
declared, and every part is counted as it inflates. Memory is bounded by the limits below
(the rows kept are at most MAX_ROWS + 1 of MAX_COLUMNS cells), not by what the file claims.
"""
from __future__ import annotations

import csv
import io
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import Any
from xml.parsers import expat

from flask_babel import gettext as _
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel, from_ISO8601

from ..errors import DomainError, field_error
from ..text import normalize

MB = 1 << 20
MAX_FILE_BYTES = 8 * MB          # the upload itself, XLSX or CSV
MAX_ROWS = 5000                  # data rows, after the headings in row 1
MAX_ROWS_READ = 10 * MAX_ROWS    # rows read, blank ones included (each costs time to parse)
MAX_COLUMNS = 20                 # the template has 13; a few more for officers' own notes
MAX_CELL_CHARS = 1000            # the longest field kept is 300 characters
MAX_LINE_CHARS = 32 * 1024       # one CSV row, quoted line breaks included
MAX_MEMBERS = 1000               # an XLSX from Excel has about a dozen
MAX_SHEET_BYTES = 16 * MB        # the worksheet once inflated; 5,000 full rows take about 5 MB
MAX_STRINGS_BYTES = 4 * MB       # the shared strings table once inflated
MAX_PART_BYTES = 4 * MB          # the workbook, its relationships and its styles once inflated
CHUNK = 64 * 1024

Row = tuple[int, list[Any]]      # the row's number in the file (headings are 1), its values
AddRow = Callable[[int, list[Any]], None]


def read_table(filename: str, content: bytes) -> tuple[list[Any], list[Row]]:
    """The headings (row 1) and the data rows that hold a value, each with its number.
    Raises a validation error on the `file` field for any file past a limit or unreadable."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        read = _read_xlsx
    elif name.endswith((".csv", ".txt")):
        read = _read_csv
    else:
        raise field_error("file", _("Chỉ nhận tệp .xlsx hoặc .csv."))
    if len(content) > MAX_FILE_BYTES:
        raise _refused(_("Tệp lớn hơn %(size)s MB.", size=MAX_FILE_BYTES // MB))
    table = _Table()
    read(content, table.add)
    return table.headings, table.rows


class _Table:
    """What the readers hand over row by row, blank rows as no values; one row past a limit
    stops the reading."""

    def __init__(self) -> None:
        self.headings: list[Any] = []
        self.rows: list[Row] = []
        self.read = 0

    def add(self, number: int, values: list[Any]) -> None:
        self.read += 1
        if self.read > MAX_ROWS_READ:
            raise _refused(_("Tệp có hơn %(max)s dòng, kể cả dòng trống; hãy xóa các dòng trống thừa.",
                             max=MAX_ROWS_READ))
        if not values:
            return
        if number == 1:
            self.headings = values
        elif len(self.rows) == MAX_ROWS:
            raise _refused(_("Tệp có hơn %(max)s dòng dữ liệu; mỗi lần nhập tối đa %(max)s dòng.",
                             max=MAX_ROWS))
        else:
            self.rows.append((number, values))


def _refused(message: str) -> DomainError:
    return field_error("file", message)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_cell(row: int, column: int, value: Any) -> None:
    """Refuse a value beyond the column limit or longer than a cell may be."""
    if column > MAX_COLUMNS:
        raise _refused(_("Dòng %(row)s có dữ liệu ở cột %(column)s; tệp chỉ được có tối đa %(max)s cột.",
                         row=row, column=get_column_letter(column), max=MAX_COLUMNS))
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        raise _cell_too_long(row, column)


def _cell_too_long(row: int, column: int) -> DomainError:
    return _refused(_("Ô %(cell)s dài hơn %(max)s ký tự.", cell=f"{get_column_letter(column)}{row}",
                      max=MAX_CELL_CHARS))


# --- CSV ---------------------------------------------------------------------------------------------

def _read_csv(content: bytes, add: AddRow) -> None:
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    number, chars = 1, 0

    def lines() -> Iterator[str]:
        """Physical lines, refused once the row they belong to passes MAX_LINE_CHARS."""
        nonlocal chars
        while line := text.readline(MAX_LINE_CHARS + 1):
            chars += len(line)
            if chars > MAX_LINE_CHARS:
                raise _refused(_("Dòng %(row)s dài hơn %(max)s ký tự.", row=number, max=MAX_LINE_CHARS))
            yield line

    source = lines()
    try:
        first = next(source, "")
        delimiter = ";" if first.count(";") > first.count(",") else ","
        reader = csv.reader(_chain(first, source), delimiter=delimiter)
        for fields in reader:
            for column, value in enumerate(fields, start=1):
                if not _blank(value):
                    _check_cell(number, column, value)
            blank = all(_blank(v) for v in fields)
            add(number, [] if blank else [normalize(v) for v in fields[:MAX_COLUMNS]])
            number, chars = number + 1, 0
    except UnicodeDecodeError:
        raise _refused(_("Tệp CSV phải được lưu với bảng mã UTF-8.")) from None
    except csv.Error:
        raise _refused(_("Không đọc được tệp CSV ở dòng %(row)s: tệp hỏng hoặc sai định dạng.",
                         row=number)) from None


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


# --- XLSX --------------------------------------------------------------------------------------------

def _damaged() -> DomainError:
    return _refused(_("Không đọc được tệp Excel (.xlsx): tệp hỏng hoặc sai định dạng."))


# What zipfile (a damaged member, an unknown compression, encryption), zlib and expat raise for a
# damaged file, and what a cell reference, row number or shared-string index that is not one raises.
UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, expat.ExpatError,
              ValueError, IndexError, KeyError)


def _read_xlsx(content: bytes, add: AddRow) -> None:
    if not _few_members(content):
        raise _refused(_("Tệp Excel có hơn %(max)s thành phần; hãy lưu một tệp chỉ chứa danh sách "
                         "cần nhập.", max=MAX_MEMBERS))
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise _damaged() from None
    with archive:
        try:
            book = _Workbook(archive)
            _parse(archive, book.sheet, MAX_SHEET_BYTES, _Sheet(add, book.strings, book.date_styles, book.epoch))
        except UNREADABLE:
            raise _damaged() from None


END = b"PK\x05\x06"             # a ZIP's end of central directory record
ZIP64_LOCATOR = b"PK\x06\x07"   # just before it when the archive needs 64-bit counts


def _few_members(content: bytes) -> bool:
    """Whether the central directory that zipfile would read (found as zipfile finds it) holds at
    most MAX_MEMBERS entries: zipfile parses and keeps every entry when it opens a file, which
    for the 100,000 empty members an 8 MB file can hold takes seconds and 50 MB."""
    if content[-22:-18] == END and content[-2:] == b"\0\0":
        end = len(content) - 22
    else:
        end = content.rfind(END, max(0, len(content) - 22 - 0xFFFF))
    if end < 0 or end + 22 > len(content):
        return True  # not a ZIP at all: zipfile says so
    if end >= 20 and content[end - 20:end - 16] == ZIP64_LOCATOR:
        return False  # 64-bit counts: more than 65,535 members, or a record that lies
    entries, size = struct.unpack_from("<HI", content, end + 10)
    return entries <= MAX_MEMBERS and size <= MAX_MEMBERS * 1024


def _parse(archive: zipfile.ZipFile, name: str, limit: int, handler: Any) -> None:
    """Feed one part to expat a chunk at a time; the handler's callbacks see each element as
    it is parsed, and a limit they raise stops the parsing there."""
    info = archive.getinfo(name)
    too_large = _("Tệp Excel quá lớn khi giải nén: phần «%(part)s» vượt %(size)s MB; hãy lưu một tệp "
                  "chỉ chứa danh sách cần nhập.", part=name, size=limit // MB)
    if info.file_size > limit:
        raise _refused(too_large)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.data
    inflated = 0
    with archive.open(info) as stream:
        while chunk := stream.read(CHUNK):
            inflated += len(chunk)
            if inflated > limit:  # zipfile stops at the declared size; this does not rely on it
                raise _refused(too_large)
            parser.Parse(chunk, False)
        parser.Parse(b"", True)


def _refuse_dtd(*_args: Any) -> None:
    raise _refused(_("Tệp Excel chứa khai báo DTD (<!DOCTYPE …>), không được phép; "
                     "hãy mở tệp bằng Excel và lưu lại."))


def _local(name: str) -> str:
    return name.rpartition(":")[2]


class _Elements:
    """Collects (tag, attributes, parent tag) of the elements named, from a small part."""

    def __init__(self, wanted: set[str]) -> None:
        self.wanted, self.found, self.stack = wanted, [], []  # type: ignore[var-annotated]

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag in self.wanted:
            self.found.append((tag, attrs, self.stack[-1] if self.stack else ""))
        self.stack.append(tag)

    def end(self, name: str) -> None:
        self.stack.pop()

    def data(self, text: str) -> None:
        pass


def _elements(archive: zipfile.ZipFile, name: str, wanted: set[str]) -> list[tuple[str, dict[str, str], str]]:
    handler = _Elements(wanted)
    _parse(archive, name, MAX_PART_BYTES, handler)
    return handler.found


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, the target's member name) of a part's relationships."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in archive.namelist():
        return {}
    found = {}
    for _tag, attrs, _parent in _elements(archive, rels, {"Relationship"}):
        target = attrs.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        found[attrs.get("Id", "")] = (attrs.get("Type", "").rpartition("/")[2], path)
    return found


class _Workbook:
    """Where the first worksheet, the shared strings and the styles are, and the date epoch."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        package = _relationships(archive, "")
        workbook = next((path for kind, path in package.values() if kind == "officeDocument"), "xl/workbook.xml")
        parts = _relationships(archive, workbook)
        self.epoch = CALENDAR_WINDOWS_1900
        sheets = []
        for tag, attrs, _parent in _elements(archive, workbook, {"workbookPr", "sheet"}):
            if tag == "workbookPr" and attrs.get("date1904", "").lower() in ("1", "true"):
                self.epoch = CALENDAR_MAC_1904
            elif tag == "sheet":
                sheets += [v for k, v in attrs.items() if ":" in k and _local(k) == "id"][:1]
        worksheets = [parts[i][1] for i in sheets if i in parts and parts[i][0] == "worksheet"]
        if not worksheets:
            raise _damaged()
        self.sheet = worksheets[0]
        self.strings: list[str] = []
        self.date_styles: frozenset[int] = frozenset()
        for kind, path in parts.values():
            if kind == "sharedStrings":
                self.strings = _shared_strings(archive, path)
            elif kind == "styles":
                self.date_styles = _date_styles(archive, path)


class _Strings:
    """The text of each <si>, its phonetic guides (<rPh>) left out, as Excel shows it."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.pieces: list[str] = []
        self.collecting = False
        self.phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag == "si":
            self.pieces = []
        elif tag == "rPh":
            self.phonetic += 1
        elif tag == "t" and not self.phonetic:
            self.collecting = True

    def end(self, name: str) -> None:
        tag = _local(name)
        if tag == "si":
            self.strings.append(normalize("".join(self.pieces)))
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "t":
            self.collecting = False

    def data(self, text: str) -> None:
        if self.collecting:
            self.pieces.append(text)


def _shared_strings(archive: zipfile.ZipFile, name: str) -> list[str]:
    handler = _Strings()
    _parse(archive, name, MAX_STRINGS_BYTES, handler)
    return handler.strings


def _date_styles(archive: zipfile.ZipFile, name: str) -> frozenset[int]:
    """The cell styles (indexes into cellXfs) whose number format shows a date."""
    formats: dict[str, str] = {str(k): v for k, v in BUILTIN_FORMATS.items()}
    styles = []
    for tag, attrs, parent in _elements(archive, name, {"numFmt", "xf"}):
        if tag == "numFmt":
            formats[attrs.get("numFmtId", "")] = attrs.get("formatCode", "")
        elif parent == "cellXfs":
            styles.append(attrs.get("numFmtId", "0"))
    return frozenset(i for i, fmt in enumerate(styles) if is_date_format(formats.get(fmt)))


def _column(ref: str) -> int:
    """1 for "A7", 28 for "AB7"; ValueError for anything that is not a cell reference."""
    letters = ref.rstrip("0123456789")
    if not letters or len(letters) > 3 or not letters.isascii() or not letters.isalpha():
        raise ValueError(ref)
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


class _Sheet:
    """Rows of a worksheet as they are parsed: only cells with a value, checked against the
    limits as each one ends, each row handed to `add` as it ends."""

    def __init__(self, add: AddRow, strings: list[str], date_styles: frozenset[int], epoch: Any) -> None:
        self.add, self.strings, self.date_styles, self.epoch = add, strings, date_styles, epoch
        self.number = 0
        self.values: list[Any] = []
        # The cell's column is worked out only when it holds a value (most cells of a
        # formatted sheet do not): its reference, or the last reference and how far past it.
        self.ref: str | None = None
        self.after = 0
        self.kind = self.style = ""
        self.pieces: list[str] = []
        self.length = 0
        self.collecting = False
        self.phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = _local(name) if ":" in name else name
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                self.ref, self.after = ref, 0
            else:
                self.after += 1
            self.kind, self.style = attrs.get("t", "n"), attrs.get("s", "")
            self.pieces, self.length = [], 0
        elif tag == "row":
            number = attrs.get("r")
            self.number = int(number) if number else self.number + 1
            self.values, self.ref, self.after = [], None, 0
        elif tag == "rPh":
            self.phonetic += 1
        elif tag in ("v", "t") and not self.phonetic:
            self.collecting = True

    def data(self, text: str) -> None:
        if self.collecting:
            self.length += len(text)
            if self.length > MAX_CELL_CHARS:
                raise _cell_too_long(self.number, self._column())
            self.pieces.append(text)

    def end(self, name: str) -> None:
        tag = _local(name) if ":" in name else name
        if tag in ("v", "t"):
            self.collecting = False
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "c":
            value = self._value("".join(self.pieces)) if self.pieces else None
            if _blank(value):
                return
            column = self._column()
            _check_cell(self.number, column, value)
            self.values.extend([None] * (column - len(self.values)))
            self.values[column - 1] = value
        elif tag == "row":
            self.add(self.number, self.values)

    def _column(self) -> int:
        return (_column(self.ref) if self.ref else 0) + self.after

    def _value(self, raw: str) -> Any:
        """The cell's value as openpyxl reads it with data_only: the formula's last result."""
        kind = self.kind
        if kind == "s":
            if not raw.isdigit():
                raise ValueError(raw)
            return self.strings[int(raw)]
        if kind in ("inlineStr", "str", "e"):
            return normalize(raw)
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "d":
            try:
                return from_ISO8601(raw)
            except ValueError:
                return normalize(raw)
        try:
            number: int | float = float(raw) if any(c in raw for c in ".eE") else int(raw)
        except ValueError:
            return normalize(raw)
        if self.style.isdigit() and int(self.style) in self.date_styles:
            try:
                return from_excel(number, self.epoch)
            except (ValueError, OverflowError, TypeError):
                return number
        return number

