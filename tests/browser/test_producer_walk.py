"""A producer's representative on a phone: claims the account a consultant set up, records a
harvest with a photo, and finds it on the lot's public trace page, which the batch page's QR
code opens."""
from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_fits, expect_path, follow, jpeg_photo, sign_in
from tests.factories import make_batch, make_certificate, make_producer, make_product, make_user
from traceability.accounts.services import claim_url, issue_handover

PASSWORD = "toi-ly-son-2026"
PHONE = "0987 654 321"


def _producer_with_an_open_claim(db):
    producer = make_producer(name="Hợp tác xã Tỏi An Hải", representative="Trần Thị Hoa",
                             address="Thôn Đông, xã An Hải, đặc khu Lý Sơn, tỉnh Quảng Ngãi")
    consultant = make_user("consultant", producer=producer)
    product = make_product(producer, gtin="08939900001010", name_vi="Tỏi cô đơn Lý Sơn")
    make_certificate(product, stars=4)
    batch = make_batch(product, lot="TOI-01", unit="kg")
    _handover, secret = issue_handover(consultant, producer, days=14,
                                       representative_name="Trần Thị Hoa")
    db.session.commit()
    return claim_url(secret), batch


def _image_loaded(page: Page, selector: str) -> bool:
    """The image has arrived and decoded (brought into view first: it may be lazy-loaded)."""
    image = page.locator(selector).first
    image.scroll_into_view_if_needed()
    image.evaluate("img => img.decode().catch(() => null)")
    return image.evaluate("img => img.complete && img.naturalWidth > 0")


def test_the_representative_claims_the_account_records_a_photo_step_and_sees_it_public(
        page: Page, live_server, db, screenshot) -> None:
    link, batch = _producer_with_an_open_claim(db)
    assert link.startswith(f"{live_server.url}/claim/")

    # The claim link from the printed handover record, opened on her phone.
    page.goto(link)
    expect(page.get_by_role("heading", name="Nhận bàn giao tài khoản")).to_be_visible()
    expect(page.get_by_text("Hợp tác xã Tỏi An Hải")).to_be_visible()
    expect(page.get_by_label("Họ và tên")).to_have_value("Trần Thị Hoa")
    page.get_by_label("Số điện thoại").fill(PHONE)
    page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
    page.get_by_label("Nhập lại mật khẩu").fill(PASSWORD)
    screenshot(page, "producer-1-claim")
    page.get_by_role("button", name="Nhận bàn giao").click()
    expect(page.get_by_role("heading", name="Đã nhận bàn giao")).to_be_visible()
    expect(page.get_by_text("Bạn đã là chủ tài khoản của Hợp tác xã Tỏi An Hải")).to_be_visible()
    page.get_by_role("link", name="Bắt đầu").click()
    expect_path(page, "/producer/")

    # Her phone number and password are her sign-in from now on.
    page.get_by_role("button", name="Đăng xuất").click()
    expect_path(page, "/login")
    sign_in(page, PHONE, PASSWORD)
    expect_path(page, "/producer/")
    expect(page.get_by_role("heading", name="Hợp tác xã Tỏi An Hải")).to_be_visible()
    screenshot(page, "producer-2-home")

    # The batch, and a harvest recorded with a photo taken on the field.
    follow(page, f"/producer/batches/{batch.id}")
    expect(page.get_by_role("heading", name="Lô TOI-01")).to_be_visible()
    follow(page, f"/producer/batches/{batch.id}/record")
    expect(page.get_by_role("heading", name="Bạn vừa làm việc gì?")).to_be_visible()
    follow(page, f"/producer/batches/{batch.id}/record?kind=harvest")
    expect(page.get_by_role("heading", name="Thu hoạch")).to_be_visible()
    page.get_by_label("Địa điểm").fill("Ruộng tỏi thôn Đông")
    page.get_by_label("Số lượng").fill("120,5")
    page.get_by_label("Đơn vị tính").fill("kg")
    page.get_by_label("Ghi chú").fill("Nhổ tỏi vụ đông xuân, phơi hai nắng")
    page.get_by_label("Ảnh hoặc tài liệu PDF").set_input_files(
        {"name": "ruong-toi.jpg", "mimeType": "image/jpeg", "buffer": jpeg_photo()})
    screenshot(page, "producer-3-record-step")
    page.get_by_role("button", name="Lưu bước").click()
    expect_path(page, re.compile(rf"/producer/batches/{batch.id}\?recorded=\d+#event-\d+$"))
    expect(page.get_by_text("Đã ghi bước vào nhật ký.")).to_be_visible()
    step = page.locator("ol.timeline li").last
    expect(step).to_contain_text("Thu hoạch")
    expect(step).to_contain_text("Ruộng tỏi thôn Đông")
    expect(step).to_contain_text("120,5 kg")  # written and shown the Vietnamese way
    assert _image_loaded(page, "ol.timeline li img")
    screenshot(page, "producer-4-batch")

    # The lot's QR code on the batch page carries the lot's public page on this server.
    lot_link = page.locator("section.lot-page a")
    href = lot_link.get_attribute("href")
    assert href == f"{live_server.url}/01/08939900001010/10/TOI-01"
    qr = Image.open(io.BytesIO(page.locator("section.lot-page .qr").screenshot()))
    assert [code.text for code in zxingcpp.read_barcodes(qr)] == [href]

    # The public trace page of the lot shows the step and its photo, to anyone.
    lot_link.click()
    expect_path(page, "/trace/01/08939900001010/10/TOI-01")  # the resolver redirects to its default link
    expect(page.get_by_role("heading", name="Tỏi cô đơn Lý Sơn")).to_be_visible()
    diary = page.locator("section[aria-labelledby=nk]")
    expect(diary).to_contain_text("Thu hoạch")
    expect(diary).to_contain_text("Ruộng tỏi thôn Đông")
    expect(diary).to_contain_text("Nhổ tỏi vụ đông xuân, phơi hai nắng")
    photo = diary.get_by_role("img", name="Ảnh: Thu hoạch")
    expect(photo).to_be_visible()
    assert _image_loaded(page, "section[aria-labelledby=nk] img")
    assert_fits(page)
    screenshot(page, "producer-5-trace-page")
