"""The notices page: each notice's state in plain Vietnamese, and the button that sends what is
due now with the daily job's code, exactly once, within the officer's regions."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import sqlalchemy as sa

from tests.factories import login, make_certificate, make_producer, make_product, make_user
from traceability.clock import local_today
from traceability.extensions import db as _db
from traceability.oversight.mail import send_due
from traceability.oversight.models import ExpiryNotice, NoticeStatus

TODAY = local_today()


def _due_certificate(region, name: str, email: str | None):
    """A certificate whose notice is due today (expiry within the 45-day lead)."""
    producer = make_producer(region, name=f"HTX {name}", email=email)
    product = make_product(producer, name_vi=name)
    return make_certificate(product, stars=4, score=None, issued_on=TODAY - timedelta(days=1000),
                            expires_on=TODAY + timedelta(days=20))


def _notices() -> dict[str, ExpiryNotice]:
    _db.session.expire_all()
    return {n.certificate.product.name_vi: n for n in _db.session.scalars(sa.select(ExpiryNotice))}


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_the_button_sends_the_due_notices_once_and_says_so(client, sign_in, area, smtp_server):
    _due_certificate(area.a, "Tỏi cô đơn", "toi@example.vn")
    _due_certificate(area.a, "Nước mắm", "mam@example.vn")
    sign_in(client, area.officer)
    page = _text(client.get("/officer/notices"))
    assert "2 thông báo đến hạn gửi ngay bây giờ." in page and "Gửi các thông báo đến hạn" in page
    response = client.post("/officer/notices/send-due", follow_redirects=True)
    assert response.status_code == 200
    assert "Đã gửi 2 thông báo." in _text(response)
    assert sorted(str(m["To"]) for m in smtp_server.messages) == ["mam@example.vn", "toi@example.vn"]
    again = client.post("/officer/notices/send-due", follow_redirects=True)
    assert "Không có thông báo nào đến hạn gửi." in _text(again)
    # Nor does the daily job send them again.
    assert send_due().as_dict()["sent"] == 0
    assert len(smtp_server.messages) == 2
    listed = _text(client.get("/officer/notices?status=sent"))
    assert listed.count("<strong>Đã gửi</strong>") == 2 and "Đã thử gửi 1 lần" in listed


def test_an_officer_sends_only_its_own_regions_notices(client, sign_in, area, smtp_server):
    _due_certificate(area.a, "Tỏi cô đơn", "toi@example.vn")
    _due_certificate(area.b, "Bánh tráng", "banh@example.vn")
    sign_in(client, area.officer_b)
    assert "Tỏi cô đơn" not in _text(client.get("/officer/notices"))
    client.post("/officer/notices/send-due")
    assert [str(m["To"]) for m in smtp_server.messages] == ["banh@example.vn"]
    assert set(_notices()) == {"Bánh tráng"}   # A's notice is not even created by B's click
    sign_in(client, area.admin)
    client.post("/officer/notices/send-due")
    assert sorted(str(m["To"]) for m in smtp_server.messages) == ["banh@example.vn", "toi@example.vn"]


def test_two_officers_pressing_at_once_send_each_notice_once(app, area, smtp_server):
    for i in range(4):
        _due_certificate(area.a, f"Sản phẩm {i}", f"cs{i}@example.vn")
    province_officer = make_user("officer", regions=[area.province])
    clients = [app.test_client(), app.test_client()]
    login(clients[0], area.officer)
    login(clients[1], province_officer)
    barrier = threading.Barrier(2)
    statuses, errors = [], []

    def press(client) -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(client.post("/officer/notices/send-due").status_code)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=press, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and statuses == [302, 302]
    assert sorted(str(m["To"]) for m in smtp_server.messages) == [f"cs{i}@example.vn" for i in range(4)]
    assert all(n.status == NoticeStatus.SENT and n.attempts == 1 for n in _notices().values())


def test_the_button_needs_the_csrf_token(app, client, sign_in, area, smtp_server, monkeypatch):
    _due_certificate(area.a, "Tỏi cô đơn", "toi@example.vn")
    sign_in(client, area.officer)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/officer/notices/send-due").status_code == 400
    assert smtp_server.messages == [] and _notices() == {}
    page = _text(client.get("/officer/notices"))
    token = re.search(r'action="/officer/notices/send-due">\s*<input id="csrf_token" name="csrf_token" '
                      r'type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/officer/notices/send-due", data={"csrf_token": token}).status_code == 302
    assert len(smtp_server.messages) == 1


def test_failures_are_told_in_plain_words(app, client, sign_in, area, smtp_server, monkeypatch):
    from tests.oversight.conftest import free_port

    _due_certificate(area.a, "Không email", None)
    _due_certificate(area.a, "Máy chủ tắt", "tat@example.vn")
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())       # nobody listens there
    sign_in(client, area.officer)
    flashed = _text(client.post("/officer/notices/send-due", follow_redirects=True))
    assert "1 thông báo không gửi được: xem lý do bên dưới." in flashed
    assert "1 thông báo chưa gửi được, hệ thống sẽ tự gửi lại sau." in flashed
    html = _text(client.get("/officer/notices"))
    assert "Thất bại" in html and "Chờ gửi" in html
    assert "hãy in thông báo và gửi bằng đường bưu điện" in html
    assert "Không kết nối được máy chủ thư; hệ thống sẽ tự gửi lại." in html
    # The server's own words only behind "technical details"; no raw state names.
    assert re.search(r"<summary>Chi tiết kỹ thuật</summary><span class=\"wrap\">ConnectionRefusedError", html)
    assert not re.search(r">\s*(pending|failed|sent|sending)\s*<", html)
    assert "Gửi lại sau" in html


def test_the_notices_page_reads_in_english(client, sign_in, area, smtp_server):
    _due_certificate(area.a, "Tỏi cô đơn", None)
    send_due()
    sign_in(client, area.officer)
    html = _text(client.get("/officer/notices?lang=en", headers={"Accept-Language": "en"}))
    assert "Send the notices that are due" in html and "Failed" in html
    assert "None: expiry notices must be sent by post." not in html  # the producer page's wording
    assert "Tried 1 time" in html
