"""Reading an uploaded register: streaming, within limits checked as they are passed, never
trusting what the file says about itself (its dimension, its members' sizes, a DTD). Every
refused file is a 422 naming the file, on the API and on the officer's form, and nothing is
written or kept."""
from __future__ import annotations

import io
import os
import tracemalloc
import unicodedata
from datetime import date

import pytest
import sqlalchemy as sa

from tests.factories import tax_code
from tests.oversight.crafted import billion_laughs, deflated_padding, row_xml, sheet, xlsx
from tests.oversight.test_imports import HEADINGS, _counts, _post, _row
from traceability.errors import ValidationFailed
from traceability.extensions import db as _db
from traceability.models import Producer, Product
from traceability.oversight import sheets
from traceability.oversight.imports import COLUMNS

MB = 1 << 20


def _refused(exc: pytest.ExceptionInfo) -> str:
    assert list(exc.value.errors) == ["file"]
    return exc.value.errors["file"][0]


def _read_measured(content: bytes, name: str = "so.xlsx") -> tuple[str, int]:
    """The refusal's message and the peak bytes allocated while reading (a measure that,
    unlike seconds, a busy machine does not blur)."""
    tracemalloc.start()
    try:
        with pytest.raises(ValidationFailed) as exc:
            sheets.read_table(name, content)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return _refused(exc), peak


# --- what a file says about itself is not believed ----------------------------------------------

def test_a_declared_dimension_and_far_rows_pad_nothing(app):
    """`<dimension ref="A1:XFD1048576"/>` made the reader pad every row to 16,384 columns and
    every missing row up to the last one: gigabytes from a 2 KB file."""
    far = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>cuối</t></is></c></row>'.encode()
    content = xlsx(sheet([row_xml(1, HEADINGS), row_xml(3, ["a", None, "c"]), far],
                         dimension="A1:XFD1048576"))
    assert len(content) < 4 * 1024
    tracemalloc.start()
    try:
        headings, rows = sheets.read_table("so.xlsx", content)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert headings == HEADINGS
    assert rows == [(3, ["a", None, "c"]), (1048576, ["cuối"])]
    assert peak < 2 * MB


def test_a_value_beyond_the_column_limit_refuses_the_file_naming_the_column(app):
    content = xlsx(sheet([row_xml(1, HEADINGS),
                          b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'],
                         dimension="A1:XFD1048576"))
    message, peak = _read_measured(content)
    assert message == f"Dòng 1048576 có dữ liệu ở cột XFD; tệp chỉ được có tối đa {sheets.MAX_COLUMNS} cột."
    assert peak < 2 * MB


def test_cells_without_a_reference_follow_the_cell_before(app):
    cells = (b'<row r="2"><c><v>1</v></c><c r="D2"><v>4</v></c><c><v>5</v></c></row>'
             b'<row><c t="inlineStr"><is><t>a</t></is></c></row>')
    assert sheets.read_table("so.xlsx", xlsx(sheet([row_xml(1, HEADINGS), cells])))[1] == [
        (2, [1, None, None, 4, 5]), (3, ["a"])]


def test_a_damaged_sheet_is_refused_as_unreadable(app):
    damaged = {
        "not a cell reference": b'<row r="2"><c r="2A"><v>1</v></c></row>',
        "a shared string that is not there": b'<row r="2"><c r="A2" t="s"><v>7</v></c></row>',
        "a negative shared string": b'<row r="2"><c r="A2" t="s"><v>-1</v></c></row>',
        "an undeclared entity": b'<row r="2"><c r="A2" t="inlineStr"><is><t>&nope;</t></is></c></row>',
        "unclosed": b'<row r="2"><c r="A2">',
    }
    for case, row in damaged.items():
        with pytest.raises(ValidationFailed) as exc:
            sheets.read_table("so.xlsx", xlsx(sheet([row_xml(1, HEADINGS), row])))
        assert _refused(exc) == "Không đọc được tệp Excel (.xlsx): tệp hỏng hoặc sai định dạng.", case


def test_empty_cells_beyond_the_column_limit_are_ignored(app):
    styled = b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c><c r="XFD2" s="1"/></row>'
    assert sheets.read_table("so.xlsx", xlsx(sheet([row_xml(1, HEADINGS), styled])))[1] == [(2, ["x"])]


def test_reading_stops_at_the_first_row_past_the_row_limit(app):
    """A file of 200,000 rows is refused after MAX_ROWS + 1 data rows, in bounded memory;
    what follows them is never parsed (here it is not even XML)."""
    rows = (row_xml(n, [n]) for n in range(2, 200_002))
    message, peak = _read_measured(xlsx(sheet([row_xml(1, HEADINGS), *rows])))
    assert message == (f"Tệp có hơn {sheets.MAX_ROWS} dòng dữ liệu; "
                       f"mỗi lần nhập tối đa {sheets.MAX_ROWS} dòng.")
    assert peak < 8 * MB, peak

    rows = (row_xml(n, [n]) for n in range(2, sheets.MAX_ROWS + 3))
    garbage = [b"<not xml &&& " * 1000]
    assert _read_measured(xlsx(sheet([row_xml(1, HEADINGS), *rows, *garbage])))[0] == message


def test_blank_rows_do_not_count_towards_the_row_limit_but_are_not_free(app):
    """Blank rows (a formatted row, a line of commas) are skipped, up to a bound of their own:
    parsing a million of them would hold the worker for seconds."""
    rows = [row_xml(n, [n] if n % 2 else []) for n in range(2, 2 * sheets.MAX_ROWS + 2)]
    _headings, data = sheets.read_table("so.xlsx", xlsx(sheet([row_xml(1, HEADINGS), *rows])))
    assert len(data) == sheets.MAX_ROWS and data[-1] == (2 * sheets.MAX_ROWS + 1, [2 * sheets.MAX_ROWS + 1])

    message = (f"Tệp có hơn {sheets.MAX_ROWS_READ} dòng, kể cả dòng trống; "
               "hãy xóa các dòng trống thừa.")
    blank = (f'<row r="{n}"/>'.encode() for n in range(2, sheets.MAX_ROWS_READ + 2))
    garbage = [b"<not xml &&& " * 1000]  # never parsed
    assert _read_measured(xlsx(sheet([row_xml(1, HEADINGS), *blank, *garbage])))[0] == message
    commas = (",".join(HEADINGS) + "\n" + ",,,\n" * 1_000_000).encode()
    with pytest.raises(ValidationFailed) as exc:
        sheets.read_table("so.csv", commas)
    assert _refused(exc) == message


# --- zip bombs ---------------------------------------------------------------------------------------

def test_a_sheet_that_inflates_past_its_limit_is_refused_before_it_is_read(app):
    content = xlsx(sheet([row_xml(1, HEADINGS), *deflated_padding(sheets.MAX_SHEET_BYTES + 1)]))
    assert len(content) < sheets.MAX_SHEET_BYTES / 500
    message, peak = _read_measured(content)
    assert message == (f"Tệp Excel quá lớn khi giải nén: phần «xl/worksheets/sheet1.xml» vượt "
                       f"{sheets.MAX_SHEET_BYTES // MB} MB; hãy lưu một tệp chỉ chứa danh sách cần nhập.")
    assert peak < 2 * MB


def test_a_shared_strings_table_that_inflates_past_its_limit_is_refused(app):
    strings = [b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
               *deflated_padding(sheets.MAX_STRINGS_BYTES + 1), b"</sst>"]
    message, peak = _read_measured(xlsx(sheet([row_xml(1, HEADINGS)]), shared_strings=strings))
    assert "«xl/sharedStrings.xml»" in message and f"{sheets.MAX_STRINGS_BYTES // MB} MB" in message
    assert peak < 2 * MB


def test_a_file_with_thousands_of_members_is_refused_before_zipfile_lists_them(app):
    """zipfile parses every entry of the central directory when it opens a file (seconds and
    50 MB for the 100,000 an 8 MB file holds); the end record is read first, and a count
    that understates the directory does not help."""
    content = xlsx(sheet([row_xml(1, HEADINGS)]),
                   extra=[(f"xl/media/{i}.bin", b"") for i in range(20 * sheets.MAX_MEMBERS)])
    message = f"Tệp Excel có hơn {sheets.MAX_MEMBERS} thành phần; hãy lưu một tệp chỉ chứa danh sách cần nhập."
    refused, peak = _read_measured(content)
    assert refused == message and peak < MB
    end = content.rindex(b"PK\x05\x06")
    understated = content[:end + 8] + (5).to_bytes(2, "little") * 2 + content[end + 12:]
    assert _read_measured(understated)[0] == message


def test_a_file_over_the_byte_limit_is_refused_before_it_is_opened(app):
    for name in ("so.xlsx", "so.csv"):
        with pytest.raises(ValidationFailed) as exc:
            sheets.read_table(name, b"\0" * (sheets.MAX_FILE_BYTES + 1))
        assert _refused(exc) == f"Tệp lớn hơn {sheets.MAX_FILE_BYTES // MB} MB."


# --- DTDs ----------------------------------------------------------------------------------------------

DTD_MESSAGE = ("Tệp Excel chứa khai báo DTD (<!DOCTYPE …>), không được phép; "
               "hãy mở tệp bằng Excel và lưu lại.")
LAUGH = b'<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&xxe;</t></si></sst>')
DTD_FILES = {
    "billion laughs in the sheet": lambda: xlsx(sheet([row_xml(1, HEADINGS), LAUGH], dimension="A1:M2",
                                                      prolog=billion_laughs())),
    "external entity in the shared strings": lambda: xlsx(sheet([row_xml(1, HEADINGS)]), shared_strings=[XXE]),
    "a bare DOCTYPE in the workbook": lambda: xlsx(sheet([row_xml(1, HEADINGS)]), workbook=(
        b'<?xml version="1.0"?>\n<!DOCTYPE workbook>\n<workbook xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"/>')),
}


@pytest.mark.parametrize("crafted", DTD_FILES, ids=list(DTD_FILES))
def test_a_file_with_a_dtd_is_refused(app, crafted):
    message, peak = _read_measured(DTD_FILES[crafted]())
    assert message == DTD_MESSAGE
    assert peak < 2 * MB


# --- CSV ----------------------------------------------------------------------------------------------

def test_csv_is_read_with_the_same_limits(app):
    head = ",".join(HEADINGS) + "\r\n"
    too_many = (head + "x\r\n" * (sheets.MAX_ROWS + 10_000)).encode() + b"\xff" * 100  # never decoded
    with pytest.raises(ValidationFailed) as exc:
        sheets.read_table("so.csv", too_many)
    assert _refused(exc) == (f"Tệp có hơn {sheets.MAX_ROWS} dòng dữ liệu; "
                             f"mỗi lần nhập tối đa {sheets.MAX_ROWS} dòng.")

    wide = (head + "," * sheets.MAX_COLUMNS + "x\r\n").encode()
    with pytest.raises(ValidationFailed) as exc:
        sheets.read_table("so.csv", wide)
    assert "Dòng 2 có dữ liệu ở cột U;" in _refused(exc)

    trailing = (head + "a" + "," * 5000 + "\r\n\r\n,,,\r\nb\r\n").encode()
    assert sheets.read_table("so.csv", trailing)[1] == [(2, ["a"] + [""] * (sheets.MAX_COLUMNS - 1)), (5, ["b"])]


def test_a_csv_line_or_cell_too_long_is_refused_before_it_is_held(app):
    head = ",".join(HEADINGS) + "\r\n"
    commas = (head + "," * (6 * MB)).encode()
    tracemalloc.start()
    try:
        with pytest.raises(ValidationFailed) as exc:
            sheets.read_table("so.csv", commas)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert _refused(exc) == f"Dòng 2 dài hơn {sheets.MAX_LINE_CHARS} ký tự."
    assert peak < 2 * MB, peak
    quoted = (head + '"' + "a\r\n" * 20_000 + '"\r\n').encode()
    with pytest.raises(ValidationFailed) as exc:
        sheets.read_table("so.csv", quoted)
    assert _refused(exc) == f"Dòng 2 dài hơn {sheets.MAX_LINE_CHARS} ký tự."
    with pytest.raises(ValidationFailed) as exc:
        sheets.read_table("so.csv", (head + "x" * (sheets.MAX_CELL_CHARS + 1)).encode())
    assert _refused(exc) == f"Ô A2 dài hơn {sheets.MAX_CELL_CHARS} ký tự."


def test_a_long_xlsx_cell_is_refused_naming_it(app):
    content = xlsx(sheet([row_xml(1, HEADINGS), row_xml(7, ["a", "b", "x" * (sheets.MAX_CELL_CHARS + 1)])]))
    with pytest.raises(ValidationFailed) as exc:
        sheets.read_table("so.xlsx", content)
    assert _refused(exc) == f"Ô C7 dài hơn {sheets.MAX_CELL_CHARS} ký tự."


# --- what comes out: values as a spreadsheet program would show them ------------------------------------

def test_text_is_nfc_and_values_keep_their_types(app):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADINGS)
    ws.append([unicodedata.normalize("NFD", "Hợp tác xã Ễ"), 4300000007, None, 75.5, date(2025, 3, 15), True])
    ws["E2"].number_format = "DD/MM/YYYY"
    out = io.BytesIO()
    wb.save(out)
    headings, rows = sheets.read_table("so.xlsx", out.getvalue())
    assert headings == HEADINGS
    number, values = rows[0]
    assert number == 2
    assert values[0] == "Hợp tác xã Ễ" and unicodedata.is_normalized("NFC", values[0])
    assert values[1:4] == [4300000007, None, 75.5]
    assert values[4].date() == date(2025, 3, 15) and values[5] is True

    csv_rows = sheets.read_table("so.csv", ("\ufeff" + ";".join(HEADINGS) + "\n"
                                            + unicodedata.normalize("NFD", "Hộ Ễ;1") + "\n").encode())[1]
    assert csv_rows == [(2, ["Hộ Ễ", "1"])]


# --- what the officer gets ---------------------------------------------------------------------------------

REFUSED = {
    "dimension and a far cell": (lambda: xlsx(sheet([row_xml(1, HEADINGS),
                                                     b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'],
                                                    dimension="A1:XFD1048576")), "cột XFD"),
    "too many rows": (lambda: xlsx(sheet([row_xml(1, HEADINGS),
                                          *(row_xml(n, [n]) for n in range(2, sheets.MAX_ROWS + 3))])),
                      f"hơn {sheets.MAX_ROWS} dòng"),
    "zip bomb": (lambda: xlsx(sheet([row_xml(1, HEADINGS), *deflated_padding(sheets.MAX_SHEET_BYTES + 1)])),
                 "quá lớn khi giải nén"),
    "dtd": (DTD_FILES["billion laughs in the sheet"], "DTD"),
}


@pytest.mark.parametrize("crafted", REFUSED, ids=list(REFUSED))
@pytest.mark.parametrize("path", ["imports/dry-run", "imports"])
def test_the_api_answers_a_refused_file_with_a_422_naming_the_file(client, area, crafted, path):
    build, words = REFUSED[crafted]
    response = _post(client, area.officer, path, build())
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["status"] == 422 and list(body["errors"]) == ["file"] and words in body["errors"]["file"][0]
    assert _counts() == (0, 0, 0)


@pytest.mark.parametrize("crafted", REFUSED, ids=list(REFUSED))
def test_the_officers_form_shows_why_a_file_is_refused_and_keeps_nothing(client, sign_in, area, app, tmp_path,
                                                                          monkeypatch, crafted):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    build, words = REFUSED[crafted]
    sign_in(client, area.officer)
    response = client.post("/officer/imports", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(build()), "so.xlsx")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert words in html and 'name="token"' not in html
    assert _counts() == (0, 0, 0)
    assert not any(files for _dir, _sub, files in os.walk(tmp_path))


# --- one validation for the dry run and the import; text as the service keeps it ----------------------

def test_the_dry_run_and_the_import_agree_on_control_characters_and_keep_nfc(client, area):
    """Text cells are kept in NFC whatever form they were typed in; a control character is a
    row error naming its column, the same from the dry run and the import."""
    def csv_file(*rows: list) -> bytes:
        lines = [HEADINGS, *([("" if v is None else str(v)) for v in row] for row in rows)]
        return ("\ufeff" + "\r\n".join(";".join(line) for line in lines)).encode()

    good = _row(area, tax_code(), unicodedata.normalize("NFD", "Mật ong rừng"), "10/QĐ",
                producer_name=unicodedata.normalize("NFD", "Hợp tác xã Mật ong Ễ"))
    bad = _row(area, tax_code(), "Tỏi\x0bđen", "11/QĐ", address="Thôn\x001")
    content = csv_file(good, bad)

    dry = _post(client, area.officer, "imports/dry-run", content, "so.csv").get_json()
    errors = {f"row_{r['number']}": r["errors"] for r in dry["rows"] if r["errors"]}
    control = "Không được chứa ký tự điều khiển (ký tự ẩn, không in được)."
    assert errors == {"row_3": [f"«Địa chỉ»: {control}", f"«Tên sản phẩm»: {control}"]}
    imported = _post(client, area.officer, "imports", content, "so.csv")
    assert imported.status_code == 422 and imported.get_json()["errors"] == errors
    assert _counts() == (0, 0, 0)

    assert _post(client, area.officer, "imports", csv_file(good), "so.csv").status_code == 201
    assert _db.session.scalar(sa.select(Producer.name)) == "Hợp tác xã Mật ong Ễ"
    assert _db.session.scalar(sa.select(Product.name_vi)) == "Mật ong rừng"


def test_the_readme_states_the_limits_the_reader_applies():
    from pathlib import Path

    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8").split())
    stated = (f"as soon as it passes a limit: {sheets.MAX_FILE_BYTES // MB} MB; {sheets.MAX_ROWS:,} data rows "
              f"({sheets.MAX_ROWS_READ:,} rows counting blank ones); {sheets.MAX_COLUMNS} columns (the "
              f"template has {len(COLUMNS)}); {sheets.MAX_CELL_CHARS:,} characters a cell, "
              f"{sheets.MAX_LINE_CHARS:,} a CSV row; for an XLSX, {sheets.MAX_MEMBERS:,} ZIP members, "
              f"{sheets.MAX_SHEET_BYTES // MB} MB for the worksheet and {sheets.MAX_STRINGS_BYTES // MB} MB for "
              "the shared strings once inflated, and no DTD")
    assert stated in readme
