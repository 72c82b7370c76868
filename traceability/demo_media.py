"""Demo product photos and demo lab reports, made when the demo is loaded.

The photos are drawn with Pillow: a package (bottle, jar, box, pouch, bag), produce or a
potted plant on a wooden table, shaded as a round or flat object, with a label. They are
stored through the upload path (batches.media.store_upload), as a producer's photo is, so
the trace page shows them as it would a real one: 480×360 JPEGs of about 10 KB. A lab test
step of the demo diary carries a one-page test report (PDF), marked as demo data.
"""
from __future__ import annotations

import io
import math
import random
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from .batches.media import StoredFile, max_upload_bytes, store_upload
from .storage import media

WIDTH, HEIGHT = 480, 360
TABLE_Y = 250
FONT_DIR = Path(__file__).resolve().parent / "static" / "fonts"

# demo product key: (shape, main colour, label text)
LOOKS: dict[str, tuple[str, tuple[int, int, int], str]] = {
    "toi": ("bulbs", (236, 230, 222), ""),
    "mach-nha": ("jar", (196, 126, 38), "Mạch nha"),
    "keo-gung": ("box", (178, 34, 52), "Kẹo gương"),
    "nuoc-mam": ("bottle", (122, 62, 18), "Nước mắm"),
    "que": ("sticks", (139, 78, 40), ""),
    "muoi": ("pouch", (226, 232, 240), "Muối biển"),
    "linh-chi": ("box", (120, 30, 24), "Linh chi"),
    "tho-cam": ("bag", (150, 20, 40), ""),
    "bo-mot-nang": ("pouch", (150, 44, 36), "Bò một nắng"),
    "tra-day": ("pouch", (74, 122, 52), "Trà dây"),
    "duong-phoi": ("box", (230, 190, 90), "Đường phổi"),
    "hanh": ("bulbs", (150, 52, 84), ""),
    "ca-bong": ("jar", (92, 64, 40), "Cá bống kho"),
    "mat-ong": ("bottle", (214, 140, 20), "Mật ong"),
    "mai": ("plant", (232, 182, 20), ""),
}


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / "DejaVuSans-Bold.ttf"), size)


def _shade(colour: tuple[int, int, int], x: float, round_: bool = True) -> tuple[int, int, int]:
    """The colour at `x` (0..1 across the object) lit from the upper left."""
    if round_:
        light = 0.62 + 0.5 * math.cos((x - 0.35) * math.pi * 0.95) ** 2
    else:
        light = 1.05 - 0.2 * x
    return tuple(max(0, min(255, round(c * light))) for c in colour)  # type: ignore[return-value]


def _fill(image: Image.Image, mask: Image.Image, box: tuple[int, int, int, int],
          colour: tuple[int, int, int], round_: bool = True) -> None:
    """Paint `colour`, shaded across `box`, where `mask` is set."""
    left, top, right, bottom = box
    width = max(1, right - left)
    band = Image.new("RGB", (width, 1))
    band.putdata([_shade(colour, i / width, round_) for i in range(width)])
    layer = Image.new("RGB", image.size)
    layer.paste(band.resize((width, bottom - top)), (left, top))
    image.paste(layer, (0, 0), mask)


def _mask(draw_shape) -> Image.Image:  # type: ignore[no-untyped-def]
    mask = Image.new("L", (WIDTH, HEIGHT), 0)
    draw_shape(ImageDraw.Draw(mask))
    return mask


def _background(seed: int) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    for y in range(TABLE_Y):  # a warm wall, lighter at the top
        t = y / TABLE_Y
        wall = (round(246 - 18 * t), round(240 - 20 * t), round(228 - 26 * t))
        draw.line([(0, y), (WIDTH, y)], fill=wall)
    rng = random.Random(seed)
    for y in range(TABLE_Y, HEIGHT):  # a wooden table, darker towards the front
        t = (y - TABLE_Y) / (HEIGHT - TABLE_Y)
        wood = (round(176 - 40 * t), round(124 - 32 * t), round(82 - 24 * t))
        draw.line([(0, y), (WIDTH, y)], fill=wood)
    for _ in range(9):  # a few soft grain lines
        y = rng.randrange(TABLE_Y + 6, HEIGHT)
        draw.line([(0, y), (WIDTH, y + rng.randrange(-4, 5))], fill=(140, 96, 60), width=1)
    return image


def _shadow(image: Image.Image, box: tuple[int, int, int, int]) -> None:
    mask = _mask(lambda d: d.ellipse(box, fill=120)).filter(ImageFilter.GaussianBlur(9))
    image.paste((70, 46, 30), (0, 0), mask)


def _label(image: Image.Image, box: tuple[int, int, int, int], text: str) -> None:
    if not text:
        return
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(box, radius=6, fill=(250, 244, 226), outline=(160, 120, 60), width=2)
    size = 22
    font = _font(size)
    while draw.textlength(text, font=font) > box[2] - box[0] - 12 and size > 10:
        size -= 1
        font = _font(size)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    draw.text((cx, cy - 6), text, font=font, fill=(60, 36, 20), anchor="mm")
    draw.text((cx, cy + size / 2 + 6), "OCOP", font=_font(12), fill=(150, 20, 20), anchor="mm")


def _bottle(image: Image.Image, colour: tuple[int, int, int], text: str) -> None:
    _shadow(image, (180, TABLE_Y + 8, 300, TABLE_Y + 30))
    body = (190, 110, 290, TABLE_Y + 18)
    mask = _mask(lambda d: (d.rounded_rectangle(body, radius=18, fill=255),
                            d.ellipse((190, 80, 290, 150), fill=255),
                            d.rectangle((224, 40, 256, 110), fill=255)))
    _fill(image, mask, (190, 40, 290, TABLE_Y + 18), colour)
    cap = _mask(lambda d: d.rounded_rectangle((220, 26, 260, 48), radius=4, fill=255))
    _fill(image, cap, (220, 26, 260, 48), (40, 90, 50))
    _label(image, (196, 150, 284, 220), text)


def _jar(image: Image.Image, colour: tuple[int, int, int], text: str) -> None:
    _shadow(image, (150, TABLE_Y + 6, 330, TABLE_Y + 32))
    mask = _mask(lambda d: d.rounded_rectangle((160, 100, 320, TABLE_Y + 20), radius=26, fill=255))
    _fill(image, mask, (160, 100, 320, TABLE_Y + 20), colour)
    lid = _mask(lambda d: d.rounded_rectangle((168, 76, 312, 108), radius=8, fill=255))
    _fill(image, lid, (168, 76, 312, 108), (196, 40, 36))
    _label(image, (176, 140, 304, 214), text)


def _box(image: Image.Image, colour: tuple[int, int, int], text: str) -> None:
    _shadow(image, (110, TABLE_Y + 4, 370, TABLE_Y + 34))
    front = (120, 120, 340, TABLE_Y + 22)
    top = [(120, 120), (160, 90), (380, 90), (340, 120)]
    side = [(340, 120), (380, 90), (380, TABLE_Y - 8), (340, TABLE_Y + 22)]
    draw = ImageDraw.Draw(image)
    draw.polygon(top, fill=tuple(min(255, c + 40) for c in colour))
    draw.polygon(side, fill=tuple(round(c * 0.62) for c in colour))
    mask = _mask(lambda d: d.rectangle(front, fill=255))
    _fill(image, mask, front, colour, round_=False)
    draw.line([(120, 140), (340, 140)], fill=(226, 186, 60), width=3)
    _label(image, (150, 160, 310, 226), text)


def _pouch(image: Image.Image, colour: tuple[int, int, int], text: str) -> None:
    _shadow(image, (150, TABLE_Y + 6, 330, TABLE_Y + 32))
    outline = [(170, 70), (310, 70), (318, 200), (328, TABLE_Y + 20), (152, TABLE_Y + 20),
               (162, 200)]
    mask = _mask(lambda d: d.polygon(outline, fill=255))
    _fill(image, mask, (152, 70, 328, TABLE_Y + 20), colour)
    draw = ImageDraw.Draw(image)
    for x in range(170, 310, 10):  # the sealed, serrated top
        draw.polygon([(x, 70), (x + 5, 62), (x + 10, 70)], fill=_shade(colour, (x - 152) / 176))
    draw.line([(172, 88), (308, 88)], fill=tuple(round(c * 0.7) for c in colour), width=2)
    _label(image, (176, 130, 304, 200), text)


def _bulbs(image: Image.Image, colour: tuple[int, int, int], _text: str) -> None:
    rng = random.Random(sum(colour))
    spots = [(150, 200), (240, 210), (330, 198), (195, 160), (285, 162)]
    _shadow(image, (100, TABLE_Y - 4, 380, TABLE_Y + 30))
    for x, y in sorted(spots, key=lambda p: p[1]):
        r = rng.randrange(40, 50)
        body = (x - r, y - r, x + r, y + r)
        tip = [(x - r // 3, y - r + 6), (x, y - r - 26), (x + r // 3, y - r + 6)]
        mask = _mask(lambda d, b=body, t=tip: (d.ellipse(b, fill=255), d.polygon(t, fill=255)))
        _fill(image, mask, (x - r, y - r - 26, x + r, y + r), colour)
        draw = ImageDraw.Draw(image)
        for k in (-2, -1, 1, 2):  # the cloves' or layers' faint lines
            draw.arc((x - r + abs(k) * 9, y - r, x + r - abs(k) * 9, y + r), 200 if k < 0 else -20,
                     340 if k < 0 else 160, fill=tuple(round(c * 0.82) for c in colour), width=2)


def _sticks(image: Image.Image, colour: tuple[int, int, int], _text: str) -> None:
    _shadow(image, (90, TABLE_Y - 10, 390, TABLE_Y + 26))
    for i in range(9):
        y = 150 + (i % 3) * 28 + (i // 3) * 8
        x0 = 100 + (i // 3) * 6
        box = (x0, y, x0 + 280, y + 26)
        mask = _mask(lambda d, b=box: d.rounded_rectangle(b, radius=12, fill=255))
        band = Image.new("RGB", (1, 26))
        band.putdata([_shade(colour, j / 26) for j in range(26)])
        layer = Image.new("RGB", image.size)
        layer.paste(band.resize((280, 26)), (x0, y))
        image.paste(layer, (0, 0), mask)
        ImageDraw.Draw(image).ellipse((x0 + 266, y + 2, x0 + 286, y + 24), fill=(96, 52, 26))
    ImageDraw.Draw(image).rectangle((220, 140, 236, 236), fill=(200, 40, 40))  # the tie


def _bag(image: Image.Image, colour: tuple[int, int, int], _text: str) -> None:
    _shadow(image, (140, TABLE_Y + 4, 340, TABLE_Y + 32))
    draw = ImageDraw.Draw(image)
    draw.arc((190, 40, 290, 150), 180, 360, fill=(60, 30, 20), width=8)
    outline = [(160, 96), (320, 96), (336, TABLE_Y + 20), (144, TABLE_Y + 20)]
    mask = _mask(lambda d: d.polygon(outline, fill=255))
    _fill(image, mask, (144, 96, 336, TABLE_Y + 20), colour)
    pattern = Image.new("RGB", image.size)
    pdraw = ImageDraw.Draw(pattern)
    bands = range(116, TABLE_Y + 4, 40)
    for row, band in enumerate(bands):  # black bands with a row of diamonds, as Hrê weaving
        pdraw.rectangle((140, band, 340, band + 24), fill=(24, 22, 26))
        for x in range(146 + (row % 2) * 16, 340, 32):
            diamond = [(x, band + 12), (x + 10, band + 4), (x + 20, band + 12), (x + 10, band + 20)]
            pdraw.polygon(diamond, fill=(240, 200, 60) if row % 2 else (250, 250, 240))
    pmask = _mask(lambda d: d.polygon(outline, fill=230))
    stripes = _mask(lambda d: [d.rectangle((140, b, 340, b + 24), fill=255) for b in bands])
    image.paste(pattern, (0, 0), ImageChops.multiply(pmask, stripes))


def _plant(image: Image.Image, colour: tuple[int, int, int], _text: str) -> None:
    rng = random.Random(7)
    _shadow(image, (150, TABLE_Y + 4, 330, TABLE_Y + 30))
    pot = [(170, 190), (310, 190), (292, TABLE_Y + 20), (188, TABLE_Y + 20)]
    mask = _mask(lambda d: d.polygon(pot, fill=255))
    _fill(image, mask, (170, 190, 310, TABLE_Y + 20), (40, 80, 140))
    draw = ImageDraw.Draw(image)
    draw.rectangle((164, 182, 316, 196), fill=(30, 62, 110))
    trunk = (92, 60, 36)
    draw.line([(240, 186), (236, 140), (212, 110), (196, 70)], fill=trunk, width=12, joint="curve")
    draw.line([(236, 140), (280, 104), (300, 70)], fill=(92, 60, 36), width=9, joint="curve")
    for cx, cy in [(196, 70), (300, 70), (250, 60), (216, 100), (280, 100)]:
        for _ in range(7):
            x, y = cx + rng.randrange(-34, 34), cy + rng.randrange(-22, 22)
            draw.ellipse((x - 9, y - 9, x + 9, y + 9), fill=colour)
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(196, 110, 10))
        for _ in range(4):
            x, y = cx + rng.randrange(-36, 36), cy + rng.randrange(-24, 24)
            draw.ellipse((x - 5, y - 3, x + 5, y + 3), fill=(74, 120, 44))


SHAPES = {"bottle": _bottle, "jar": _jar, "box": _box, "pouch": _pouch, "bulbs": _bulbs,
          "sticks": _sticks, "bag": _bag, "plant": _plant}


def product_photo(key: str) -> bytes:
    """The demo photo of the demo product `key`, as a JPEG."""
    shape, colour, text = LOOKS[key]
    image = _background(len(key))
    SHAPES[shape](image, colour, text)
    image = image.filter(ImageFilter.GaussianBlur(0.6))  # a camera's softness, and fewer bytes
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def store_product_photo(key: str) -> StoredFile:
    from flask import current_app

    return store_upload(product_photo(key), media(), max_bytes=max_upload_bytes(current_app.config),
                        allow_pdf=False, field="image")


# criterion, method, result, limit: a food-safety test as a provincial laboratory reports it
LAB_ROWS = [
    ("Escherichia coli", "TCVN 7924-2:2008", "Không phát hiện", "≤ 10 CFU/g"),
    ("Salmonella", "TCVN 10780-1:2017", "Không phát hiện/25 g", "Không có/25 g"),
    ("Chì (Pb)", "AOAC 999.11", "< 0,05 mg/kg", "≤ 0,3 mg/kg"),
    ("Cadimi (Cd)", "AOAC 999.11", "< 0,01 mg/kg", "≤ 0,1 mg/kg"),
]


def lab_report_pdf(product: str, lot: str, laboratory: str, tested_on: date) -> bytes:
    """A one-page test report for a demo lot (the same input makes the same bytes)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from .render.notice_pdf import FONT, FONT_BOLD, _register_fonts

    _register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12)
    title = ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=12, leading=16,
                           alignment=1)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A5, leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, invariant=1,
                            title="Phiếu kết quả thử nghiệm (dữ liệu demo)")
    day = tested_on.strftime("%d/%m/%Y")
    rows = [["Chỉ tiêu", "Phương pháp", "Kết quả", "Giới hạn"], *map(list, LAB_ROWS)]
    table = Table(rows, colWidths=[26 * mm, 31 * mm, 37 * mm, 30 * mm])
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8),
                               ("FONT", (0, 0), (-1, 0), FONT_BOLD, 8),
                               ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8efe4"))]))
    doc.build([
        Paragraph(escape(laboratory), body),
        Spacer(1, 4 * mm),
        Paragraph("PHIẾU KẾT QUẢ THỬ NGHIỆM", title),
        Paragraph("DỮ LIỆU DEMO — KHÔNG CÓ GIÁ TRỊ PHÁP LÝ", title),
        Spacer(1, 4 * mm),
        Paragraph(f"Mẫu: {escape(product)}, lô {escape(lot)}", body),
        Paragraph(f"Ngày thử nghiệm: {day}", body),
        Spacer(1, 3 * mm),
        table,
        Spacer(1, 4 * mm),
        Paragraph("Kết luận: mẫu đạt các chỉ tiêu đã thử nghiệm.", body),
    ])
    return out.getvalue()


def store_lab_report(product: str, lot: str, laboratory: str, tested_on: date) -> StoredFile:
    from flask import current_app

    return store_upload(lab_report_pdf(product, lot, laboratory, tested_on), media(),
                        max_bytes=max_upload_bytes(current_app.config), field="file")
