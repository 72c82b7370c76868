"""The officer's and inspector's API and pages in English (?lang=en); Vietnamese stays the default."""
from __future__ import annotations

from datetime import date, timedelta

from tests.factories import make_certificate, make_producer, make_product, make_token
from traceability.clock import local_today
from traceability.extensions import db as _db
from traceability.oversight.mail import NO_EMAIL_ERROR, send_due

TODAY = local_today()


def _auth(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user)}"}


def test_certificate_errors_read_in_english_when_asked(client, area):
    product = make_product(make_producer(area.a))
    cert = make_certificate(product, issued_on=TODAY - timedelta(days=30))
    headers = _auth(area.officer)
    _db.session.commit()
    missing = client.post("/api/v1/oversight/certificates?lang=en", headers=headers,
                          json={"product_id": product.id, "stars": 6})
    assert missing.status_code == 422
    errors = missing.get_json()["errors"]
    assert errors["issued_on"] == ["This field is required."]
    assert errors["stars"] == ["Stars must be 3 to 5."]
    body = {"decision_number": "9/QĐ-UBND", "revoked_on": (TODAY + timedelta(days=2)).isoformat(),
            "reason": "Không duy trì điều kiện sản xuất."}
    future = client.post(f"/api/v1/oversight/certificates/{cert.id}/revocation?lang=en",
                         headers=headers, json=body)
    assert future.status_code == 422
    assert future.get_json()["errors"]["revoked_on"] == ["The revocation date may not be in the future."]
    body["revoked_on"] = TODAY.isoformat()
    assert client.post(f"/api/v1/oversight/certificates/{cert.id}/revocation", headers=headers,
                       json=body).status_code == 200
    again = client.post(f"/api/v1/oversight/certificates/{cert.id}/revocation?lang=en",
                        headers=headers, json=body)
    assert again.status_code == 409
    assert again.get_json()["message"] == "This certificate has already been revoked."
    vietnamese = client.post(f"/api/v1/oversight/certificates/{cert.id}/revocation",
                             headers=headers, json=body)
    assert vietnamese.get_json()["message"] == "Giấy chứng nhận này đã bị thu hồi."


def test_an_unknown_inspection_subject_is_named_in_english(client, area):
    headers = _auth(area.inspector)
    _db.session.commit()
    response = client.post("/api/v1/oversight/inspections?lang=en", headers=headers,
                           json={"product_id": 424242, "inspected_on": TODAY.isoformat(),
                                 "outcome": "compliant"})
    assert response.status_code == 404
    assert response.get_json()["message"] == "Could not find product #424242."


def test_the_product_page_labels_read_in_english(client, sign_in, area):
    product = make_product(make_producer(area.a), name_vi="Tỏi cô đơn Lý Sơn")
    cert = make_certificate(product, stars=4, issued_on=TODAY - timedelta(days=100))
    cert.revoked_on, cert.revocation_decision = TODAY, "12/QĐ-UBND"
    cert.revocation_reason = "Không duy trì điều kiện sản xuất."
    _db.session.commit()
    sign_in(client, area.officer)
    english = client.get(f"/officer/products/{product.id}?lang=en").get_data(as_text=True)
    assert "<dt>Revocation decision</dt>" in english and "<th>Expiry date</th>" in english
    assert "Thu hồi" not in english
    vietnamese = client.get(f"/officer/products/{product.id}").get_data(as_text=True)
    assert "<dt>Quyết định thu hồi</dt>" in vietnamese and "<th>Ngày hết hạn</th>" in vietnamese


def test_the_dashboard_says_whether_a_commune_met_its_target(client, sign_in, area):
    """Commune A has a 4★ product in force (target met), commune B none (not met)."""
    make_certificate(make_product(make_producer(area.a)), stars=4, issued_on=TODAY - timedelta(days=10))
    _db.session.commit()
    sign_in(client, area.admin)
    english = client.get("/officer/?lang=en").get_data(as_text=True)
    assert "<th>Target met</th>" in english and "Passed" not in english
    assert '<tr><td>Xã A</td><td class="num">1</td><td>Met</td></tr>' in english
    assert '<tr><td>Xã B</td><td class="num">0</td><td>Not met</td></tr>' in english
    vietnamese = client.get("/officer/").get_data(as_text=True)
    assert "<th>Đạt chỉ tiêu</th>" in vietnamese
    assert '<tr><td>Xã A</td><td class="num">1</td><td>Đã đạt</td></tr>' in vietnamese
    assert '<tr><td>Xã B</td><td class="num">0</td><td>Chưa đạt</td></tr>' in vietnamese


def test_a_failed_notice_explains_itself_in_the_readers_language(client, sign_in, area, smtp_server):
    product = make_product(make_producer(area.a, email=None))
    make_certificate(product, issued_on=date(2024, 3, 1), expires_on=date(2027, 3, 1))
    _db.session.commit()
    send_due(date(2027, 1, 15))
    headers = _auth(area.officer)
    _db.session.commit()
    [notice] = client.get("/api/v1/oversight/notices?lang=en", headers=headers).get_json()
    assert notice["last_error"] == "The producer has no e-mail address: print the notice and send it by post."
    [notice] = client.get("/api/v1/oversight/notices", headers=headers).get_json()
    assert notice["last_error"] == NO_EMAIL_ERROR
    sign_in(client, area.officer)
    page = client.get("/officer/notices?lang=en").get_data(as_text=True)
    assert "print the notice and send it by post" in page and "bưu điện" not in page
    assert "<th>Expiry date</th>" in page
