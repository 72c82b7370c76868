"""The officer's and inspector's pages: server-rendered, no JavaScript, Vietnamese."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from PIL import Image

from tests.factories import make_certificate, make_producer, make_product, tax_code
from traceability.clock import local_today
from traceability.extensions import db as _db
from traceability.models import Certificate, Inspection, Product
from traceability.oversight.imports import COLUMNS
from traceability.resolver.models import CounterfeitReport, Scan, ScanVerdict

TODAY = local_today()


@pytest.fixture()
def product(area):
    product = make_product(make_producer(area.a), name_vi="Tỏi cô đơn Lý Sơn")
    make_certificate(product, stars=4, issued_on=TODAY - timedelta(days=1060))  # expires in ~35 days
    return product


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in_or_refused(client, sign_in, area):
    response = client.get("/officer/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/officer/"


def test_a_producer_account_cannot_open_officer_pages(client, sign_in, area, product):
    from tests.factories import make_user

    sign_in(client, make_user("producer", producer=product.producer))
    assert client.get("/officer/").status_code == 403
    assert client.get("/inspector/").status_code == 403


def test_officer_dashboard_shows_charts_with_tables(client, sign_in, area, product):
    sign_in(client, area.officer)
    response = client.get("/officer/")
    assert response.status_code == 200
    html = _text(response)
    # Stars by area, certificates to follow, handover, scans by month, and the target's bar.
    assert html.count("<svg") == 5 and "<table" in html
    assert "Hết hạn trong 90 ngày" in html and "<script" not in html
    assert "Chỉ tiêu sản phẩm từ 4 sao mỗi xã" in html


def test_foreign_region_dashboard_is_forbidden(client, sign_in, area, product):
    sign_in(client, area.officer_b)
    assert client.get(f"/officer/?region_id={area.a.id}").status_code == 403
    assert client.get(f"/officer/products/{product.id}").status_code == 403


def test_follow_up_list_links_the_notice_letter(client, sign_in, area, product):
    sign_in(client, area.officer)
    html = _text(client.get("/officer/certificates?bucket=expiring_90"))
    assert "Tỏi cô đơn Lý Sơn" in html
    cert = product.certificates[0]
    letter = client.get(f"/officer/certificates/{cert.id}/notice.pdf")
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    assert letter.data.startswith(b"%PDF")


def test_officer_revokes_through_the_form_and_the_product_page_says_so(client, sign_in, area, product):
    cert = product.certificates[0]
    sign_in(client, area.officer)
    form = client.get(f"/officer/certificates/{cert.id}/revoke")
    assert form.status_code == 200 and "Lý do thu hồi" in _text(form)
    empty = client.post(f"/officer/certificates/{cert.id}/revoke", data={"revoked_on": TODAY.isoformat()})
    assert empty.status_code == 422 and "Trường này là bắt buộc." in _text(empty)
    done = client.post(f"/officer/certificates/{cert.id}/revoke", follow_redirects=True, data={
        "decision_number": "12/QĐ-UBND", "revoked_on": TODAY.isoformat(), "reason": "Sản phẩm không đạt tiêu chí."})
    assert done.status_code == 200
    html = _text(done)
    assert '<span class="badge revoked">Đã thu hồi</span>' in html
    assert '<span class="badge valid">' not in html and '<span class="badge expiring">' not in html
    _db.session.expire_all()
    assert _db.session.get(Certificate, cert.id).revocation_decision == "12/QĐ-UBND"


def test_inspector_cannot_open_the_revocation_form(client, sign_in, area, product):
    sign_in(client, area.inspector)
    assert client.get(f"/officer/certificates/{product.certificates[0].id}/revoke").status_code == 403


def test_officer_records_a_re_evaluation_and_sees_the_history(client, sign_in, area, product):
    old = product.certificates[0]
    sign_in(client, area.officer)
    response = client.post(f"/officer/certificates/{old.id}/re-evaluate", follow_redirects=True, data={
        "stars": "5", "score": "93", "issuing_level": "central", "issuing_authority": "Bộ Nông nghiệp và Môi trường",
        "decision_number": "77/QĐ-BNN", "issued_on": TODAY.isoformat()})
    assert response.status_code == 200
    html = _text(response)
    assert "77/QĐ-BNN" in html and old.decision_number in html
    assert '<span class="badge superseded">Đã được thay thế</span>' in html
    assert '<span class="badge valid">Còn hiệu lực</span>' in html      # the new certificate


def test_a_score_outside_the_band_is_shown_on_the_form_field(client, sign_in, area, product):
    old = product.certificates[0]
    sign_in(client, area.officer)
    response = client.post(f"/officer/certificates/{old.id}/re-evaluate", data={
        "stars": "5", "score": "80", "issuing_level": "central", "issuing_authority": "Bộ Nông nghiệp",
        "decision_number": "78/QĐ", "issued_on": TODAY.isoformat()})
    assert response.status_code == 422
    assert "148/QĐ-TTg" in _text(response)


def test_officer_downloads_the_periodic_report(client, sign_in, area, product):
    sign_in(client, area.officer)
    assert "Báo cáo định kỳ" in _text(client.get("/officer/reports"))
    response = client.get(f"/officer/reports?start={(TODAY - timedelta(days=30)).isoformat()}"
                          f"&end={TODAY.isoformat()}&region_id=&format=xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    assert wb["Sản phẩm"]["E2"].value == "Tỏi cô đơn Lý Sơn"


def test_officer_imports_a_register_in_two_steps(client, sign_in, area, upload_folder):
    wb = Workbook()
    ws = wb.active
    ws.append([h for _k, h, _r in COLUMNS])
    ws.append(["Hợp tác xã Mới", tax_code(), "", "Thôn 2", area.a.code, "Nước mắm", "Thực phẩm", 3, None,
               "5/QĐ-UBND", "", "01/02/2025", ""])
    out = io.BytesIO()
    wb.save(out)
    sign_in(client, area.officer)
    assert client.get("/officer/imports/template.xlsx").status_code == 200
    checked = client.post("/officer/imports", content_type="multipart/form-data",
                          data={"file": (io.BytesIO(out.getvalue()), "so.xlsx")})
    assert checked.status_code == 200
    html = _text(checked)
    assert "1 dòng sẽ nhập mới" in html
    assert _db.session.scalar(sa.select(sa.func.count(Product.id))) == 0
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{64})"', html).group(1)
    done = client.post("/officer/imports/confirm", data={"token": token, "filename": "so.xlsx"})
    assert done.status_code == 200 and "1 giấy chứng nhận" in _text(done)
    assert _db.session.scalar(sa.select(sa.func.count(Product.id))) == 1


def test_the_trace_page_link_opens_a_prefilled_inspection_and_saves_it_with_a_photo(client, sign_in, area, product, upload_folder):
    sign_in(client, area.inspector)
    code = "/01/08939977700018/10/L1"
    page = client.get(f"/oversight/inspections/new?product_id={product.id}&code={code}")
    assert page.status_code == 200
    html = _text(page)
    assert "Tỏi cô đơn Lý Sơn" in html and product.producer.name in html
    assert product.certificates[0].decision_number in html and code in html
    photo = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(photo, "JPEG")
    photo.seek(0)
    response = client.post("/oversight/inspections/new", content_type="multipart/form-data", data={
        "product_id": str(product.id), "code": code, "inspected_on": TODAY.isoformat(),
        "certificate_valid": "yes", "stars_match": "no", "outcome": "violation", "propose_revocation": "yes",
        "findings": "Nhãn in 5 sao.", "photos": [(photo, "anh.jpg")]}, follow_redirects=True)
    assert response.status_code == 200, _text(response)
    inspection = _db.session.scalar(sa.select(Inspection))
    assert inspection.checklist["stars_match"] is False and inspection.checklist["diary_current"] is None
    assert inspection.propose_revocation and len(inspection.photos) == 1
    assert code in inspection.findings
    img = client.get(f"/inspector/inspections/{inspection.id}/photos/{inspection.photos[0]}")
    assert img.status_code == 200 and img.mimetype == "image/jpeg"
    # The issuing officer sees the proposal.
    sign_in(client, area.officer)
    assert "Nhãn in 5 sao." in _text(client.get("/officer/proposals"))


def test_inspection_form_refuses_a_proposal_without_violation(client, sign_in, area, product):
    sign_in(client, area.inspector)
    response = client.post("/oversight/inspections/new", data={
        "product_id": str(product.id), "inspected_on": TODAY.isoformat(), "outcome": "warning",
        "propose_revocation": "yes"})
    assert response.status_code == 422
    assert "Chỉ đề nghị thu hồi khi kết luận là vi phạm." in _text(response)
    assert _db.session.scalar(sa.select(sa.func.count(Inspection.id))) == 0


def test_inspector_home_lists_counterfeit_reports_with_scan_data(client, sign_in, area, product):
    _db.session.add(Scan(code="/01/x/21/9", product_id=product.id, verdict=ScanVerdict.FORGED, network_hash="a"))
    _db.session.add(CounterfeitReport(code="/01/x/21/9", product_id=product.id, verdict=ScanVerdict.FORGED,
                                      place_of_purchase="Chợ Sơn Tịnh"))
    sign_in(client, area.inspector)
    html = _text(client.get("/inspector/"))
    assert "Chợ Sơn Tịnh" in html and "1 lượt quét từ 1 mạng khác nhau" in html
    report_id = _db.session.scalar(sa.select(CounterfeitReport.id))
    client.post(f"/inspector/reports/{report_id}/status", data={"status": "closed"})
    _db.session.expire_all()
    assert _db.session.get(CounterfeitReport, report_id).status.value == "closed"


def test_notices_page_lists_the_outbox(client, sign_in, area, product):
    from traceability.oversight.mail import create_due_notices

    create_due_notices(TODAY)
    sign_in(client, area.officer)
    html = _text(client.get("/officer/notices"))
    assert "Tỏi cô đơn Lý Sơn" in html and "Chờ gửi" in html


def test_officer_registers_a_first_certificate_from_the_product_page(client, sign_in, area):
    bare = make_product(make_producer(area.a), name_vi="Mật ong rừng")
    sign_in(client, area.officer)
    page = client.get(f"/officer/products/{bare.id}")
    assert "Ghi giấy chứng nhận mới" in _text(page)
    response = client.post(f"/officer/products/{bare.id}/certificates", follow_redirects=True, data={
        "stars": "3", "score": "55", "issuing_level": "province", "issuing_authority": "UBND tỉnh Thử",
        "decision_number": "3/QĐ-UBND", "issued_on": TODAY.isoformat()})
    assert response.status_code == 200
    assert "Đã ghi giấy chứng nhận." in _text(response)
    _db.session.expire_all()
    assert [c.decision_number for c in _db.session.get(Product, bare.id).certificates] == ["3/QĐ-UBND"]
