"""An officer on a phone: from the dashboard's to-do list to the certificates to follow, a
product, its producer and the handover; the filters and region pickers; a certificate
registered and revoked through the forms; the notices button; the report read on the page."""
from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_fits, expect_path, follow, path_of, sign_in
from tests.factories import make_certificate, make_producer, make_product, make_region, make_user
from traceability.accounts.services import hash_password
from traceability.clock import local_today
from traceability.extensions import db as _db
from traceability.registry.models import RegionLevel

PASSWORD = "mat-khau-can-bo-2026"
TODAY = local_today()


@pytest.fixture()
def province(db):
    """A province with a commune in force, a district abolished by the 2025 reform, and an
    officer of the province. A co-op in the commune: garlic expiring in 40 days (its notice is
    due), seaweed without a certificate; the co-op has no e-mail address."""
    top = make_region(level=RegionLevel.PROVINCE, name="Tỉnh Thử Nghiệm")
    commune = make_region(parent_id=top.id, name="Xã Mới Lập", valid_from=date(2025, 7, 1))
    make_region(parent_id=top.id, level=RegionLevel.DISTRICT, name="Huyện Đã Giải Thể",
                valid_from=date(2020, 1, 1), valid_to=date(2025, 6, 30))
    coop = make_producer(commune, name="Hợp tác xã Tỏi Sạch Một Tên Rất Dài Để Thử Xuống Dòng", email=None)
    garlic = make_product(coop, name_vi="Tỏi cô đơn")
    cert = make_certificate(garlic, stars=4, score=None, issued_on=TODAY - timedelta(days=1000),
                            expires_on=TODAY + timedelta(days=40))
    seaweed = make_product(coop, name_vi="Rong biển sấy")
    officer = make_user("officer", regions=[top], email="canbo@example.vn",
                        password_hash=hash_password(PASSWORD))
    _db.session.commit()
    return SimpleNamespace(coop=coop, garlic=garlic, cert=cert, seaweed=seaweed, officer=officer)


def test_from_the_to_do_list_to_the_certificate_the_product_its_producer_and_the_handover(
        page: Page, province, screenshot) -> None:
    sign_in(page, "canbo@example.vn", PASSWORD)
    page.goto("/officer/")
    todo = page.locator("ul.todo")
    expect(todo).to_contain_text("1 giấy chứng nhận sắp hết hạn (trong 90 ngày)")
    expect(todo).to_contain_text("1 chủ thể chưa được cấp mã bàn giao")
    screenshot(page, "officer-dashboard")
    follow(page, "/officer/certificates?bucket=expiring_90", within="ul.todo")
    expect(page.locator("table.stack")).to_contain_text("còn 40 ngày")
    expect(page.locator("table.stack")).to_contain_text(province.cert.expires_on.strftime("%d/%m/%Y"))
    screenshot(page, "officer-follow-up")
    follow(page, f"/officer/products/{province.garlic.id}", within="table.stack")
    follow(page, f"/officer/producers/{province.coop.id}", within="main")
    expect(page.locator("h1")).to_have_text(province.coop.name)
    expect(page.locator("#ban-giao")).to_contain_text("Chưa bàn giao")
    screenshot(page, "officer-producer")
    follow(page, f"/account/producers/{province.coop.id}/handover", within="#ban-giao")
    expect_path(page, f"/account/producers/{province.coop.id}/handover")


def test_a_certificate_registered_then_revoked_through_the_forms(page: Page, province) -> None:
    sign_in(page, "canbo@example.vn", PASSWORD)
    page.goto(f"/officer/producers/{province.coop.id}")
    follow(page, re.compile(rf"/officer/products/{province.seaweed.id}#cap-moi$"))
    form = page.locator("#cap-moi form")
    form.get_by_label("Hạng sao").select_option("3")
    form.get_by_label("Cơ quan cấp").fill("Ủy ban nhân dân tỉnh Thử Nghiệm")
    form.get_by_label("Số quyết định").fill("15/QĐ-UBND")
    form.get_by_role("button", name="Ghi giấy chứng nhận").click()
    page.wait_for_load_state()
    expect(page.locator(".alert.ok")).to_contain_text("Đã ghi giấy chứng nhận.")
    expect(page.locator(".badge").first).to_have_text("Còn hiệu lực")
    assert_fits(page)
    follow(page, re.compile(r"/officer/certificates/\d+/revoke$"), within="main")
    page.wait_for_load_state()
    page.get_by_label("Số quyết định thu hồi").fill("16/QĐ-UBND")
    page.get_by_label("Lý do thu hồi").fill("Không duy trì điều kiện sản xuất.")
    page.get_by_role("button", name="Thu hồi", exact=True).click()
    page.wait_for_load_state()
    assert path_of(page) == f"/officer/products/{province.seaweed.id}"
    expect(page.locator(".badge").first).to_have_text("Đã thu hồi")


def test_the_products_filters_and_the_region_picker_with_former_units(page: Page, province) -> None:
    sign_in(page, "canbo@example.vn", PASSWORD)
    page.goto("/officer/products")
    options = page.locator("#region_id option").all_text_contents()
    assert not any("Huyện Đã Giải Thể" in o for o in options) and any("Xã Mới Lập" in o for o in options)
    page.get_by_role("link", name="Hiện cả đơn vị cũ").click()
    page.wait_for_load_state()
    options = page.locator("#region_id option").all_text_contents()
    assert any("Huyện Đã Giải Thể (đến 30/06/2025)" in o for o in options)
    page.get_by_label("Giấy chứng nhận").select_option("none")
    page.get_by_role("button", name="Tìm").click()
    page.wait_for_load_state()
    rows = page.locator("table.stack tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Rong biển sấy")


def test_the_notices_button_says_what_happened(page: Page, province, screenshot) -> None:
    sign_in(page, "canbo@example.vn", PASSWORD)
    page.goto("/officer/notices")
    expect(page.locator("main")).to_contain_text("1 thông báo đến hạn gửi ngay bây giờ.")
    page.get_by_role("button", name="Gửi các thông báo đến hạn").click()
    page.wait_for_load_state()
    expect(page.locator(".alert")).to_contain_text("1 thông báo không gửi được")
    expect(page.locator("table.stack")).to_contain_text("Thất bại")
    expect(page.locator("table.stack")).to_contain_text("gửi bằng đường bưu điện")
    screenshot(page, "officer-notices")


def test_the_report_read_on_the_page(page: Page, province) -> None:
    sign_in(page, "canbo@example.vn", PASSWORD)
    page.goto("/officer/reports")
    page.get_by_label("Định dạng").select_option("html")
    page.get_by_role("button", name="Lập báo cáo").click()
    page.wait_for_load_state()
    expect(page.locator("#report-title")).to_contain_text("Báo cáo từ")
    page.get_by_text("Bàn giao tài khoản", exact=True).click()   # open the section
    expect(page.locator("main")).to_contain_text("Hợp tác xã")
    assert_fits(page)
