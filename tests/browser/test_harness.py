"""The browser harness itself: it sees a page too wide for the phone, refuses and records a
request to another host, and says how to get Chromium when there is none."""
from __future__ import annotations

import pytest
from playwright.sync_api import Error, Page

from tests.browser.helpers import WATCH, assert_fits, chromium_missing

WIDE_PAGE = ("<!doctype html><meta name=viewport content='width=device-width'>"
             "<body style='margin:0'><div style='width:500px'>x</div>")


def test_a_page_wider_than_the_phone_is_measured_on_load(page: Page, live_server, request) -> None:
    watch = request.node.stash[WATCH]
    page.route(f"{live_server.url}/wide",
               lambda route: route.fulfill(body=WIDE_PAGE, content_type="text/html"))
    page.goto("/wide")
    page.goto("/")  # the wide page is gone: only its load event knew it
    assert (f"{live_server.url}/wide", 500) in watch.widths
    with pytest.raises(AssertionError, match="is 500 px wide"):
        page.goto("/wide")
        assert_fits(page)
    watch.widths.clear()  # what this test planted is not a finding of the walk
    page.goto("/")


def test_a_request_to_another_host_is_refused_and_recorded(page: Page, request) -> None:
    watch = request.node.stash[WATCH]
    with pytest.raises(Error):
        page.goto("https://cdn.example.com/app.js")
    assert watch.outside == ["https://cdn.example.com/app.js"]
    watch.outside.clear()


def test_without_chromium_the_message_says_how_to_install_it(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-chromium-here"))
    message = chromium_missing()
    assert message is not None and "sudo apt-get install chromium" in message
    assert str(tmp_path / "no-chromium-here") in message
