"""What the browser walks share: the 360 px check, signing in through the real form, following
a link by where it goes, screenshots, and a small real photo."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

# The narrowest phone screen the service is made for (COMMON.md: no horizontal scrolling).
PHONE_WIDTH = 360
PHONE_HEIGHT = 740

# Where a test keeps what its walk met (conftest.py's Watch): a test that plants a problem on
# purpose reads and clears it there.
WATCH = pytest.StashKey[Any]()

MISSING_CHROMIUM = (
    "The browser tests need Debian's Chromium at {path} (or a Chromium named by the CHROMIUM "
    "environment variable). Install it with `sudo apt-get install chromium`; Playwright's own "
    "browser download (`playwright install`) is neither needed nor used.")


def chromium_path() -> str:
    return os.environ.get("CHROMIUM") or "/usr/bin/chromium"


def chromium_missing() -> str | None:
    """The message to fail with when the Chromium to drive is not there, else None."""
    path = chromium_path()
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return None
    return MISSING_CHROMIUM.format(path=path)


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def assert_fits(page: Page) -> None:
    """The page shown now is no wider than a 360 px phone screen. Every page a walk loads is
    also measured when its `load` event fires (see conftest.py); this checks the page as it is
    after the walk has changed it (an opened <details>, an error shown)."""
    width = page_width(page)
    assert width <= PHONE_WIDTH, \
        f"{page.url} is {width} px wide, more than a {PHONE_WIDTH} px phone"


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def sign_in(page: Page, login: str, password: str) -> None:
    """Sign in through the real /login form and wait for the page it leads to."""
    page.goto("/login")
    page.get_by_label("Email hoặc số điện thoại").fill(login)
    page.get_by_label("Mật khẩu", exact=True).fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    assert path_of(page) != "/login", f"signing in as {login} stayed on the sign-in page"


def follow(page: Page, href: str | re.Pattern[str], *, within: str = "body") -> None:
    """Click the first visible link on the page whose href is `href` (a path, or a pattern
    searched in the href), as a person would tap it, and wait for the page it opens. Walks
    find links by where they lead, so rewording a link does not break them, but a page that
    loses the link does."""
    links = page.locator(f"{within} a[href]")
    for i in range(links.count()):
        link = links.nth(i)
        target = link.get_attribute("href") or ""
        matches = target == href if isinstance(href, str) else href.search(target) is not None
        if matches and link.is_visible():
            link.click()
            page.wait_for_load_state()
            return
    wanted = href if isinstance(href, str) else href.pattern
    raise AssertionError(f"{page.url} has no visible link to {wanted}")


def expect_path(page: Page, path: str | re.Pattern[str]) -> None:
    if isinstance(path, str):
        path = re.compile(rf"^[a-z]+://[^/]+{re.escape(path)}(\?.*)?$")
    expect(page).to_have_url(path)


def screenshots_folder(default: Path) -> Path:
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def jpeg_photo(width: int = 64, height: int = 48) -> bytes:
    """A small real JPEG (a green field under a sky), as a phone camera would send one."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (135, 190, 235))
    ImageDraw.Draw(image).rectangle((0, height // 2, width, height), fill=(40, 120, 50))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
