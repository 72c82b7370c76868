"""Expiry notices: due at expiry − 45 days, sent through a real SMTP server exactly once
(even by two runs at the same moment), retried after an SMTP failure."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pypdfium2
import sqlalchemy as sa
from click.testing import CliRunner

from tests.factories import make_certificate, make_producer, make_product
from traceability.extensions import db as _db
from traceability.oversight.mail import NOTICE_LEAD_DAYS, create_due_notices, send_due
from traceability.oversight.models import ExpiryNotice, NoticeStatus

EXPIRY = date(2027, 3, 31)
DUE = EXPIRY - timedelta(days=45)


def _cert(area, email: str | None = "htx@example.vn", **kw):
    producer = make_producer(area.a, email=email, name=kw.pop("producer_name", "Hợp tác xã Tỏi Lý Sơn"))
    product = make_product(producer, name_vi=kw.pop("product_name", "Tỏi cô đơn Lý Sơn"))
    return make_certificate(product, issued_on=date(2024, 3, 31), expires_on=kw.pop("expires_on", EXPIRY), **kw)


def _notices() -> list[ExpiryNotice]:
    _db.session.expire_all()
    return list(_db.session.scalars(sa.select(ExpiryNotice).order_by(ExpiryNotice.id)))


def test_the_notice_is_due_45_days_before_expiry_so_it_arrives_30_days_before(area):
    assert NOTICE_LEAD_DAYS == 45
    cert = _cert(area)
    assert create_due_notices(DUE - timedelta(days=1)) == 0          # the day before: nothing
    assert create_due_notices(DUE) == 1                              # the due day: one
    assert create_due_notices(DUE + timedelta(days=1)) == 0          # never a second
    [notice] = _notices()
    assert (notice.certificate_id, notice.due_on, notice.status) == (cert.id, DUE, NoticeStatus.PENDING)


def test_no_notice_after_expiry_nor_for_revoked_or_superseded_certificates(area):
    _cert(area)
    revoked = _cert(area, producer_name="HTX B", product_name="Sản phẩm B")
    revoked.revoked_on = date(2026, 1, 1)
    assert create_due_notices(EXPIRY + timedelta(days=1)) == 0       # already lapsed
    old = _cert(area, producer_name="HTX C", product_name="Sản phẩm C")
    new = make_certificate(old.product, issued_on=date(2026, 2, 1))
    old.superseded_by_id = new.id
    _db.session.flush()
    assert create_due_notices(DUE) == 1                              # only the first one
    assert [n.certificate_id for n in _notices()] == [_cert_id_of_first()]


def _cert_id_of_first() -> int:
    from traceability.registry.models import Certificate

    return _db.session.scalar(sa.select(sa.func.min(Certificate.id)))


def test_a_late_registered_certificate_still_gets_its_notice_before_expiry(area):
    _cert(area, expires_on=date(2027, 1, 10))
    assert create_due_notices(date(2027, 1, 10)) == 1                # expiry day itself: still sent


def test_the_letter_arrives_by_smtp_in_vietnamese_with_a_pdf(area, smtp_server):
    cert = _cert(area)
    _db.session.commit()
    result = send_due(DUE)
    assert result.as_dict()["sent"] == 1
    [message] = smtp_server.messages
    assert message["To"] == "htx@example.vn"
    assert message["Subject"] == "Thông báo giấy chứng nhận OCOP sắp hết hiệu lực: Tỏi cô đơn Lý Sơn"
    body = message.get_body(("plain",)).get_content()
    assert "hết hiệu lực vào ngày 31/03/2027" in body
    assert "đánh giá lại" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"thong-bao-het-han-ocop-{cert.id}.pdf"
    pdf = pypdfium2.PdfDocument(attachment.get_content())
    text = " ".join(pdf[0].get_textpage().get_text_range().split())
    pdf.close()
    assert "THÔNG BÁO" in text
    assert "Hợp tác xã Tỏi Lý Sơn" in text
    assert "hết hiệu lực vào ngày 31/03/2027" in text
    [notice] = _notices()
    assert (notice.status, notice.attempts, notice.recipient) == (NoticeStatus.SENT, 1, "htx@example.vn")
    assert notice.sent_at is not None


def test_running_the_job_again_sends_nothing_more(area, smtp_server):
    _cert(area)
    _db.session.commit()
    send_due(DUE)
    again = send_due(DUE + timedelta(days=1))
    assert again.as_dict() == {"created": 0, "sent": 0, "failed": 0, "retrying": 0, "skipped": 0}
    assert len(smtp_server.messages) == 1


def test_two_concurrent_runs_send_each_notice_exactly_once(app, area, smtp_server):
    for i in range(6):
        _cert(area, email=f"cs{i}@example.vn", producer_name=f"HTX {i}", product_name=f"Sản phẩm {i}")
    _db.session.commit()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(send_due(DUE))
                _db.session.remove()
        except Exception as exc:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sum(len(r.sent) for r in results) == 6
    assert sorted(n for r in results for n in r.sent) == sorted({n for r in results for n in r.sent})
    recipients = sorted(str(m["To"]) for m in smtp_server.messages)
    assert recipients == [f"cs{i}@example.vn" for i in range(6)]
    notices = _notices()
    assert len(notices) == 6
    assert all(n.status == NoticeStatus.SENT and n.attempts == 1 for n in notices)


def test_an_smtp_failure_is_retried_later_with_backoff(app, area, smtp_server, monkeypatch):
    _cert(area)
    _db.session.commit()
    from tests.oversight.conftest import free_port

    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())      # nobody listens there
    now = datetime(2027, 2, 14, 1, 0, tzinfo=timezone.utc)
    first = send_due(DUE, now=now)
    assert len(first.retrying) == 1 and smtp_server.messages == []
    [notice] = _notices()
    assert (notice.status, notice.attempts) == (NoticeStatus.PENDING, 1)
    assert notice.last_error.startswith("ConnectionRefusedError: ")
    assert notice.next_attempt_at == now + timedelta(minutes=10)
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_server.port)
    too_soon = send_due(DUE, now=now + timedelta(minutes=5))
    assert too_soon.sent == [] and smtp_server.messages == []
    later = send_due(DUE, now=now + timedelta(minutes=10))
    assert len(later.sent) == 1 and len(smtp_server.messages) == 1
    [notice] = _notices()
    assert (notice.status, notice.attempts, notice.last_error) == (NoticeStatus.SENT, 2, None)


def test_a_producer_without_email_gets_a_failed_notice_for_the_officer_to_post(area, smtp_server):
    _cert(area, email=None)
    _db.session.commit()
    result = send_due(DUE)
    assert len(result.failed) == 1 and smtp_server.messages == []
    [notice] = _notices()
    assert notice.status == NoticeStatus.FAILED
    assert "bưu điện" in notice.last_error


def test_the_cli_command_sends_what_is_due(app, area, smtp_server):
    _cert(area)
    _db.session.commit()
    runner = app.test_cli_runner()
    out = runner.invoke(args=["notices", "send-due", "--today", DUE.isoformat()])
    assert out.exit_code == 0, out.output
    assert "sent=1" in out.output
    assert len(smtp_server.messages) == 1
    assert isinstance(runner, CliRunner)
