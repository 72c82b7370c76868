"""Fixtures for the rendering tests: realistic labels and a PDF reader built on pypdfium2."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pypdfium2 as pdfium
import pytest
from PIL import Image

from traceability.render import Label

HOST = "https://trace.example.vn"
GTIN14 = "08930000012340"


def _unit_label(index: int, *, name: str = "Tỏi cô đơn Lý Sơn", lot: str = "LS2025-11",
                stars: int | None = 4, serial: bool = True) -> Label:
    unit = f"{index}K7QX2A" if serial else None
    url = f"{HOST}/01/{GTIN14}/10/{lot}" + (f"/21/{unit}" if unit else "")
    return Label(url=url, product_name=name, lot=lot, serial=unit, stars=stars)


@pytest.fixture
def make_label() -> Callable[..., Label]:
    return _unit_label


@dataclass
class RenderedPage:
    """One PDF page: its text, a 300 dpi raster, and the text's character boxes in points."""

    text: str
    image: Image.Image
    char_boxes: list[tuple[str, tuple[float, float, float, float]]]


@pytest.fixture
def read_pdf() -> Callable[[bytes], list[RenderedPage]]:
    def read(data: bytes, dpi: int = 300) -> list[RenderedPage]:
        document = pdfium.PdfDocument(io.BytesIO(data))
        pages = []
        try:
            for index in range(len(document)):
                page = document[index]
                textpage = page.get_textpage()
                boxes = [(textpage.get_text_range(i, 1), textpage.get_charbox(i))
                         for i in range(textpage.count_chars())]
                text = textpage.get_text_range()
                image = page.render(scale=dpi / 72).to_pil()
                textpage.close()
                page.close()
                pages.append(RenderedPage(text, image, boxes))
        finally:
            document.close()
        return pages

    return read
