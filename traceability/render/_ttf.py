"""Minimal TrueType reader and glyph-ID-preserving subsetter for embedding fonts in PDFs."""

from __future__ import annotations

import struct
from functools import cache
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"

# Tables a PDF CIDFontType2 program needs (PDF 32000-1, 9.9); cmap/name/post and the
# layout tables are dropped because the PDF maps codes straight to glyph IDs.
_KEEP_TABLES = (b"OS/2", b"cvt ", b"fpgm", b"glyf", b"head", b"hhea", b"hmtx", b"loca",
                b"maxp", b"prep")

# Composite glyph flags (OpenType 'glyf' spec).
_ARG_WORDS = 0x0001
_HAVE_SCALE = 0x0008
_MORE_COMPONENTS = 0x0020
_HAVE_XY_SCALE = 0x0040
_HAVE_2X2 = 0x0080


class TrueTypeFont:
    """The metrics and glyph data of one TrueType font file, read once per process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = path.read_bytes()
        data = self.data
        (num_tables,) = struct.unpack_from(">H", data, 4)
        self.tables: dict[bytes, tuple[int, int]] = {}
        for i in range(num_tables):
            tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            self.tables[tag] = (offset, length)

        head = self._table_offset(b"head")
        self.units_per_em: int = struct.unpack_from(">H", data, head + 18)[0]
        self.bbox: tuple[int, int, int, int] = struct.unpack_from(">4h", data, head + 36)
        index_to_loc_format = struct.unpack_from(">h", data, head + 50)[0]

        hhea = self._table_offset(b"hhea")
        ascent, descent = struct.unpack_from(">hh", data, hhea + 4)
        self.ascent: int = ascent
        self.descent: int = descent
        num_hmetrics = struct.unpack_from(">H", data, hhea + 34)[0]

        self.num_glyphs: int = struct.unpack_from(">H", data, self._table_offset(b"maxp") + 4)[0]

        hmtx = self._table_offset(b"hmtx")
        # hmtx stores (advance, lsb) pairs; keep the advances, the tail shares the last one.
        advances = list(struct.unpack_from(f">{2 * num_hmetrics}H", data, hmtx)[0::2])
        advances += [advances[-1]] * (self.num_glyphs - num_hmetrics)
        self.advances: list[int] = advances

        self.cap_height = self.ascent
        if b"OS/2" in self.tables:
            os2 = self._table_offset(b"OS/2")
            version = struct.unpack_from(">H", data, os2)[0]
            if version >= 2:
                self.cap_height = struct.unpack_from(">h", data, os2 + 88)[0]
        self.italic_angle = 0.0
        if b"post" in self.tables:
            raw = struct.unpack_from(">i", data, self._table_offset(b"post") + 4)[0]
            self.italic_angle = raw / 65536

        loca = self._table_offset(b"loca")
        if index_to_loc_format == 0:
            self.loca = [2 * v for v in struct.unpack_from(f">{self.num_glyphs + 1}H", data, loca)]
        else:
            self.loca = list(struct.unpack_from(f">{self.num_glyphs + 1}I", data, loca))

        self.cmap: dict[int, int] = self._read_cmap()

    def _table_offset(self, tag: bytes) -> int:
        return self.tables[tag][0]

    def _read_cmap(self) -> dict[int, int]:
        data = self.data
        cmap = self._table_offset(b"cmap")
        (num_subtables,) = struct.unpack_from(">H", data, cmap + 2)
        candidates: dict[tuple[int, int], int] = {}
        for i in range(num_subtables):
            platform, encoding, offset = struct.unpack_from(">HHI", data, cmap + 4 + 8 * i)
            candidates[(platform, encoding)] = cmap + offset
        # Prefer the full-Unicode table, fall back to the BMP one.
        for key in ((3, 10), (0, 4), (3, 1), (0, 3)):
            if key in candidates:
                sub = candidates[key]
                fmt = struct.unpack_from(">H", data, sub)[0]
                if fmt == 12:
                    return self._cmap_format12(sub)
                if fmt == 4:
                    return self._cmap_format4(sub)
        raise ValueError(f"{self.path.name}: no Unicode cmap subtable")

    def _cmap_format4(self, sub: int) -> dict[int, int]:
        data = self.data
        seg_count = struct.unpack_from(">H", data, sub + 6)[0] // 2
        ends = struct.unpack_from(f">{seg_count}H", data, sub + 14)
        starts_at = sub + 16 + 2 * seg_count
        starts = struct.unpack_from(f">{seg_count}H", data, starts_at)
        deltas = struct.unpack_from(f">{seg_count}h", data, starts_at + 2 * seg_count)
        range_at = starts_at + 4 * seg_count
        range_offsets = struct.unpack_from(f">{seg_count}H", data, range_at)
        result: dict[int, int] = {}
        for i in range(seg_count):
            start, end, delta, range_offset = starts[i], ends[i], deltas[i], range_offsets[i]
            if start == 0xFFFF:
                continue
            for code in range(start, end + 1):
                if range_offset == 0:
                    gid = (code + delta) & 0xFFFF
                else:
                    at = range_at + 2 * i + range_offset + 2 * (code - start)
                    gid = struct.unpack_from(">H", data, at)[0]
                    if gid:
                        gid = (gid + delta) & 0xFFFF
                if gid:
                    result[code] = gid
        return result

    def _cmap_format12(self, sub: int) -> dict[int, int]:
        data = self.data
        (num_groups,) = struct.unpack_from(">I", data, sub + 12)
        result: dict[int, int] = {}
        for i in range(num_groups):
            start, end, first_gid = struct.unpack_from(">III", data, sub + 16 + 12 * i)
            for code in range(start, end + 1):
                result[code] = first_gid + code - start
        return result

    def _components(self, gid: int) -> list[int]:
        start, end = self.loca[gid], self.loca[gid + 1]
        if end <= start:
            return []
        glyf = self._table_offset(b"glyf") + start
        (contours,) = struct.unpack_from(">h", self.data, glyf)
        if contours >= 0:
            return []
        components: list[int] = []
        at = glyf + 10
        while True:
            flags, component = struct.unpack_from(">HH", self.data, at)
            components.append(component)
            at += 4 + (4 if flags & _ARG_WORDS else 2)
            if flags & _HAVE_SCALE:
                at += 2
            elif flags & _HAVE_XY_SCALE:
                at += 4
            elif flags & _HAVE_2X2:
                at += 8
            if not flags & _MORE_COMPONENTS:
                return components

    def subset(self, gids: set[int]) -> bytes:
        """A font program with only `gids` (plus their components) drawn; IDs stay the same.

        Keeping glyph IDs lets the PDF use Identity CID-to-GID mapping while pages are
        written before the full set of used glyphs is known.
        """
        keep = {0} | set(gids)
        pending = list(keep)
        while pending:
            for component in self._components(pending.pop()):
                if component not in keep:
                    keep.add(component)
                    pending.append(component)

        glyf_start = self._table_offset(b"glyf")
        glyphs = bytearray()
        loca = [0]
        for gid in range(self.num_glyphs):
            if gid in keep:
                start, end = self.loca[gid], self.loca[gid + 1]
                glyphs += self.data[glyf_start + start:glyf_start + end]
                glyphs += b"\0" * (-len(glyphs) % 4)
            loca.append(len(glyphs))

        tables: dict[bytes, bytes] = {}
        for tag in _KEEP_TABLES:
            if tag in self.tables:
                offset, length = self.tables[tag]
                tables[tag] = self.data[offset:offset + length]
        tables[b"glyf"] = bytes(glyphs)
        tables[b"loca"] = struct.pack(f">{len(loca)}I", *loca)
        head = bytearray(tables[b"head"])
        struct.pack_into(">I", head, 8, 0)  # checkSumAdjustment, fixed below
        struct.pack_into(">h", head, 50, 1)  # long loca offsets
        tables[b"head"] = bytes(head)
        return _assemble(tables)


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return int(sum(struct.unpack(f">{len(padded) // 4}I", padded))) & 0xFFFFFFFF


def _assemble(tables: dict[bytes, bytes]) -> bytes:
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1,
                         count * 16 - power * 16)
    directory = bytearray()
    body = bytearray()
    offset = 12 + 16 * count
    for tag in tags:
        table = tables[tag]
        directory += struct.pack(">4sIII", tag, _checksum(table), offset + len(body), len(table))
        body += table + b"\0" * (-len(table) % 4)
    font = bytearray(header + directory + body)
    head_offset = offset + sum(len(tables[t]) + (-len(tables[t]) % 4)
                               for t in tags[:tags.index(b"head")])
    adjustment = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    struct.pack_into(">I", font, head_offset + 8, adjustment)
    return bytes(font)


@cache
def load_font(file_name: str) -> TrueTypeFont:
    """The vendored font `file_name`, parsed once per process."""
    return TrueTypeFont(FONT_DIR / file_name)
