"""An officer on a phone: from the page sign-in leads to, finds a certified product of the
commune, revokes its certificate, and a buyer's scan of the product's label shows it at once."""
from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlsplit

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
from traceability.codes.models import LabelLevel
from traceability.codes.services import issue_label_run, run_label_url
from traceability.registry.models import RegionLevel
from traceability.resolver.models import Scan, ScanVerdict

PASSWORD = "can-bo-sa-huynh-2026"


def _commune_with_a_certified_product(db):
    province = make_region(level=RegionLevel.PROVINCE, name="Tỉnh Quảng Ngãi")
    commune = make_region(parent_id=province.id, name="Phường Sa Huỳnh")
    elsewhere = make_region(parent_id=province.id, name="Xã Tịnh Khê")
    officer = make_user("officer", regions=[commune], email="canbo@quangngai.gov.vn",
                        full_name="Lê Văn Quản", password_hash=hash_password(PASSWORD))
    producer = make_producer(commune, name="Hợp tác xã Muối Sa Huỳnh")
    salt = make_product(producer, gtin="08939900002017", name_vi="Muối hầm Sa Huỳnh")
    make_certificate(salt, stars=4, decision_number="125/QĐ-UBND")
    fish_sauce = make_product(producer, name_vi="Mắm cá cơm Sa Huỳnh")
    make_certificate(fish_sauce, stars=3, score=Decimal("62"))
    other_commune = make_product(make_producer(elsewhere), name_vi="Muối hầm Tịnh Khê")
    make_certificate(other_commune, stars=3, score=Decimal("62"))
    batch = make_batch(salt, lot="MUOI-07")
    run = issue_label_run(batch, level=LabelLevel.UNIT, count=5)
    # Another label of the run, scanned from more networks than one genuine label reaches:
    # the dashboard lists its (long) code as a possible copy.
    copied = urlsplit(run_label_url(run, run.first_index + 1)).path
    for network in range(6):
        db.session.add(Scan(code=copied, product_id=salt.id, batch_id=batch.id,
                            serial_index=run.first_index + 1, verdict=ScanVerdict.GENUINE,
                            network_hash=f"net{network}"))
    db.session.commit()
    return officer, salt, run_label_url(run, run.first_index), copied


def test_the_officer_revokes_a_certificate_and_the_trace_page_says_so(
        page: Page, live_server, db, screenshot) -> None:
    officer, salt, label, copied = _commune_with_a_certified_product(db)
    assert label.startswith(f"{live_server.url}/01/08939900002017/10/MUOI-07/21/")

    # A buyer scans a label: four stars, in force.
    page.goto(label)
    certificate = page.locator("section[aria-labelledby=ocop]")
    expect(certificate.locator(".stars")).to_have_text("★★★★")
    expect(certificate).to_contain_text("OCOP 4 sao — còn hiệu lực")
    screenshot(page, "officer-1-trace-before")

    # The officer signs in and, from the page that leads to, reaches the product by its links.
    sign_in(page, "canbo@quangngai.gov.vn", PASSWORD)
    expect(page.locator("main")).to_contain_text(copied)  # and the page still fits the phone
    screenshot(page, "officer-2-home")
    follow(page, "/officer/products")
    expect(page.get_by_role("heading", name="Sản phẩm trong phạm vi quản lý")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)  # the other commune's product is not in this officer's scope
    page.get_by_label("Tìm theo tên sản phẩm, chủ thể hoặc mã số thuế").fill("muối hầm")
    page.get_by_role("button", name="Tìm").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Muối hầm Sa Huỳnh")
    screenshot(page, "officer-3-products")
    follow(page, f"/officer/products/{salt.id}")
    expect(page.get_by_role("heading", name="Muối hầm Sa Huỳnh")).to_be_visible()
    expect(page.locator("main")).to_contain_text("125/QĐ-UBND")

    # ... and revokes its certificate, giving the decision and the reason.
    follow(page, re.compile(r"^/officer/certificates/\d+/revoke$"), within="main")
    expect(page.get_by_role("heading", name="Thu hồi giấy chứng nhận")).to_be_visible()
    page.get_by_label("Số quyết định thu hồi").fill("310/QĐ-UBND")
    page.get_by_label("Lý do thu hồi").fill("Cơ sở không duy trì điều kiện sản xuất đã đánh giá")
    screenshot(page, "officer-4-revoke")
    page.get_by_role("button", name="Thu hồi", exact=True).click()
    expect_path(page, f"/officer/products/{salt.id}")
    expect(page.get_by_text("Đã thu hồi giấy chứng nhận.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("310/QĐ-UBND")
    screenshot(page, "officer-5-product-revoked")

    # The same label, scanned again: revoked, with the reason, and no stars.
    page.goto(label)
    certificate = page.locator("section[aria-labelledby=ocop]")
    expect(certificate).to_contain_text("Giấy chứng nhận OCOP đã bị thu hồi ngày")
    expect(certificate).to_contain_text("Cơ sở không duy trì điều kiện sản xuất đã đánh giá")
    expect(certificate.locator(".stars")).to_have_count(0)
    expect(certificate).not_to_contain_text("★")
    expect(certificate).not_to_contain_text("còn hiệu lực")
    assert_fits(page)
    screenshot(page, "officer-6-trace-revoked")
