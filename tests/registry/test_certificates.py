"""Certificate rules: 36-month default, score bands, and status on each boundary date."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.factories import make_certificate, make_product
from traceability.errors import ValidationFailed
from traceability.registry.models import CertificateStatus
from traceability.registry.status import certificate_status, default_expiry, stars_allowed


def test_expiry_defaults_to_36_months_after_issue():
    cert = make_certificate(issued_on=date(2024, 3, 15))
    assert cert.expires_on == date(2027, 3, 15)


def test_expiry_of_a_leap_day_issue_falls_on_the_last_day_of_february():
    assert default_expiry(date(2024, 2, 29)) == date(2027, 2, 28)


def test_given_expiry_is_kept():
    cert = make_certificate(issued_on=date(2024, 3, 15), expires_on=date(2026, 12, 31))
    assert cert.expires_on == date(2026, 12, 31)


def test_expiry_before_issue_is_refused_naming_the_field():
    with pytest.raises(ValidationFailed) as err:
        make_certificate(issued_on=date(2024, 3, 15), expires_on=date(2024, 3, 1))
    assert "expires_on" in err.value.errors


@pytest.mark.parametrize("stars,score", [(3, "50"), (3, "69.99"), (4, "70"), (4, "89.5"),
                                         (5, "90"), (5, "100")])
def test_score_inside_the_star_band_is_accepted(stars, score):
    cert = make_certificate(stars=stars, score=Decimal(score))
    assert cert.stars == stars


@pytest.mark.parametrize("stars,score", [(3, "49.99"), (3, "70"), (4, "69.9"), (4, "90"),
                                         (5, "89.99")])
def test_score_outside_the_star_band_is_refused(stars, score):
    with pytest.raises(ValidationFailed) as err:
        make_certificate(stars=stars, score=Decimal(score))
    assert "score" in err.value.errors
    assert "148/QĐ-TTg" in err.value.message


@pytest.mark.parametrize("stars", [1, 2, 6])
def test_certificates_exist_only_for_three_to_five_stars(stars):
    with pytest.raises(ValidationFailed) as err:
        make_certificate(stars=stars, score=None)
    assert "stars" in err.value.errors


def test_certificate_without_score_is_allowed():
    assert make_certificate(stars=3, score=None).score is None


ISSUED = date(2024, 1, 10)
EXPIRES = date(2027, 1, 10)


@pytest.mark.parametrize("today,expected", [
    (EXPIRES - timedelta(days=91), CertificateStatus.VALID),
    (EXPIRES - timedelta(days=90), CertificateStatus.EXPIRING),
    (EXPIRES, CertificateStatus.EXPIRING),               # the expiry date is the last valid day
    (EXPIRES + timedelta(days=1), CertificateStatus.EXPIRED),
])
def test_status_on_each_boundary_date(today, expected):
    cert = make_certificate(issued_on=ISSUED)
    assert cert.expires_on == EXPIRES
    assert certificate_status(cert, today) is expected


def test_revocation_takes_effect_on_its_date_and_beats_every_other_status():
    cert = make_certificate(issued_on=ISSUED)
    cert.revoked_on = date(2025, 5, 1)
    assert certificate_status(cert, date(2025, 4, 30)) is CertificateStatus.VALID
    assert certificate_status(cert, date(2025, 5, 1)) is CertificateStatus.REVOKED
    assert certificate_status(cert, EXPIRES + timedelta(days=5)) is CertificateStatus.REVOKED


def test_superseded_certificate_reports_superseded_and_allows_no_stars():
    product = make_product()
    old = make_certificate(product, issued_on=ISSUED)
    new = make_certificate(product, issued_on=date(2026, 1, 5))
    old.superseded_by_id = new.id
    today = date(2026, 2, 1)
    assert certificate_status(old, today) is CertificateStatus.SUPERSEDED
    assert not stars_allowed(old, today)
    assert stars_allowed(new, today)


def test_stars_are_allowed_while_expiring_but_not_once_expired():
    cert = make_certificate(issued_on=ISSUED)
    assert stars_allowed(cert, EXPIRES)
    assert not stars_allowed(cert, EXPIRES + timedelta(days=1))
    assert not stars_allowed(None, EXPIRES)
