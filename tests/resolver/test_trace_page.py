"""What a consumer and an inspector see: certificate wording, serial verdicts, scans, reports."""
from __future__ import annotations

import gzip
import re
from datetime import date, datetime, timedelta, timezone

import biip
import sqlalchemy as sa

from tests.conftest import make_test_app
from tests.factories import login, make_region, make_user
from tests.resolver.conftest import scan
from traceability.batches.services import append_event
from traceability.clock import local_today
from traceability.extensions import db
from traceability.resolver.models import CounterfeitReport, Scan, ScanVerdict


def _html(client, path, **kw) -> str:
    response = scan(client, path, **kw)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_valid_certificate_shows_its_stars(client, shelf):
    html = _html(client, shelf.lot_path)
    assert "★★★★" in html and "OCOP 4 sao — còn hiệu lực" in html
    assert "123/QĐ-UBND" in html


def test_expiring_certificate_is_said_plainly_and_keeps_its_stars(client, shelf):
    shelf.cert.expires_on = local_today() + timedelta(days=20)
    db.session.commit()
    html = _html(client, shelf.lot_path)
    assert "sắp hết hạn: còn 20 ngày" in html
    assert "★★★★" in html


def test_expired_certificate_shows_the_date_and_no_stars(client, shelf):
    shelf.cert.issued_on = date(2022, 1, 1)
    shelf.cert.expires_on = date(2025, 1, 1)
    db.session.commit()
    html = _html(client, shelf.lot_path)
    assert "đã hết hạn ngày 01/01/2025" in html
    assert "★" not in html


def test_revoked_certificate_shows_date_and_reason_and_no_stars(client, shelf):
    shelf.cert.revoked_on = local_today() - timedelta(days=2)
    shelf.cert.revocation_decision = "77/QĐ-UBND"
    shelf.cert.revocation_reason = "Không duy trì điều kiện sản xuất."
    db.session.commit()
    html = _html(client, shelf.lot_path)
    day = (local_today() - timedelta(days=2)).strftime("%d/%m/%Y")
    assert f"đã bị thu hồi ngày {day}" in html
    assert "Không duy trì điều kiện sản xuất." in html
    assert "★" not in html


def test_page_carries_the_circular_02_minimum(client, shelf):
    html = _html(client, shelf.unit_path(4))
    for text in ("Tỏi cô đơn Lý Sơn", "Hợp tác xã Tỏi An Hải", "Thôn Đông, xã An Hải",
                 "TOI2026-10", shelf.serial(4), "365 ngày", "VietGAP", "Thu hoạch",
                 "Ruộng tỏi An Hải", "Đóng gói", "Nhật ký sản xuất"):
        assert text in html, text


def test_genuine_unit_shows_scan_count_and_first_scan(client, shelf):
    _html(client, shelf.unit_path(5))
    html = _html(client, shelf.unit_path(5))
    assert "Tem chính hãng" in html
    assert "Đã quét 2 lần" in html


def test_forged_serial_gets_a_warning_and_the_report_form(client, shelf):
    serial = shelf.serial(5)
    forged = shelf.unit_path(5).replace(serial, serial[:-1] + ("A" if serial[-1] != "A" else "B"))
    html = _html(client, forged)
    assert "Cảnh báo: mã sê-ri không hợp lệ" in html
    assert "Tem chính hãng" not in html
    assert 'action="/report"' in html
    scan = db.session.scalars(sa.select(Scan).order_by(Scan.id.desc())).first()
    assert scan.verdict == ScanVerdict.FORGED


def test_serial_beyond_the_issued_run_is_forged(client, shelf):
    from traceability.codes.keys import get_signer

    serial = get_signer().make(shelf.run.subject, shelf.batch.lot, 51, shelf.run.key_version)
    html = _html(client, f"{shelf.lot_path}/21/{serial}")
    assert "Cảnh báo: mã sê-ri không hợp lệ" in html


def test_copy_flag_after_too_many_networks(app, client, shelf, monkeypatch):
    monkeypatch.setitem(app.config, "SCAN_COPY_MAX_NETWORKS", 2)
    for i in range(3):
        html = _html(client, shelf.unit_path(6), environ_base={"REMOTE_ADDR": f"10.0.{i}.9"})
    assert "có thể đã bị sao chép" in html
    assert "Đã quét 3 lần" in html
    other = _html(client, shelf.unit_path(7))
    assert "sao chép" not in other


def test_one_network_reloading_a_unit_never_marks_it_a_copy_for_everyone(client, shelf):
    """23 quick loads from one address used to flag a genuine product for every later reader:
    a network's repeated scans count once per hour, and one network alone never flags."""
    for _ in range(23):
        html = _html(client, shelf.unit_path(8), environ_base={"REMOTE_ADDR": "203.113.7.9"})
    assert "sao chép" not in html and "Đã quét 23 lần" in html
    later = _html(client, shelf.unit_path(8), environ_base={"REMOTE_ADDR": "14.160.2.3"})
    assert "sao chép" not in later and "Đã quét 24 lần" in later


def _past_scans(shelf, index: int, networks: list[str], hours: int) -> None:
    """Genuine scans of unit `index`, one an hour for `hours` hours, from `networks` in turn."""
    start = datetime.now(timezone.utc) - timedelta(hours=hours + 1)
    for hour in range(hours):
        db.session.add(Scan(at=start + timedelta(hours=hour), code=shelf.unit_path(index),
                            product_id=shelf.product.id, batch_id=shelf.batch.id,
                            serial_index=index, verdict=ScanVerdict.GENUINE,
                            network_hash=networks[hour % len(networks)]))
    db.session.commit()


def test_copy_flag_after_too_many_network_hours_from_more_than_one_network(app, client, shelf,
                                                                           monkeypatch):
    monkeypatch.setitem(app.config, "SCAN_COPY_MAX_SCANS", 10)
    _past_scans(shelf, 8, ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"], hours=10)
    assert "có thể đã bị sao chép" in _html(client, shelf.unit_path(8))
    _past_scans(shelf, 9, ["cccccccccccccccc"], hours=30)   # one network, thirty hours
    assert "sao chép" not in _html(client, shelf.unit_path(9),
                                   environ_base={"REMOTE_ADDR": None})


def test_the_reports_list_of_copies_follows_the_same_rule(app, shelf, monkeypatch):
    from traceability.oversight.reports import copy_flags

    monkeypatch.setitem(app.config, "SCAN_COPY_MAX_SCANS", 10)
    _past_scans(shelf, 8, ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"], hours=11)
    _past_scans(shelf, 9, ["cccccccccccccccc"], hours=30)
    flagged = copy_flags([shelf.product.id])
    assert [(f["serial_index"], f["scans"], f["networks"]) for f in flagged] == [(8, 11, 2)]


def test_a_serial_index_beyond_32_bits_is_forged_and_logged_alike_on_both_databases(client, shelf):
    from traceability.codes.keys import get_signer

    serial = get_signer().make(shelf.run.subject, shelf.batch.lot, 2**31, shelf.run.key_version)
    path = f"{shelf.lot_path}/21/{serial}"
    page = scan(client, path)
    assert page.status_code == 200
    assert "Cảnh báo: mã sê-ri không hợp lệ" in page.get_data(as_text=True)
    verdict = client.get("/verify" + path)
    assert verdict.status_code == 200 and verdict.get_json()["serial"] == "forged"
    row = db.session.execute(sa.select(Scan.verdict, Scan.serial_index)
                             .order_by(Scan.id.desc()).limit(1)).one()
    assert row == (ScanVerdict.FORGED, None)


def test_no_personal_data_is_stored_with_a_scan(client, shelf):
    _html(client, shelf.unit_path(9), environ_base={"REMOTE_ADDR": "203.113.7.42"},
          headers={"User-Agent": "Mozilla/5.0 (Linux; Android 13) Chrome/120"})
    row = db.session.execute(sa.select(Scan.__table__)).mappings().all()[-1]
    stored = " ".join(str(v) for v in row.values())
    assert "203.113.7.42" not in stored and "203.113.7" not in stored
    assert "Chrome/120" not in stored
    assert row["device"] == "android" and row["serial_index"] == 9
    assert row["network_hash"] and len(row["network_hash"]) == 16


def test_every_resolution_is_logged_once(client, shelf):
    """A scan is logged by the answer it ends at: the trace page (not the redirect to it), a
    linkset, a link type's redirect, an unknown product's warning."""
    scan(client, shelf.lot_path)
    client.get(shelf.lot_path + "?linkType=linkset")
    client.get(shelf.lot_path + "?linkType=gs1:epcis")
    client.get("/01/08939900009993")
    assert db.session.scalars(sa.select(Scan.code).order_by(Scan.id)).all() == [
        shelf.lot_path, shelf.lot_path, shelf.lot_path, "/01/08939900009993"]


def test_report_is_stored_for_inspectors(client, shelf):
    response = client.post("/report", data={"code": shelf.lot_path, "place_of_purchase": "Chợ Quảng Ngãi",
                                            "message": "Bao bì in mờ"})
    assert response.status_code == 200
    report = db.session.scalars(sa.select(CounterfeitReport)).one()
    assert report.product_id == shelf.product.id and report.batch_id == shelf.batch.id
    assert report.place_of_purchase == "Chợ Quảng Ngãi"


def test_empty_report_is_refused_and_nothing_stored(client, shelf):
    response = client.post("/report", data={"code": shelf.lot_path})
    assert response.status_code == 422
    assert "nơi mua" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(CounterfeitReport.id))) == 0


def test_reports_are_rate_limited(client, shelf):
    codes = [client.post("/report", data={"code": shelf.lot_path, "message": f"lần {i}"}).status_code
             for i in range(6)]
    assert codes[:5] == [200] * 5 and codes[5] == 429


def test_report_form_needs_its_csrf_token(database_url, shelf):
    app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert client.post("/report", data={"code": shelf.lot_path, "message": "x"}).status_code == 400
    page = client.get(shelf.lot_page).get_data(as_text=True)
    assert "/report?code=" in page and "csrf_token" not in page  # the trace page sets no cookie
    html = client.get("/report", query_string={"code": shelf.lot_path}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    ok = client.post("/report", data={"code": shelf.lot_path, "message": "x", "csrf_token": token})
    assert ok.status_code == 200


def test_lot_page_revalidates_with_304_until_something_changes(client, shelf):
    first = client.get(shelf.lot_page)
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    assert "no-cache" in first.headers["Cache-Control"]
    again = client.get(shelf.lot_page, headers={"If-None-Match": etag})
    assert again.status_code == 304

    shelf.cert.revoked_on = local_today()
    shelf.cert.revocation_reason = "Vi phạm"
    db.session.commit()
    after_revocation = client.get(shelf.lot_page, headers={"If-None-Match": etag})
    assert after_revocation.status_code == 200
    assert "đã bị thu hồi" in after_revocation.get_data(as_text=True)

    etag2 = after_revocation.headers["ETag"]
    append_event(shelf.batch, {"kind": "shipping", "occurred_at": datetime.now(timezone.utc),
                               "place": "Cảng Sa Kỳ", "notes": "Xuất hàng"})
    db.session.commit()
    after_event = client.get(shelf.lot_page, headers={"If-None-Match": etag2})
    assert after_event.status_code == 200
    assert "Cảng Sa Kỳ" in after_event.get_data(as_text=True)


def test_the_shell_cache_never_serves_a_stale_page(client, shelf):
    assert "Đóng hộp 500 g." in _html(client, shelf.unit_path(20))
    shelf.product.name_vi = "Tỏi Lý Sơn loại 1"
    db.session.commit()
    assert "Tỏi Lý Sơn loại 1" in _html(client, shelf.unit_path(21))
    shelf.producer.address = "Thôn Tây, xã An Vĩnh"
    db.session.commit()
    html = _html(client, shelf.unit_path(22))
    assert "Thôn Tây, xã An Vĩnh" in html
    assert shelf.serial(22) in html and shelf.serial(21) not in html


def test_unit_pages_are_not_cached(client, shelf):
    response = client.get(shelf.unit_page(10))
    assert "no-store" in response.headers["Cache-Control"]


def test_english_by_accept_language_and_by_switch(client, shelf):
    html = _html(client, shelf.lot_path, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in html and "Ly Son single-clove garlic" in html
    assert '<html lang="en">' in _html(client, shelf.lot_path + "?lang=en")
    assert '<html lang="vi">' in _html(client, shelf.lot_path)


def test_page_is_small_accessible_and_script_free(client, shelf):
    html = _html(client, shelf.unit_path(11))
    assert len(gzip.compress(html.encode())) < 30 * 1024
    assert "<script" not in html
    assert 'name="viewport"' in html and '<html lang="vi">' in html
    headings = re.findall(r"<h([1-6])", html)
    assert headings[0] == "1" and headings.count("1") == 1
    assert all(int(b) - int(a) <= 1 for a, b in zip(headings, headings[1:]))
    for img in re.findall(r"<img [^>]*>", html):
        assert 'alt="' in img


def test_every_uri_on_the_page_parses_with_biip(client, shelf):
    html = _html(client, shelf.unit_path(12))
    uris = set(re.findall(r"https://trace\.example\.vn/01/[^\"'<> ]+", html))
    uris |= {"https://trace.example.vn" + u for u in re.findall(r"(?:>|\s)(/01/[0-9]{14}[^<\s]*)", html)}
    assert uris
    for uri in uris:
        parsed = biip.parse(uri)
        assert parsed.gs1_digital_link_uri is not None, uri
        for element in parsed.gs1_digital_link_uri.element_strings:
            if element.ai.ai == "01":
                assert element.gtin_error is None


def test_inspector_in_scope_sees_the_verdict_block(client, shelf):
    inspector = make_user("inspector", regions=[shelf.producer.region])
    login(client, inspector)
    html = _html(client, shelf.unit_path(13))
    assert "Kết luận kiểm tra" in html
    assert "Chính hãng" in html and f"#{shelf.run.id}" in html
    assert shelf.run.guaranteed_until.strftime("%d/%m/%Y") in html
    assert f"/oversight/inspections/new?product_id={shelf.product.id}" in html


def test_anonymous_and_foreign_inspectors_see_no_verdict_block(client, shelf):
    assert "Kết luận kiểm tra" not in _html(client, shelf.unit_path(14))
    foreign = make_user("inspector", regions=[make_region()])
    login(client, foreign)
    assert "Kết luận kiểm tra" not in _html(client, shelf.unit_path(14))
    consumer_owner = make_user("producer", producer=shelf.producer)
    login(client, consumer_owner)
    assert "Kết luận kiểm tra" not in _html(client, shelf.unit_path(14))
