"""A consumer scans each demo case on a 360 px phone, in Vietnamese and in English: the page
opens with its verdict, fits the screen (codes and lots wrap; no label of the facts takes
three lines), its photos arrive, and nothing is fetched from another host (conftest.py)."""
from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.helpers import PHONE_WIDTH, assert_fits
from traceability.cli import sample_urls
from traceability.demo import load_demo
from traceability.extensions import db

# The height of the tallest label of a page's facts, in lines.
LABEL_LINES = """Math.max(0, ...Array.from(document.querySelectorAll('.kv dt'), dt =>
  Math.round(dt.getBoundingClientRect().height / parseFloat(getComputedStyle(dt).lineHeight))))"""
IMAGES_LOADED = """Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"""


def _wait_for_images(page: Page) -> None:
    """The lazily loaded photos, in (the page's policy forbids wait_for_function's eval)."""
    for _ in range(50):
        if page.evaluate(IMAGES_LOADED):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the photos of {page.url} did not load")


@pytest.mark.parametrize("language", ["vi-VN", "en-US"])
def test_each_demo_case_on_a_phone(context: BrowserContext, live_server: Any, language: str,
                                   screenshot) -> None:
    load_demo()
    db.session.commit()
    context.set_extra_http_headers({"Accept-Language": language})
    page = context.new_page()
    for case, url in sample_urls():
        response = page.goto(url.removeprefix(live_server.url))
        assert response is not None
        assert response.status == (400 if case == "bad code" else 200), case
        if case != "bad code":
            verdict = page.locator("main > section.verdict")
            expect(verdict).to_be_visible()
            assert page.evaluate("document.querySelector('main').firstElementChild.className") \
                .startswith("alert verdict")
            assert page.evaluate(LABEL_LINES) <= 2, case
            page.locator("main").evaluate("m => m.lastElementChild.scrollIntoView()")
            _wait_for_images(page)
        assert_fits(page)
        assert page.evaluate("document.scripts.length") == 0
        screenshot(page, f"trace-{case.replace(' ', '-')}-{language[:2]}")


def test_a_long_lot_and_serial_wrap_on_a_phone(context: BrowserContext, live_server: Any) -> None:
    """The longest lot GS1 allows (20 characters) in the trace code and the lot number."""
    from tests.factories import make_batch, make_certificate, make_product
    from traceability.codes.models import LabelLevel
    from traceability.codes.services import issue_label_run, run_label_url

    product = make_product(gtin="08939900001010", name_vi="Tỏi cô đơn Lý Sơn",
                           standards="TCCS 01:2023/AH; VietGAP; HACCP; ISO 22000:2018")
    make_certificate(product)
    run = issue_label_run(make_batch(product, lot="TOI2026-10-LYSON-AH1"), level=LabelLevel.UNIT,
                          count=3)
    db.session.commit()
    page = context.new_page()
    for language in ("vi", "en"):
        page.goto(run_label_url(run, 2).removeprefix(live_server.url) + f"?lang={language}")
        expect(page.locator("main > section.verdict.ok")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        assert page.evaluate(LABEL_LINES) <= 2


def test_a_signed_in_inspector_scans_a_label_and_reads_the_inspection_verdict_first(
        page: Page, live_server: Any, screenshot) -> None:
    from tests.browser.helpers import sign_in
    from tests.factories import make_batch, make_certificate, make_producer, make_product, make_user
    from traceability.accounts.services import hash_password
    from traceability.codes.models import LabelLevel
    from traceability.codes.services import issue_label_run, run_label_url

    producer = make_producer(name="Hợp tác xã Tỏi An Hải")
    product = make_product(producer, gtin="08939900001010", name_vi="Tỏi cô đơn Lý Sơn")
    make_certificate(product, stars=5, score=95)
    run = issue_label_run(make_batch(product, lot="TOI2026-10"), level=LabelLevel.UNIT, count=3)
    make_user("inspector", regions=[producer.region], email="ktv@quangngai.gov.vn",
              password_hash=hash_password("kiem-tra-vien-2026"))
    db.session.commit()
    sign_in(page, "ktv@quangngai.gov.vn", "kiem-tra-vien-2026")
    page.goto(run_label_url(run, 2).removeprefix(live_server.url))
    assert page.evaluate("document.querySelector('main').firstElementChild.className") \
        == "card inspect"
    expect(page.locator("main > section.inspect")).to_contain_text("Chính hãng")
    expect(page.locator("main > section.verdict.ok")).to_contain_text("OCOP 5 sao — còn hiệu lực")
    assert_fits(page)
    assert page.evaluate(LABEL_LINES) <= 2
    screenshot(page, "trace-inspector")
