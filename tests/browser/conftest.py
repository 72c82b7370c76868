"""Browser walks: Debian's Chromium, driven by Playwright, on a live server of the test database.

One live server and one browser per test process; a new browser context (a phone at 360x740,
Vietnamese, Vietnam time) per test. The server is a second app on the session's migrated
database, with CSRF on, so the walks fill the real forms, and the factories' rows (written
through the `db` fixture, emptied after every test) are what the browser sees.

Each test then also fails when, during the walk:
- a page loaded wider than 360 px (measured in the page on every `load` event),
- a request left the live server's host (all of them are aborted and recorded),
- the server answered a 5xx or raised.
"""
from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.browser.helpers import (
    PHONE_HEIGHT,
    PHONE_WIDTH,
    WATCH,
    chromium_missing,
    chromium_path,
    page_width,
    screenshots_folder,
)
from tests.conftest import make_test_app
from traceability.extensions import db as _db
from traceability.resolver.infra import trace_infra

# Reported by the page itself when its `load` event fires: init scripts and bindings run
# whatever the page's Content-Security-Policy says (the pages run no script of their own).
_WIDTH_BINDING = "__ocopReportWidth"
_WIDTH_SCRIPT = (f"addEventListener('load', () => window.{_WIDTH_BINDING}("
                 "location.href, document.documentElement.scrollWidth));")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """No access log line per request; errors are still logged (and recorded)."""


class ServedApp:
    """The live app behind a thin WSGI layer that counts requests in flight, records every
    5xx answer and exception, and closes the trace path's per-thread connection when a request
    ends: werkzeug's threaded server runs each request in a new thread, and the connection
    that thread pinned (resolver/infra.py) would otherwise stay checked out of the pool."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.errors: list[str] = []
        self._active = 0
        self._idle = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterator[bytes]:
        where = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"

        def recording_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            if status.startswith("5"):
                self.errors.append(f"{where} answered {status}")
            return start_response(status, headers, exc_info)

        with self._idle:
            self._active += 1
        try:
            body = self.app(environ, recording_start_response)
            try:
                yield from body
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        except Exception:
            self.errors.append(f"{where} raised:\n{traceback.format_exc()}")
            raise
        finally:
            trace_infra(self.app).pinned.close()
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> None:
        with self._idle:
            if not self._idle.wait_for(lambda: self._active == 0, timeout):
                raise AssertionError(f"the live server still had {self._active} request(s) in "
                                     f"flight {timeout:.0f} s after the test ended")


@dataclass
class LiveServer:
    url: str
    app: Flask
    served: ServedApp
    server: BaseWSGIServer

    @property
    def origin(self) -> tuple[str, str]:
        parts = urlsplit(self.url)
        return parts.scheme, parts.netloc

    def is_own(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc) == self.origin


@pytest.fixture(scope="session")
def _live_server_process(app: Flask, database_url: str,
                         tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The server thread and its app, made once per test process. `app` (the session's app)
    has migrated the database; this second app only serves it."""
    server = make_server("127.0.0.1", 0, app=None, threaded=True,  # type: ignore[arg-type]
                         request_handler=_QuietHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    files = tmp_path_factory.mktemp("live-files")
    live_app = make_test_app(
        database_url, WTF_CSRF_ENABLED=True, PUBLIC_BASE_URL=url,
        UPLOAD_FOLDER=str(files / "uploads"), PRIVATE_FOLDER=str(files / "private"),
        GENERATED_FOLDER=str(files / "generated"))
    served = ServedApp(live_app)
    server.app = served  # type: ignore[assignment]
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(url, live_app, served, server)
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    with live_app.app_context():
        _db.engine.dispose()


@pytest.fixture()
def live_server(_live_server_process: LiveServer, app: Flask, db: Any,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """The live server for one test. What the test makes through services in its own app
    context (label URLs, claim links) points at the live server too. Torn down before `db`
    empties the tables: requests still in flight are waited for, and the app's trace caches
    and connections are dropped, as `db` does for the session's app."""
    live = _live_server_process
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", live.url)
    monkeypatch.setitem(app.extensions, "storage", live.app.extensions["storage"])
    live.served.errors.clear()
    yield live
    live.served.wait_idle()
    trace_infra(live.app).reset()


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Playwright]:
    missing = chromium_missing()
    if missing:
        pytest.fail(missing, pytrace=False)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(_playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium per test process: Debian's, never a downloaded one."""
    browser = _playwright.chromium.launch(executable_path=chromium_path(), headless=True)
    yield browser
    browser.close()


@dataclass
class Watch:
    """What went wrong during one test's walk; checked after the test body (see the hook below)."""
    live: LiveServer
    context: BrowserContext
    outside: list[str] = field(default_factory=list)
    widths: list[tuple[str, int]] = field(default_factory=list)

    def problems(self) -> list[str]:
        found: list[str] = []
        for page in self.context.pages:
            if not page.is_closed() and self.live.is_own(page.url):
                self.widths.append((page.url, page_width(page)))
        wide = sorted({(url, w) for url, w in self.widths if w > PHONE_WIDTH})
        found += [f"{url} is {w} px wide, more than a {PHONE_WIDTH} px phone" for url, w in wide]
        found += [f"a request left the host: {url}" for url in self.outside]
        found += [f"server error: {error}" for error in self.live.served.errors]
        return found


@pytest.fixture()
def context(browser: Browser, live_server: LiveServer,
            request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    """A phone: 360x740 at 1x, Vietnamese, Vietnam time, talking to the live server only."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
        device_scale_factor=1, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(10_000)
    watch = Watch(live_server, context)
    request.node.stash[WATCH] = watch

    def leaves_the_host(url: str) -> bool:
        return not live_server.is_own(url)

    def refuse(route: Any) -> None:
        watch.outside.append(route.request.url)
        route.abort()

    context.route(leaves_the_host, refuse)
    context.expose_binding(_WIDTH_BINDING,
                           lambda _source, url, width: watch.widths.append((url, width)))
    context.add_init_script(_WIDTH_SCRIPT)
    yield context
    context.close()


@pytest.fixture()
def page(context: BrowserContext) -> Page:
    return context.new_page()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything here carries the `browser` mark: `pytest -m browser` runs the walks alone."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After a walk that passed, fail it for any page wider than the phone, any request that
    left the host and any server error met on the way."""
    result = yield
    watch = item.stash.get(WATCH, None)
    if watch is not None:
        problems = watch.problems()
        if problems:
            pytest.fail("the walk met:\n" + "\n".join(problems), pytrace=False)
    return result


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Page, str], Path]:
    """screenshot(page, name) saves the whole page as name.png in $BROWSER_SCREENSHOTS (for
    the README) or in a temporary folder, and returns the file."""
    folder = screenshots_folder(tmp_path_factory.mktemp("screenshots"))

    def take(page: Page, name: str) -> Path:
        target = folder / f"{name}.png"
        page.screenshot(path=str(target), full_page=True)
        return target

    return take
