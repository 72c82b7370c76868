"""The API docs page works without internet: Swagger UI's files come from this host, and the
page's Content-Security-Policy names no other host."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib.metadata import version
from urllib.parse import urlsplit

from traceability import apidocs


class _References(HTMLParser):
    """Every URL the page loads: script and image sources, stylesheets and other links."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def _references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


def test_the_docs_page_loads_only_this_hosts_files(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    urls = _references(html)
    assert sorted(url.rsplit("/", 1)[1] for url in urls) == sorted(apidocs.ASSETS)
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/api/v1/docs/"), url
    # No other host anywhere in the page: not in a tag, not in the inline script.
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html), html
    assert '"validatorUrl": null' in html  # Swagger UI would fetch a badge from swagger.io


def test_every_asset_is_served_with_its_type_and_kept_for_a_year(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    types = {}
    for url in _references(html):
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            assert {part.strip() for part in asset.headers["Cache-Control"].split(",")} == {
                "public", "max-age=31536000", "immutable"}, url
            assert len(asset.data) > 10_000, url
            types[url.rsplit(".", 1)[1]] = asset.mimetype
    assert types["css"] == "text/css"
    assert types["js"] in ("text/javascript", "application/javascript")


def test_the_assets_are_current_swagger_ui_5_from_the_pinned_package(client):
    pinned = version("flask-swagger-ui")
    assert pinned.startswith("5.")
    with open(apidocs.assets_folder() + "/VERSION", encoding="utf-8") as stream:
        assert stream.read().strip() == "v" + pinned
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert f"/api/v1/docs/swagger-ui-{pinned}/swagger-ui-bundle.js" in html


def test_only_the_pages_assets_are_served_from_the_package_folder(client):
    base = f"/api/v1/docs/swagger-ui-{version('flask-swagger-ui')}/"
    with client.get(base + "swagger-ui.css") as served:
        assert served.status_code == 200
    for name in ("index.css", "LICENSE", "..%2F__init__.py", "oauth2-redirect.html", "nothing.js"):
        assert client.get(base + name).status_code == 404, name
    assert client.get("/api/v1/redoc").status_code == 404  # one docs page, from this host


def test_the_docs_policy_names_no_other_host(client):
    policy = client.get("/api/v1/docs").headers["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline';" in policy
    assert "http" not in policy and "cdn" not in policy and "*" not in policy
    assert "connect-src 'self';" in policy
