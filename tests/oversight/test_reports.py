"""Dashboard and periodic report figures, checked against the demo data counted by hand."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.factories import make_token, make_user
from traceability.accounts.models import Handover, Membership, MembershipRole
from traceability.batches.models import Batch
from traceability.clock import VIETNAM, local_today
from traceability.codes.models import LabelLevel, LabelRun
from traceability.demo import load_demo
from traceability.extensions import db as _db
from traceability.models import Product, Region
from traceability.oversight import reports
from traceability.resolver.models import CounterfeitReport, Scan, ScanVerdict

TODAY = local_today()


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), VIETNAM).astimezone(timezone.utc)


def _product(name: str) -> Product:
    return _db.session.scalar(sa.select(Product).where(Product.name_vi == name))


def _region(name: str) -> Region:
    return _db.session.scalar(sa.select(Region).where(Region.name == name))


@pytest.fixture()
def demo(db):
    """The demo, with label runs, scans and reports replaced by a known hand-made set."""
    load_demo()
    _db.session.execute(sa.delete(LabelRun))
    _db.session.execute(sa.delete(Scan))
    _db.session.execute(sa.delete(CounterfeitReport))
    # The demo accounts hand some producers over; the hand-made set below replaces them.
    _db.session.execute(sa.delete(Handover))
    _db.session.execute(sa.delete(Membership).where(Membership.role == MembershipRole.OWNER))
    toi, nuoc_mam = _product("Tỏi cô đơn Lý Sơn"), _product("Nước mắm cá cơm Sa Huỳnh 40 độ đạm")
    toi_batch = _db.session.scalar(sa.select(Batch).where(Batch.product_id == toi.id))
    nm_batch = _db.session.scalar(sa.select(Batch).where(Batch.product_id == nuoc_mam.id))
    toi_cert = toi.certificates[-1]
    # Garlic: a run long enough; fish sauce: a run that ends before its certificate.
    _db.session.add(LabelRun(batch_id=toi_batch.id, level=LabelLevel.LOT, subject=toi.gtin,
                             guaranteed_until=toi_cert.expires_on + timedelta(days=1)))
    _db.session.add(LabelRun(batch_id=nm_batch.id, level=LabelLevel.LOT, subject=nuoc_mam.gtin,
                             guaranteed_until=nuoc_mam.certificates[-1].expires_on - timedelta(days=1)))
    # Scans: 3 this month and 2 last month on the garlic; 1 on the fish sauce two months ago.
    this_month = TODAY.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    two_ago = (last_month - timedelta(days=1)).replace(day=1)
    for day in (this_month, this_month, TODAY):
        _db.session.add(Scan(at=_at(day), code=f"/01/{toi.gtin}", product_id=toi.id, verdict=ScanVerdict.LOT))
    for _ in range(2):
        _db.session.add(Scan(at=_at(last_month), code=f"/01/{toi.gtin}", product_id=toi.id, verdict=ScanVerdict.LOT))
    _db.session.add(Scan(at=_at(two_ago), code=f"/01/{nuoc_mam.gtin}", product_id=nuoc_mam.id,
                         verdict=ScanVerdict.LOT))
    # A unit serial scanned from 6 networks (> 5): one copy flag.
    for n in range(6):
        _db.session.add(Scan(at=_at(TODAY), code="copy", product_id=nuoc_mam.id, batch_id=nm_batch.id,
                             serial_index=7, verdict=ScanVerdict.GENUINE, network_hash=f"net{n}"))
    _db.session.add(CounterfeitReport(created_at=_at(TODAY), code="/01/x", product_id=toi.id,
                                      verdict=ScanVerdict.FORGED, message="Nghi hàng giả"))
    # Handover: the garlic co-op is handed over, the malt syrup has an open claim.
    officer = make_user("officer", regions=[_region("Tỉnh Quảng Ngãi")])
    _db.session.add(Membership(user_id=make_user("producer").id, producer_id=toi.producer_id,
                               role=MembershipRole.OWNER))
    _db.session.add(Handover(producer_id=_product("Mạch nha Thi Phổ").producer_id, issued_by_id=officer.id,
                             claim_hash="x" * 64, expires_at=datetime.now(timezone.utc) + timedelta(days=3)))
    _db.session.flush()
    return officer


def test_dashboard_figures_match_the_demo_counted_by_hand(app, demo):
    with app.test_request_context():
        board = reports.dashboard(demo)
    # 15 demo products. In force: 5★ garlic, malt syrup; 4★ malt candy, fish sauce, cinnamon,
    # puffed sugar (expiring in 75 days), shallots (re-evaluated 3★ → 4★); 3★ salt, lingzhi
    # (expiring in 20 days), ampelopsis tea, goby, honey, apricot. Not in force: brocade bag
    # (lapsed), sun-dried beef (revoked).
    assert board.product_count == 15
    assert board.by_stars == {5: 2, 4: 5, 3: 6, 0: 2}
    assert board.certificates == {"expiring_90": 2, "expiring_30": 1, "lapsed": 1, "revoked": 1}
    assert board.handover == {"handed_over": 1, "pending": 1, "never": 13}
    assert len(board.without_label_run) == 13
    assert [p.name_vi for _r, p, _c in board.short_runs] == ["Nước mắm cá cơm Sa Huỳnh 40 độ đạm"]
    months = dict(board.scans_by_month)
    assert months[TODAY.strftime("%Y-%m")] == 3 + 6
    assert sum(months.values()) == 3 + 2 + 1 + 6
    assert len(board.scans_by_month) == 12
    assert board.counterfeit_by_status == {"open": 1}
    assert [(f["serial_index"], f["networks"]) for f in board.copy_flags] == [(7, 6)]
    ly_son = [r for r in board.by_area if r["area"] == "Huyện Lý Sơn"]
    assert [(r["group"], r["s4"], r["s5"], r["total"]) for r in ly_son] == [("food", 1, 1, 2)]
    # 4★+ in force per commune: An Hải, Đức Nhuận, Tịnh Khê, Phổ Thạnh, Trà Bình, Nghĩa Hiệp,
    # An Vĩnh = 7 of 18 communes (15 holding a producer + 3 post-reform units).
    assert board.target == 1
    assert (board.communes_met, len(board.communes)) == (7, 18)


def test_dashboard_of_an_officer_covers_only_their_regions(app, demo):
    officer = make_user("officer", regions=[_region("Huyện Lý Sơn")])
    with app.test_request_context():
        board = reports.dashboard(officer)
    assert board.product_count == 2                           # garlic and shallots
    assert board.by_stars == {5: 1, 4: 1}
    assert board.certificates == {"expiring_90": 0, "expiring_30": 0, "lapsed": 0, "revoked": 0}
    assert board.handover == {"handed_over": 1, "pending": 0, "never": 1}
    assert board.counterfeit_by_status == {"open": 1}
    assert board.copy_flags == []
    # An Vĩnh and An Hải hold producers; An Bình has none and was dissolved in 2025.
    assert (board.communes_met, len(board.communes)) == (2, 2)


def test_the_four_star_target_is_a_setting(app, demo, monkeypatch):
    monkeypatch.setitem(app.config, "OCOP_FOUR_STAR_TARGET_PER_COMMUNE", 2)
    with app.test_request_context():
        board = reports.dashboard(demo)
    assert board.target == 2 and board.communes_met == 0


def test_a_foreign_region_report_is_forbidden(client, demo):
    officer = make_user("officer", regions=[_region("Huyện Lý Sơn")])
    headers = {"Authorization": f"Bearer {make_token(officer)}"}
    _db.session.commit()
    foreign = _region("Huyện Ba Tơ").id
    assert client.get(f"/api/v1/oversight/reports/dashboard?region_id={foreign}", headers=headers).status_code == 403
    response = client.get(f"/api/v1/oversight/reports/periodic?start=2026-01-01&end=2026-03-31"
                          f"&region_id={foreign}", headers=headers)
    assert response.status_code == 403


def test_dashboard_api_returns_the_same_figures(client, demo):
    headers = {"Authorization": f"Bearer {make_token(demo)}"}
    _db.session.commit()
    body = client.get("/api/v1/oversight/reports/dashboard", headers=headers).get_json()
    assert body["by_stars"] == {"0": 2, "3": 6, "4": 5, "5": 2}
    assert body["certificates"]["expiring_30"] == 1
    assert body["four_star_target"]["communes_met"] == 7


def _workbook(client, officer, **params):
    headers = {"Authorization": f"Bearer {make_token(officer)}"}
    _db.session.commit()
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.get(f"/api/v1/oversight/reports/periodic?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_the_periodic_xlsx_opens_with_vietnamese_sheets_headings_and_real_values(client, demo):
    start, end = TODAY - timedelta(days=90), TODAY
    response = _workbook(client, demo, start=start.isoformat(), end=end.isoformat(), format="xlsx")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Tổng hợp", "Sản phẩm", "Cấp mới, đánh giá lại", "Thu hồi",
                             "Hết hạn, sắp hết hạn", "Kiểm tra", "Phản ánh hàng giả",
                             "Bàn giao tài khoản", "Mã truy xuất", "Chỉ tiêu sản phẩm 4 sao"]
    products = wb["Sản phẩm"]
    headings = [c.value for c in products[1]]
    assert headings[:5] == ["Đơn vị hành chính", "Xã/phường", "Chủ thể", "Mã số thuế", "Sản phẩm"]
    assert products.freeze_panes == "A2"
    assert products.auto_filter.ref == f"A1:L{15 + 1}"
    rows = {r[4]: r for r in products.iter_rows(min_row=2, values_only=True)}
    garlic = rows["Tỏi cô đơn Lý Sơn"]
    assert garlic[6] == 5 and isinstance(garlic[6], int)
    assert isinstance(garlic[9], datetime)                   # a real date cell, not text
    assert garlic[11] == 3 + 2                               # scans in the last 90 days
    assert products.cell(row=2, column=10).number_format == "DD/MM/YYYY"
    summary = {r[0]: r[1] for r in wb["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Số sản phẩm"] == 15
    assert summary["Sản phẩm 5 sao còn hiệu lực cuối kỳ"] == 2
    # In the last 90 days: shallots re-evaluated 60 days ago; beef revoked 30 days ago;
    # brocade bag lapsed 45 days ago; lingzhi (20 days) and puffed sugar (75 days) expire soon.
    assert summary["Giấy chứng nhận cấp trong kỳ"] == 1
    assert summary["Giấy chứng nhận thu hồi trong kỳ"] == 1
    assert summary["Giấy chứng nhận hết hạn trong kỳ"] == 1
    assert summary["Giấy chứng nhận sắp hết hạn (trong 90 ngày sau kỳ)"] == 2
    assert summary["Phản ánh hàng giả trong kỳ"] == 1
    assert summary["Chủ thể đã bàn giao tài khoản"] == 1
    revoked = list(wb["Thu hồi"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[4]) for r in revoked] == [("Bò một nắng Sơn Hà", "3009/QĐ-UBND")]


def test_the_periodic_report_for_one_region_and_as_csv(client, demo):
    ly_son = _region("Huyện Lý Sơn").id
    response = _workbook(client, demo, start=(TODAY - timedelta(days=90)).isoformat(), end=TODAY.isoformat(),
                         region_id=ly_son, format="csv", section="san-pham")
    assert response.mimetype == "text/csv"
    text = response.data.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Đơn vị hành chính,Xã/phường,Chủ thể,Mã số thuế,Sản phẩm")
    assert len(lines) == 1 + 2
    zipped = _workbook(client, demo, start="2026-01-01", end=TODAY.isoformat(), format="csv")
    names = zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()
    assert names[0] == "01-tong-hop.csv" and len(names) == 10


def test_a_period_ending_before_it_starts_is_refused(client, demo):
    headers = {"Authorization": f"Bearer {make_token(demo)}"}
    _db.session.commit()
    response = client.get("/api/v1/oversight/reports/periodic?start=2026-05-01&end=2026-04-01", headers=headers)
    assert response.status_code == 422 and "end" in response.get_json()["errors"]


def test_the_periodic_report_reads_in_english_when_asked(client, demo):
    start, end = TODAY - timedelta(days=90), TODAY
    response = _workbook(client, demo, start=start.isoformat(), end=end.isoformat(), format="xlsx", lang="en")
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames[:3] == ["Summary", "Products", "Issued, re-evaluated"]
    assert wb.sheetnames[-1] == "4-star product target"
    headings = [c.value for c in wb["Products"][1]]
    assert headings[:4] == ["Administrative unit", "Commune/ward", "Producer", "Tax code"]
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Number of products"] == 15
    assert summary["Certificates revoked in the period"] == 1
    # The four-star target is "met", not an inspection's "Passed".
    goal = wb["4-star product target"]
    assert [c.value for c in goal[1]][-1] == "Target met"
    assert {r[-1] for r in goal.iter_rows(min_row=2, values_only=True)} <= {"Met", "Not met"}
    assert wb.properties.title.startswith("OCOP report ")
    csv_response = _workbook(client, demo, start=start.isoformat(), end=end.isoformat(),
                             format="csv", section="san-pham", lang="en")
    assert csv_response.data.decode("utf-8-sig").startswith(
        "Administrative unit,Commune/ward,Producer,Tax code,Products,Product group,Stars")


def test_the_vietnamese_four_star_sheet_says_met_not_passed(client, demo):
    response = _workbook(client, demo, start=(TODAY - timedelta(days=90)).isoformat(),
                         end=TODAY.isoformat(), format="xlsx")
    wb = load_workbook(io.BytesIO(response.data))
    goal = wb["Chỉ tiêu sản phẩm 4 sao"]
    assert [c.value for c in goal[1]] == ["Xã/phường", "Sản phẩm từ 4 sao còn hiệu lực", "Chỉ tiêu",
                                          "Tỷ lệ hoàn thành", "Đạt chỉ tiêu"]
    values = [r[-1] for r in goal.iter_rows(min_row=2, values_only=True)]
    assert values.count("Đã đạt") == 7 and set(values) <= {"Đã đạt", "Chưa đạt"}
    assert wb.properties.title.startswith("Báo cáo OCOP ")
