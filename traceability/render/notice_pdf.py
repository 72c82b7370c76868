"""The Vietnamese expiry-notice letter (thông báo giấy chứng nhận OCOP sắp hết hiệu lực) as a PDF."""
from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .. import formats

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"

FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
_fonts_lock = threading.Lock()


def _register_fonts() -> None:
    """reportlab keeps fonts in a process-wide registry: register them once."""
    with _fonts_lock:
        if FONT in pdfmetrics.getRegisteredFontNames():
            return
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


@dataclass(frozen=True)
class NoticeLetter:
    """Everything the letter says; the caller fills it from the certificate."""

    issuing_authority: str
    notice_number: str
    place: str
    letter_date: date
    producer_name: str
    producer_address: str
    product_name: str
    stars: int
    decision_number: str
    issued_on: date
    expires_on: date
    contact: str = ""


def render_notice_pdf(letter: NoticeLetter) -> bytes:
    _register_fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=11.5, leading=16, alignment=TA_JUSTIFY,
                          spaceAfter=6)
    center = ParagraphStyle("center", parent=base, alignment=TA_CENTER, spaceAfter=0)
    center_bold = ParagraphStyle("center_bold", parent=center, fontName=FONT_BOLD)
    title = ParagraphStyle("title", parent=center_bold, fontSize=14, leading=19, spaceBefore=10)
    small = ParagraphStyle("small", parent=base, fontSize=9.5, leading=13, alignment=0)

    head = Table([
        [Paragraph(escape(letter.issuing_authority.upper()), center_bold),
         Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", center_bold)],
        [Paragraph("Số: " + escape(letter.notice_number), center),
         Paragraph("<u>Độc lập - Tự do - Hạnh phúc</u>", center_bold)],
        ["", Paragraph(f"<i>{escape(letter.place)}, ngày {letter.letter_date.day:02d} tháng "
                       f"{letter.letter_date.month:02d} năm {letter.letter_date.year}</i>", center)],
    ], colWidths=[70 * mm, 100 * mm])
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    days_left = (letter.expires_on - letter.letter_date).days
    story = [
        head,
        Spacer(1, 8 * mm),
        Paragraph("THÔNG BÁO", title),
        Paragraph("Về việc giấy chứng nhận sản phẩm OCOP sắp hết hiệu lực", center_bold),
        Spacer(1, 6 * mm),
        Paragraph(f"Kính gửi: <b>{escape(letter.producer_name)}</b>", base),
        Paragraph(f"Địa chỉ: {escape(letter.producer_address)}", base),
        Spacer(1, 3 * mm),
        Paragraph(
            f"Căn cứ Quyết định số 148/QĐ-TTg ngày 24/02/2023 của Thủ tướng Chính phủ ban hành Bộ tiêu chí "
            f"và quy trình đánh giá, phân hạng sản phẩm Chương trình mỗi xã một sản phẩm, "
            f"{escape(letter.issuing_authority)} thông báo:", base),
        Paragraph(
            f"Sản phẩm <b>{escape(letter.product_name)}</b>, đạt hạng <b>{letter.stars} sao</b> theo "
            f"Quyết định số <b>{escape(letter.decision_number)}</b> ngày {formats.date(letter.issued_on)}, có giấy "
            f"chứng nhận sản phẩm OCOP hết hiệu lực vào ngày <b>{formats.date(letter.expires_on)}</b> "
            f"(còn {formats.number(days_left)} ngày kể từ ngày thông báo này).", base),
        Paragraph(
            "Đề nghị chủ thể chuẩn bị hồ sơ và đăng ký đánh giá lại sản phẩm trước ngày hết hạn. "
            "Quá thời hạn trên mà sản phẩm không được đánh giá lại, giấy chứng nhận hết hiệu lực và "
            "chủ thể không được tiếp tục sử dụng biểu trưng OCOP và số sao trên bao bì, nhãn sản phẩm.", base),
        Paragraph("Mã QR truy xuất nguồn gốc đã in trên sản phẩm vẫn tiếp tục hoạt động; trang truy "
                  "xuất sẽ hiển thị đúng tình trạng giấy chứng nhận.", base),
    ]
    if letter.contact:
        story.append(Paragraph("Mọi thông tin xin liên hệ: " + escape(letter.contact) + ".", base))
    story += [
        Spacer(1, 8 * mm),
        Table([[Paragraph("<b><i>Nơi nhận:</i></b><br/>- Như trên;<br/>- Lưu: VT, OCOP.", small),
                Paragraph("<b>" + escape(letter.issuing_authority.upper()) + "</b><br/><br/><br/><br/>"
                          "<i>(Ký, ghi rõ họ tên, đóng dấu)</i>", center)]],
              colWidths=[80 * mm, 90 * mm],
              style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                ("TEXTCOLOR", (0, 0), (-1, -1), colors.black)])),
    ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=25 * mm, rightMargin=18 * mm,
                            topMargin=18 * mm, bottomMargin=18 * mm,
                            title="Thông báo giấy chứng nhận OCOP sắp hết hiệu lực",
                            author=letter.issuing_authority, invariant=True)
    doc.build(story)
    return out.getvalue()
