"""EAN-13 barcodes (TCVN 7825 / GS1) as SVG and PNG through python-barcode."""

from __future__ import annotations

import io

from barcode import EAN13
from barcode.writer import ImageWriter, SVGWriter

# GS1 nominal (100 %) X-dimension and bar height, in mm.
_MODULE_MM = 0.33
_BAR_HEIGHT_MM = 22.85
# The PNG snaps a module to 4 whole pixels at 300 dpi (0.339 mm, 102.6 % magnification):
# fractional pixel widths would make bars uneven and hurt scanning.
_PNG_DPI = 300
_PNG_MODULE_MM = 4 * 25.4 / _PNG_DPI
# GS1 asks for 11 modules of quiet zone on the left and 7 on the right; python-barcode
# uses one value for both sides, so both get 11.
_QUIET_MODULES = 11
_FONT_PT = 10


def _check_gtin13(gtin13: str) -> str:
    if not isinstance(gtin13, str) or len(gtin13) != 13 or not gtin13.isascii() \
            or not gtin13.isdigit():
        raise ValueError(f"EAN-13 must be exactly 13 digits, got {gtin13!r}")
    body, check = gtin13[:12], int(gtin13[12])
    expected = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    if check != expected:
        raise ValueError(
            f"EAN-13 {gtin13} has check digit {check}, expected {expected}"
        )
    return gtin13


def _options(module_mm: float) -> dict[str, float]:
    return {
        "module_width": module_mm,
        "module_height": _BAR_HEIGHT_MM,
        "quiet_zone": _QUIET_MODULES * module_mm,
        "font_size": _FONT_PT,
        # python-barcode reserves half the font height plus this distance under the bars,
        # but draws the digits a full font height down; the extra keeps them inside.
        "text_distance": _FONT_PT * 25.4 / 72 / 2 + 0.8,
        "margin_top": 1,
        "margin_bottom": 1,
    }


def ean13_svg(gtin13: str) -> str:
    """The EAN-13 symbol for a 13-digit GTIN, at nominal size, digits printed underneath."""
    code = EAN13(_check_gtin13(gtin13), writer=SVGWriter(), no_checksum=True, guardbar=True)
    buffer = io.BytesIO()
    code.write(buffer, _options(_MODULE_MM))
    svg = buffer.getvalue().decode("utf-8")
    # python-barcode names no font, so browsers fall back to a serif; ask for a monospace.
    return svg.replace("text-anchor:middle;",
                       "text-anchor:middle;font-family:'DejaVu Sans Mono',monospace;")


def ean13_png(gtin13: str) -> bytes:
    """The EAN-13 symbol for a 13-digit GTIN as a 300 dpi PNG, digits printed underneath."""
    code = EAN13(_check_gtin13(gtin13), writer=ImageWriter(dpi=_PNG_DPI), no_checksum=True,
                 guardbar=True)
    buffer = io.BytesIO()
    code.write(buffer, _options(_PNG_MODULE_MM))
    return buffer.getvalue()
