"""Label PDFs: every QR decodes to its label's URL, the text is right, output streams."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator

import pytest
import zxingcpp

from traceability.render import PRESETS, Label, render_label_pdf

MM_TO_PX = 300 / 25.4
PT_TO_MM = 25.4 / 72


def _render(labels: list[Label], preset: str, **kwargs: object) -> bytes:
    out = io.BytesIO()
    count = render_label_pdf(labels, preset, out, **kwargs)  # type: ignore[arg-type]
    assert count == len(labels)
    return out.getvalue()


def _decode_cells(page_image, preset: str, count: int) -> list[str]:
    """Crop each label cell out of a 300 dpi page by the preset geometry and decode its QR."""
    spec = PRESETS[preset]
    texts = []
    for slot in range(count):
        left, top, width, height = spec.label_box_mm(slot)
        box = tuple(round(v * MM_TO_PX) for v in (left, top, left + width, top + height))
        results = zxingcpp.read_barcodes(page_image.crop(box),
                                         formats=zxingcpp.BarcodeFormat.QRCode)
        assert len(results) == 1, f"slot {slot}: {len(results)} symbols"
        texts.append(results[0].text)
    return texts


@pytest.mark.parametrize("ec", ["M", "Q"])
def test_every_qr_on_an_a4_3x8_sheet_decodes_to_its_label_url(make_label, read_pdf,
                                                              ec: str) -> None:
    # 27 labels: one full sheet of 24 and three on a second sheet.
    labels = [make_label(i, stars=None if i % 5 == 0 else 3 + i % 3) for i in range(1, 28)]

    pages = read_pdf(_render(labels, "a4-3x8", ec=ec, workers=1))

    assert len(pages) == 2
    assert _decode_cells(pages[0].image, "a4-3x8", 24) == [lb.url for lb in labels[:24]]
    assert _decode_cells(pages[1].image, "a4-3x8", 3) == [lb.url for lb in labels[24:]]


def test_every_qr_on_a_50x30_roll_decodes_to_its_label_url(make_label, read_pdf) -> None:
    labels = [make_label(i) for i in (1, 99, 123456)] + [make_label(7, serial=False)]

    pages = read_pdf(_render(labels, "roll-50x30", workers=1))

    assert len(pages) == len(labels)
    assert [_decode_cells(page.image, "roll-50x30", 1)[0] for page in pages] == \
        [label.url for label in labels]


@pytest.mark.parametrize("preset", ["a4-4x10", "roll-40x25"])
def test_smaller_presets_also_decode(make_label, read_pdf, preset: str) -> None:
    labels = [make_label(i) for i in range(1, 4)]

    pages = read_pdf(_render(labels, preset, workers=1))

    per_page = PRESETS[preset].labels_per_page
    decoded = [text for page in pages
               for text in _decode_cells(page.image, preset, min(per_page, len(labels)))]
    assert decoded == [label.url for label in labels]


def test_qr_symbol_is_at_least_15_mm_on_the_smallest_label(make_label, read_pdf) -> None:
    [page] = read_pdf(_render([make_label(123456)], "roll-40x25", workers=1))

    [result] = zxingcpp.read_barcodes(page.image, formats=zxingcpp.BarcodeFormat.QRCode)
    xs = [p.x for p in (result.position.top_left, result.position.top_right)]
    assert (max(xs) - min(xs)) / MM_TO_PX >= 15


def test_stars_are_printed_only_when_the_label_has_them(make_label, read_pdf) -> None:
    labels = [make_label(1, stars=4), make_label(2, stars=None), make_label(3, stars=5)]

    pages = read_pdf(_render(labels, "roll-50x30", workers=1))

    assert "OCOP ★★★★" in pages[0].text and "★★★★★" not in pages[0].text
    assert "OCOP" not in pages[1].text and "★" not in pages[1].text
    assert "OCOP ★★★★★" in pages[2].text


def test_vietnamese_product_name_lot_and_serial_survive_in_the_pdf_text(make_label,
                                                                        read_pdf) -> None:
    name = "Mạch nha Thi Phổ – Mộ Đức, Quảng Ngãi"
    label = make_label(42, name=name, lot="MN2025-09")

    [page] = read_pdf(_render([label], "roll-50x30", workers=1))

    flat = " ".join(page.text.split())
    assert name in flat
    assert "Lô: MN2025-09" in flat
    assert f"Số sê-ri: {label.serial}" in flat


def test_serial_line_is_absent_on_lot_labels(make_label, read_pdf) -> None:
    [page] = read_pdf(_render([make_label(1, serial=False)], "roll-50x30", workers=1))

    assert "Số sê-ri" not in page.text
    assert "Lô: LS2025-11" in page.text


def test_decomposed_vietnamese_input_prints_as_composed_text(make_label, read_pdf) -> None:
    decomposed = "Ca\u0300 phe\u0302 Ba To\u031b"  # "Cà phê Ba Tơ" typed with combining marks

    [page] = read_pdf(_render([make_label(1, name=decomposed)], "roll-50x30", workers=1))

    assert "Cà phê Ba Tơ" in " ".join(page.text.split())


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_long_texts_are_wrapped_and_shrunk_inside_the_label(make_label, read_pdf,
                                                           preset: str) -> None:
    long_name = ("Nước mắm nhĩ cá cơm than truyền thống Sa Huỳnh loại đặc biệt "
                 "thượng hạng đóng chai thủy tinh 500 ml")
    label = Label(url="https://trace.example.vn/01/08930000012340/10/ABCDEFGHIJ0123456789"
                      "/21/12345678901234567890",
                  product_name=long_name, lot="ABCDEFGHIJ0123456789",
                  serial="12345678901234567890", stars=5)
    spec = PRESETS[preset]

    [page] = read_pdf(_render([label], preset, workers=1))

    left, top, width, height = spec.label_box_mm(0)
    for char, (x0, y0, x1, y1) in page.char_boxes:
        if not char.strip():
            continue
        assert left <= x0 * PT_TO_MM and x1 * PT_TO_MM <= left + width, char
        page_top_y0 = spec.page_height_mm - y1 * PT_TO_MM
        page_top_y1 = spec.page_height_mm - y0 * PT_TO_MM
        assert top <= page_top_y0 and page_top_y1 <= top + height, char
    # The codes and the stars always print in full; only the name may be cut short.
    flat = "".join(page.text.split())
    assert "Lô:ABCDEFGHIJ0123456789" in flat
    assert "Sốsê-ri:12345678901234567890" in flat
    assert "OCOP★★★★★" in flat
    assert _decode_cells(page.image, preset, 1) == [label.url]


def test_pdf_cross_reference_offsets_point_at_their_objects(make_label) -> None:
    # pdfium repairs a broken xref silently; print RIPs may not, so check it directly.
    data = _render([make_label(i) for i in range(1, 30)], "a4-3x8", workers=1)

    xref_at = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))
    assert data[xref_at:xref_at + 4] == b"xref"
    header = re.match(rb"xref\n0 (\d+)\n", data[xref_at:])
    entries = data[xref_at + header.end():].split(b"\n")[: int(header.group(1))]
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number), number


def test_fonts_are_embedded_as_small_subsets(make_label) -> None:
    data = _render([make_label(1)], "roll-50x30", workers=1)

    assert data.count(b"/FontFile2") == 2
    assert re.search(rb"/BaseFont /[A-Z]{6}\+DejaVuSans-Bold ", data)
    # Whole DejaVu fonts are ~1.4 MB; subsets keep a one-label PDF small.
    assert len(data) < 60_000


def test_rendering_is_deterministic(make_label) -> None:
    labels = [make_label(i) for i in range(1, 10)]

    assert _render(labels, "a4-4x10", workers=1) == _render(labels, "a4-4x10", workers=1)


def test_worker_pool_produces_the_same_bytes_as_in_process_rendering(make_label,
                                                                      monkeypatch) -> None:
    # A preset registered at run time: workers start fresh, so it must travel with the tasks.
    custom = dataclasses.replace(PRESETS["a4-3x8"], name="a4-3x7", rows=7)
    monkeypatch.setitem(PRESETS, "a4-3x7", custom)
    labels = [make_label(i, stars=None if i % 4 == 0 else 4) for i in range(1, 150)]

    pooled = _render(labels, "a4-3x7", workers=2)

    assert pooled == _render(labels, "a4-3x7", workers=1)
    assert pooled.count(b"/Type /Page ") == -(-149 // 21)


class _RecordingOut(io.BytesIO):
    """An output that notes how many labels had been taken when each write happened."""

    def __init__(self, taken: list[int]) -> None:
        super().__init__()
        self.taken = taken
        self.writes: list[tuple[int, bytes]] = []

    def write(self, data) -> int:  # type: ignore[override]
        self.writes.append((self.taken[0], bytes(data[:40])))
        return super().write(data)


def test_pages_are_written_while_labels_are_still_being_produced(make_label) -> None:
    taken = [0]

    def labels() -> Iterator[Label]:
        for i in range(1, 24 * 6 + 1):
            taken[0] = i
            yield make_label(i)

    out = _RecordingOut(taken)
    count = render_label_pdf(labels(), "a4-3x8", out, workers=1)

    first_page = next(n for n, data in out.writes if b"/Type /Page " in data)
    assert count == 24 * 6
    # The first page is out after its own 24 labels (plus one read ahead), not after 144.
    assert first_page <= 25


def test_an_empty_run_is_refused_before_anything_is_written() -> None:
    out = io.BytesIO()

    with pytest.raises(ValueError, match="no labels"):
        render_label_pdf(iter(()), "a4-3x8", out)
    assert out.getvalue() == b""


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"preset": "a5-2x2"}, "unknown label preset"),
     ({"ec": "H"}, "error correction"),
     ({"workers": -1}, "workers")],
)
def test_render_label_pdf_rejects_bad_arguments(make_label, kwargs: dict,
                                                message: str) -> None:
    arguments: dict = {"preset": "a4-3x8", **kwargs}
    preset = arguments.pop("preset")

    with pytest.raises(ValueError, match=message):
        render_label_pdf([make_label(1)], preset, io.BytesIO(), **arguments)


@pytest.mark.parametrize("stars", [0, 1, 2, 6, True, 4.0])
def test_labels_cannot_claim_stars_no_ocop_certificate_has(stars: object) -> None:
    with pytest.raises(ValueError, match="OCOP stars"):
        Label(url="https://trace.example.vn/01/08930000012340/10/A", product_name="x",
              lot="A", stars=stars)  # type: ignore[arg-type]


def test_presets_cover_the_advertised_stocks() -> None:
    geometry = {name: (p.label_width_mm, p.label_height_mm, p.columns, p.rows)
                for name, p in PRESETS.items()}

    assert geometry["a4-3x8"] == (70, 37, 3, 8)
    assert geometry["a4-4x10"] == (48.5, 25.4, 4, 10)
    assert geometry["roll-50x30"] == (50, 30, 1, 1)
    assert geometry["roll-40x25"] == (40, 25, 1, 1)
    for preset in PRESETS.values():
        right_mm, bottom_mm = (preset.label_box_mm(preset.labels_per_page - 1)[i]
                               for i in (0, 1))
        assert right_mm + preset.label_width_mm <= preset.page_width_mm
        assert bottom_mm + preset.label_height_mm <= preset.page_height_mm
