"""The API docs render in a browser that may reach nothing but this host."""
from __future__ import annotations

from playwright.sync_api import Page, expect


def test_the_api_docs_render_their_operations_without_internet(page: Page, screenshot) -> None:
    page.goto("/api/v1/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 20
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/regions").first).to_be_visible()
    expect(page.locator(".info .title")).to_contain_text("OCOP Trace API")
    screenshot(page, "api-docs")
