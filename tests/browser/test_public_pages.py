"""The public pages on a phone: they fit 360 px and ask nothing of another host."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_fits


def test_the_home_page_fits_a_phone_and_stays_on_the_host(page: Page, screenshot) -> None:
    page.goto("/")
    expect(page.locator("header .brand")).to_have_text("OCOP Trace")
    assert_fits(page)
    screenshot(page, "public-home")
