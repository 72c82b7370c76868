"""The handover record (biên bản bàn giao tài khoản truy xuất nguồn gốc) as a Vietnamese PDF."""
from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .. import formats

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
# The same names as the other documents: reportlab's font registry is process-wide.
FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
_fonts_lock = threading.Lock()

ROLE_TITLES = {"consultant": "Đơn vị tư vấn", "officer": "Cán bộ quản lý OCOP", "admin": "Quản trị hệ thống"}


def _register_fonts() -> None:
    with _fonts_lock:
        if FONT in pdfmetrics.getRegisteredFontNames():
            return
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


@dataclass(frozen=True)
class RecordProduct:
    name: str
    gtin: str | None
    trace_code: str
    trace_url: str
    valid_until: date


@dataclass(frozen=True)
class HandoverRecord:
    """Everything the record says; accounts.services fills it from the database."""

    number: str
    made_on: datetime
    producer_name: str
    producer_address: str
    producer_tax_code: str | None
    representative_name: str | None
    issuer_name: str
    issuer_organisation: str | None
    issuer_role: str
    claim_url: str
    claim_expires_at: datetime
    default_validity_months: int  # each code's guaranteed life (registry.status.VALIDITY_MONTHS)
    products: list[RecordProduct] = field(default_factory=list)


def _gtin_display(gtin: str | None) -> str:
    if not gtin:
        return "chưa cấp GTIN"
    # Vietnamese labels print the 13-digit EAN form; storage keeps GTIN-14.
    return gtin[1:] if len(gtin) == 14 and gtin.startswith("0") else gtin


def _qr_image(text: str, size: float) -> Image:
    from .qr import qr_png

    return Image(io.BytesIO(qr_png(text, ec="M", scale=10, border=4)), width=size, height=size)


def render_handover_pdf(record: HandoverRecord) -> bytes:
    _register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=14.5)
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11)
    center = ParagraphStyle("center", parent=body, alignment=TA_CENTER)
    title = ParagraphStyle("title", parent=center, fontName=FONT_BOLD, fontSize=14, leading=19,
                           spaceBefore=6, spaceAfter=4)
    heading = ParagraphStyle("heading", parent=body, fontName=FONT_BOLD, spaceBefore=8, spaceAfter=3)
    cell = ParagraphStyle("cell", parent=body, fontSize=9, leading=12)
    cell_bold = ParagraphStyle("cell_bold", parent=cell, fontName=FONT_BOLD)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text), style)

    expires = formats.to_vietnam(record.claim_expires_at)
    story: list = [
        p("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", ParagraphStyle("nation", parent=center, fontName=FONT_BOLD)),
        p("Độc lập - Tự do - Hạnh phúc", center),
        Spacer(1, 4 * mm),
        p("BIÊN BẢN BÀN GIAO TÀI KHOẢN TRUY XUẤT NGUỒN GỐC", title),
        p(f"Số: {record.number} — lập ngày {formats.date(record.made_on)}", center),
        Spacer(1, 3 * mm),
        p("Bên giao (Bên A)", heading),
        p(f"Họ và tên: {record.issuer_name}"),
        p(f"Chức danh: {ROLE_TITLES.get(record.issuer_role, record.issuer_role)}"
          + (f" — {record.issuer_organisation}" if record.issuer_organisation else "")),
        p("Bên nhận (Bên B) — chủ thể OCOP", heading),
        p(f"Tên chủ thể: {record.producer_name}"),
        p(f"Địa chỉ: {record.producer_address}"),
        p(f"Mã số thuế: {record.producer_tax_code or '—'}"),
        p(f"Người đại diện: {record.representative_name or '……………………………………'}"),
        p("Nội dung bàn giao", heading),
        p("Bên A bàn giao cho Bên B tài khoản quản trị dữ liệu truy xuất nguồn gốc của các sản phẩm "
          "dưới đây trên hệ thống OCOP Trace. Sau khi Bên B nhận bàn giao, Bên A không còn quyền truy "
          "cập dữ liệu của chủ thể. Mã QR và mã vạch đã in trên sản phẩm vẫn tiếp tục truy xuất được, "
          "không phụ thuộc vào tài khoản."),
        Spacer(1, 2 * mm),
    ]
    rows = [[p("TT", cell_bold), p("Sản phẩm", cell_bold), p("GTIN / mã truy xuất", cell_bold),
             p("Đường dẫn truy xuất", cell_bold), p("Mã hiệu lực đến", cell_bold)]]
    for index, product in enumerate(record.products, start=1):
        rows.append([p(str(index), cell), p(product.name, cell),
                     p(f"{_gtin_display(product.gtin)}\n{product.trace_code}".replace("\n", " / "), cell),
                     p(product.trace_url, cell), p(formats.date(product.valid_until), cell)])
    if not record.products:
        rows.append([p("", cell), p("Chưa có sản phẩm", cell), p("", cell), p("", cell), p("", cell)])
    table = Table(rows, colWidths=[9 * mm, 45 * mm, 38 * mm, 64 * mm, 24 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f0e3")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    story += [
        table,
        Spacer(1, 2 * mm),
        p(f"Thời hạn bảo đảm của mã: mỗi mã được bảo đảm truy xuất ít nhất "
          f"{formats.number(record.default_validity_months)} tháng và không ngắn hơn hạn giấy chứng nhận OCOP; "
          "cột “Mã hiệu lực đến” ghi hạn bảo đảm của đợt in tem gần nhất.", small),
        p("Nhận bàn giao", heading),
    ]
    claim_text = [
        p("Người đại diện Bên B quét mã QR bên cạnh bằng điện thoại (hoặc mở đường dẫn dưới đây), "
          "tự đặt tên đăng nhập và mật khẩu để trở thành chủ tài khoản:"),
        Spacer(1, 2 * mm),
        Paragraph(escape(record.claim_url), ParagraphStyle("link", parent=body, fontName=FONT_BOLD,
                                                           fontSize=9.5, leading=13)),
        Spacer(1, 2 * mm),
        p(f"Mã chỉ dùng được một lần, hết hạn lúc {expires:%H:%M} ngày {formats.date(expires)}. "
          "Không chia sẻ mã này cho người khác."),
    ]
    claim = Table([[_qr_image(record.claim_url, 42 * mm), claim_text]], colWidths=[48 * mm, 132 * mm])
    claim.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BOX", (0, 0), (-1, -1), 0.5, colors.grey)]))
    story += [claim, Spacer(1, 8 * mm)]
    signatures = Table([
        [p("ĐẠI DIỆN BÊN GIAO", ParagraphStyle("s", parent=center, fontName=FONT_BOLD)),
         p("ĐẠI DIỆN BÊN NHẬN", ParagraphStyle("s2", parent=center, fontName=FONT_BOLD))],
        [p("(Ký, ghi rõ họ tên)", center), p("(Ký, ghi rõ họ tên, đóng dấu nếu có)", center)],
        [Spacer(1, 22 * mm), Spacer(1, 22 * mm)],
        [p(record.issuer_name, center), p(record.representative_name or "", center)],
    ], colWidths=[90 * mm, 90 * mm])
    story.append(signatures)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm,
                            title="Biên bản bàn giao tài khoản truy xuất nguồn gốc",
                            author="OCOP Trace", subject=record.producer_name)
    doc.build(story)
    return buffer.getvalue()
