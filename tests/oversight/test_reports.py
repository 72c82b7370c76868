"""Dashboard and periodic report figures, checked against a small hand-made province (one
certificate in each status) and, once, against the demo end to end."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.factories import (
    make_batch,
    make_certificate,
    make_producer,
    make_product,
    make_region,
    make_token,
    make_user,
)
from traceability.accounts.models import Handover, Membership, MembershipRole
from traceability.accounts.services import HandoverStatus, handover_status_query, handover_statuses
from traceability.clock import VIETNAM, local_today
from traceability.codes.models import LabelLevel, LabelRun
from traceability.extensions import db as _db
from traceability.models import Region
from traceability.oversight import reports
from traceability.oversight.models import Inspection, InspectionOutcome
from traceability.oversight.services import FOLLOW_UP_BUCKETS, follow_up
from traceability.registry.models import ProductGroup, RegionLevel
from traceability.resolver.models import CounterfeitReport, Scan, ScanVerdict

TODAY = local_today()
PERIOD = {"start": (TODAY - timedelta(days=90)).isoformat(), "end": TODAY.isoformat()}


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), VIETNAM).astimezone(timezone.utc)


@pytest.fixture()
def world(db):
    """Province P: district Huyện Núi (communes Xã Một, Xã Hai, and Xã Cũ dissolved a year
    ago) and Phường Ba directly under the province. Seven products, one certificate in each
    status on TODAY:

    Xã Một   HTX Tỏi   Tỏi cô đơn       5★ valid            handed over; long label run; 5 scans
             HTX Mắm   Nước mắm cá cơm  4★ expiring (20 d)  claim expired: not started
                       Mắm ruốc         3★ expired 10 d ago
    Xã Hai   HTX Trà   Trà xanh         3★ superseded by 4★ valid (issued 30 d ago); open claim
    Phường Ba Cơ sở Dệt Túi thổ cẩm     3★ revoked 5 d ago  claim cancelled: not started
                       Mật ong rừng     3★ expiring (60 d)  short label run; one serial copied
                       Bánh tráng       no certificate
    """
    province = make_region(code="P", name="Tỉnh Thử", level=RegionLevel.PROVINCE)
    district = make_region(code="P.01", name="Huyện Núi", level=RegionLevel.DISTRICT, parent_id=province.id)
    mot = make_region(code="P.01.01", name="Xã Một", parent_id=district.id)
    hai = make_region(code="P.01.02", name="Xã Hai", parent_id=district.id)
    make_region(code="P.01.03", name="Xã Cũ", parent_id=district.id, valid_to=TODAY - timedelta(days=365))
    ba = make_region(code="P.02", name="Phường Ba", parent_id=province.id)

    toi_co, mam_co = make_producer(mot, name="HTX Tỏi"), make_producer(mot, name="HTX Mắm")
    tra_co, det_co = make_producer(hai, name="HTX Trà"), make_producer(ba, name="Cơ sở Dệt")
    toi = make_product(toi_co, name_vi="Tỏi cô đơn")
    nuoc_mam = make_product(mam_co, name_vi="Nước mắm cá cơm")
    mam_ruoc = make_product(mam_co, name_vi="Mắm ruốc")
    tra = make_product(tra_co, name_vi="Trà xanh", group=ProductGroup.DRINKS)
    tui = make_product(det_co, name_vi="Túi thổ cẩm", group=ProductGroup.HANDICRAFTS)
    mat_ong = make_product(det_co, name_vi="Mật ong rừng")
    make_product(det_co, name_vi="Bánh tráng")

    def certificate(product, stars, issued_days_ago, expires_in=None, **kw):
        data = {"stars": stars, "score": None, "issued_on": TODAY - timedelta(days=issued_days_ago)}
        if expires_in is not None:
            data["expires_on"] = TODAY + timedelta(days=expires_in)
        return make_certificate(product, **data, **kw)

    toi_cert = certificate(toi, 5, 200)
    certificate(nuoc_mam, 4, 1000, expires_in=20)
    certificate(mam_ruoc, 3, 1100, expires_in=-10)
    old_tra = certificate(tra, 3, 1000)
    old_tra.superseded_by_id = certificate(tra, 4, 30).id
    revoked = certificate(tui, 3, 400)
    revoked.revoked_on, revoked.revocation_decision = TODAY - timedelta(days=5), "9/QĐ-UBND"
    revoked.revocation_reason = "Không duy trì điều kiện sản xuất."
    mat_ong_cert = certificate(mat_ong, 3, 1000, expires_in=60)

    toi_batch, mat_ong_batch = make_batch(toi), make_batch(mat_ong)
    _db.session.add(LabelRun(batch_id=toi_batch.id, level=LabelLevel.LOT, subject=toi.trace_code,
                             guaranteed_until=toi_cert.expires_on + timedelta(days=1)))
    _db.session.add(LabelRun(batch_id=mat_ong_batch.id, level=LabelLevel.LOT, subject=mat_ong.trace_code,
                             guaranteed_until=mat_ong_cert.expires_on - timedelta(days=1)))

    # Scans: garlic 3 this month and 2 last month; honey once 100 days ago and one unit
    # serial from 6 networks today (more than 5: a copy flag).
    this_month = TODAY.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    for day in (this_month, this_month, TODAY, last_month, last_month):
        _db.session.add(Scan(at=_at(day), code=f"/t/{toi.trace_code}", product_id=toi.id, verdict=ScanVerdict.LOT))
    _db.session.add(Scan(at=_at(TODAY - timedelta(days=100)), code=f"/t/{mat_ong.trace_code}",
                         product_id=mat_ong.id, verdict=ScanVerdict.LOT))
    for n in range(6):
        _db.session.add(Scan(at=_at(TODAY), code="copy", product_id=mat_ong.id, batch_id=mat_ong_batch.id,
                             serial_index=7, verdict=ScanVerdict.GENUINE, network_hash=f"net{n}"))
    _db.session.add(CounterfeitReport(created_at=_at(TODAY), code="/01/x", product_id=toi.id,
                                      verdict=ScanVerdict.FORGED, message="Nghi hàng giả"))

    officer = make_user("officer", regions=[province])
    inspector = make_user("inspector", regions=[province])
    _db.session.add(Membership(user_id=make_user("producer").id, producer_id=toi_co.id,
                               role=MembershipRole.OWNER))
    now = datetime.now(timezone.utc)
    for producer, hash_char, changes in (
            (tra_co, "a", {"expires_at": now + timedelta(days=3)}),
            (mam_co, "b", {"expires_at": now - timedelta(days=1)}),
            (det_co, "c", {"expires_at": now + timedelta(days=3), "cancelled_at": now})):
        _db.session.add(Handover(producer_id=producer.id, issued_by_id=officer.id,
                                 claim_hash=hash_char * 64, **changes))

    for product, days_ago, outcome in ((toi, 3, InspectionOutcome.COMPLIANT),
                                       (mam_ruoc, 2, InspectionOutcome.VIOLATION),
                                       (nuoc_mam, 200, InspectionOutcome.WARNING)):
        _db.session.add(Inspection(inspector_id=inspector.id, producer_id=product.producer_id,
                                   product_id=product.id, inspected_on=TODAY - timedelta(days=days_ago),
                                   checklist={}, outcome=outcome, photos=[]))
    _db.session.flush()
    return SimpleNamespace(officer=officer, district=district, ba=ba,
                           district_officer=make_user("officer", regions=[district]))


def test_dashboard_figures_of_the_hand_made_province(app, world):
    with app.test_request_context():
        board = reports.dashboard(world.officer)
    assert board.product_count == 7
    assert board.by_stars == {5: 1, 4: 2, 3: 1, 0: 3}
    assert board.certificates == {"expiring_90": 2, "expiring_30": 1, "lapsed": 1, "revoked": 1}
    assert board.handover == {HandoverStatus.HANDED_OVER: 1, HandoverStatus.PENDING: 1,
                              HandoverStatus.NOT_STARTED: 2}
    assert {p.name_vi for p in board.without_label_run} == {
        "Nước mắm cá cơm", "Mắm ruốc", "Trà xanh", "Túi thổ cẩm", "Bánh tráng"}
    assert [p.name_vi for _r, p, _c in board.short_runs] == ["Mật ong rừng"]
    months = dict(board.scans_by_month)
    assert len(months) == 12 and months[TODAY.strftime("%Y-%m")] == 3 + 6
    assert sum(months.values()) == 3 + 2 + 1 + 6
    assert board.counterfeit_by_status == {"open": 1}
    assert [(f["serial_index"], f["scans"], f["networks"]) for f in board.copy_flags] == [(7, 6, 6)]
    assert [(r["area"], r["group"], r["s3"], r["s4"], r["s5"], r["none"], r["total"]) for r in board.by_area] == [
        ("Huyện Núi", "drinks", 0, 1, 0, 0, 1),
        ("Huyện Núi", "food", 0, 1, 1, 1, 3),
        ("Phường Ba", "food", 1, 0, 0, 1, 2),
        ("Phường Ba", "handicrafts", 0, 0, 0, 1, 1),
    ]
    # Xã Cũ holds no producer and was dissolved: not counted.
    assert [(c["name"], c["four_star"], c["met"]) for c in board.communes] == [
        ("Xã Một", 2, True), ("Xã Hai", 1, True), ("Phường Ba", 0, False)]
    assert (board.target, board.communes_met) == (1, 2)


def test_the_dashboard_counts_what_the_follow_up_lists_hold(app, world):
    with app.test_request_context():
        board = reports.dashboard(world.officer)
    assert {bucket: len(follow_up(world.officer, bucket)) for bucket in FOLLOW_UP_BUCKETS} == board.certificates


def test_dashboard_of_an_officer_covers_only_their_regions(app, world):
    with app.test_request_context():
        board = reports.dashboard(world.district_officer)
    assert board.product_count == 4
    assert board.by_stars == {5: 1, 4: 2, 0: 1}
    assert board.certificates == {"expiring_90": 1, "expiring_30": 1, "lapsed": 1, "revoked": 0}
    assert board.handover == {HandoverStatus.HANDED_OVER: 1, HandoverStatus.PENDING: 1,
                              HandoverStatus.NOT_STARTED: 1}
    assert board.short_runs == [] and board.copy_flags == []
    assert board.counterfeit_by_status == {"open": 1}
    assert [(c["name"], c["met"]) for c in board.communes] == [("Xã Một", True), ("Xã Hai", True)]


def test_the_four_star_target_is_a_setting(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "OCOP_FOUR_STAR_TARGET_PER_COMMUNE", 2)
    with app.test_request_context():
        board = reports.dashboard(world.officer)
    assert board.target == 2
    assert [(c["name"], c["met"]) for c in board.communes] == [
        ("Xã Một", True), ("Xã Hai", False), ("Phường Ba", False)]


def test_a_foreign_region_report_is_forbidden(client, world):
    headers = {"Authorization": f"Bearer {make_token(world.district_officer)}"}
    _db.session.commit()
    foreign = world.ba.id
    assert client.get(f"/api/v1/oversight/reports/dashboard?region_id={foreign}", headers=headers).status_code == 403
    response = client.get(f"/api/v1/oversight/reports/periodic?start=2026-01-01&end=2026-03-31"
                          f"&region_id={foreign}", headers=headers)
    assert response.status_code == 403


def test_dashboard_api_returns_the_same_figures(client, world):
    headers = {"Authorization": f"Bearer {make_token(world.officer)}"}
    _db.session.commit()
    body = client.get("/api/v1/oversight/reports/dashboard", headers=headers).get_json()
    assert body["products"] == 7
    assert body["by_stars"] == {"0": 3, "3": 1, "4": 2, "5": 1}
    assert body["certificates"] == {"expiring_90": 2, "expiring_30": 1, "lapsed": 1, "revoked": 1}
    assert body["handover"] == {"handed_over": 1, "pending": 1, "not_started": 2}
    assert body["four_star_target"]["communes_met"] == 2


def _workbook(client, officer, **params):
    headers = {"Authorization": f"Bearer {make_token(officer)}"}
    _db.session.commit()
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.get(f"/api/v1/oversight/reports/periodic?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def _rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(min_row=2, values_only=True))


def test_the_periodic_xlsx_opens_with_vietnamese_sheets_headings_and_real_values(client, world):
    response = _workbook(client, world.officer, **PERIOD, format="xlsx")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Tổng hợp", "Sản phẩm", "Cấp mới, đánh giá lại", "Thu hồi",
                             "Hết hạn, sắp hết hạn", "Kiểm tra", "Phản ánh hàng giả",
                             "Bàn giao tài khoản", "Mã truy xuất", "Chỉ tiêu sản phẩm 4 sao"]
    products = wb["Sản phẩm"]
    assert [c.value for c in products[1]][:5] == ["Đơn vị hành chính", "Xã/phường", "Chủ thể", "Mã số thuế",
                                                  "Sản phẩm"]
    assert products.freeze_panes == "A2"
    assert products.auto_filter.ref == "A1:L8"
    rows = {r[4]: r for r in _rows(products)}
    assert {name: (r[6], r[7], r[11]) for name, r in rows.items()} == {
        "Tỏi cô đơn": (5, "Còn hiệu lực", 5),
        "Nước mắm cá cơm": (4, "Sắp hết hạn", 0),
        "Mắm ruốc": (3, "Đã hết hạn", 0),
        "Trà xanh": (4, "Còn hiệu lực", 0),
        "Túi thổ cẩm": (3, "Đã thu hồi", 0),
        "Mật ong rừng": (3, "Sắp hết hạn", 6),
        "Bánh tráng": (None, "Chưa có giấy chứng nhận", 0),
    }
    assert isinstance(rows["Tỏi cô đơn"][9], datetime)       # a real date cell, not text
    assert products.cell(row=2, column=10).number_format == "DD/MM/YYYY"
    assert [(r[0], r[2], r[8]) for r in _rows(wb["Cấp mới, đánh giá lại"])] == [("Trà xanh", 4, "Có")]
    assert [(r[0], r[4]) for r in _rows(wb["Thu hồi"])] == [("Túi thổ cẩm", "9/QĐ-UBND")]
    assert [(r[0], r[5], r[6]) for r in _rows(wb["Hết hạn, sắp hết hạn"])] == [
        ("Mắm ruốc", -10, "Đã hết hạn"), ("Nước mắm cá cơm", 20, "Sắp hết hạn"),
        ("Mật ong rừng", 60, "Sắp hết hạn")]
    assert sorted((r[2], r[3]) for r in _rows(wb["Kiểm tra"])) == [("Mắm ruốc", "Vi phạm"), ("Tỏi cô đơn", "Đạt")]
    assert {r[0]: r[3] for r in _rows(wb["Bàn giao tài khoản"])} == {
        "HTX Tỏi": "Đã bàn giao", "HTX Trà": "Đang chờ nhận bàn giao",
        "HTX Mắm": "Chưa bàn giao", "Cơ sở Dệt": "Chưa bàn giao"}
    assert sorted((r[0], r[2]) for r in _rows(wb["Mã truy xuất"])) == sorted(
        [(name, "Chưa in tem truy xuất") for name in
         ("Nước mắm cá cơm", "Mắm ruốc", "Trà xanh", "Túi thổ cẩm", "Bánh tráng")]
        + [("Mật ong rừng", "Thời hạn bảo đảm của mã ngắn hơn giấy chứng nhận")])
    assert dict(_rows(wb["Tổng hợp"])) == {
        "Số sản phẩm": 7,
        "Sản phẩm 5 sao còn hiệu lực cuối kỳ": 1,
        "Sản phẩm 4 sao còn hiệu lực cuối kỳ": 2,
        "Sản phẩm 3 sao còn hiệu lực cuối kỳ": 1,
        "Sản phẩm không có giấy chứng nhận còn hiệu lực": 3,
        "Giấy chứng nhận cấp trong kỳ": 1,
        "Giấy chứng nhận thu hồi trong kỳ": 1,
        "Giấy chứng nhận hết hạn trong kỳ": 1,
        "Giấy chứng nhận sắp hết hạn (trong 90 ngày sau kỳ)": 2,
        "Lượt kiểm tra trong kỳ": 2,
        "Kiểm tra có vi phạm": 1,
        "Lượt quét trong kỳ": 5 + 6,
        "Phản ánh hàng giả trong kỳ": 1,
        "Chủ thể đã bàn giao tài khoản": 1,
        "Chủ thể chưa bàn giao tài khoản": 3,
        "Sản phẩm chưa in tem truy xuất": 5,
        "Xã/phường đạt chỉ tiêu 4 sao": 2,
    }


def test_the_periodic_report_for_one_region_and_as_csv(client, world):
    response = _workbook(client, world.officer, **PERIOD, region_id=world.district.id, format="csv",
                         section="san-pham")
    assert response.mimetype == "text/csv"
    lines = response.data.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("Đơn vị hành chính;Xã/phường;Chủ thể;Mã số thuế;Sản phẩm;")
    assert sorted(line.split(";")[4] for line in lines[1:]) == sorted(
        ["Tỏi cô đơn", "Nước mắm cá cơm", "Mắm ruốc", "Trà xanh"])
    zipped = _workbook(client, world.officer, start="2026-01-01", end=TODAY.isoformat(), format="csv")
    names = zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()
    assert names == ["00-huong-dan.txt", "01-tong-hop.csv", "02-san-pham.csv", "03-cap-moi.csv", "04-thu-hoi.csv",
                     "05-het-han.csv", "06-kiem-tra.csv", "07-phan-anh.csv", "08-ban-giao.csv",
                     "09-ma-truy-xuat.csv", "10-chi-tieu.csv"]


def test_a_period_ending_before_it_starts_is_refused(client, db):
    headers = {"Authorization": f"Bearer {make_token(make_user('admin'))}"}
    _db.session.commit()
    response = client.get("/api/v1/oversight/reports/periodic?start=2026-05-01&end=2026-04-01", headers=headers)
    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["end"]


def test_the_periodic_report_reads_in_english_when_asked(client, world):
    response = _workbook(client, world.officer, **PERIOD, format="xlsx", lang="en")
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames[:3] == ["Summary", "Products", "Issued, re-evaluated"]
    assert wb.sheetnames[-1] == "4-star product target"
    assert [c.value for c in wb["Products"][1]][:4] == ["Administrative unit", "Commune/ward", "Producer",
                                                        "Tax code"]
    assert {r[4]: r[7] for r in _rows(wb["Products"])} == {
        "Tỏi cô đơn": "Valid", "Nước mắm cá cơm": "Expiring soon", "Mắm ruốc": "Expired",
        "Trà xanh": "Valid", "Túi thổ cẩm": "Revoked", "Mật ong rừng": "Expiring soon",
        "Bánh tráng": "No certificate"}
    summary = dict(_rows(wb["Summary"]))
    assert (summary["Number of products"], summary["Certificates revoked in the period"]) == (7, 1)
    assert {r[0]: r[3] for r in _rows(wb["Account handover"])} == {
        "HTX Tỏi": "Handed over", "HTX Trà": "Awaiting handover",
        "HTX Mắm": "Not handed over", "Cơ sở Dệt": "Not handed over"}
    # The four-star target is "met", not an inspection's "Passed".
    goal = wb["4-star product target"]
    assert [c.value for c in goal[1]][-1] == "Target met"
    assert [(r[0], r[-1]) for r in _rows(goal)] == [("Xã Một", "Met"), ("Xã Hai", "Met"), ("Phường Ba", "Not met")]
    assert wb.properties.title.startswith("OCOP report ")
    csv_response = _workbook(client, world.officer, **PERIOD, format="csv", section="san-pham", lang="en")
    assert csv_response.data.decode("utf-8-sig").startswith(
        "Administrative unit;Commune/ward;Producer;Tax code;Products;Product group;Stars")


def test_the_vietnamese_four_star_sheet_says_met_not_passed(client, world):
    wb = load_workbook(io.BytesIO(_workbook(client, world.officer, **PERIOD, format="xlsx").data))
    goal = wb["Chỉ tiêu sản phẩm 4 sao"]
    assert [c.value for c in goal[1]] == ["Xã/phường", "Sản phẩm từ 4 sao còn hiệu lực", "Chỉ tiêu",
                                          "Tỷ lệ hoàn thành", "Đạt chỉ tiêu"]
    assert _rows(goal) == [("Xã Một", 2, 1, 1, "Đã đạt"), ("Xã Hai", 1, 1, 1, "Đã đạt"),
                           ("Phường Ba", 0, 1, 0, "Chưa đạt")]
    assert wb.properties.title.startswith("Báo cáo OCOP ")


def test_the_officers_list_and_the_report_share_one_handover_status(world):
    rows = _db.session.execute(handover_status_query(world.officer)).all()
    listed = {row.name: HandoverStatus(row.state) for row in rows}
    assert listed == {"HTX Tỏi": HandoverStatus.HANDED_OVER, "HTX Trà": HandoverStatus.PENDING,
                      "HTX Mắm": HandoverStatus.NOT_STARTED, "Cơ sở Dệt": HandoverStatus.NOT_STARTED}
    assert handover_statuses([row.id for row in rows]) == {row.id: listed[row.name] for row in rows}


def test_the_demo_report_end_to_end(app, db):
    """The demo as loaded (accounts and label runs included), counted by hand from demo.py."""
    from traceability.demo import load_demo

    load_demo()
    officer = make_user("officer", regions=[_db.session.scalar(sa.select(Region).where(
        Region.name == "Tỉnh Quảng Ngãi"))])
    with app.test_request_context():
        board = reports.dashboard(officer)
        report = reports.periodic_report(officer, TODAY - timedelta(days=90), TODAY)
    # 15 demo products. In force: 5★ garlic, malt syrup; 4★ malt candy, fish sauce, cinnamon,
    # puffed sugar (expiring in 75 days), shallots (re-evaluated 3★ → 4★); 3★ salt, lingzhi
    # (expiring in 20 days), ampelopsis tea, goby, honey, apricot. Not in force: brocade bag
    # (lapsed), sun-dried beef (revoked).
    assert board.product_count == 15
    assert board.by_stars == {5: 2, 4: 5, 3: 6, 0: 2}
    assert board.certificates == {"expiring_90": 2, "expiring_30": 1, "lapsed": 1, "revoked": 1}
    # Producers 9-15 handed over to their owners; 1-8 with the consultant, the first with an open claim.
    assert board.handover == {HandoverStatus.HANDED_OVER: 7, HandoverStatus.PENDING: 1,
                              HandoverStatus.NOT_STARTED: 7}
    assert board.without_label_run == [] and board.short_runs == []   # a unit run per batch
    ly_son = [r for r in board.by_area if r["area"] == "Huyện Lý Sơn"]
    assert [(r["group"], r["s4"], r["s5"], r["total"]) for r in ly_son] == [("food", 1, 1, 2)]
    # 4★+ in force per commune: An Hải, Đức Nhuận, Tịnh Khê, Phổ Thạnh, Trà Bình, Nghĩa Hiệp,
    # An Vĩnh = 7 of 18 communes (15 holding a producer + 3 post-reform units).
    assert (board.communes_met, len(board.communes)) == (7, 18)
    summary = dict(report.sections[0].rows)
    # In the last 90 days: shallots re-evaluated 60 days ago; beef revoked 30 days ago;
    # brocade bag lapsed 45 days ago; lingzhi (20 days) and puffed sugar (75 days) expire soon.
    assert [summary[key] for key in ("Giấy chứng nhận cấp trong kỳ", "Giấy chứng nhận thu hồi trong kỳ",
                                     "Giấy chứng nhận hết hạn trong kỳ",
                                     "Giấy chứng nhận sắp hết hạn (trong 90 ngày sau kỳ)",
                                     "Chủ thể đã bàn giao tài khoản", "Chủ thể chưa bàn giao tài khoản")] == [
        1, 1, 1, 2, 7, 8]
    assert [(r[0], r[4]) for r in reports.find_section(report, "thu-hoi").rows] == [
        ("Bò một nắng Sơn Hà", "3009/QĐ-UBND")]
