"""The officer's home summary: what waits in the officer's regions, each count the size of the
page it links to; and its fragment in plain Vietnamese (and English plurals)."""
from __future__ import annotations

import re
from datetime import timedelta

from flask import g, render_template

from tests.factories import make_user
from tests.oversight.test_reports import TODAY, world  # noqa: F401  (the hand-made province)
from traceability.extensions import db as _db
from traceability.models import Certificate, Product
from traceability.oversight.models import ExpiryNotice, Inspection, InspectionOutcome, NoticeStatus
from traceability.oversight.services import OfficerSummary, officer_summary


def _add_failed_notice_and_proposal(world) -> None:
    honey = _db.session.scalar(_db.select(Product).where(Product.name_vi == "Mật ong rừng"))
    cert = _db.session.scalar(_db.select(Certificate).where(Certificate.product_id == honey.id))
    _db.session.add(ExpiryNotice(certificate_id=cert.id, due_on=TODAY, status=NoticeStatus.FAILED,
                                 attempts=1, last_error="x"))
    paste = _db.session.scalar(_db.select(Product).where(Product.name_vi == "Mắm ruốc"))
    _db.session.add(Inspection(inspector_id=world.officer.id, producer_id=paste.producer_id,
                               product_id=paste.id, inspected_on=TODAY, checklist={},
                               outcome=InspectionOutcome.VIOLATION, propose_revocation=True, photos=[]))
    _db.session.flush()


def test_the_summary_counts_what_waits_in_the_province(app, world):
    _add_failed_notice_and_proposal(world)
    with app.test_request_context():
        summary = officer_summary(world.officer)
    assert summary == OfficerSummary(
        expiring=2,            # fish sauce (20 days) and honey (60 days)
        expired=1,             # shrimp paste, 10 days ago
        revoked_recently=1,    # the brocade bag, 5 days ago
        notices_due=1,         # fish sauce: inside the 45-day lead, no notice yet
        notices_failed=1,
        counterfeit_new=1,
        handovers_pending=1,   # tea: an open claim
        handovers_not_started=2,  # fish sauce's claim expired, brocade's cancelled
        proposals=1)
    assert summary.total == 11


def test_the_summary_of_a_district_officer_covers_only_its_district(app, world):
    with app.test_request_context():
        summary = officer_summary(world.district_officer)
    assert (summary.expiring, summary.expired, summary.revoked_recently) == (1, 1, 0)
    assert (summary.handovers_pending, summary.handovers_not_started) == (1, 1)
    assert (summary.counterfeit_new, summary.proposals, summary.notices_failed) == (1, 0, 0)


def test_a_revocation_more_than_90_days_old_is_not_recent(app, world):
    cert = _db.session.scalar(_db.select(Certificate).where(Certificate.revoked_on.is_not(None)))
    cert.revoked_on = TODAY - timedelta(days=90)
    _db.session.flush()
    with app.test_request_context():
        assert officer_summary(world.officer).revoked_recently == 0


def test_the_summary_counts_match_the_pages_they_link_to(client, world):
    from tests.factories import login

    _add_failed_notice_and_proposal(world)
    login(client, world.officer)
    html = client.get("/officer/").get_data(as_text=True)
    links = dict((text, href.replace("&amp;", "&")) for href, text in
                 re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', html))
    assert links["2 giấy chứng nhận sắp hết hạn (trong 90 ngày)"] == "/officer/certificates?bucket=expiring_90"
    assert links["1 giấy chứng nhận đã hết hạn"] == "/officer/certificates?bucket=lapsed"
    assert links["1 giấy chứng nhận bị thu hồi trong 90 ngày qua"] == "/officer/certificates?bucket=revoked"
    assert links["1 thông báo hết hạn đến hạn gửi"] == "/officer/notices"
    assert links["1 thông báo gửi không thành công"] == "/officer/notices?status=failed"
    assert links["1 phản ánh hàng giả mới"] == "/inspector/?status=open"
    assert links["1 chủ thể chưa nhận bàn giao tài khoản"] == "/officer/handovers?state=pending"
    assert links["2 chủ thể chưa được cấp mã bàn giao"] == "/officer/handovers?state=not_started"
    assert links["1 đề nghị thu hồi chờ quyết định"] == "/officer/proposals"
    handovers = client.get("/officer/handovers?state=not_started").get_data(as_text=True)
    assert "2 chủ thể" in handovers
    failed = client.get("/officer/notices?status=failed").get_data(as_text=True)
    assert failed.count("<strong>Thất bại</strong>") == 1


def test_the_fragment_says_nothing_is_waiting_without_links_and_pluralises_in_english(app, db):
    empty = OfficerSummary(0, 0, 0, 0, 0, 0, 0, 0, 0)
    with app.test_request_context():
        html = render_template("oversight/_officer_summary.html", summary=empty)
    assert "<a " not in html and "0 giấy chứng nhận sắp hết hạn" in html
    with app.test_request_context("/?lang=en", headers={"Accept-Language": "en"}):
        g.pop("_flask_babel", None)  # the tests' app context keeps the last request's language
        some = OfficerSummary(3, 1, 0, 0, 0, 0, 0, 0, 0)
        english = render_template("oversight/_officer_summary.html", summary=some)
    assert "3 certificates expiring soon (within 90 days)" in english
    assert "1 certificate expired" in english


def test_only_officers_get_a_summary(app, world):
    import pytest

    from traceability.errors import Forbidden

    with app.test_request_context(), pytest.raises(Forbidden):
        officer_summary(make_user("inspector"))
