"""The one place that decides a certificate's status (in Python and in SQL, side by side),
its wording, and the OCOP scoring rules."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel import gettext as _

from .. import formats
from .models import Certificate, CertificateStatus

VALIDITY_MONTHS = 36
EXPIRING_WITHIN_DAYS = 90
NOTICE_DAYS_BEFORE_EXPIRY = 30

# Decision 148/QĐ-TTg: 5★ 90–100, 4★ 70–<90, 3★ 50–<70 (certificates only from 3★).
SCORE_BANDS: dict[int, tuple[Decimal, Decimal]] = {
    3: (Decimal(50), Decimal(70)),
    4: (Decimal(70), Decimal(90)),
    5: (Decimal(90), Decimal("100.01")),
}


class _CertificateLike(Protocol):
    expires_on: date
    revoked_on: date | None
    superseded_by_id: int | None


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic; 31 Jan + 1 month = 28/29 Feb."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_expiry(issued_on: date) -> date:
    return add_months(issued_on, VALIDITY_MONTHS)


def stars_for_score(score: Decimal) -> int | None:
    for stars, (low, high) in SCORE_BANDS.items():
        if low <= score < high:
            return stars
    return None


def score_fits_stars(score: Decimal, stars: int) -> bool:
    band = SCORE_BANDS.get(stars)
    return band is not None and band[0] <= score < band[1]


def certificate_status(cert: _CertificateLike, today: date) -> CertificateStatus:
    """Revoked beats superseded beats expired; the expiry date is the last valid day.

    status_condition() below is its SQL twin: change both together
    (tests/registry/test_status.py holds them equal on every boundary date)."""
    if cert.revoked_on is not None and cert.revoked_on <= today:
        return CertificateStatus.REVOKED
    if cert.superseded_by_id is not None:
        return CertificateStatus.SUPERSEDED
    if today > cert.expires_on:
        return CertificateStatus.EXPIRED
    if (cert.expires_on - today).days <= EXPIRING_WITHIN_DAYS:
        return CertificateStatus.EXPIRING
    return CertificateStatus.VALID


IN_FORCE = frozenset({CertificateStatus.VALID, CertificateStatus.EXPIRING})


def in_force(cert: _CertificateLike | None, today: date) -> bool:
    """A certificate is in force while valid or expiring; only then may the product show the
    OCOP mark and its stars. SQL twin: in_force_condition()."""
    return cert is not None and certificate_status(cert, today) in IN_FORCE


# The trace page and the labels ask the question in these words.
stars_allowed = in_force


def stars_in_force(cert: Certificate | None, today: date) -> int | None:
    """The stars a product may show today under `cert` (its current certificate), or None."""
    return cert.stars if cert is not None and in_force(cert, today) else None


def _not_revoked(today: date) -> sa.ColumnElement[bool]:
    return sa.or_(Certificate.revoked_on.is_(None), Certificate.revoked_on > today)


def _live(today: date) -> sa.ColumnElement[bool]:
    """Neither revoked by `today` nor superseded: its dates decide the status."""
    return sa.and_(_not_revoked(today), Certificate.superseded_by_id.is_(None))


def status_condition(status: CertificateStatus | str, today: date) -> sa.ColumnElement[bool]:
    """SQL over the certificates table, true exactly where certificate_status(cert, today) == status."""
    status = CertificateStatus(status)
    horizon = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    conditions = {
        CertificateStatus.REVOKED: sa.and_(Certificate.revoked_on.is_not(None), Certificate.revoked_on <= today),
        CertificateStatus.SUPERSEDED: sa.and_(_not_revoked(today), Certificate.superseded_by_id.is_not(None)),
        CertificateStatus.EXPIRED: sa.and_(_live(today), Certificate.expires_on < today),
        CertificateStatus.EXPIRING: sa.and_(_live(today), Certificate.expires_on >= today,
                                            Certificate.expires_on <= horizon),
        CertificateStatus.VALID: sa.and_(_live(today), Certificate.expires_on > horizon),
    }
    return conditions[status]


def in_force_condition(today: date) -> sa.ColumnElement[bool]:
    """SQL twin of in_force(): valid or expiring on `today`."""
    return sa.and_(_live(today), Certificate.expires_on >= today)


# What people read for each status; reports, filters and the API carry the enum.
STATUS_LABELS: dict[CertificateStatus, Any] = {
    CertificateStatus.VALID: _l("Còn hiệu lực"),
    CertificateStatus.EXPIRING: _l("Sắp hết hạn"),
    CertificateStatus.EXPIRED: _l("Đã hết hạn"),
    CertificateStatus.REVOKED: _l("Đã thu hồi"),
    CertificateStatus.SUPERSEDED: _l("Đã được thay thế"),
}


def status_label(status: CertificateStatus | str) -> str:
    """The status in the reader's language; the template filter `certificate_status_label`."""
    return str(STATUS_LABELS[CertificateStatus(status)])


@dataclass(frozen=True)
class Standing:
    """A product's certificate as its producer reads it: the status, one sentence saying what
    holds today and one saying what to do next, in plain words."""

    status: CertificateStatus | None
    summary: str
    next_step: str

    @property
    def tone(self) -> str:
        """The CSS tone of the notice: ok, warn or bad."""
        if self.status == CertificateStatus.VALID:
            return "ok"
        if self.status in (CertificateStatus.EXPIRED, CertificateStatus.REVOKED):
            return "bad"
        return "warn"


def standing(cert: Certificate | None, today: date) -> Standing:
    """What the producer's pages say about `cert`, the product's current certificate."""
    if cert is None:
        return Standing(None, _("Sản phẩm chưa có giấy chứng nhận OCOP."),
                        _("Mã QR vẫn truy xuất được nhưng không hiện sao OCOP. Khi sản phẩm được "
                          "công nhận, cán bộ quản lý OCOP sẽ ghi giấy chứng nhận vào hệ thống."))
    status = certificate_status(cert, today)
    expires = formats.date(cert.expires_on, formats.current_locale())
    if status == CertificateStatus.VALID:
        return Standing(status, _("OCOP %(stars)d sao, còn hiệu lực đến %(date)s.",
                                  stars=cert.stars, date=expires),
                        _("Không cần làm gì thêm. Hãy ghi nhật ký sản xuất cho từng lô hàng."))
    if status == CertificateStatus.EXPIRING:
        days = (cert.expires_on - today).days
        return Standing(status, ngettext("OCOP %(stars)d sao, hết hạn sau %(num)d ngày (%(date)s).",
                                         "OCOP %(stars)d sao, hết hạn sau %(num)d ngày (%(date)s).",
                                         days, stars=cert.stars, date=expires),
                        _("Nộp hồ sơ đề nghị đánh giá lại cho cơ quan quản lý OCOP trước ngày hết "
                          "hạn (Quyết định 148/QĐ-TTg), nếu không sản phẩm sẽ mất sao OCOP."))
    if status == CertificateStatus.EXPIRED:
        return Standing(status, _("Giấy chứng nhận OCOP %(stars)d sao đã hết hạn từ %(date)s.",
                                  stars=cert.stars, date=expires),
                        _("Không in sao và biểu trưng OCOP lên bao bì nữa. Liên hệ cơ quan quản lý "
                          "OCOP để được đánh giá lại."))
    if status == CertificateStatus.REVOKED:
        assert cert.revoked_on is not None
        revoked = formats.date(cert.revoked_on, formats.current_locale())
        summary = _("Giấy chứng nhận OCOP đã bị thu hồi ngày %(date)s.", date=revoked)
        if cert.revocation_reason:
            summary += " " + _("Lý do: %(reason)s", reason=cert.revocation_reason)
        if cert.revocation_decision:
            summary += " " + _("(quyết định %(decision)s)", decision=cert.revocation_decision)
        return Standing(status, summary,
                        _("Ngừng dùng biểu trưng và sao OCOP trên bao bì. Muốn được công nhận lại, "
                          "liên hệ cơ quan quản lý OCOP."))
    return Standing(status, _("Giấy chứng nhận này đã được thay bằng giấy chứng nhận mới."), "")
