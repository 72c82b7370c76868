"""Label sheets and rolls: streaming PDF with vector QR codes, plus CSV and SVG-ZIP exports."""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import re
import time
import unicodedata
import zipfile
import zlib
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain, islice
from typing import BinaryIO, TextIO, TypeVar

import zxingcpp
from PIL import Image, ImageDraw, ImageFont

from traceability.render._pdf import PdfFont, StreamingPdfWriter
from traceability.render._ttf import FONT_DIR, load_font
from traceability.render.cells import csv_text
from traceability.render.qr import check_ec, matrix_svg, qr_matrix

_T = TypeVar("_T")

PT_PER_MM = 72 / 25.4
QUIET_ZONE_MODULES = 4
REGULAR_FONT = "DejaVuSans.ttf"
BOLD_FONT = "DejaVuSans-Bold.ttf"
_LEADING = 1.18  # line height as a multiple of the font size
_DETAIL_SCALE = 0.9  # lot, serial and stars print a little smaller than the name
_MAX_NAME_LINES = 3
_FONT_STEP_PT = 0.25
# Runs up to this size render in-process: starting worker processes costs more than it saves.
_INLINE_LABELS = 1500
# Each pool task carries about this many labels so inter-process overhead stays small.
_LABELS_PER_TASK = 48


@dataclass(frozen=True)
class Label:
    """What one printed label shows. `stars=None` prints no OCOP stars (no valid certificate)."""

    url: str
    product_name: str
    lot: str
    serial: str | None = None
    stars: int | None = None
    # The GTIN the QR carries, printed for people (and as an EAN-13 where the stock has
    # room); None for a label of a product that had no GTIN when its run was issued.
    gtin: str | None = None

    def __post_init__(self) -> None:
        if not self.url:
            raise ValueError("a label needs the URL its QR code carries")
        if self.gtin is not None and (len(self.gtin) not in (13, 14) or not self.gtin.isascii()
                                      or not self.gtin.isdigit()):
            raise ValueError(f"a label's GTIN has 13 or 14 digits, got {self.gtin!r}")
        if not self.lot:
            raise ValueError("a label needs a lot")
        if self.serial is not None and not self.serial:
            raise ValueError("serial must be None or a non-empty string")
        # Certificates exist for 3 to 5 stars only (Decision 148/QĐ-TTg); anything else
        # on a label would be a false claim, so it cannot be built.
        if self.stars is not None and (type(self.stars) is not int or not 3 <= self.stars <= 5):
            raise ValueError(f"OCOP stars must be 3, 4, 5 or None, got {self.stars!r}")


@dataclass(frozen=True)
class LabelPreset:
    """The geometry of a label stock, in millimetres from the page's top-left corner."""

    name: str
    description: str
    page_width_mm: float
    page_height_mm: float
    label_width_mm: float
    label_height_mm: float
    columns: int
    rows: int
    left_mm: float
    top_mm: float
    pitch_x_mm: float
    pitch_y_mm: float
    padding_mm: float
    max_font_pt: float
    min_font_pt: float
    # Where the stock has room for an EAN-13 beside the QR: its module width (GS1 allows 80 %
    # of the nominal 0.33 mm and up) and its bar height, shortened to leave room for the text
    # above it. None: the GTIN is printed as text only.
    ean13_module_mm: float | None = None
    ean13_bar_mm: float = 0.0

    @property
    def labels_per_page(self) -> int:
        return self.columns * self.rows

    def label_box_mm(self, slot: int) -> tuple[float, float, float, float]:
        """(left, top, width, height) of the label in `slot` (row by row), from the top-left."""
        row, column = divmod(slot, self.columns)
        return (self.left_mm + column * self.pitch_x_mm, self.top_mm + row * self.pitch_y_mm,
                self.label_width_mm, self.label_height_mm)


PRESETS: dict[str, LabelPreset] = {
    preset.name: preset
    for preset in (
        LabelPreset("a4-3x8", "A4, 24 nhãn 70 × 37 mm (3 cột × 8 hàng)", 210, 297, 70, 37, 3, 8,
                    left_mm=0, top_mm=0.5, pitch_x_mm=70, pitch_y_mm=37, padding_mm=2,
                    max_font_pt=9, min_font_pt=5, ean13_module_mm=0.30, ean13_bar_mm=12),
        LabelPreset("a4-4x10", "A4, 40 nhãn 48,5 × 25,4 mm (4 cột × 10 hàng)", 210, 297, 48.5,
                    25.4, 4, 10, left_mm=8, top_mm=21.5, pitch_x_mm=48.5, pitch_y_mm=25.4,
                    padding_mm=1.5, max_font_pt=7, min_font_pt=4.5),
        LabelPreset("roll-50x30", "Cuộn, nhãn 50 × 30 mm", 50, 30, 50, 30, 1, 1, left_mm=0,
                    top_mm=0, pitch_x_mm=50, pitch_y_mm=30, padding_mm=1.5, max_font_pt=7.5,
                    min_font_pt=4.5, ean13_module_mm=0.264, ean13_bar_mm=10),
        LabelPreset("roll-40x25", "Cuộn, nhãn 40 × 25 mm", 40, 25, 40, 25, 1, 1, left_mm=0,
                    top_mm=0, pitch_x_mm=40, pitch_y_mm=25, padding_mm=1.2, max_font_pt=6.5,
                    min_font_pt=4),
    )
}


def get_preset(name: str) -> LabelPreset:
    """The preset called `name`, or ValueError naming the ones that exist."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown label preset {name!r}; use one of {sorted(PRESETS)}") from None


# --- text -------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def _clean(text: str) -> str:
    # NFC gives the precomposed Vietnamese letters DejaVu has; there is no shaping engine
    # here to place combining marks.
    return _CONTROL.sub(" ", unicodedata.normalize("NFC", text)).strip()


class _TextFont:
    """Glyph codes and widths of one font, filled per character on first use."""

    def __init__(self, resource: str, file_name: str) -> None:
        self.resource = resource
        self._font = load_font(file_name)
        self._units = self._font.units_per_em
        self._hex: dict[str, str] = {}
        self._advance: dict[str, int] = {}
        self._drawn: dict[str, str] = {}

    def _add(self, ch: str) -> None:
        gid = self._font.cmap.get(ord(ch))
        drawn = ch
        if gid is None:  # not in DejaVu: print a visible stand-in rather than a blank box
            drawn = "?"
            gid = self._font.cmap[ord("?")]
        self._hex[ch] = f"{gid:04X}"
        self._advance[ch] = self._font.advances[gid]
        self._drawn[ch] = drawn

    def width(self, text: str, size: float) -> float:
        advance = self._advance
        total = 0
        for ch in text:
            if ch not in advance:
                self._add(ch)
            total += advance[ch]
        return total * size / self._units

    def encode(self, text: str, used: set[str]) -> str:
        hexes, drawn = self._hex, self._drawn
        for ch in text:
            if ch not in hexes:
                self._add(ch)
            used.add(drawn[ch])
        return "".join(hexes[ch] for ch in text)

    @property
    def ascent(self) -> float:
        return self._font.ascent / self._units

    @property
    def digit_advance(self) -> float:
        """The width of a digit, in ems (DejaVu's digits share one width)."""
        return self._font.advances[self._font.cmap[ord("0")]] / self._units

    @property
    def digit_height(self) -> float:
        """The height of a digit above its baseline, in ems (the cap height)."""
        return self._font.cap_height / self._units


@cache
def _fonts() -> tuple[_TextFont, _TextFont]:
    return _TextFont("F1", REGULAR_FONT), _TextFont("F2", BOLD_FONT)


@lru_cache(maxsize=4096)
def _wrap(text: str, bold: bool, size: float, width: float) -> tuple[str, ...]:
    """Greedy word wrap; a word wider than the line is broken between characters."""
    font = _fonts()[bold]
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.width(candidate, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while len(word) > 1 and font.width(word, size) > width:
            cut = len(word) - 1
            while cut > 1 and font.width(word[:cut], size) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return tuple(lines)


def _truncate(line: str, bold: bool, size: float, width: float) -> str:
    font = _fonts()[bold]
    while line and font.width(line + "…", size) > width:
        line = line[:-1]
    return line.rstrip() + "…"


# (bold, font size, text) per printed line, top to bottom.
_Line = tuple[bool, float, str]


def gtin_text(gtin: str) -> str:
    """A GTIN as people read it: the 13 digits of an EAN-13 when it is one, else 14."""
    return gtin[1:] if len(gtin) == 14 and gtin[0] == "0" else gtin


def _fit_text(label: Label, width: float, height: float, max_pt: float,
              min_pt: float, gtin_line: bool = False) -> list[_Line]:
    """The label's text lines at the largest size that fits the box (all sizes in points);
    `gtin_line` adds the GTIN in digits (where no EAN-13 prints it)."""
    name = _clean(label.product_name)
    details: list[tuple[bool, str]] = [(False, f"Lô: {_clean(label.lot)}")]
    if label.serial is not None:
        details.append((False, f"Số sê-ri: {_clean(label.serial)}"))
    if gtin_line and label.gtin is not None:
        details.append((False, f"GTIN: {gtin_text(label.gtin)}"))
    if label.stars is not None:
        details.append((True, "OCOP " + "★" * label.stars))

    size = max_pt
    while True:
        detail_size = size * _DETAIL_SCALE
        name_lines = _wrap(name, True, size, width)
        detail_lines = [(bold, detail_size, line) for bold, text in details
                        for line in _wrap(text, bold, detail_size, width)]
        used = (len(name_lines) * size + len(detail_lines) * detail_size) * _LEADING
        # A code cut between two lines (a GTIN's digits) is misread: smaller type instead.
        whole = len(detail_lines) == len(details) or all(
            " ".join(_wrap(text, bold, detail_size, width)) == " ".join(text.split())
            for bold, text in details)
        fits = used <= height and len(name_lines) <= _MAX_NAME_LINES and whole
        if fits or size - _FONT_STEP_PT < min_pt:
            break
        size -= _FONT_STEP_PT

    if not fits:
        # At the smallest size the name gives way: the codes and stars must stay legible.
        room = int((height / _LEADING - len(detail_lines) * detail_size) // size)
        keep = max(1, min(room, _MAX_NAME_LINES))
        if len(name_lines) > keep:
            name_lines = (*name_lines[:keep - 1],
                          _truncate(name_lines[keep - 1], True, size, width))
    return [(True, size, line) for line in name_lines] + detail_lines


# Compressed content stream, characters drawn in each font, number of labels.
_PageResult = tuple[bytes, str, str, int]

# --- EAN-13 -----------------------------------------------------------------------------

# Runs of dark modules in a zxing-cpp image row (0 = dark).
_DARK_PIXELS = re.compile(rb"\x00+")

# An EAN-13 is 95 modules wide; GS1 asks for 11 light modules on its left, 7 on its right.
EAN13_MODULES = 95
EAN13_QUIET_LEFT, EAN13_QUIET_RIGHT = 11, 7
_EAN13_SPAN = EAN13_QUIET_LEFT + EAN13_MODULES + EAN13_QUIET_RIGHT
_GUARD_MODULES = frozenset((*range(0, 3), *range(45, 50), *range(92, 95)))
_DIGIT_FILL = 0.85  # a human-readable digit takes this much of its 7-module slot
_EAN13_GAP_MM = 0.8  # between the text above and the symbol


@dataclass(frozen=True)
class _Ean13:
    """An EAN-13 symbol laid out in points from the bottom-left of its bars' box: the bars
    (x, y, width, height), and the human-readable digits (x of each, size, baseline 0)."""

    bars: tuple[tuple[float, float, float, float], ...]
    digits: tuple[tuple[float, str], ...]
    digit_size: float
    height: float  # digits and bars together


def _ean13_digit_size(module: float) -> float:
    regular = _fonts()[0]
    return 7 * module * _DIGIT_FILL / regular.digit_advance


def _ean13_height(module: float, bar_height: float) -> float:
    """The height of the digits' zone and the bars, in points."""
    return _ean13_digit_size(module) * _fonts()[0].digit_height + 1.5 * module + bar_height


@lru_cache(maxsize=64)
def _ean13_layout(gtin13: str, module: float, bar_height: float) -> _Ean13:
    # zxing-cpp encodes (as for the QR codes): one row of its image is the symbol's modules.
    image = zxingcpp.create_barcode(gtin13, zxingcpp.BarcodeFormat.EAN13).to_image(
        scale=1, add_quiet_zones=False)
    row = memoryview(image).tobytes()[:EAN13_MODULES]  # type: ignore[arg-type]
    regular = _fonts()[0]
    size = _ean13_digit_size(module)
    zone = size * regular.digit_height + 1.5 * module  # digits, then a gap under the bars
    # Guard bars reach down between the digit groups, as on every retail barcode.
    guard_drop = zone * 0.6
    bars = []
    for match in _DARK_PIXELS.finditer(row + b"\xff"):
        start, end = match.span()
        guard = start in _GUARD_MODULES
        bottom = zone - guard_drop if guard else zone
        bars.append((start * module, bottom, (end - start) * module, zone + bar_height - bottom))
    half = regular.digit_advance * size / 2
    centres = [-4 * module] + [(3 + 7 * i + 3.5) * module for i in range(6)] \
        + [(50 + 7 * i + 3.5) * module for i in range(6)]
    digits = tuple((centre - half, digit) for centre, digit in zip(centres, gtin13, strict=True))
    return _Ean13(tuple(bars), digits, size, zone + bar_height)


@lru_cache(maxsize=64)
def _ean13_ops(gtin13: str, module: float, bar_height: float) -> str:
    """PDF operators drawing the symbol with its bottom-left corner at the origin."""
    layout = _ean13_layout(gtin13, module, bar_height)
    regular = _fonts()[0]
    rects = "\n".join(f"{x:.3f} {y:.3f} {w:.3f} {h:.3f} re" for x, y, w, h in layout.bars)
    text = " ".join(f"1 0 0 1 {x:.3f} 0 Tm <{regular.encode(digit, set())}> Tj"
                    for x, digit in layout.digits)
    return f"{rects}\nf\nBT /{regular.resource} {layout.digit_size:.2f} Tf {text} ET"


# --- placing a label ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Geometry:
    """A preset converted to points: the QR area and text box of one label, and where an
    EAN-13 goes when the label carries one."""

    page_width: float
    page_height: float
    qr_area: float  # side of the square holding symbol and quiet zone
    qr_left: float
    qr_bottom: float
    text_left: float
    text_width: float
    text_height: float
    text_bottom: float
    ean_module: float | None = None
    ean_bar_height: float = 0.0
    ean_left: float = 0.0  # of the bars, from the label's left edge
    ean_bottom: float = 0.0

    @classmethod
    def of(cls, preset: LabelPreset, with_ean: bool = False) -> _Geometry:
        padding = preset.padding_mm * PT_PER_MM
        width = preset.label_width_mm * PT_PER_MM
        height = preset.label_height_mm * PT_PER_MM
        page = (preset.page_width_mm * PT_PER_MM, preset.page_height_mm * PT_PER_MM)
        # The quiet zone is white anyway, so the QR area may run close to the edge; the
        # text needs at least ~40 % of the width.
        qr_area = min(height - 2 * padding, width * 0.6)
        if not with_ean or preset.ean13_module_mm is None:
            text_left = padding + qr_area
            return cls(*page, qr_area, padding, (height - qr_area) / 2, text_left,
                       width - text_left - padding, height - 2 * padding, padding)
        module = preset.ean13_module_mm * PT_PER_MM
        bar_height = preset.ean13_bar_mm * PT_PER_MM
        # The symbol and its quiet zones sit right of the QR (whose own quiet zone is
        # white too); the right quiet zone may use the label's padding, which is white.
        qr_area = min(qr_area, width - padding - _EAN13_SPAN * module)
        text_left = padding + qr_area
        room = width - text_left
        ean_left = text_left + EAN13_QUIET_LEFT * module + (room - _EAN13_SPAN * module) / 2
        block = _ean13_height(module, bar_height) + _EAN13_GAP_MM * PT_PER_MM
        return cls(*page, qr_area, padding, (height - qr_area) / 2, text_left,
                   width - text_left - padding, height - 2 * padding - block, padding + block,
                   module, bar_height, ean_left, padding)


@cache
def _geometry(preset: LabelPreset, with_ean: bool = False) -> _Geometry:
    return _Geometry.of(preset, with_ean)


def _ean13_of(label: Label, preset: LabelPreset) -> str | None:
    """The 13 digits to print as an EAN-13, when the label has a GTIN-13 and the stock room."""
    if preset.ean13_module_mm is None or label.gtin is None:
        return None
    digits = gtin_text(label.gtin)
    return digits if len(digits) == 13 else None


@dataclass(frozen=True)
class _Placed:
    """One label laid out on its page, in points from the page's bottom-left corner."""

    qr_left: float
    qr_bottom: float
    qr_area: float
    text_x: float
    lines: list[tuple[bool, float, float, str]]  # bold, size, baseline, text
    ean13: str | None
    ean_origin: tuple[float, float]
    geometry: _Geometry


def _place(label: Label, preset: LabelPreset, slot: int) -> _Placed:
    """Where the QR, the text and the EAN-13 of the label in `slot` go: the PDF pages and
    the preview image draw from this one layout."""
    ean13 = _ean13_of(label, preset)
    geometry = _geometry(preset, ean13 is not None)
    left_mm, top_mm, _, height_mm = preset.label_box_mm(slot)
    left = left_mm * PT_PER_MM
    bottom = geometry.page_height - (top_mm + height_mm) * PT_PER_MM
    regular, bold = _fonts()
    lines = _fit_text(label, geometry.text_width, geometry.text_height, preset.max_font_pt,
                      preset.min_font_pt, gtin_line=ean13 is None)
    block = sum(size for _, size, _ in lines) * _LEADING
    # Centre the block vertically. A line box of 1.18 em holds DejaVu's ascent plus
    # descent, so each baseline sits one ascent below the top of its box.
    top = bottom + geometry.text_bottom + (geometry.text_height + block) / 2
    placed_lines = []
    for is_bold, size, text in lines:
        font = bold if is_bold else regular
        placed_lines.append((is_bold, size, top - size * font.ascent, text))
        top -= size * _LEADING
    return _Placed(left + geometry.qr_left, bottom + geometry.qr_bottom, geometry.qr_area,
                   left + geometry.text_left, placed_lines, ean13,
                   (left + geometry.ean_left, bottom + geometry.ean_bottom), geometry)


# --- PDF page content -------------------------------------------------------------------


def _qr_image(url: str, ec: str) -> tuple[int, bytes]:
    """The QR symbol for `url` without quiet zone: its side in modules, one byte per module
    (0 = dark), row by row."""
    image = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode,
                                    ec_level=ec).to_image(scale=1, add_quiet_zones=False)
    return image.shape[0], memoryview(image).tobytes()  # type: ignore[arg-type]  # a buffer


def _qr_ops(url: str, ec: str, left: float, bottom: float, area: float) -> str:
    """PDF operators drawing the QR symbol for `url`, quiet zone included, in a square area."""
    # This is the hot path of a label run: zxing-cpp encodes in C, and its image
    # (0 = dark) is scanned for runs by one regex pass instead of a Python loop.
    size, pixels = _qr_image(url, ec)
    # One light byte after each row keeps runs from wrapping into the next row.
    width = size + 1
    padded = b"\xff".join(pixels[i:i + size] for i in range(0, size * size, size)) + b"\xff"
    module = area / (size + 2 * QUIET_ZONE_MODULES)
    top = bottom + area - QUIET_ZONE_MODULES * module
    x = left + QUIET_ZONE_MODULES * module
    # Module units with y pointing down keep every rectangle a few short integers; one
    # path and one fill per symbol means no hairline seams between modules.
    rects = "\n".join([f"{start % width} {start // width} {end - start} 1 re"
                       for start, end in [m.span() for m in _DARK_PIXELS.finditer(padded)]])
    return f"q {module:.4f} 0 0 {-module:.4f} {x:.3f} {top:.3f} cm\n{rects}\nf\nQ"


def _render_page(labels: list[Label], preset: LabelPreset, ec: str) -> _PageResult:
    """One page's compressed content stream, the characters drawn per font, and its labels."""
    regular, bold = _fonts()
    used: tuple[set[str], set[str]] = (set(), set())
    ops = ["0 g"]
    for slot, label in enumerate(labels):
        placed = _place(label, preset, slot)
        ops.append(_qr_ops(label.url, ec, placed.qr_left, placed.qr_bottom, placed.qr_area))
        ops.append("BT")
        for is_bold, size, baseline, text in placed.lines:
            font = bold if is_bold else regular
            ops.append(f"/{font.resource} {size:.2f} Tf 1 0 0 1 {placed.text_x:.2f} "
                       f"{baseline:.2f} Tm <{font.encode(text, used[is_bold])}> Tj")
        ops.append("ET")
        if placed.ean13 is not None:
            x, y = placed.ean_origin
            geometry = placed.geometry
            ops.append(f"q 1 0 0 1 {x:.3f} {y:.3f} cm\n"
                       f"{_ean13_ops(placed.ean13, geometry.ean_module, geometry.ean_bar_height)}\nQ")
            used[0].update(placed.ean13)
    content = zlib.compress("\n".join(ops).encode("ascii"), 6)
    return content, "".join(used[0]), "".join(used[1]), len(labels)


def _render_pages(pages: list[list[Label]], preset: LabelPreset,
                  ec: str) -> list[_PageResult]:
    return [_render_page(page, preset, ec) for page in pages]


def _batched(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _pool_context() -> multiprocessing.context.BaseContext:
    # forkserver children come from a clean single-threaded server, so a pool started
    # inside a threaded gunicorn/Flask worker cannot inherit a held lock (plain fork can).
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _pooled(tasks: Iterable[list[list[Label]]], preset: LabelPreset, ec: str,
            workers: int) -> Generator[_PageResult, None, None]:
    """Results of `tasks` in order, with a bounded number in flight so memory stays flat."""
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context())
    pending: deque[Future[list[_PageResult]]] = deque()
    try:
        for task in tasks:
            # The preset travels with each task (not its name), so presets a caller
            # registered at run time also work in freshly started workers.
            pending.append(executor.submit(_render_pages, task, preset, ec))
            if len(pending) >= 3 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _worker_count(workers: int | None) -> int:
    if workers is not None:
        if workers < 0:
            raise ValueError(f"workers must not be negative, got {workers}")
        return workers
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def render_label_pdf(labels: Iterable[Label], preset: str, out: BinaryIO, *, ec: str = "M",
                     workers: int | None = None) -> int:
    """Write a print-ready label PDF to `out`, page by page; returns the number of labels.

    `labels` is consumed lazily, so a run of any size renders in bounded memory.
    `workers=None` uses one process per CPU for runs over ~1,500 labels and renders
    smaller runs in-process; 0 or 1 always renders in-process; N > 1 always uses N
    worker processes.
    """
    spec = get_preset(preset)
    level = check_ec(ec)
    processes = _worker_count(workers)
    automatic = workers is None and processes > 1
    pages = _batched(labels, spec.labels_per_page)
    # Read one page ahead (an empty run is refused before anything is written) or, when
    # the pool is automatic, just far enough to tell a small run from a large one.
    lookahead = -(-_INLINE_LABELS // spec.labels_per_page) + 1 if automatic else 1
    head = list(islice(pages, lookahead))
    if not head:
        raise ValueError("no labels to render: a label PDF needs at least one label")
    if automatic and sum(len(page) for page in head) <= _INLINE_LABELS:
        processes = 1
    all_pages = chain(head, pages)
    results: Generator[_PageResult, None, None]
    if processes > 1:
        tasks = _batched(all_pages, max(1, _LABELS_PER_TASK // spec.labels_per_page))
        results = _pooled(tasks, spec, level, processes)
    else:
        results = (_render_page(page, spec, level) for page in all_pages)

    fonts = [PdfFont("F1", load_font(REGULAR_FONT), "DejaVuSans"),
             PdfFont("F2", load_font(BOLD_FONT), "DejaVuSans-Bold")]
    writer = StreamingPdfWriter(out, fonts, title="Tem truy xuất nguồn gốc OCOP")
    geometry = _geometry(spec)
    total = 0
    # closing(): if writing fails, stop the pool now rather than when the traceback dies.
    with closing(results):
        for content, regular_chars, bold_chars, count in results:
            writer.add_page(geometry.page_width, geometry.page_height, content,
                            compressed=True)
            fonts[0].used.update(regular_chars)
            fonts[1].used.update(bold_chars)
            total += count
    writer.close()
    return total


# --- preview of a sheet -----------------------------------------------------------------

PREVIEW_WIDTH_PX = 800
_PREVIEW_MAX_DPI = 300
_OUTLINE_GREY = 190


@lru_cache(maxsize=64)
def _preview_font(bold: bool, pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / (BOLD_FONT if bold else REGULAR_FONT)), max(1, pixels))


def render_sheet_png(labels: Iterable[Label], preset: str, *, ec: str = "M",
                     width_px: int = PREVIEW_WIDTH_PX) -> bytes:
    """A picture of the first sheet of `labels` as the PDF prints it, `width_px` wide (at
    most 300 dpi): a PNG drawn by Pillow from the PDF's own layout (`_place`), so a preview
    needs no PDF rasteriser. Label outlines are drawn in grey; the PDF has none."""
    spec = get_preset(preset)
    level = check_ec(ec)
    page = list(islice(labels, spec.labels_per_page))
    if not page:
        raise ValueError("no labels to render: a preview needs at least one label")
    page_width = spec.page_width_mm * PT_PER_MM
    page_height = spec.page_height_mm * PT_PER_MM
    scale = min(width_px / page_width, _PREVIEW_MAX_DPI / 72)  # pixels per point
    image = Image.new("L", (round(page_width * scale), round(page_height * scale)), 255)
    draw = ImageDraw.Draw(image)

    def px(x: float, y: float) -> tuple[int, int]:  # PDF points (y up) to pixels (y down)
        return round(x * scale), round((page_height - y) * scale)

    for slot in range(spec.labels_per_page):
        left, top, width, height = (v * PT_PER_MM for v in spec.label_box_mm(slot))
        draw.rectangle((*px(left, page_height - top),
                        *px(left + width, page_height - top - height)), outline=_OUTLINE_GREY)
    for slot, label in enumerate(page):
        placed = _place(label, spec, slot)
        size, pixels = _qr_image(label.url, level)
        module = placed.qr_area / (size + 2 * QUIET_ZONE_MODULES)
        side = max(size, round(size * module * scale))
        symbol = Image.frombytes("L", (size, size), pixels).resize(
            (side, side), Image.Resampling.NEAREST)
        image.paste(symbol, px(placed.qr_left + QUIET_ZONE_MODULES * module,
                               placed.qr_bottom + placed.qr_area - QUIET_ZONE_MODULES * module))
        for is_bold, font_size, baseline, text in placed.lines:
            draw.text(px(placed.text_x, baseline), text, fill=0, anchor="ls",
                      font=_preview_font(is_bold, round(font_size * scale)))
        if placed.ean13 is not None:
            geometry = placed.geometry
            layout = _ean13_layout(placed.ean13, geometry.ean_module, geometry.ean_bar_height)
            x0, y0 = placed.ean_origin
            for x, y, w, h in layout.bars:
                left_top = px(x0 + x, y0 + y + h)
                right_bottom = px(x0 + x + w, y0 + y)
                draw.rectangle((*left_top, right_bottom[0] - 1, right_bottom[1] - 1), fill=0)
            digit_font = _preview_font(False, round(layout.digit_size * scale))
            for x, digit in layout.digits:
                draw.text(px(x0 + x, y0), digit, fill=0, anchor="ls", font=digit_font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# --- exports for print shops ------------------------------------------------------------

CSV_COLUMNS = ("url", "product_name", "lot", "serial", "stars")


def labels_csv(labels: Iterable[Label], out: TextIO) -> int:
    """Write one CSV row per label for variable-data printing; returns the row count.

    Open `out` with `encoding="utf-8", newline=""`: the leading BOM makes Excel read the
    Vietnamese text as UTF-8.
    """
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for label in labels:
        writer.writerow((label.url, csv_text(label.product_name), csv_text(label.lot),
                         "" if label.serial is None else csv_text(label.serial),
                         "" if label.stars is None else label.stars))
        count += 1
    return count


_UNSAFE_NAME = re.compile(r"[^0-9A-Za-z._-]+")


def labels_svg_zip(labels: Iterable[Label], out: BinaryIO, *, ec: str = "M") -> int:
    """Write a ZIP with one QR SVG per label, named after its serial (or lot); returns the count.

    Symbols come from the zxing-cpp matrix, not segno, so large runs stay fast.
    """
    level = check_ec(ec)
    taken: set[str] = set()
    stamp = time.localtime()[:6]
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for label in labels:
            stem = _UNSAFE_NAME.sub("_", label.serial or label.lot).strip("._") or "label"
            name, n = f"{stem}.svg", 1
            while name in taken:  # lot labels share a lot: number the repeats
                n += 1
                name = f"{stem}-{n}.svg"
            taken.add(name)
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, matrix_svg(qr_matrix(label.url, level)))
            count += 1
    return count
