"""What a cheap phone on a slow network downloads: the page-weight budget, and gzip."""
from __future__ import annotations

import gzip
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from tests.resolver.conftest import BASE, GTIN, scan
from traceability.batches.models import Attachment
from traceability.batches.services import append_event
from traceability.extensions import db

BUDGET_BYTES = 10 * 1024
GZIP = {"Accept-Encoding": "gzip, deflate, br, zstd"}


@pytest.fixture()
def six_steps(shelf):
    """The shelf's lot with a six-step diary as producers write it: an input with its
    interval, a lab test with its report, places, notes and a photo."""
    start = datetime(2026, 6, 1, 1, tzinfo=timezone.utc)
    steps = [
        ("planting", {}, "Gieo tỏi giống trên ruộng cát đã cải tạo, mật độ 40 củ/m²."),
        ("input", {"input_name": "Phân hữu cơ vi sinh Sông Gianh", "dose": "500 kg/ha",
                   "pre_harvest_interval_days": 30}, "Bón lót trước khi lên luống."),
        ("lab_test", {"laboratory": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Quảng Ngãi",
                      "result": "Đạt: không phát hiện dư lượng thuốc bảo vệ thực vật"},
         "Lấy mẫu tại ruộng."),
        ("processing", {}, "Phơi khô tự nhiên 10 ngày, cắt rễ, phân loại theo cỡ củ."),
    ]
    events = []
    for day, (kind, details, notes) in enumerate(steps):
        events.append(append_event(shelf.batch, {
            "kind": kind, "occurred_at": start + timedelta(days=20 * day), "details": details,
            "place": "Ruộng tỏi thôn Đông, xã An Hải, đặc khu Lý Sơn", "notes": notes}))
    db.session.add(Attachment(event_id=events[2].id, path="ab/" + "1" * 64 + ".pdf",
                              content_type="application/pdf", size_bytes=40_000, sha256="1" * 64))
    db.session.add(Attachment(event_id=events[3].id, path="cd/" + "2" * 64 + ".jpg",
                              content_type="image/jpeg", size_bytes=90_000, sha256="2" * 64))
    shelf.product.image_path = "ef/" + "3" * 64 + ".jpg"
    shelf.product.description_vi = ("Tỏi một tép trồng trên đất cát núi lửa Lý Sơn, tưới nước "
                                    "ngọt, phơi nắng tự nhiên; vị cay nồng, thơm.")
    db.session.commit()
    assert len(shelf.batch.events) == 6
    return shelf


def test_a_unit_page_with_six_diary_steps_stays_within_its_budget(client, six_steps):
    for language in ("vi", "en"):
        response = scan(client, six_steps.unit_path(3), headers={"Accept-Language": language})
        html = response.get_data(as_text=True)
        size = len(response.get_data())
        assert size <= BUDGET_BYTES, f"{language}: {size} bytes"
        assert html.count("<li") == 6 and 'type="application/pdf"' in html
        assert html.count("<img ") == 2
        assert "<script" not in html.lower()
        # No request to another host: every resource the page loads is on this one, and
        # the style sheet is inline and fetches nothing.
        for attribute, url in re.findall(r'\b(src|srcset|href|action)="([^"]*)"', html):
            host = urlsplit(url).netloc
            if attribute != "href" or re.search(rf'<link[^>]*href="{re.escape(url)}"', html):
                assert host == "", (attribute, url)
            else:
                assert host in ("", urlsplit(BASE).netloc), url
        assert "url(" not in html and "@import" not in html
        assert "<link" not in html and "<iframe" not in html and "<object" not in html


def test_every_page_and_linkset_comes_gzipped_when_asked(client, six_steps):
    shelf = six_steps
    answers = {
        "unit page": scan(client, shelf.unit_path(4), headers=GZIP),
        "lot page": scan(client, shelf.lot_path, headers=GZIP),
        "product page": scan(client, f"/01/{GTIN}", headers=GZIP),
        "linkset": client.get(shelf.unit_path(4) + "?linkType=linkset", headers=GZIP),
        "unknown product": client.get("/trace/01/08939900009993", headers=GZIP),
        "bad code": client.get("/01/08939900001011", headers=GZIP),
    }
    for what, response in answers.items():
        assert response.headers["Content-Encoding"] == "gzip", what
        assert "Accept-Encoding" in response.headers["Vary"], what
        body = response.get_data()
        assert int(response.headers["Content-Length"]) == len(body), what
        text = gzip.decompress(body)
        assert len(body) < len(text) * 0.6, what
        plain = client.get(response.request.path + (f"?{response.request.query_string.decode()}"
                                                    if response.request.query_string else ""))
        assert "Content-Encoding" not in plain.headers
        if what not in ("unit page",):  # a unit page's scan count moves on
            assert plain.get_data() == text, what


def test_no_gzip_for_a_client_that_refuses_it(client, shelf):
    for header in ("identity", "gzip;q=0", "br", "gzip;q=0, *", ""):
        response = scan(client, shelf.lot_path, headers={"Accept-Encoding": header})
        assert "Content-Encoding" not in response.headers, header
    assert scan(client, shelf.lot_path, headers={"Accept-Encoding": "*"}) \
        .headers["Content-Encoding"] == "gzip"


def test_the_gzip_answer_has_its_own_etag_and_either_revalidates(client, shelf):
    plain = client.get(shelf.lot_page)
    packed = client.get(shelf.lot_page, headers=GZIP)
    assert packed.headers["ETag"] != plain.headers["ETag"]
    for held in (plain.headers["ETag"], packed.headers["ETag"]):
        again = client.get(shelf.lot_page, headers={**GZIP, "If-None-Match": held})
        assert again.status_code == 304 and again.headers["ETag"] == packed.headers["ETag"]
        again = client.get(shelf.lot_page, headers={"If-None-Match": held})
        assert again.status_code == 304 and again.headers["ETag"] == plain.headers["ETag"]


def test_the_lane_serves_gzip_from_the_cached_shell(client, shelf, flask_requests):
    client.get(shelf.unit_page(11), headers=GZIP)  # Flask renders the shell
    flask_requests.clear()
    response = client.get(shelf.unit_page(12), headers=GZIP)
    assert flask_requests == [] and response.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(response.get_data()).decode()
    assert shelf.serial(12) in html and html.endswith("</html>")
