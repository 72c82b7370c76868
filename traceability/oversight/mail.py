"""Expiry notices: the outbox (ExpiryNotice rows), the schedule, and exactly-once SMTP sending.

Schedule: the law wants the written notice in the producer's hands at least 30 days before
expiry. A letter is due NOTICE_MARGIN_DAYS earlier than that (expiry − 45 days), so retries
and the post have two weeks of slack. A certificate that is revoked, superseded or already
expired gets no notice.

Exactly once: each run claims a row with one conditional UPDATE (pending → sending, and
only while still pending) and commits the claim before talking to SMTP; a second run at
the same moment updates zero rows and moves on. A run that dies mid-send leaves the row in
'sending', shown to officers, and never sends it again by itself: a letter sent twice is
worse than one an officer has to look at.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from .. import formats
from ..clock import local_today
from ..extensions import db
from ..models_base import utcnow
from ..registry.models import Certificate, Producer, Product, Region, RegionLevel
from ..registry.status import NOTICE_DAYS_BEFORE_EXPIRY, in_force, in_force_condition
from ..render.notice_pdf import NoticeLetter, render_notice_pdf
from .models import ExpiryNotice, NoticeStatus

NOTICE_KIND = "expiry_30d"
NOTICE_MARGIN_DAYS = 15
NOTICE_LEAD_DAYS = NOTICE_DAYS_BEFORE_EXPIRY + NOTICE_MARGIN_DAYS  # due at expiry − 45 days
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=10)  # 10 min, 20, 40, 80: then failed for an officer to look at


def N_(message: str) -> str:  # noqa: N802  (the gettext convention for "mark, do not translate")
    """Mark a message for extraction without translating it: the daily job has no reader, so
    it stores the Vietnamese msgid and the notices page and API translate it when shown."""
    return message


SKIPPED_ERROR = N_("Không gửi: giấy chứng nhận đã được đánh giá lại, thu hồi hoặc đã hết hạn.")
NO_EMAIL_ERROR = N_("Chủ thể chưa có địa chỉ email: hãy in thông báo và gửi bằng đường bưu điện.")


# An SMTP failure is stored as "ExceptionName: server text"; an officer reads what it means.
# Checked in order: the first name that the stored error starts with wins.
_SMTP_ERRORS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("SMTPRecipientsRefused",),
     N_("Máy chủ thư từ chối địa chỉ email của chủ thể: hãy kiểm tra lại địa chỉ email.")),
    (("SMTPAuthenticationError",),
     N_("Máy chủ thư từ chối đăng nhập: báo quản trị hệ thống kiểm tra tài khoản gửi thư.")),
    (("SMTPSenderRefused",),
     N_("Máy chủ thư từ chối địa chỉ người gửi: báo quản trị hệ thống kiểm tra cấu hình.")),
    (("SMTPServerDisconnected", "SMTPConnectError", "ConnectionRefusedError", "ConnectionResetError",
      "TimeoutError", "timeout", "gaierror", "OSError", "SSLError"),
     N_("Không kết nối được máy chủ thư; hệ thống sẽ tự gửi lại. Nếu lỗi kéo dài, báo quản "
        "trị hệ thống.")),
)
_SMTP_OTHER = N_("Máy chủ thư không nhận thư; hệ thống sẽ tự gửi lại.")


def error_text(stored: str | None) -> str | None:
    """A notice's last error in plain words and the reader's language: the messages this
    module stores are msgids; an SMTP failure gets the sentence for its kind
    (error_detail() keeps the server's own words for the administrator)."""
    if not stored:
        return None
    if stored in (SKIPPED_ERROR, NO_EMAIL_ERROR):
        return _(stored)
    name = stored.split(":", 1)[0].strip()
    for names, sentence in _SMTP_ERRORS:
        if name in names:
            return _(sentence)
    return _(_SMTP_OTHER)


def error_detail(stored: str | None) -> str | None:
    """The technical text behind error_text(), for an SMTP failure; None for our own messages."""
    if not stored or stored in (SKIPPED_ERROR, NO_EMAIL_ERROR):
        return None
    return stored


def notice_due_on(cert: Certificate) -> date:
    return cert.expires_on - timedelta(days=NOTICE_LEAD_DAYS)


def retry_delay(attempts: int) -> timedelta:
    return RETRY_BASE * (2 ** max(attempts - 1, 0))


def _needs_notice(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(in_force_condition(today), Certificate.expires_on <= today + timedelta(days=NOTICE_LEAD_DAYS))


def _missing_notices(today: date, producers: sa.Select | None, *columns: Any) -> sa.Select:
    """Certificates whose notice is due and has no outbox row yet."""
    stmt = (sa.select(*columns).select_from(Certificate)
            .join(Product, Certificate.product_id == Product.id)
            .join(Producer, Product.producer_id == Producer.id)
            .where(_needs_notice(today))
            .where(~sa.exists().where(ExpiryNotice.certificate_id == Certificate.id,
                                      ExpiryNotice.kind == NOTICE_KIND)))
    return stmt if producers is None else stmt.where(Producer.id.in_(producers))


def _due_now(now: datetime) -> sa.ColumnElement[bool]:
    """Outbox rows a run may claim at `now`; claim() asks the same."""
    return sa.and_(ExpiryNotice.status == NoticeStatus.PENDING,
                   sa.or_(ExpiryNotice.next_attempt_at.is_(None), ExpiryNotice.next_attempt_at <= now))


def _of_producers(stmt: sa.Select, producers: sa.Select | None) -> sa.Select:
    if producers is None:
        return stmt
    return (stmt.join(Certificate, ExpiryNotice.certificate_id == Certificate.id)
            .join(Product, Certificate.product_id == Product.id)
            .where(Product.producer_id.in_(producers)))


def due_count(today: date, now: datetime, producers: sa.Select | None = None) -> int:
    """How many notices a run would send now: those to create and the outbox rows due."""
    missing = db.session.scalar(_missing_notices(today, producers, sa.func.count(Certificate.id))) or 0
    pending = db.session.scalar(_of_producers(
        sa.select(sa.func.count(ExpiryNotice.id)).where(_due_now(now)), producers)) or 0
    return missing + pending


def create_due_notices(today: date | None = None, producers: sa.Select | None = None) -> int:
    """Add an outbox row for every certificate whose notice is due (of `producers` only, a
    select of their ids, when given); concurrent runs are safe because the (certificate, kind)
    pair is unique and inserts skip existing rows."""
    today = today or local_today()
    rows = db.session.execute(_missing_notices(
        today, producers, Certificate.id, Certificate.expires_on, Producer.email)).all()
    if not rows:
        return 0
    values = [{"certificate_id": cid, "kind": NOTICE_KIND,
               "due_on": expires_on - timedelta(days=NOTICE_LEAD_DAYS),
               "recipient": email or None, "status": NoticeStatus.PENDING.value, "attempts": 0,
               "created_at": utcnow()} for cid, expires_on, email in rows]
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = (insert(ExpiryNotice).on_conflict_do_nothing(index_elements=["certificate_id", "kind"])
            .returning(ExpiryNotice.id))
    return len(db.session.execute(stmt, values).all())


def claim(notice_id: int, now: datetime) -> bool:
    """Atomically take a pending notice for this run; False when another run got it first."""
    result = db.session.execute(
        sa.update(ExpiryNotice)
        .where(ExpiryNotice.id == notice_id, _due_now(now))
        .values(status=NoticeStatus.SENDING, attempts=ExpiryNotice.attempts + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _region_names(region: Region) -> dict[str, str]:
    names: dict[str, str] = {}
    node: Region | None = region
    while node is not None:
        names.setdefault(node.level.value, node.name)
        node = node.parent
    return names


def letter_for(cert: Certificate, letter_date: date, notice_id: int | None = None) -> NoticeLetter:
    product = cert.product
    producer = product.producer
    names = _region_names(producer.region)
    place = names.get(RegionLevel.PROVINCE.value, "").removeprefix("Tỉnh ").removeprefix("Thành phố ")
    return NoticeLetter(
        issuing_authority=cert.issuing_authority,
        notice_number=f"{notice_id or cert.id}/TB-OCOP",
        place=place or "Việt Nam",
        letter_date=letter_date,
        producer_name=producer.name,
        producer_address=producer.address,
        product_name=product.name_vi,
        stars=cert.stars,
        decision_number=cert.decision_number,
        issued_on=cert.issued_on,
        expires_on=cert.expires_on,
        contact=current_app.config.get("MAIL_FROM", ""),
    )


def notice_pdf(cert: Certificate, letter_date: date, notice_id: int | None = None) -> bytes:
    return render_notice_pdf(letter_for(cert, letter_date, notice_id))


def build_message(notice: ExpiryNotice, today: date) -> EmailMessage:
    cert = notice.certificate
    product = cert.product
    msg = EmailMessage()
    msg["Subject"] = f"Thông báo giấy chứng nhận OCOP sắp hết hiệu lực: {product.name_vi}"
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = notice.recipient
    # A stable id lets a mail server or reader spot a duplicate if one ever slipped through.
    msg["Message-ID"] = make_msgid(idstring=f"ocop-notice-{notice.id}")
    msg.set_content(
        f"Kính gửi {product.producer.name},\n\n"
        f"Giấy chứng nhận sản phẩm OCOP {cert.stars} sao của sản phẩm «{product.name_vi}» "
        f"(quyết định số {cert.decision_number}, cấp ngày {formats.date(cert.issued_on)}) "
        f"hết hiệu lực vào ngày {formats.date(cert.expires_on)}.\n\n"
        "Đề nghị chủ thể đăng ký đánh giá lại sản phẩm trước ngày hết hạn. Sau ngày này, nếu "
        "chưa được đánh giá lại, sản phẩm không được sử dụng biểu trưng OCOP và số sao.\n\n"
        "Thông báo chính thức được đính kèm (tệp PDF).\n\n"
        f"{cert.issuing_authority}\n", charset="utf-8")
    msg.add_attachment(notice_pdf(cert, today, notice.id), maintype="application", subtype="pdf",
                       filename=f"thong-bao-het-han-ocop-{cert.id}.pdf")
    return msg


def smtp_send(msg: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(msg)


@dataclass
class SendResult:
    created: int = 0
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    left: int = 0   # due notices left for the next run by a limit

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "sent": len(self.sent), "failed": len(self.failed),
                "retrying": len(self.retrying), "skipped": len(self.skipped)}


def _finish(notice_id: int, **values: Any) -> None:
    db.session.execute(sa.update(ExpiryNotice).where(ExpiryNotice.id == notice_id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def send_due(today: date | None = None, now: datetime | None = None,
             producers: sa.Select | None = None, limit: int | None = None) -> SendResult:
    """The daily job: create due notices, then send each pending one exactly once.
    `producers` (a select of producer ids) limits a run to an officer's regions and `limit`
    to a number of sends; the claim makes each notice go once whatever runs overlap.
    Commits as it goes (each claim, each result): a request that calls it says so."""
    today = today or local_today()
    now = now or utcnow()
    result = SendResult(created=create_due_notices(today, producers))
    db.session.commit()
    candidates = list(db.session.scalars(_of_producers(
        sa.select(ExpiryNotice.id).where(_due_now(now)), producers)
        .order_by(ExpiryNotice.due_on, ExpiryNotice.id)))
    if limit is not None:
        result.left = max(len(candidates) - limit, 0)
        candidates = candidates[:limit]
    for notice_id in candidates:
        if not claim(notice_id, now):
            db.session.rollback()
            continue
        db.session.commit()
        notice = db.session.scalar(
            sa.select(ExpiryNotice).where(ExpiryNotice.id == notice_id).options(
                selectinload(ExpiryNotice.certificate).selectinload(Certificate.product)
                .selectinload(Product.producer)))
        assert notice is not None
        cert = notice.certificate
        if not in_force(cert, today):
            _finish(notice_id, status=NoticeStatus.FAILED, last_error=SKIPPED_ERROR)
            result.skipped.append(notice_id)
            continue
        recipient = notice.recipient or notice.certificate.product.producer.email
        if not recipient:
            _finish(notice_id, status=NoticeStatus.FAILED, last_error=NO_EMAIL_ERROR)
            result.failed.append(notice_id)
            continue
        notice.recipient = recipient
        attempts = notice.attempts
        try:
            message = build_message(notice, today)
            smtp_send(message)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            db.session.rollback()
            if attempts >= MAX_ATTEMPTS:
                _finish(notice_id, status=NoticeStatus.FAILED, last_error=error, next_attempt_at=None)
                result.failed.append(notice_id)
            else:
                _finish(notice_id, status=NoticeStatus.PENDING, last_error=error,
                        next_attempt_at=now + retry_delay(attempts))
                result.retrying.append(notice_id)
            continue
        _finish(notice_id, status=NoticeStatus.SENT, sent_at=utcnow(), last_error=None,
                next_attempt_at=None, recipient=recipient)
        result.sent.append(notice_id)
    return result


def requeue(notice: ExpiryNotice) -> ExpiryNotice:
    """An officer sends a failed notice again (after fixing the producer's e-mail, say)."""
    from ..errors import InvalidState

    if notice.status != NoticeStatus.FAILED:
        raise InvalidState(_("Chỉ gửi lại được thông báo đã thất bại."))
    notice.status = NoticeStatus.PENDING
    notice.next_attempt_at = None
    notice.recipient = notice.certificate.product.producer.email or None
    db.session.flush()
    return notice
