"""QR code symbols: SVG and PNG through segno, and a fast module matrix through zxing-cpp."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import segno
import zxingcpp

# Labels print at M by default (URLs stay short enough for small modules); Q is for
# rough surfaces. L and H are refused so every symbol of a label run is predictable.
EC_LEVELS = ("M", "Q")

_DARK_RUN = re.compile(rb"\x01+")
# zxing-cpp images are 0 for dark and 255 for light; the matrix uses 1 for dark.
_TO_DARK_BITS = bytes.maketrans(b"\x00\xff", b"\x01\x00")


def check_ec(ec: str) -> str:
    """The normalised error-correction level, or ValueError for one labels do not use."""
    level = ec.upper() if isinstance(ec, str) else ec
    if level not in EC_LEVELS:
        raise ValueError(f"error correction level must be one of {EC_LEVELS}, got {ec!r}")
    return level


def _check_size(scale: int, border: int) -> None:
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    if border < 0:
        raise ValueError(f"border must not be negative, got {border}")


def _segno_qr(text: str, ec: str) -> segno.QRCode:
    # make_qr never picks Micro QR; boost_error=False keeps the level asked for, the
    # same level the label sheets (zxing-cpp) use.
    return segno.make_qr(text, error=check_ec(ec).lower(), boost_error=False)


def qr_svg(text: str, *, ec: str = "M", scale: int = 4, border: int = 4) -> str:
    """The QR code for `text` as a standalone SVG document (usable inline in HTML too)."""
    _check_size(scale, border)
    buffer = io.BytesIO()
    # An explicit white background: a transparent quiet zone fails on dark pages.
    _segno_qr(text, ec).save(buffer, kind="svg", scale=scale, border=border, light="#fff",
                             xmldecl=False, svgclass=None, lineclass=None)
    return buffer.getvalue().decode("utf-8")


def qr_png(text: str, *, ec: str = "M", scale: int = 8, border: int = 4) -> bytes:
    """The QR code for `text` as a black-on-white PNG, `scale` pixels per module."""
    _check_size(scale, border)
    buffer = io.BytesIO()
    _segno_qr(text, ec).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class QrMatrix:
    """A QR symbol without quiet zone: `size`² modules, row-major, one byte each (1 = dark)."""

    size: int
    modules: bytes

    def is_dark(self, row: int, column: int) -> bool:
        return self.modules[row * self.size + column] == 1

    def rows(self) -> list[list[bool]]:
        n = self.size
        return [[b == 1 for b in self.modules[r * n:(r + 1) * n]] for r in range(n)]

    def dark_runs(self) -> list[tuple[int, int, int]]:
        """Horizontal runs of dark modules as (row, first column, length)."""
        n, modules, runs = self.size, self.modules, []
        for row in range(n):
            start = row * n
            for match in _DARK_RUN.finditer(modules, start, start + n):
                runs.append((row, match.start() - start, match.end() - match.start()))
        return runs


def qr_matrix(text: str, ec: str = "M") -> QrMatrix:
    """The QR module matrix for `text`, encoded by zxing-cpp's C++ writer (about 20 times segno's speed)."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=check_ec(ec))
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    size = image.shape[0]
    # zxingcpp.Image implements the buffer protocol; its stubs do not say so.
    pixels = memoryview(image).tobytes()  # type: ignore[arg-type]
    return QrMatrix(size, pixels.translate(_TO_DARK_BITS))


def matrix_svg(matrix: QrMatrix, *, scale: int = 4, border: int = 4) -> str:
    """A standalone SVG of `matrix`: one path of run-length rectangles inside a quiet zone."""
    _check_size(scale, border)
    side = (matrix.size + 2 * border) * scale
    path = "".join(f"M{column + border} {row + border}h{length}v1h-{length}z"
                   for row, column, length in matrix.dark_runs())
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" '
        f'viewBox="0 0 {matrix.size + 2 * border} {matrix.size + 2 * border}">'
        f'<rect width="100%" height="100%" fill="#fff"/>'
        f'<path fill="#000" shape-rendering="crispEdges" d="{path}"/></svg>\n'
    )
