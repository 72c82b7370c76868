"""Exports for print shops: a CSV Excel reads as UTF-8 and a ZIP of one QR SVG per label."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
import zipfile

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from traceability.render import CSV_COLUMNS, Label, labels_csv, labels_svg_zip


def test_csv_has_a_bom_a_header_and_one_row_per_label(make_label, tmp_path) -> None:
    labels = [make_label(1, name="Mạch nha Thi Phổ", stars=5),
              make_label(2, stars=None), make_label(3, serial=False)]
    path = tmp_path / "labels.csv"

    with path.open("w", encoding="utf-8", newline="") as out:
        count = labels_csv(labels, out)

    assert count == 3
    assert path.read_bytes().startswith(b"\xef\xbb\xbfurl,product_name,")
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0] == {"url": labels[0].url, "product_name": "Mạch nha Thi Phổ",
                       "lot": "LS2025-11", "serial": labels[0].serial, "stars": "5"}
    assert rows[1]["stars"] == ""
    assert rows[2]["serial"] == ""


def test_csv_quotes_names_with_commas_and_quotes(make_label) -> None:
    out = io.StringIO(newline="")
    labels_csv([make_label(1, name='Tỏi "cô đơn", Lý Sơn')], out)

    rows = list(csv.reader(io.StringIO(out.getvalue().lstrip("\ufeff"), newline="")))

    assert rows[1][1] == 'Tỏi "cô đơn", Lý Sơn'


def _rasterise(svg: str, scale: int = 6) -> Image.Image:
    root = ET.fromstring(svg)
    side = int(root.get("viewBox", "").split()[2])
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    for part in filter(None, path.get("d", "").split("M")):
        x, rest = part.split(" ", 1)
        y, rest = rest.split("h", 1)
        width = int(rest.split("v", 1)[0])
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle((left, top, left + width * scale - 1, top + scale - 1), fill=0)
    return image


def test_zip_holds_one_decodable_svg_per_label_named_by_serial(make_label) -> None:
    labels = [make_label(i) for i in (1, 2, 345)]
    out = io.BytesIO()

    assert labels_svg_zip(labels, out) == 3

    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == [f"{label.serial}.svg" for label in labels]
        for label in labels:
            svg = archive.read(f"{label.serial}.svg").decode()
            [result] = zxingcpp.read_barcodes(_rasterise(svg))
            assert result.text == label.url


def test_zip_numbers_lot_labels_that_share_a_lot(make_label) -> None:
    labels = [make_label(i, serial=False) for i in range(3)]
    out = io.BytesIO()

    labels_svg_zip(labels, out)

    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["LS2025-11.svg", "LS2025-11-2.svg", "LS2025-11-3.svg"]


def test_zip_file_names_are_safe_for_any_gs1_serial() -> None:
    # AI 21 allows characters such as / % & that are unsafe in archive paths.
    label = Label(url="https://trace.example.vn/01/08930000012340/10/A/21/..%2F%26x",
                  product_name="x", lot="A", serial="../&x")
    out = io.BytesIO()

    labels_svg_zip([label], out)

    with zipfile.ZipFile(out) as archive:
        [name] = archive.namelist()
    assert "/" not in name and ".." not in name and name.endswith(".svg")


def test_zip_writes_to_a_stream_that_cannot_seek(make_label) -> None:
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, chunk) -> int:  # type: ignore[override]
            self.data += chunk
            return len(chunk)

    out = Unseekable()

    labels_svg_zip([make_label(1)], out)  # type: ignore[arg-type]

    with zipfile.ZipFile(io.BytesIO(bytes(out.data))) as archive:
        assert len(archive.namelist()) == 1


def test_zip_rejects_unsupported_error_correction(make_label) -> None:
    with pytest.raises(ValueError, match="error correction"):
        labels_svg_zip([make_label(1)], io.BytesIO(), ec="L")
