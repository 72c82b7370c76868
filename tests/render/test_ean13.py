"""EAN-13 symbols decode back to their GTIN; malformed GTINs are refused."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image
from stdnum import ean

from traceability.render import ean13_png, ean13_svg

GTIN13 = "8930000012340"


def test_valid_gtin_fixture_has_a_correct_check_digit() -> None:
    # Checked with an independent implementation so the tests below rest on a real GTIN.
    assert ean.validate(GTIN13) == GTIN13


@pytest.mark.parametrize("gtin", [GTIN13, "8938505974194", "4006381333931"])
def test_ean13_png_decodes_to_its_gtin(gtin: str) -> None:
    image = Image.open(io.BytesIO(ean13_png(gtin)))

    [result] = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.EAN13)

    assert result.text == gtin


def test_ean13_png_leaves_a_quiet_zone_of_at_least_eleven_modules() -> None:
    image = Image.open(io.BytesIO(ean13_png(GTIN13))).convert("L")
    # Modules are 4 px at 300 dpi: 11 modules = 44 px of white on both sides, at bar height.
    bar_row = image.crop((0, 20, image.width, 21))

    assert bar_row.crop((0, 0, 44, 1)).getextrema() == (255, 255)
    assert bar_row.crop((image.width - 44, 0, image.width, 1)).getextrema() == (255, 255)
    assert bar_row.getextrema() == (0, 255)


def test_ean13_svg_shows_the_digits_under_the_bars() -> None:
    root = ET.fromstring(ean13_svg(GTIN13))
    namespace = "{http://www.w3.org/2000/svg}"

    digits = "".join(t.text or "" for t in root.iter(f"{namespace}text"))
    bars = [r for r in root.iter(f"{namespace}rect") if "black" in r.get("style", "")]

    assert digits.replace(">", "") == GTIN13
    # Start, middle and end guards have 2 bars each, every digit 2 more: 6 + 12 × 2 = 30.
    assert len(bars) == 30


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8930000012343", "check digit 3, expected 0"),
        ("893000001234", "exactly 13 digits"),
        ("89300000123400", "exactly 13 digits"),
        ("893000001234O", "exactly 13 digits"),
        ("８９３００００１２３４０", "exactly 13 digits"),
        ("", "exactly 13 digits"),
    ],
)
def test_ean13_rejects_malformed_gtins(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ean13_png(value)
    with pytest.raises(ValueError, match=message):
        ean13_svg(value)
