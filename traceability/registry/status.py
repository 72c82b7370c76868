"""The one place that decides a certificate's status and OCOP scoring rules."""
from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from typing import Protocol

from .models import CertificateStatus

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
    """Revoked beats superseded beats expired; the expiry date is the last valid day."""
    if cert.revoked_on is not None and cert.revoked_on <= today:
        return CertificateStatus.REVOKED
    if cert.superseded_by_id is not None:
        return CertificateStatus.SUPERSEDED
    if today > cert.expires_on:
        return CertificateStatus.EXPIRED
    if (cert.expires_on - today).days <= EXPIRING_WITHIN_DAYS:
        return CertificateStatus.EXPIRING
    return CertificateStatus.VALID


def stars_allowed(cert: _CertificateLike | None, today: date) -> bool:
    """The OCOP mark and stars may be shown only while a certificate is in force."""
    if cert is None:
        return False
    return certificate_status(cert, today) in (CertificateStatus.VALID, CertificateStatus.EXPIRING)
