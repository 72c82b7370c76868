"""Hand-made XLSX files for the import's limits: written part by part with zipfile, so a file
that would take gigabytes to read takes kilobytes and milliseconds to make."""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

CONTENT_TYPES = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
PACKAGE_RELS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
WORKBOOK_RELS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
EMPTY_STRINGS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>')


def row_xml(number: int, values: Iterable[object]) -> bytes:
    """One row of inline strings and numbers (what a script that writes XLSX would make)."""
    cells = []
    for column, value in enumerate(values, start=1):
        ref = f"{get_column_letter(column)}{number}"
        if value is None or value == "":
            continue
        if isinstance(value, (int, float)):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        else:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'.encode()


def sheet(rows: Iterable[bytes], dimension: str | None = None, prolog: bytes = b"") -> Iterator[bytes]:
    """A worksheet part streamed from its rows; `dimension` is what it claims its size is."""
    head = SHEET_HEAD if not prolog else SHEET_HEAD.replace(b"\n", b"\n" + prolog + b"\n", 1)
    yield head
    if dimension:
        yield f'<dimension ref="{dimension}"/>'.encode()
    yield b"<sheetData>"
    yield from rows
    yield b"</sheetData></worksheet>"


def xlsx(sheet_parts: Iterable[bytes], *, shared_strings: Iterable[bytes] = (EMPTY_STRINGS,),
         workbook: bytes = WORKBOOK, extra: Iterable[tuple[str, bytes]] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        for name, parts in (("xl/worksheets/sheet1.xml", sheet_parts), ("xl/sharedStrings.xml", shared_strings)):
            with archive.open(name, "w", force_zip64=True) as member:
                for part in parts:
                    member.write(part)
        for name, data in extra:
            archive.writestr(name, data)
    return out.getvalue()


def deflated_padding(size: int, chunk: bytes = b" " * (1 << 20)) -> Iterator[bytes]:
    """`size` bytes of spaces, which deflate squeezes a thousandfold: the body of a zip bomb."""
    left = size
    while left > 0:
        piece = chunk[:left]
        left -= len(piece)
        yield piece


def billion_laughs(levels: int = 9) -> bytes:
    """The classic entity expansion: each entity ten times the one before."""
    lines = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{"&lol%d;" % (i - 1) * 10}">' for i in range(1, levels + 1)]
    return ("<!DOCTYPE worksheet [" + "".join(lines) + "]>").encode()
