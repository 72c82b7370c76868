"""The inspector's walk on a phone: sign in, check a label from a photo, record an inspection
from the verdict, and find it on the home page."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pypdfium2 as pdfium
from PIL import Image, ImageOps
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_fits, expect_path, follow, sign_in
from tests.factories import (
    make_batch,
    make_certificate,
    make_producer,
    make_product,
    make_region,
    make_user,
)
from traceability.accounts.services import hash_password
from traceability.clock import local_today
from traceability.codes.models import LabelLevel, PrintFormat
from traceability.codes.services import issue_label_run, iter_run_labels, write_labels
from traceability.extensions import db

PASSWORD = "kiem-tra-vien-2026"


def _label_png(run) -> bytes:
    """The run's first label as printed (the label sheet PDF, rasterised and cropped to the
    label) on a plain background: what a phone photo of the package would show."""
    out = io.BytesIO()
    write_labels(PrintFormat.PDF, [next(iter_run_labels(run))], out, workers=1)
    document = pdfium.PdfDocument(out.getvalue())
    try:
        page = document[0]
        sheet = page.render(scale=150 / 72).to_pil().convert("RGB")
        page.close()
    finally:
        document.close()
    box = ImageOps.invert(sheet.convert("L")).getbbox()
    label = sheet.crop((box[0] - 15, box[1] - 15, box[2] + 15, box[3] + 15))
    photo = Image.new("RGB", (label.width + 300, label.height + 240), (196, 170, 140))
    photo.paste(label.rotate(4, expand=True, fillcolor=(196, 170, 140)), (120, 90))
    png = io.BytesIO()
    photo.save(png, "PNG")
    return png.getvalue()


def test_an_inspector_checks_a_label_photo_and_records_the_inspection(page: Page, live_server,
                                                                      screenshot) -> None:
    region = make_region(name="Xã An Hải")
    producer = make_producer(region, name="Hợp tác xã Tỏi An Hải")
    product = make_product(producer, gtin="08939900003014", name_vi="Tỏi cô đơn Lý Sơn")
    make_certificate(product, stars=4, issued_on=local_today() - timedelta(days=100),
                     decision_number="123/QĐ-UBND")
    run = issue_label_run(make_batch(product, lot="TOI2026-10"), level=LabelLevel.UNIT, count=5)
    make_user("inspector", regions=[region], email="kiemtra@example.vn",
              full_name="Trần Văn Kiểm Tra", password_hash=hash_password(PASSWORD))
    db.session.commit()
    photo = _label_png(run)

    sign_in(page, "kiemtra@example.vn", PASSWORD)
    expect_path(page, "/inspector/")
    expect(page.get_by_text("0 lần kiểm tra trong 30 ngày")).to_be_visible()

    follow(page, "/inspector/verify")
    expect(page.get_by_role("heading", name="Kiểm tra tem")).to_be_visible()
    page.get_by_label("Ảnh tem (mã QR hoặc mã vạch)").set_input_files(
        files=[{"name": "tem.png", "mimeType": "image/png", "buffer": photo}])
    page.get_by_role("button", name="Đọc ảnh và kiểm tra").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Tem chính hãng.")).to_be_visible()
    verdict = page.locator("section.inspect")
    expect(verdict.get_by_role("heading", name="Kết luận kiểm tra")).to_be_visible()
    expect(verdict).to_contain_text("Chính hãng")
    expect(verdict).to_contain_text("123/QĐ-UBND")
    expect(verdict).to_contain_text(f"#{run.id}")
    assert_fits(page)
    screenshot(page, "inspector-verify")

    follow(page, re.compile(rf"^/oversight/inspections/new\?product_id={product.id}&code=/01/"))
    expect(page.get_by_text("Tỏi cô đơn Lý Sơn")).to_be_visible()
    page.get_by_label("Địa điểm").fill("Chợ Sơn Tịnh")
    for check in ("Giấy chứng nhận OCOP còn hiệu lực", "Tem/mã QR quét được và dẫn đúng sản phẩm"):
        page.get_by_role("group", name=check).get_by_label("Đạt", exact=True).check()
    page.get_by_label("Nội dung phát hiện").fill("Tem nguyên vẹn, in rõ.")
    page.get_by_role("group", name="Kết luận").get_by_label("Đạt", exact=True).check()
    page.get_by_role("button", name="Lưu biên bản").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Đã lưu biên bản kiểm tra.")).to_be_visible()
    expect(page.get_by_text("Mã đã quét: /01/08939900003014/10/TOI2026-10/21/")).to_be_visible()
    assert_fits(page)

    follow(page, "/inspector/")
    expect(page.get_by_text("1 lần kiểm tra trong 30 ngày")).to_be_visible()
    recent = page.locator("section", has=page.get_by_role("heading", name="Kiểm tra gần đây"))
    expect(recent).to_contain_text(local_today().strftime("%d/%m/%Y") + " — Tỏi cô đơn Lý Sơn")
    expect(recent).to_contain_text("Bạn ghi")
    screenshot(page, "inspector-home")
