"""Errors of the resolver and the trace pages in the format the client prefers: a page for
every browser (and for curl's `*/*`, which prefers nothing), the JSON error contract for a
client that rates JSON above HTML (errors.prefers_json)."""
from __future__ import annotations

import pytest

from tests.resolver.conftest import GTIN

CHROMIUM = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
            "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
SAFARI = FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# client: (request headers, whether it gets JSON)
CLIENTS = {
    "Chromium": ({"Accept": CHROMIUM}, False),
    "Safari": ({"Accept": SAFARI}, False),
    "Firefox": ({"Accept": FIREFOX}, False),
    # Zalo's in-app browser is Android's WebView: Chromium's Accept, and the app's package name.
    "Zalo in-app browser": ({"Accept": CHROMIUM, "X-Requested-With": "com.zing.zalo"}, False),
    "curl": ({"Accept": "*/*"}, False),
    "no Accept at all": ({}, False),
    "a JSON client": ({"Accept": "application/json"}, True),
    "a linkset client": ({"Accept": "application/linkset+json"}, True),
    "JSON rated above HTML": ({"Accept": "text/html;q=0.5, application/json"}, True),
    "HTML rated above JSON": ({"Accept": "application/json;q=0.5, text/html"}, False),
}

# what: (path, status, the JSON error contract's code)
ERRORS = {
    "bad check digit": ("/01/08939900001011", 400, "bad_request"),
    "not a GTIN": ("/01/abc", 400, "bad_request"),
    "bad lot": ("/01/08939900001010/10/" + "L" * 21, 400, "bad_request"),
    "bad check digit, trace page": ("/trace/01/08939900001011", 400, "bad_request"),
    "not a GTIN, trace page": ("/trace/01/abc", 400, "bad_request"),
    "trace code too long": ("/t/" + "A" * 40, 400, "bad_request"),
    "unknown product": ("/01/08939900009993", 404, "not_found"),
    "unknown product, trace page": ("/trace/01/08939900009993/10/L1/21/1ABCDEF", 404, "not_found"),
    "a link type the code lacks": (f"/01/{GTIN}?linkType=gs1:recipeInfo", 404, "not_found"),
    "no such trace address": ("/trace/02/123", 404, "not_found"),
}


@pytest.mark.parametrize("what", list(ERRORS))
@pytest.mark.parametrize("client_name", list(CLIENTS))
def test_errors_come_as_the_client_prefers(client, shelf, client_name, what):
    headers, json_wanted = CLIENTS[client_name]
    path, status, code = ERRORS[what]
    response = client.get(path, headers=headers)
    assert response.status_code == status
    if json_wanted:
        assert response.mimetype == "application/json"
        body = response.get_json()
        assert body["code"] == code and body["status"] == status and body["message"]
        assert set(body) == {"code", "status", "message", "errors"}
    else:
        assert response.mimetype == "text/html"
        html = response.get_data(as_text=True)
        assert html.startswith("<!doctype html>") and '<html lang="vi">' in html
    if not path.startswith("/trace/02/"):  # the resolver's own answers
        assert "Accept" in response.headers["Vary"]


def test_a_syntax_error_names_its_field_in_either_format(client):
    page = client.get("/01/08939900001011", headers={"Accept": CHROMIUM}).get_data(as_text=True)
    assert "Số kiểm tra của GTIN không đúng" in page and "Mã không hợp lệ" in page
    body = client.get("/01/08939900001011", headers={"Accept": "application/json"}).get_json()
    assert list(body["errors"]) == ["gtin"]


@pytest.mark.parametrize("client_name", list(CLIENTS))
def test_the_verification_service_answers_json_unless_a_page_is_preferred(client, client_name):
    """/verify is a JSON service: on a tie (curl) its errors are JSON too; a browser that
    opens its link gets a page."""
    headers, json_wanted = CLIENTS[client_name]
    response = client.get("/verify/01/08939900001011", headers=headers)
    assert response.status_code == 400
    browser = "text/html" in headers.get("Accept", "") and not json_wanted
    assert response.mimetype == ("text/html" if browser else "application/json")
