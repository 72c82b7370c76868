"""The trace lane (resolver/lane.py) answers the commonest scans before Flask builds a request,
and everything it cannot answer reaches Flask (test_one_read_model.py holds their answers
byte-identical). Whether Flask handled a request is told by its `request_started` signal."""
from __future__ import annotations

import time

import sqlalchemy as sa

from tests.factories import login, make_region, make_user
from tests.resolver.conftest import BASE, GTIN
from traceability.extensions import db
from traceability.resolver.models import Scan


def test_lane_answers_the_redirect_to_the_default_link(client, shelf, flask_requests):
    """The scan's first request, the Digital Link URI's 307 to the trace page, needs no page
    part: the lane answers it from the start; an unknown product's warning is Flask's."""
    for path in (shelf.unit_path(31), shelf.lot_path, shelf.lot_path + "Z", f"/01/{GTIN}"):
        response = client.get(path + "?17=271231")
        assert response.status_code == 307
        assert response.headers["Location"] == f"{BASE}/trace{path}?17=271231"
    assert flask_requests == []
    assert client.get("/01/08939900009993").status_code == 404
    assert flask_requests == ["/01/08939900009993"]


def test_lane_answers_head_and_keeps_counting(client, shelf, flask_requests):
    client.get(shelf.unit_page(32))
    head = client.head(shelf.unit_page(32))
    assert head.status_code == 200 and head.get_data() == b""
    assert int(head.headers["Content-Length"]) > 1000
    assert "Đã quét 3 lần" in client.get(shelf.unit_page(32)).get_data(as_text=True)
    assert flask_requests == [shelf.unit_page(32)]


def test_lane_speaks_the_readers_language(client, shelf, flask_requests):
    client.get(shelf.unit_page(33), headers={"Accept-Language": "en-US,en;q=0.9"})
    html = client.get(shelf.unit_page(34), headers={"Accept-Language": "en-US,en;q=0.9"}) \
        .get_data(as_text=True)
    assert len(flask_requests) == 1
    assert '<html lang="en">' in html and "Genuine label" in html
    html = client.get(shelf.unit_page(35) + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and len(flask_requests) == 1
    vi = client.get(shelf.unit_page(36)).get_data(as_text=True)
    assert '<html lang="vi">' in vi and len(flask_requests) == 2  # a new shell: Flask again


def test_lane_answers_lot_and_product_pages_and_their_304s(client, shelf, flask_requests):
    etag = client.get(shelf.lot_page).headers["ETag"]
    again = client.get(shelf.lot_page, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    assert "TOI2026-10" in client.get(shelf.lot_page).get_data(as_text=True)
    assert flask_requests == [shelf.lot_page]
    product = shelf.lot_page.split("/10/")[0]
    etag = client.get(product).headers["ETag"]
    assert client.get(product, headers={"If-None-Match": etag}).status_code == 304
    assert "Tỏi cô đơn Lý Sơn" in client.get(product).get_data(as_text=True)
    assert flask_requests == [shelf.lot_page, product]


def test_lane_fills_each_page_with_its_own_values(client, shelf, flask_requests):
    """Unit fragments are cached with markers for their values: each page gets its own."""
    client.get(shelf.unit_page(24))
    for index in (25, 26):
        html = client.get(shelf.unit_page(index)).get_data(as_text=True)
        assert f"Số sê-ri: {shelf.serial(index)}." in html and "Đã quét 1 lần" in html
        assert shelf.serial(24) not in html
    walk_up = client.get(shelf.lot_page + "X").get_data(as_text=True)
    assert "Không tìm thấy lô TOI2026-10X" in walk_up
    walk_up = client.get(shelf.lot_page + "Y").get_data(as_text=True)  # from the lane
    assert "Không tìm thấy lô TOI2026-10Y" in walk_up and "10X" not in walk_up
    assert len(flask_requests) == 2


def test_signed_in_readers_go_to_flask(client, shelf, flask_requests):
    client.get(shelf.unit_page(37))  # the shell is cached now
    inspector = make_user("inspector", regions=[shelf.producer.region])
    login(client, inspector)
    html = client.get(shelf.unit_page(38)).get_data(as_text=True)
    assert "Kết luận kiểm tra" in html
    assert flask_requests[-1] == shelf.unit_page(38)


def test_foreign_inspector_still_gets_the_consumer_page(client, shelf):
    client.get(shelf.unit_page(39))
    login(client, make_user("inspector", regions=[make_region()]))
    html = client.get(shelf.unit_page(40)).get_data(as_text=True)
    assert "Tem chính hãng" in html and "Kết luận kiểm tra" not in html


def test_what_needs_more_than_the_fast_path_goes_to_flask(app, client, shelf, flask_requests,
                                                           monkeypatch):
    client.get(shelf.unit_page(41))
    serial = shelf.serial(41)
    forged = shelf.unit_page(41).replace(serial, serial[:-1] + ("A" if serial[-1] != "A" else "B"))
    assert "Cảnh báo: mã sê-ri không hợp lệ" in client.get(forged).get_data(as_text=True)
    linkset = client.get(shelf.unit_path(41) + "?linkType=linkset")
    assert linkset.mimetype == "application/linkset+json"
    by_accept = client.get(shelf.unit_path(41), headers={"Accept": "application/linkset+json"})
    assert by_accept.mimetype == "application/linkset+json"
    encoded = client.get(shelf.unit_path(41) + "?link%54ype=gs1:pip")  # linkType, encoded
    assert encoded.status_code == 307
    assert client.get("/01/08939900001011").status_code == 400  # bad check digit
    monkeypatch.setitem(app.config, "SCAN_COPY_MAX_NETWORKS", 0)
    assert "có thể đã bị sao chép" in client.get(shelf.unit_page(41)).get_data(as_text=True)
    assert len(flask_requests) == 7


def test_lane_needs_no_context_of_the_callers(app, client, shelf, monkeypatch):
    """A WSGI server calls the lane with no Flask context at all (the tests keep an
    application context pushed): a request from a new thread has none either. The scan log
    is written after the response, still outside any context."""
    import threading

    from traceability.resolver.infra import trace_infra
    from traceability.resolver.scanlog import ScanLog

    monkeypatch.setitem(app.config, "SCAN_LOG_FLUSH_SECONDS", 3600)  # production: batched
    monkeypatch.setattr(ScanLog, "_start", lambda self: None)  # no writer thread
    trace_infra(app).reset()
    client.get(shelf.unit_page(47)).close()  # caches the page shell; its scan waits
    trace_infra(app).scan_log._due_at = time.monotonic() - 0.001  # ...and is due now
    results = []
    path = shelf.unit_page(48)

    def scan() -> None:
        response = client.get(path)
        response.close()  # what the WSGI server does once the body is sent
        results.append(response)

    worker = threading.Thread(target=scan)
    worker.start()
    worker.join()
    assert results[0].status_code == 200
    assert "Tem chính hãng" in results[0].get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalars(sa.select(Scan.serial_index).order_by(Scan.id)).all() == [47, 48]
