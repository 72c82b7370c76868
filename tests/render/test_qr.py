"""QR symbols decode back to their text and keep the error-correction level asked for."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import segno
import zxingcpp
from PIL import Image, ImageDraw

from traceability.render import matrix_svg, qr_matrix, qr_png, qr_svg

URL = "https://trace.example.vn/01/08930000012340/10/LS2025-11/21/17K7QX2A"


def _decode(image: Image.Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


@pytest.mark.parametrize("ec", ["M", "Q"])
def test_qr_png_decodes_to_its_text_at_the_requested_level(ec: str) -> None:
    image = Image.open(io.BytesIO(qr_png(URL, ec=ec)))

    [result] = _decode(image)

    assert result.text == URL
    assert result.ec_level == ec


def _segno_size(text: str) -> int:
    # segno segments text more tightly than zxing-cpp, so its symbols may be a version smaller.
    return int(segno.make_qr(text, error="m", boost_error=False).symbol_size(border=0)[0])


def test_qr_png_has_a_four_module_quiet_zone() -> None:
    size = _segno_size(URL)
    image = Image.open(io.BytesIO(qr_png(URL, scale=8)))

    assert image.size == ((size + 8) * 8, (size + 8) * 8)
    # The 4-module border is all light, the symbol's corner module is dark.
    gray = image.convert("L")
    assert gray.crop((0, 0, 32, image.height)).getextrema() == (255, 255)
    assert gray.getpixel((32, 32)) == 0


def test_qr_png_keeps_vietnamese_text_intact() -> None:
    text = "Nước mắm Sa Huỳnh – Quảng Ngãi"

    [result] = _decode(Image.open(io.BytesIO(qr_png(text))))

    assert result.text == text


def test_qr_svg_is_a_standalone_document_sized_in_modules() -> None:
    size = _segno_size(URL)
    root = ET.fromstring(qr_svg(URL, scale=4))

    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == root.get("height") == str((size + 8) * 4)


@pytest.mark.parametrize("ec", ["L", "H", "x", ""])
def test_qr_rejects_error_correction_levels_other_than_m_and_q(ec: str) -> None:
    with pytest.raises(ValueError, match="error correction"):
        qr_png(URL, ec=ec)
    with pytest.raises(ValueError, match="error correction"):
        qr_svg(URL, ec=ec)
    with pytest.raises(ValueError, match="error correction"):
        qr_matrix(URL, ec=ec)


def test_qr_accepts_lower_case_levels() -> None:
    [result] = _decode(Image.open(io.BytesIO(qr_png(URL, ec="q"))))

    assert result.ec_level == "Q"


def _draw_matrix(rows: list[list[bool]], scale: int = 6) -> Image.Image:
    size = len(rows) + 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                left, top = (x + 4) * scale, (y + 4) * scale
                draw.rectangle((left, top, left + scale - 1, top + scale - 1), fill=0)
    return image


@pytest.mark.parametrize("ec", ["M", "Q"])
def test_qr_matrix_decodes_to_its_text(ec: str) -> None:
    matrix = qr_matrix(URL, ec)

    [result] = _decode(_draw_matrix(matrix.rows()))

    assert result.text == URL
    assert result.ec_level == ec
    assert len(matrix.modules) == matrix.size ** 2


def test_qr_matrix_at_q_is_never_smaller_than_at_m() -> None:
    assert qr_matrix(URL, "Q").size >= qr_matrix(URL, "M").size


def test_qr_matrix_dark_runs_cover_exactly_the_dark_modules() -> None:
    matrix = qr_matrix(URL)

    covered = {(row, column + i) for row, column, length in matrix.dark_runs()
               for i in range(length)}

    assert covered == {(r, c) for r in range(matrix.size) for c in range(matrix.size)
                       if matrix.is_dark(r, c)}


def test_matrix_svg_path_draws_a_decodable_symbol() -> None:
    matrix = qr_matrix(URL)
    svg = matrix_svg(matrix)
    path = ET.fromstring(svg).find("{http://www.w3.org/2000/svg}path")
    assert path is not None

    image = _rasterise_run_path(path.get("d", ""), matrix.size + 8)

    [result] = _decode(image)
    assert result.text == URL


def _rasterise_run_path(d: str, side: int, scale: int = 6) -> Image.Image:
    """Draw a path made only of `Mx yhWv1h-Wz` rectangles, as matrix_svg writes it."""
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    for part in filter(None, d.split("M")):
        x, rest = part.split(" ", 1)
        y, rest = rest.split("h", 1)
        width = rest.split("v", 1)[0]
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle((left, top, left + int(width) * scale - 1, top + scale - 1), fill=0)
    return image


def test_matrix_svg_is_available_for_label_exports() -> None:
    # The SVG-ZIP export relies on this shape: the rasteriser above must see every run.
    svg = matrix_svg(qr_matrix("x"), scale=2, border=4)

    assert 'viewBox="0 0 29 29"' in svg
    assert 'width="58"' in svg
