"""The trace lane (resolver/lane.py) answers the commonest scan before Flask builds a request:
its pages must be the ones Flask's route would have served, and everything else must reach
Flask. Whether Flask handled a request is told by its `request_started` signal."""
from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa
from flask import request_started

from tests.factories import login, make_region, make_user
from traceability.extensions import db
from traceability.resolver.models import Scan


@pytest.fixture()
def flask_requests(app):
    seen: list[str] = []

    def started(sender, **_extra):
        from flask import request

        seen.append(request.path)

    request_started.connect(started, app)
    yield seen
    request_started.disconnect(started, app)


def _masked(html: str, serial: str) -> str:
    """A unit page with what differs between two units (serial, first-scan time) masked."""
    html = html.replace(serial, "SERIAL")
    return re.sub(r"\d\d:\d\d \d\d/\d\d/\d{4}", "TIME", html)


def test_lane_serves_the_page_flask_serves(client, shelf, flask_requests):
    by_flask = client.get(shelf.unit_path(30), headers={"Accept-Language": "vi"})
    assert flask_requests == [shelf.unit_path(30)]  # no page shell cached yet: Flask renders
    by_lane = client.get(shelf.unit_path(31), headers={"Accept-Language": "vi"})
    assert flask_requests == [shelf.unit_path(30)]  # answered by the lane

    assert by_lane.status_code == by_flask.status_code == 200
    assert "Tem chính hãng" in by_lane.get_data(as_text=True)
    assert _masked(by_lane.get_data(as_text=True), shelf.serial(31)) \
        == _masked(by_flask.get_data(as_text=True), shelf.serial(30))
    assert sorted((k, _masked(v, shelf.serial(31))) for k, v in by_lane.headers.items()) \
        == sorted((k, _masked(v, shelf.serial(30))) for k, v in by_flask.headers.items())
    db.session.rollback()
    indexes = db.session.scalars(sa.select(Scan.serial_index).order_by(Scan.id)).all()
    assert indexes == [30, 31]  # the lane logs its scan like Flask does


def test_lane_answers_head_and_keeps_counting(client, shelf, flask_requests):
    client.get(shelf.unit_path(32))
    head = client.head(shelf.unit_path(32))
    assert head.status_code == 200 and head.get_data() == b""
    assert int(head.headers["Content-Length"]) > 1000
    assert "Đã quét 3 lần" in client.get(shelf.unit_path(32)).get_data(as_text=True)
    assert flask_requests == [shelf.unit_path(32)]


def test_lane_speaks_the_readers_language(client, shelf, flask_requests):
    client.get(shelf.unit_path(33), headers={"Accept-Language": "en-US,en;q=0.9"})
    html = client.get(shelf.unit_path(34), headers={"Accept-Language": "en-US,en;q=0.9"}) \
        .get_data(as_text=True)
    assert len(flask_requests) == 1
    assert '<html lang="en">' in html and "Genuine label" in html
    html = client.get(shelf.unit_path(35) + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and len(flask_requests) == 1
    vi = client.get(shelf.unit_path(36)).get_data(as_text=True)
    assert '<html lang="vi">' in vi and len(flask_requests) == 2  # a new shell: Flask again


def test_lane_answers_a_lot_pages_304(client, shelf, flask_requests):
    etag = client.get(shelf.lot_path).headers["ETag"]
    again = client.get(shelf.lot_path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    assert flask_requests == [shelf.lot_path]
    assert client.get(shelf.lot_path).status_code == 200  # a full lot page: Flask renders it
    assert len(flask_requests) == 2


def test_signed_in_readers_go_to_flask(client, shelf, flask_requests):
    client.get(shelf.unit_path(37))  # the shell is cached now
    inspector = make_user("inspector", regions=[shelf.producer.region])
    login(client, inspector)
    html = client.get(shelf.unit_path(38)).get_data(as_text=True)
    assert "Kết luận kiểm tra" in html
    assert flask_requests[-1] == shelf.unit_path(38)


def test_foreign_inspector_still_gets_the_consumer_page(client, shelf):
    client.get(shelf.unit_path(39))
    login(client, make_user("inspector", regions=[make_region()]))
    html = client.get(shelf.unit_path(40)).get_data(as_text=True)
    assert "Tem chính hãng" in html and "Kết luận kiểm tra" not in html


def test_what_needs_more_than_the_fast_path_goes_to_flask(app, client, shelf, flask_requests,
                                                           monkeypatch):
    client.get(shelf.unit_path(41))
    serial = shelf.serial(41)
    forged = shelf.unit_path(41).replace(serial, serial[:-1] + ("A" if serial[-1] != "A" else "B"))
    assert "Cảnh báo: mã sê-ri không hợp lệ" in client.get(forged).get_data(as_text=True)
    linkset = client.get(shelf.unit_path(41) + "?linkType=linkset")
    assert linkset.mimetype == "application/linkset+json"
    by_accept = client.get(shelf.unit_path(41), headers={"Accept": "application/linkset+json"})
    assert by_accept.mimetype == "application/linkset+json"
    encoded = client.get(shelf.unit_path(41) + "?link%54ype=gs1:pip")  # linkType, encoded
    assert encoded.status_code == 307
    assert client.get("/01/08939900001011").status_code == 400  # bad check digit
    monkeypatch.setitem(app.config, "SCAN_COPY_MAX_SCANS", 1)
    assert "có thể đã bị sao chép" in client.get(shelf.unit_path(41)).get_data(as_text=True)
    assert len(flask_requests) == 7


def test_lane_and_flask_route_answer_alike(app, client, shelf, flask_requests):
    """The same requests through the lane and through Flask's route (an anonymous session
    cookie sends them there): same status, headers and body, a 304 included."""
    etag = client.get(shelf.lot_path).headers["ETag"]  # caches the batch's page shell
    via_flask = app.test_client()
    via_flask.set_cookie("session", "anonymous")
    pairs = [
        (client.get(shelf.lot_path, headers={"If-None-Match": etag}),
         via_flask.get(shelf.lot_path, headers={"If-None-Match": etag}), "-", "-"),
        (client.get(shelf.unit_path(43)), via_flask.get(shelf.unit_path(44)),
         shelf.serial(43), shelf.serial(44)),
        (client.head(shelf.unit_path(45)), via_flask.head(shelf.unit_path(46)),
         shelf.serial(45), shelf.serial(46)),
    ]
    assert len(flask_requests) == 1 + 3  # the warm-up, then each pair's second request
    for lane, by_flask, serial_a, serial_b in pairs:
        assert lane.status_code == by_flask.status_code
        assert sorted((k, _masked(v, serial_a)) for k, v in lane.headers.items()) \
            == sorted((k, _masked(v, serial_b)) for k, v in by_flask.headers.items())
        assert _masked(lane.get_data(as_text=True), serial_a) \
            == _masked(by_flask.get_data(as_text=True), serial_b)
    assert pairs[0][0].status_code == 304 and pairs[0][0].headers["Cache-Control"] == "no-cache"
    assert pairs[2][0].get_data() == b"" and int(pairs[2][0].headers["Content-Length"]) > 1000


def test_lane_needs_no_context_of_the_callers(app, client, shelf, monkeypatch):
    """A WSGI server calls the lane with no Flask context at all (the tests keep an
    application context pushed): a request from a new thread has none either. The scan log
    is written after the response, still outside any context."""
    import threading

    from traceability.resolver.scanlog import ScanLog
    from traceability.resolver.services import scan_log

    monkeypatch.setitem(app.config, "SCAN_LOG_FLUSH_SECONDS", 3600)  # production: batched
    monkeypatch.setattr(ScanLog, "_start", lambda self: None)  # no writer thread
    app.extensions.pop("scan_log", None)
    client.get(shelf.unit_path(47)).close()  # caches the page shell; its scan waits
    scan_log()._due_at = time.monotonic() - 0.001  # ...and is due now
    results = []
    path = shelf.unit_path(48)

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
    app.extensions.pop("scan_log").close()
