"""Streaming PDF writer: pages go out as they are made, fonts are subset and written last."""

from __future__ import annotations

import hashlib
import zlib
from array import array
from collections.abc import Iterable
from typing import BinaryIO

from traceability.render._ttf import TrueTypeFont

# Object numbers fixed up front so every page can refer to them before they exist.
_CATALOG, _PAGES, _RESOURCES, _INFO = 1, 2, 3, 4
_FIRST_FONT = 5
_OBJECTS_PER_FONT = 5  # Type0, CIDFont, descriptor, font program, ToUnicode


class PdfFont:
    """A TrueType font used by a PDF: its resource name and the characters drawn with it."""

    def __init__(self, resource: str, font: TrueTypeFont, base_name: str) -> None:
        self.resource = resource
        self.font = font
        self.base_name = base_name
        self.used: set[str] = set()


def _pdf_string(text: str) -> bytes:
    # UTF-16BE with BOM is the PDF text-string form that keeps Vietnamese intact.
    return b"<" + ("\ufeff" + text).encode("utf-16-be").hex().upper().encode() + b">"


class StreamingPdfWriter:
    """Writes a PDF page by page to `out`; only byte offsets are kept in memory."""

    def __init__(self, out: BinaryIO, fonts: list[PdfFont], *, title: str = "") -> None:
        self._out = out
        self._fonts = fonts
        self._position = 0
        self._offsets = array("q", [0] * (_FIRST_FONT + _OBJECTS_PER_FONT * len(fonts)))
        self._page_ids = array("q")
        self._title = title
        # The binary comment tells transfer tools the file is not plain text.
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        font_refs = b" ".join(
            b"/%s %d 0 R" % (f.resource.encode(), _FIRST_FONT + _OBJECTS_PER_FONT * i)
            for i, f in enumerate(fonts)
        )
        self._object(_RESOURCES, b"<< /Font << " + font_refs + b" >> /ProcSet [/PDF /Text] >>")

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._position += len(data)

    def _new_id(self) -> int:
        self._offsets.append(0)
        return len(self._offsets) - 1

    def _object(self, number: int, body: bytes) -> None:
        self._offsets[number] = self._position
        self._write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    def _stream(self, number: int, data: bytes, extra: bytes = b"", *,
                compressed: bool = False) -> None:
        if not compressed:
            data = zlib.compress(data, 6)
        self._object(
            number,
            b"<< /Length %d /Filter /FlateDecode%s >>\nstream\n" % (len(data), extra)
            + data + b"\nendstream",
        )

    def add_page(self, width_pt: float, height_pt: float, content: bytes, *,
                 compressed: bool = False) -> None:
        """Append one page whose content stream is `content` (zlib-compressed if flagged)."""
        content_id = self._new_id()
        self._stream(content_id, content, compressed=compressed)
        page_id = self._new_id()
        self._page_ids.append(page_id)
        self._object(
            page_id,
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.3f %.3f] /Resources %d 0 R "
            b"/Contents %d 0 R >>" % (_PAGES, width_pt, height_pt, _RESOURCES, content_id),
        )

    @property
    def page_count(self) -> int:
        return len(self._page_ids)

    def close(self) -> None:
        """Write the page tree, the subset fonts, the cross-reference table and trailer."""
        # Page list and xref go out in slices: a 100,000-page roll would otherwise build
        # tens of megabytes of small byte strings at the very end.
        self._offsets[_PAGES] = self._position
        self._write(b"%d 0 obj\n<< /Type /Pages /Count %d /Kids [" % (_PAGES, self.page_count))
        for chunk in _slices(self._page_ids):
            self._write(b"".join(b"%d 0 R " % p for p in chunk))
        self._write(b"] >>\nendobj\n")
        self._object(_CATALOG, b"<< /Type /Catalog /Pages %d 0 R >>" % _PAGES)
        info = b"<< /Producer " + _pdf_string("OCOP Trace")
        if self._title:
            info += b" /Title " + _pdf_string(self._title)
        self._object(_INFO, info + b" >>")
        for i, font in enumerate(self._fonts):
            self._write_font(_FIRST_FONT + _OBJECTS_PER_FONT * i, font)

        xref_at = self._position
        self._write(b"xref\n0 %d\n0000000000 65535 f \n" % len(self._offsets))
        for chunk in _slices(self._offsets[1:]):
            self._write(b"".join(b"%010d 00000 n \n" % offset for offset in chunk))
        self._write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                    % (len(self._offsets), _CATALOG, _INFO, xref_at))

    def _write_font(self, first: int, pdf_font: PdfFont) -> None:
        font = pdf_font.font
        type0, cid_font, descriptor, program, to_unicode = range(first, first + 5)
        chars = sorted(pdf_font.used)
        gid_to_char: dict[int, str] = {}
        for ch in chars:
            gid_to_char.setdefault(font.cmap.get(ord(ch), 0), ch)
        gids = sorted(gid_to_char)
        # Subset tag from the glyph set: same glyphs, same name (PDF 32000-1, 9.6.4).
        digest = hashlib.sha1(repr(gids).encode()).digest()
        tag = "".join(chr(65 + b % 26) for b in digest[:6])
        name = f"{tag}+{pdf_font.base_name}".encode()
        scale = 1000 / font.units_per_em

        self._object(
            type0,
            b"<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H "
            b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (name, cid_font, to_unicode),
        )
        widths = b" ".join(b"%d [%d]" % (g, round(font.advances[g] * scale)) for g in gids)
        self._object(
            cid_font,
            b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s "
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
            b"/FontDescriptor %d 0 R /DW %d /W [%s] /CIDToGIDMap /Identity >>"
            % (name, descriptor, round(font.advances[0] * scale), widths),
        )
        bbox = b" ".join(b"%d" % round(v * scale) for v in font.bbox)
        # Flags 4 (symbolic): the glyphs go beyond Adobe's standard Latin set.
        self._object(
            descriptor,
            b"<< /Type /FontDescriptor /FontName /%s /Flags 4 /FontBBox [%s] "
            b"/ItalicAngle %d /Ascent %d /Descent %d /CapHeight %d /StemV 80 "
            b"/FontFile2 %d 0 R >>"
            % (name, bbox, round(font.italic_angle), round(font.ascent * scale),
               round(font.descent * scale), round(font.cap_height * scale), program),
        )
        subset = font.subset(set(gids))
        self._stream(program, subset, b" /Length1 %d" % len(subset))
        self._stream(to_unicode, _to_unicode_cmap(gid_to_char.items()))


def _slices(values: array[int], size: int = 8192) -> Iterable[array[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _to_unicode_cmap(mapping: Iterable[tuple[int, str]]) -> bytes:
    entries = [b"<%04X> <%s>" % (gid, ch.encode("utf-16-be").hex().upper().encode())
               for gid, ch in mapping]
    blocks = []
    # A bfchar block may hold at most 100 entries.
    for i in range(0, len(entries), 100):
        chunk = entries[i:i + 100]
        blocks.append(b"%d beginbfchar\n%s\nendbfchar" % (len(chunk), b"\n".join(chunk)))
    return (
        b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        b"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + b"\n".join(blocks)
        + b"\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
