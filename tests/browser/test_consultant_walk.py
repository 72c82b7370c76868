"""A consultant on a phone sets a producer up from nothing: registers it with its GS1 company
prefix, adds a product, allocates its GTIN, sees its EAN-13, makes a batch and a label run,
downloads the label sheet (whose printed QR opens the lot's page on this server) and issues the
handover, whose printed record it downloads. Nothing but the web pages: no API token."""
from __future__ import annotations

import io
import re

import pypdfium2
import zxingcpp
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.helpers import assert_fits, expect_path, follow, jpeg_photo, sign_in
from tests.factories import make_region, make_user
from traceability.accounts.services import hash_password
from traceability.gs1 import make_gtin13
from traceability.registry.models import RegionLevel
from traceability.render import PRESETS

PASSWORD = "tu-van-ly-son-2026"
PREFIX = "8939944"
GTIN13 = make_gtin13(PREFIX, 0)
MM_TO_PX = 300 / 25.4


def _consultant_and_regions(db):
    province = make_region(level=RegionLevel.PROVINCE, name="Tỉnh Quảng Ngãi")
    make_region(parent_id=province.id, name="Đặc khu Lý Sơn")
    make_region(parent_id=province.id, name="Phường Sa Huỳnh")
    make_user("consultant", email="tuvan@example.vn", full_name="Lê Minh Tư Vấn",
              password_hash=hash_password(PASSWORD))
    db.session.commit()


def _fetch(context: BrowserContext, href: str, content_type: str) -> bytes:
    """A download, fetched with the browser's own session (what the link would save)."""
    answer = context.request.get(href)
    assert answer.status == 200, f"{href}: {answer.status}"
    assert answer.headers["content-type"].startswith(content_type), answer.headers
    return answer.body()


def _first_page_at_300_dpi(pdf: bytes) -> Image.Image:
    document = pypdfium2.PdfDocument(io.BytesIO(pdf))
    try:
        return document[0].render(scale=300 / 72).to_pil()
    finally:
        document.close()


def _codes(image: Image.Image) -> dict[zxingcpp.BarcodeFormat, list[str]]:
    found: dict[zxingcpp.BarcodeFormat, list[str]] = {}
    for result in zxingcpp.read_barcodes(image):
        found.setdefault(result.format, []).append(result.text)
    return found


def _image_loaded(page: Page, selector: str) -> bool:
    """Whether the first image matching `selector` has loaded (waiting for it a while)."""
    page.wait_for_function(
        "selector => { const img = document.querySelector(selector);"
        " return img !== null && img.complete; }", arg=selector)
    return page.locator(selector).first.evaluate("img => img.naturalWidth > 0")


def test_the_consultant_sets_a_producer_up_and_hands_it_over(
        page: Page, context: BrowserContext, live_server, db, screenshot) -> None:
    _consultant_and_regions(db)
    sent: list[tuple[str, str]] = []
    page.on("request", lambda request: sent.append((request.method, request.url)))
    sign_in(page, "tuvan@example.vn", PASSWORD)

    # The consultant's home: the producers in its charge, none yet.
    expect_path(page, "/setup/producers")
    expect(page.get_by_text("Bạn chưa phụ trách chủ thể OCOP nào.")).to_be_visible()
    follow(page, "/setup/producers/new")

    # The producer, with the company prefix GS1 Vietnam licensed to it.
    expect(page.get_by_role("heading", name="Thêm chủ thể OCOP")).to_be_visible()
    page.get_by_label("Loại hình chủ thể").select_option(label="Hợp tác xã")
    page.get_by_label("Tên chủ thể").fill("Hợp tác xã Tỏi An Hải")
    page.get_by_label("Địa chỉ").fill("Thôn Đông, đặc khu Lý Sơn, tỉnh Quảng Ngãi")
    page.get_by_label("Địa bàn (xã, phường)").select_option(label="Đặc khu Lý Sơn")
    page.get_by_label("Người đại diện").fill("Trần Thị Hoa")
    page.get_by_label("Mã doanh nghiệp GS1 (nếu có)").fill(PREFIX)
    page.get_by_label("Mã địa điểm toàn cầu GLN (nếu có)").fill("8939944000019")  # a wrong check digit
    page.get_by_role("button", name="Thêm chủ thể").click()
    expect(page.get_by_text("Số kiểm tra của GLN không đúng (phải là 7).")).to_be_visible()
    assert_fits(page)
    screenshot(page, "consultant-1-producer-refused")
    page.get_by_label("Mã địa điểm toàn cầu GLN (nếu có)").fill("8939944000017")
    page.get_by_role("button", name="Thêm chủ thể").click()
    expect(page.get_by_role("heading", name="Hợp tác xã Tỏi An Hải")).to_be_visible()
    expect(page.get_by_text("Đặc khu Lý Sơn, Tỉnh Quảng Ngãi", exact=True)).to_be_visible()
    producer_path = re.search(r"/setup/producers/\d+$", page.url).group(0)
    screenshot(page, "consultant-2-producer")

    # A product with its photo.
    follow(page, f"{producer_path}/products/new")
    page.get_by_label("Nhóm sản phẩm OCOP").select_option(label="Thực phẩm")
    page.get_by_label("Tên sản phẩm (tiếng Việt)").fill("Tỏi cô đơn Lý Sơn")
    page.get_by_label("Tên sản phẩm (tiếng Anh)").fill("Ly Son single-clove garlic")
    page.get_by_label("Ảnh sản phẩm (JPEG, PNG hoặc WebP)").set_input_files(
        {"name": "toi.jpg", "mimeType": "image/jpeg", "buffer": jpeg_photo(800, 600)})
    page.get_by_label("Hạn sử dụng (số ngày)").fill("365")
    page.get_by_role("button", name="Thêm sản phẩm").click()
    expect(page.get_by_role("heading", name="Tỏi cô đơn Lý Sơn")).to_be_visible()
    assert _image_loaded(page, "img.product-image")

    # Its GTIN, the lowest free one of the prefix, and the EAN-13 that prints it.
    page.get_by_role("button", name="Cấp mã GTIN").click()
    expect(page.get_by_text(f"Đã cấp GTIN {GTIN13} cho sản phẩm.")).to_be_visible()
    ean = page.get_by_role("img", name=f"Mã vạch EAN-13 {GTIN13}")
    expect(ean).to_be_visible()
    assert _image_loaded(page, "figure img[src$='ean13.svg']")
    seen = Image.open(io.BytesIO(ean.screenshot()))
    assert _codes(seen) == {zxingcpp.BarcodeFormat.EAN13: [GTIN13]}
    assert_fits(page)
    screenshot(page, "consultant-3-product-gtin")

    # A batch, then a run of unit labels.
    follow(page, re.compile(r"^/producer/products/\d+/batches/new$"))
    page.get_by_label("Số lô").fill("TOI-01")
    page.get_by_role("button", name="Tạo lô").click()
    expect(page.get_by_role("heading", name="Lô TOI-01")).to_be_visible()
    follow(page, re.compile(r"^/producer/batches/\d+/labels$"))
    page.get_by_label("Tem từng sản phẩm (mã riêng, chống giả)").check()
    page.get_by_label("Số tem").fill("30")
    page.get_by_role("button", name="Tạo đợt tem").click()
    expect(page.get_by_text("Đã tạo đợt tem mới.")).to_be_visible()
    expect(page.get_by_role("img", name="Xem trước trang tem đầu tiên")).to_be_visible()
    assert _image_loaded(page, "figure.sheet img")
    screenshot(page, "consultant-4-labels")

    # The sheet as printed: its first label's QR opens the unit's page on this server, and
    # its EAN-13 carries the GTIN.
    href = page.get_by_role("link", name=re.compile(r"^Tải PDF")).first.get_attribute("href")
    assert href and href.endswith("preset=a4-3x8")
    sheet = _first_page_at_300_dpi(_fetch(context, href, "application/pdf"))
    left, top, width, height = PRESETS["a4-3x8"].label_box_mm(0)
    cell = sheet.crop(tuple(round(v * MM_TO_PX) for v in (left, top, left + width, top + height)))
    codes = _codes(cell)
    assert codes[zxingcpp.BarcodeFormat.EAN13] == [GTIN13]
    [url] = codes[zxingcpp.BarcodeFormat.QRCode]
    assert url.startswith(f"{live_server.url}/01/0{GTIN13}/10/TOI-01/21/1")
    scanned = context.request.get(url)
    assert scanned.status == 200 and "Tỏi cô đơn Lý Sơn" in scanned.text()

    # The handover, from the producer's page, and its printed record.
    follow(page, "/setup/producers")
    follow(page, producer_path)
    follow(page, re.compile(r"^/account/producers/\d+/handover$"))
    expect(page.get_by_label("Người đại diện nhận bàn giao")).to_have_value("Trần Thị Hoa")
    page.get_by_role("button", name="Cấp mã").click()
    expect(page.get_by_text("Đã tạo mã nhận bàn giao.")).to_be_visible()
    claim = page.locator("#claim-link").inner_text()
    assert claim.startswith(f"{live_server.url}/claim/")
    assert_fits(page)
    screenshot(page, "consultant-5-handover")
    record = page.get_by_role("link", name="Tải biên bản bàn giao (PDF)").get_attribute("href")
    pdf = _fetch(context, record, "application/pdf")
    document = pypdfium2.PdfDocument(io.BytesIO(pdf))
    text, claims = "", []
    try:
        for index in range(len(document)):
            text += document[index].get_textpage().get_text_range()
            claims += _codes(document[index].render(scale=300 / 72).to_pil()).get(
                zxingcpp.BarcodeFormat.QRCode, [])
    finally:
        document.close()
    assert "Hợp tác xã Tỏi An Hải" in text and GTIN13 in "".join(text.split())
    assert claims == [claim]

    # The pages did it all: the browser asked the API only for images to show.
    api = [(method, url) for method, url in sent if "/api/" in url]
    assert api and all(method == "GET" and url.endswith((".svg", ".png")) for method, url in api), api
