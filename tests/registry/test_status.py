"""registry.status: the Python status function and its SQL twin agree on every boundary date,
on whichever database the suite runs (SQLite or PostgreSQL); filters and labels use them."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import render_template_string
from flask_babel import force_locale

from tests.factories import make_certificate, make_product
from traceability.clock import local_today
from traceability.extensions import db as _db
from traceability.registry.models import Certificate, CertificateStatus
from traceability.registry.status import (
    EXPIRING_WITHIN_DAYS,
    STATUS_LABELS,
    certificate_status,
    in_force,
    in_force_condition,
    status_condition,
)

DAY = date(2026, 6, 15)
ISSUED = DAY - timedelta(days=1200)
# Expiry: the day before, of and after each checked day; the edges of the expiring window.
EXPIRY_OFFSETS = (-2, -1, 0, 1, 2, EXPIRING_WITHIN_DAYS - 1, EXPIRING_WITHIN_DAYS,
                  EXPIRING_WITHIN_DAYS + 1, EXPIRING_WITHIN_DAYS + 2)
# Revocation: none, yesterday, today, tomorrow (a revocation dated ahead, as an import may bring).
REVOCATION_OFFSETS = (None, -1, 0, 1)
CHECKED_DAYS = (DAY - timedelta(days=1), DAY, DAY + timedelta(days=1))


@pytest.fixture()
def certificates(db) -> list[Certificate]:
    """Every combination of expiry, revocation and supersession around DAY."""
    product = make_product()
    successor = make_certificate(make_product(), issued_on=DAY - timedelta(days=10))
    made = []
    for n, (expires, revoked, superseded) in enumerate(
            itertools.product(EXPIRY_OFFSETS, REVOCATION_OFFSETS, (False, True))):
        cert = make_certificate(product, decision_number=f"{n}/QĐ-UBND", issued_on=ISSUED,
                                expires_on=DAY + timedelta(days=expires))
        cert.revoked_on = None if revoked is None else DAY + timedelta(days=revoked)
        cert.superseded_by_id = successor.id if superseded else None
        made.append(cert)
    _db.session.flush()
    return made


def _matching(condition: sa.ColumnElement[bool], certificates: list[Certificate]) -> set[int]:
    ids = [c.id for c in certificates]
    return set(_db.session.scalars(sa.select(Certificate.id).where(Certificate.id.in_(ids), condition)))


@pytest.mark.parametrize("today", CHECKED_DAYS, ids=["day-before", "day", "day-after"])
def test_the_sql_condition_selects_exactly_the_certificates_the_function_names(certificates, today):
    seen = set()
    for status in CertificateStatus:
        expected = {c.id for c in certificates if certificate_status(c, today) is status}
        assert _matching(status_condition(status, today), certificates) == expected, status
        seen |= {status} if expected else set()
    assert seen == set(CertificateStatus)  # the grid reaches every status on every checked day


@pytest.mark.parametrize("today", CHECKED_DAYS, ids=["day-before", "day", "day-after"])
def test_in_force_in_sql_matches_in_force_in_python(certificates, today):
    expected = {c.id for c in certificates if in_force(c, today)}
    assert expected and _matching(in_force_condition(today), certificates) == expected


@pytest.mark.parametrize("offset,expected", [
    (-1, CertificateStatus.EXPIRED),                       # the day after expiry
    (0, CertificateStatus.EXPIRING),                       # the expiry date is the last valid day
    (1, CertificateStatus.EXPIRING),
    (EXPIRING_WITHIN_DAYS, CertificateStatus.EXPIRING),    # the window's last day
    (EXPIRING_WITHIN_DAYS + 1, CertificateStatus.VALID),
])
def test_the_boundaries_fall_where_the_rules_say(db, offset, expected):
    cert = make_certificate(issued_on=ISSUED, expires_on=DAY + timedelta(days=offset))
    assert certificate_status(cert, DAY) is expected
    assert _matching(status_condition(expected, DAY), [cert]) == {cert.id}


def test_revocation_counts_from_its_own_day_and_beats_supersession(db):
    successor = make_certificate(issued_on=DAY - timedelta(days=5))
    cert = make_certificate(issued_on=ISSUED, expires_on=DAY + timedelta(days=300))
    cert.revoked_on, cert.superseded_by_id = DAY, successor.id
    assert certificate_status(cert, DAY - timedelta(days=1)) is CertificateStatus.SUPERSEDED
    assert certificate_status(cert, DAY) is CertificateStatus.REVOKED
    assert _matching(status_condition("revoked", DAY), [cert]) == {cert.id}
    assert _matching(status_condition("superseded", DAY - timedelta(days=1)), [cert]) == {cert.id}


def test_the_register_api_filters_by_each_status(client, db):
    today = local_today()
    product = make_product()
    by_status = {
        CertificateStatus.VALID: make_certificate(product, issued_on=today - timedelta(days=10)),
        CertificateStatus.EXPIRING: make_certificate(product, issued_on=today - timedelta(days=1000),
                                                     expires_on=today),
        CertificateStatus.EXPIRED: make_certificate(product, issued_on=today - timedelta(days=1000),
                                                    expires_on=today - timedelta(days=1)),
        CertificateStatus.REVOKED: make_certificate(product, issued_on=today - timedelta(days=100)),
        CertificateStatus.SUPERSEDED: make_certificate(product, issued_on=today - timedelta(days=200)),
    }
    by_status[CertificateStatus.REVOKED].revoked_on = today
    by_status[CertificateStatus.SUPERSEDED].superseded_by_id = by_status[CertificateStatus.VALID].id
    db.session.commit()
    for status, cert in by_status.items():
        listed = client.get(f"/api/v1/certificates?status={status.value}").get_json()
        assert [(c["id"], c["status"]) for c in listed] == [(cert.id, status.value)]


def test_every_status_has_one_label_in_each_language(app):
    assert set(STATUS_LABELS) == set(CertificateStatus)
    template = "{% for s in statuses %}{{ s|certificate_status_label }};{% endfor %}"
    with app.test_request_context():
        assert render_template_string(template, statuses=list(CertificateStatus)) == (
            "Còn hiệu lực;Sắp hết hạn;Đã hết hạn;Đã thu hồi;Đã được thay thế;")
        with force_locale("en"):
            assert render_template_string(template, statuses=[s.value for s in CertificateStatus]) == (
                "Valid;Expiring soon;Expired;Revoked;Superseded;")
