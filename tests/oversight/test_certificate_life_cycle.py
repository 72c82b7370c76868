"""Certificate transitions through the API: register, re-evaluate, revoke, lapse; their effect
on the trace page; and who may do them."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_batch, make_certificate, make_product, make_producer, make_token, scan
from traceability.clock import local_today
from traceability.extensions import db as _db
from traceability.gs1 import make_gtin13
from traceability.registry.models import Certificate
from traceability.registry.services import current_certificate
from traceability.registry.status import certificate_status, stars_allowed

TODAY = local_today()


def _auth(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user)}"}


def _cert_body(**kw) -> dict:
    body = {"stars": 4, "score": "78.5", "issuing_level": "province",
            "issuing_authority": "Ủy ban nhân dân tỉnh Thử", "decision_number": "15/QĐ-UBND",
            "issued_on": (TODAY - timedelta(days=5)).isoformat()}
    body.update(kw)
    return body


def _trace_text(client, product, lot) -> str:
    response = scan(client, f"/01/{product.gtin}/10/{lot}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


_STARS = re.compile(r'<span class="stars" aria-label="(\d) sao OCOP">(★*)</span>')


def _stars_shown(page: str) -> list[tuple[str, str]]:
    """Every OCOP star mark on a trace page, as (the number read aloud, the stars drawn)."""
    assert page.count("★") == sum(len(drawn) for _n, drawn in _STARS.findall(page))  # none elsewhere
    return _STARS.findall(page)


def _revoked_notice(day: date) -> str:
    return f"Giấy chứng nhận OCOP đã bị thu hồi ngày {day:%d/%m/%Y}."


@pytest.fixture()
def product(area):
    producer = make_producer(area.a, gs1_company_prefix="8939977701")
    return make_product(producer, gtin="0" + make_gtin13("8939977701", 1))


def test_officer_registers_a_certificate_with_a_default_36_month_expiry(client, area, product):
    headers = _auth(area.officer)
    _db.session.commit()
    response = client.post("/api/v1/oversight/certificates", headers=headers,
                           json=_cert_body(product_id=product.id))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["stars"] == 4 and body["status"] == "valid"
    issued = date.fromisoformat(body["issued_on"])
    assert body["expires_on"] == issued.replace(year=issued.year + 3).isoformat()


def test_score_outside_the_star_band_is_refused_naming_the_field(client, area, product):
    headers = _auth(area.officer)
    _db.session.commit()
    response = client.post("/api/v1/oversight/certificates", headers=headers,
                           json=_cert_body(product_id=product.id, stars=5, score="85"))
    assert response.status_code == 422
    assert "score" in response.get_json()["errors"]
    assert _db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_missing_fields_are_named_in_vietnamese(client, area, product):
    headers = _auth(area.officer)
    _db.session.commit()
    response = client.post("/api/v1/oversight/certificates", headers=headers, json={"product_id": product.id})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors == {field: ["Trường này là bắt buộc."] for field in (
        "stars", "issuing_level", "issuing_authority", "decision_number", "issued_on")}


def test_a_second_certificate_while_one_is_in_force_must_be_a_re_evaluation(client, area, product):
    make_certificate(product)
    headers = _auth(area.officer)
    _db.session.commit()
    response = client.post("/api/v1/oversight/certificates", headers=headers,
                           json=_cert_body(product_id=product.id))
    assert response.status_code == 409


def test_re_evaluation_supersedes_the_old_certificate_and_keeps_the_history(client, area, product):
    old = make_certificate(product, stars=3, score=None, issued_on=TODAY - timedelta(days=1000))
    headers = _auth(area.officer)
    _db.session.commit()
    response = client.post(f"/api/v1/oversight/certificates/{old.id}/re-evaluation", headers=headers,
                           json=_cert_body(stars=4, decision_number="99/QĐ-UBND"))
    assert response.status_code == 201, response.get_json()
    new_id = response.get_json()["id"]
    _db.session.expire_all()
    assert _db.session.get(Certificate, old.id).superseded_by_id == new_id
    assert current_certificate(product).id == new_id
    history = client.get(f"/api/v1/oversight/products/{product.id}/certificates", headers=headers).get_json()
    assert [(c["id"], c["status"]) for c in history] == [(new_id, "valid"), (old.id, "superseded")]
    # A superseded certificate cannot be re-evaluated again.
    again = client.post(f"/api/v1/oversight/certificates/{old.id}/re-evaluation", headers=headers,
                        json=_cert_body(decision_number="100/QĐ-UBND"))
    assert again.status_code == 409


def test_revocation_records_decision_date_and_reason_and_shows_at_once(client, area, product):
    cert = make_certificate(product, issued_on=TODAY - timedelta(days=100))
    batch = make_batch(product)
    headers = _auth(area.officer)
    _db.session.commit()
    before = cert.updated_at
    response = client.post(f"/api/v1/oversight/certificates/{cert.id}/revocation", headers=headers,
                           json={"decision_number": "7/QĐ-UBND", "revoked_on": TODAY.isoformat(),
                                 "reason": "Không duy trì điều kiện sản xuất."})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["revocation_decision"], body["revoked_on"]) == (
        "revoked", "7/QĐ-UBND", TODAY.isoformat())
    _db.session.expire_all()
    fresh = _db.session.get(Certificate, cert.id)
    assert fresh.revocation_reason == "Không duy trì điều kiện sản xuất."
    assert fresh.updated_at > before  # the resolver's ETag changes with it
    assert not stars_allowed(fresh, TODAY)
    page = _trace_text(client, product, batch.lot)
    assert _revoked_notice(TODAY) in page and _stars_shown(page) == []
    # The public register says so too, from the same row.
    assert client.get(f"/api/v1/certificates/{cert.id}").get_json()["status"] == "revoked"


def test_revoking_twice_or_in_the_future_is_refused(client, area, product):
    cert = make_certificate(product)
    headers = _auth(area.officer)
    _db.session.commit()
    future = client.post(f"/api/v1/oversight/certificates/{cert.id}/revocation", headers=headers,
                         json={"decision_number": "8/QĐ", "revoked_on": (TODAY + timedelta(days=3)).isoformat(),
                               "reason": "Lý do đủ dài."})
    assert future.status_code == 422 and "revoked_on" in future.get_json()["errors"]
    ok = client.post(f"/api/v1/oversight/certificates/{cert.id}/revocation", headers=headers,
                     json={"decision_number": "8/QĐ", "revoked_on": TODAY.isoformat(), "reason": "Lý do đủ dài."})
    assert ok.status_code == 200
    twice = client.post(f"/api/v1/oversight/certificates/{cert.id}/revocation", headers=headers,
                        json={"decision_number": "9/QĐ", "revoked_on": TODAY.isoformat(), "reason": "Lý do đủ dài."})
    assert twice.status_code == 409


def test_a_certificate_lapses_the_day_after_its_expiry_date(product):
    cert = make_certificate(product, issued_on=date(2023, 5, 10))
    assert cert.expires_on == date(2026, 5, 10)
    assert certificate_status(cert, date(2026, 5, 10)).value == "expiring"
    assert stars_allowed(cert, date(2026, 5, 10))
    assert certificate_status(cert, date(2026, 5, 11)).value == "expired"
    assert not stars_allowed(cert, date(2026, 5, 11))


def test_lapsed_certificate_is_listed_and_can_be_renewed_by_registration(client, area, product):
    lapsed = make_certificate(product, issued_on=TODAY - timedelta(days=1200))
    headers = _auth(area.officer)
    _db.session.commit()
    listed = client.get("/api/v1/oversight/certificates/follow-up?bucket=lapsed", headers=headers).get_json()
    assert [c["id"] for c in listed] == [lapsed.id]
    response = client.post("/api/v1/oversight/certificates", headers=headers,
                           json=_cert_body(product_id=product.id, decision_number="200/QĐ-UBND"))
    assert response.status_code == 201
    assert client.get("/api/v1/oversight/certificates/follow-up?bucket=lapsed",
                      headers=headers).get_json() == [lapsed_json for lapsed_json in listed]


def test_officer_of_another_region_gets_403(client, area, product):
    cert = make_certificate(product)
    headers = _auth(area.officer_b)
    _db.session.commit()
    revoke = client.post(f"/api/v1/oversight/certificates/{cert.id}/revocation", headers=headers,
                         json={"decision_number": "1/QĐ", "revoked_on": TODAY.isoformat(), "reason": "Lý do đủ dài."})
    assert revoke.status_code == 403
    register = client.post("/api/v1/oversight/certificates", headers=headers,
                           json=_cert_body(product_id=product.id))
    assert register.status_code == 403
    assert client.get("/api/v1/oversight/certificates/follow-up?bucket=expiring_90",
                      headers=headers).get_json() == []
    _db.session.expire_all()
    assert _db.session.get(Certificate, cert.id).revoked_on is None


def test_inspector_cannot_revoke(client, area, product):
    cert = make_certificate(product)
    headers = _auth(area.inspector)
    _db.session.commit()
    response = client.post(f"/api/v1/oversight/certificates/{cert.id}/revocation", headers=headers,
                           json={"decision_number": "1/QĐ", "revoked_on": TODAY.isoformat(), "reason": "Lý do đủ dài."})
    assert response.status_code == 403


def test_writes_need_a_bearer_token(client, area, product):
    cert = make_certificate(product)
    _db.session.commit()
    response = client.post(f"/api/v1/oversight/certificates/{cert.id}/revocation",
                           json={"decision_number": "1/QĐ", "revoked_on": TODAY.isoformat(), "reason": "Lý do đủ dài."})
    assert response.status_code == 401


def test_follow_up_lists_expiring_within_90_and_30_days(client, area, product):
    p2, p3 = make_product(product.producer), make_product(product.producer)
    soon = make_certificate(product, issued_on=TODAY - timedelta(days=400), expires_on=TODAY + timedelta(days=30))
    later = make_certificate(p2, issued_on=TODAY - timedelta(days=400), expires_on=TODAY + timedelta(days=31))
    make_certificate(p3, issued_on=TODAY - timedelta(days=400), expires_on=TODAY + timedelta(days=91))
    headers = _auth(area.officer)
    _db.session.commit()
    ids = lambda bucket: [c["id"] for c in client.get(  # noqa: E731
        f"/api/v1/oversight/certificates/follow-up?bucket={bucket}", headers=headers).get_json()]
    assert ids("expiring_30") == [soon.id]
    assert ids("expiring_90") == [soon.id, later.id]


def test_the_trace_page_follows_every_transition(client, area, product):
    """Register → re-evaluate → revoke on the product's trace page, and a lapse by date."""
    batch = make_batch(product)
    headers = _auth(area.officer)
    _db.session.commit()

    def shown() -> str:
        return _trace_text(client, product, batch.lot)

    first = client.post("/api/v1/oversight/certificates", headers=headers,
                        json=_cert_body(product_id=product.id, stars=3, score="60",
                                        issued_on=(TODAY - timedelta(days=400)).isoformat())).get_json()
    _db.session.expire_all()
    assert current_certificate(product).stars == 3 and stars_allowed(current_certificate(product), TODAY)
    page = shown()
    assert _stars_shown(page) == [("3", "★★★")] and "OCOP 3 sao — còn hiệu lực" in page
    second = client.post(f"/api/v1/oversight/certificates/{first['id']}/re-evaluation", headers=headers,
                         json=_cert_body(stars=4, decision_number="16/QĐ-UBND")).get_json()
    _db.session.expire_all()
    assert current_certificate(product).id == second["id"] and current_certificate(product).stars == 4
    page = shown()
    assert _stars_shown(page) == [("4", "★★★★")] and "OCOP 4 sao — còn hiệu lực" in page
    client.post(f"/api/v1/oversight/certificates/{second['id']}/revocation", headers=headers,
                json={"decision_number": "17/QĐ-UBND", "revoked_on": TODAY.isoformat(), "reason": "Vi phạm."})
    _db.session.expire_all()
    cert = current_certificate(product)
    assert cert.status_on(TODAY).value == "revoked" and not stars_allowed(cert, TODAY)
    page = shown()
    assert _stars_shown(page) == [] and _revoked_notice(TODAY) in page and "còn hiệu lực" not in page
    # Lapse by date: a fresh product whose certificate ends today shows expired tomorrow.
    other = make_product(product.producer)
    lapsing = make_certificate(other, issued_on=TODAY - timedelta(days=1000), expires_on=TODAY)
    assert certificate_status(lapsing, TODAY).value == "expiring"
    assert certificate_status(lapsing, TODAY + timedelta(days=1)).value == "expired"
    assert not stars_allowed(lapsing, TODAY + timedelta(days=1))
