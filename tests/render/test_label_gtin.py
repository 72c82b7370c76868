"""The GTIN on label sheets: an EAN-13 beside the QR where the stock has room, the digits as
text elsewhere; and the preview picture of a sheet, drawn from the same layout."""

from __future__ import annotations

import dataclasses
import io

import pytest
import zxingcpp
from PIL import Image

from traceability.render import PRESETS, Label, render_label_pdf, render_sheet_png

MM_TO_PX = 300 / 25.4
PT_TO_MM = 25.4 / 72
GTIN13 = "8930000012340"


def _with_gtin(label: Label, gtin: str = "0" + GTIN13) -> Label:
    return dataclasses.replace(label, gtin=gtin)


def _render(labels: list[Label], preset: str) -> bytes:
    out = io.BytesIO()
    render_label_pdf(labels, preset, out, workers=1)
    return out.getvalue()


def _cell(image: Image.Image, preset: str, slot: int) -> Image.Image:
    left, top, width, height = PRESETS[preset].label_box_mm(slot)
    return image.crop(tuple(round(v * MM_TO_PX) for v in (left, top, left + width, top + height)))


def _decoded(image: Image.Image) -> dict[zxingcpp.BarcodeFormat, list[str]]:
    found: dict[zxingcpp.BarcodeFormat, list[str]] = {}
    for result in zxingcpp.read_barcodes(image):
        found.setdefault(result.format, []).append(result.text)
    return found


@pytest.mark.parametrize("preset", ["a4-3x8", "roll-50x30"])
def test_each_label_carries_a_qr_and_an_ean13_that_decode(make_label, read_pdf, preset: str) -> None:
    labels = [_with_gtin(make_label(i)) for i in (1, 123456, 77)]

    pages = read_pdf(_render(labels, preset))

    per_page = PRESETS[preset].labels_per_page
    for index, label in enumerate(labels):
        page = pages[index // per_page]
        found = _decoded(_cell(page.image, preset, index % per_page))
        assert found == {zxingcpp.BarcodeFormat.QRCode: [label.url],
                         zxingcpp.BarcodeFormat.EAN13: [GTIN13]}, (preset, index)
    # The human-readable digits under the bars, as on any retail barcode: the lowest text
    # line of the first label, read left to right.
    assert _lowest_line(pages[0], preset, 0) == GTIN13


def _lowest_line(page, preset: str, slot: int) -> str:
    spec = PRESETS[preset]
    left, top, width, height = spec.label_box_mm(slot)
    bottom_pt = (spec.page_height_mm - top - height) / PT_TO_MM
    inside = [(char, box) for char, box in page.char_boxes if char.strip()
              and left <= box[0] * PT_TO_MM <= left + width and bottom_pt <= box[1] <= bottom_pt
              + height / PT_TO_MM]
    lowest = min(box[1] for _, box in inside)
    return "".join(char for char, box in sorted(inside, key=lambda item: item[1][0])
                   if abs(box[1] - lowest) < 0.5)


@pytest.mark.parametrize("preset", ["a4-3x8", "roll-50x30"])
def test_the_ean13_keeps_its_quiet_zones_and_a_legal_module_inside_the_label(
        make_label, read_pdf, preset: str) -> None:
    [page] = read_pdf(_render([_with_gtin(make_label(5))], preset))[:1]
    [result] = [r for r in zxingcpp.read_barcodes(_cell(page.image, preset, 0))
                if r.format == zxingcpp.BarcodeFormat.EAN13]
    spec = PRESETS[preset]
    left_px = min(result.position.top_left.x, result.position.bottom_left.x)
    right_px = max(result.position.top_right.x, result.position.bottom_right.x)
    module_mm = (right_px - left_px) / MM_TO_PX / 95
    assert module_mm >= 0.264 * 0.97  # GS1's smallest magnification, 80 %
    assert (spec.label_width_mm - right_px / MM_TO_PX) >= 7 * 0.264  # right quiet zone


@pytest.mark.parametrize("preset", ["a4-4x10", "roll-40x25"])
def test_smaller_stocks_print_the_gtin_in_digits_on_one_line(make_label, read_pdf, preset: str) -> None:
    label = _with_gtin(make_label(123456))

    [page] = read_pdf(_render([label], preset))

    lines = [" ".join(line.split()) for line in page.text.splitlines()]
    assert GTIN13 in lines  # never cut between two lines
    found = _decoded(_cell(page.image, preset, 0))
    assert found == {zxingcpp.BarcodeFormat.QRCode: [label.url]}


def test_a_true_gtin14_is_printed_in_digits_without_an_ean13(make_label, read_pdf) -> None:
    label = _with_gtin(make_label(1), "18930000012347")

    [page] = read_pdf(_render([label], "a4-3x8"))[:1]

    assert "GTIN: 18930000012347" in " ".join(page.text.split())
    assert zxingcpp.BarcodeFormat.EAN13 not in _decoded(_cell(page.image, "a4-3x8", 0))


def test_a_label_without_a_gtin_prints_as_before(make_label, read_pdf) -> None:
    label = make_label(1)  # a /t/ run, or a product without a GTIN yet

    plain = read_pdf(_render([label], "roll-50x30"))[0]
    with_gtin = read_pdf(_render([_with_gtin(label)], "roll-50x30"))[0]

    assert "GTIN" not in plain.text and zxingcpp.BarcodeFormat.EAN13 not in _decoded(plain.image)

    def qr_width_mm(page) -> float:
        [qr] = [r for r in zxingcpp.read_barcodes(page.image)
                if r.format == zxingcpp.BarcodeFormat.QRCode]
        return (qr.position.top_right.x - qr.position.top_left.x) / MM_TO_PX

    # The QR keeps its full size when no barcode needs the room, and stays above 15 mm.
    assert qr_width_mm(plain) > qr_width_mm(with_gtin) >= 15


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_long_texts_and_the_barcode_stay_inside_the_label(read_pdf, preset: str) -> None:
    long_name = ("Nước mắm nhĩ cá cơm than truyền thống Sa Huỳnh loại đặc biệt "
                 "thượng hạng đóng chai thủy tinh 500 ml")
    label = Label(url="https://trace.example.vn/01/08930000012340/10/ABCDEFGHIJ0123456789"
                      "/21/12345678901234567890",
                  product_name=long_name, lot="ABCDEFGHIJ0123456789",
                  serial="12345678901234567890", stars=5, gtin="0" + GTIN13)
    spec = PRESETS[preset]

    [page] = read_pdf(_render([label], preset))

    left, top, width, height = spec.label_box_mm(0)
    for char, (x0, y0, x1, y1) in page.char_boxes:
        if not char.strip():
            continue
        assert left <= x0 * PT_TO_MM and x1 * PT_TO_MM <= left + width, char
        assert top <= spec.page_height_mm - y1 * PT_TO_MM, char
        assert spec.page_height_mm - y0 * PT_TO_MM <= top + height, char
    flat = "".join(page.text.split())
    assert "Lô:ABCDEFGHIJ0123456789" in flat and "OCOP★★★★★" in flat
    assert GTIN13 in flat
    found = _decoded(_cell(page.image, preset, 0))
    assert found[zxingcpp.BarcodeFormat.QRCode] == [label.url]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_preview_is_the_first_sheet_as_printed(make_label, preset: str) -> None:
    spec = PRESETS[preset]
    labels = [_with_gtin(make_label(i)) for i in range(1, spec.labels_per_page + 5)]

    data = render_sheet_png(iter(labels), preset)

    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.width <= 800
    ratio = spec.page_height_mm / spec.page_width_mm
    assert abs(image.height / image.width - ratio) < 0.01
    found = _decoded(image.convert("L").resize((image.width * 2, image.height * 2),
                                               Image.Resampling.NEAREST))
    # The first sheet only: its labels' QR codes, none of the next sheet's.
    assert sorted(found[zxingcpp.BarcodeFormat.QRCode]) == \
        sorted(label.url for label in labels[:spec.labels_per_page])
    assert len(data) < 120_000


def test_the_preview_needs_a_label_and_a_known_stock(make_label) -> None:
    with pytest.raises(ValueError, match="at least one label"):
        render_sheet_png(iter([]), "a4-3x8")
    with pytest.raises(ValueError, match="unknown label preset"):
        render_sheet_png(iter([make_label(1)]), "a5")


def test_a_label_refuses_a_gtin_that_is_not_13_or_14_digits(make_label) -> None:
    for bad in ("893000001234", "89300000123400X", "８９３０００００１２３４０"):
        with pytest.raises(ValueError, match="GTIN"):
            _with_gtin(make_label(1), bad)
