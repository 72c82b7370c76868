"""The inspector's home: counts in plain words, the region's unresolved counterfeit reports
with their actions, the region's recent inspections, times in Vietnam time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import make_producer, make_product, make_user
from traceability.clock import local_today
from traceability.extensions import db as _db
from traceability.oversight.models import Inspection, InspectionOutcome
from traceability.resolver.models import CounterfeitReport, ReportStatus, ScanVerdict

TODAY = local_today()


@pytest.fixture()
def region_a(area):
    """Reports and inspections of commune A (the inspector's), and some of commune B."""
    here = make_product(make_producer(area.a), name_vi="Tỏi cô đơn Lý Sơn")
    there = make_product(make_producer(area.b), name_vi="Mật ong Ba Tơ")
    colleague = make_user("inspector", regions=[area.a], full_name="Trần Thị Bích")

    def report(product, status, place, at=None):
        _db.session.add(CounterfeitReport(
            code="/01/08939900001010/10/L1", product_id=product.id if product else None,
            verdict=ScanVerdict.FORGED, status=status, place_of_purchase=place,
            created_at=at or datetime.now(timezone.utc)))

    report(here, ReportStatus.OPEN, "Chợ Sơn Tịnh",
           datetime(2026, 1, 1, 20, 30, tzinfo=timezone.utc))
    report(None, ReportStatus.OPEN, "Chợ Đầu Mối")  # an unknown product: every inspector's
    report(here, ReportStatus.INVESTIGATING, "Tạp hóa Bình Minh")
    report(here, ReportStatus.CLOSED, "Siêu thị Cũ")
    report(there, ReportStatus.OPEN, "Chợ Ba Tơ")  # commune B: not this inspector's

    def inspection(product, by, days_ago):
        _db.session.add(Inspection(
            inspector_id=by.id, producer_id=product.producer_id, product_id=product.id,
            inspected_on=TODAY - timedelta(days=days_ago), checklist={},
            outcome=InspectionOutcome.COMPLIANT, photos=[]))

    for days_ago, by in ((0, area.inspector), (3, area.inspector), (10, colleague),
                         (20, area.inspector), (29, colleague), (30, area.inspector),
                         (45, area.inspector)):
        inspection(here, by, days_ago)
    inspection(there, area.officer_b, 1)
    _db.session.commit()
    return area


def _html(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_counts_say_what_waits_in_plain_vietnamese(client, sign_in, region_a):
    sign_in(client, region_a.inspector)
    html = _html(client, "/inspector/")
    assert "2 báo cáo hàng giả mới" in html
    assert "1 báo cáo đang xác minh" in html
    # Today and the 29 days before it: not the one 30 days ago, nor commune B's.
    assert "5 lần kiểm tra trong 30 ngày" in html


def test_home_links_the_inspector_tasks(client, sign_in, region_a):
    sign_in(client, region_a.inspector)
    html = _html(client, "/inspector/")
    assert 'href="/inspector/verify">Kiểm tra tem</a>' in html
    assert 'href="/oversight/inspections/new">Ghi biên bản kiểm tra</a>' in html
    assert 'href="/inspector/products">Sản phẩm trong địa bàn</a>' in html
    assert 'href="/inspector/verify?code=/01/08939900001010/10/L1">Kiểm tra mã này' in html


def test_unresolved_reports_by_default_with_their_status_actions(client, sign_in, region_a):
    sign_in(client, region_a.inspector)
    html = _html(client, "/inspector/")
    for place in ("Chợ Sơn Tịnh", "Chợ Đầu Mối", "Tạp hóa Bình Minh"):
        assert place in html
    assert "Siêu thị Cũ" not in html and "Chợ Ba Tơ" not in html
    assert html.count('action="/inspector/reports/') == 3
    closed = _html(client, "/inspector/?status=closed")
    assert "Siêu thị Cũ" in closed and "Chợ Sơn Tịnh" not in closed
    every = _html(client, "/inspector/?status=all")
    assert "Siêu thị Cũ" in every and "Chợ Sơn Tịnh" in every and "Chợ Ba Tơ" not in every
    assert client.get("/inspector/?status=nonsense").status_code == 404


def test_report_times_are_vietnam_time(client, sign_in, region_a):
    sign_in(client, region_a.inspector)
    html = _html(client, "/inspector/")
    # 20:30 UTC on 1 January is 03:30 on 2 January in Vietnam.
    assert "03:30 02/01/2026" in html
    assert "UTC" not in html


def test_recent_inspections_of_the_region_say_who_recorded_them(client, sign_in, region_a):
    sign_in(client, region_a.inspector)
    html = _html(client, "/inspector/")
    section = html[html.index('id="kiem-tra"'):]
    assert section.count("Tỏi cô đơn Lý Sơn") == 7 and "Mật ong Ba Tơ" not in section
    assert "Ghi bởi Trần Thị Bích" in section and "Bạn ghi" in section
    assert TODAY.strftime("%d/%m/%Y") in section


def test_home_reads_in_english_too(client, sign_in, region_a):
    sign_in(client, region_a.inspector)
    html = _html(client, "/inspector/?lang=en")
    assert "2 new counterfeit reports" in html and "5 inspections in 30 days" in html
    assert "1 report being checked" in html and "Check a label" in html
