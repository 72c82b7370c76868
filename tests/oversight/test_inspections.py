"""Inspections: the checklist, outcomes, proposals to revoke seen by the issuing officer,
and counterfeit reports listed for inspectors with the scan data of their code."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import make_certificate, make_producer, make_product, make_token
from traceability.clock import local_today
from traceability.extensions import db as _db
from traceability.resolver.models import CounterfeitReport, Scan, ScanVerdict

TODAY = local_today()


@pytest.fixture()
def product(area):
    product = make_product(make_producer(area.a))
    make_certificate(product)
    return product


def _headers(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user)}"}


def _inspection(**kw) -> dict:
    body = {"inspected_on": TODAY.isoformat(), "place": "Chợ Quảng Ngãi",
            "checklist": {"certificate_valid": True, "stars_match": False, "labels_resolve": True,
                          "diary_current": None, "product_matches": True},
            "findings": "Nhãn in 5 sao, giấy chứng nhận 4 sao.", "outcome": "violation",
            "propose_revocation": True}
    body.update(kw)
    return body


def test_inspector_records_a_violation_with_a_proposal_the_officer_sees(client, area, product):
    inspector, officer = _headers(area.inspector), _headers(area.officer)
    _db.session.commit()
    response = client.post("/api/v1/oversight/inspections", headers=inspector,
                           json=_inspection(product_id=product.id))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["producer_id"] == product.producer_id
    assert body["certificate_id"] == product.certificates[0].id
    assert body["checklist"]["stars_match"] is False and body["checklist"]["diary_current"] is None
    proposals = client.get("/api/v1/oversight/revocation-proposals", headers=officer).get_json()
    assert [p["id"] for p in proposals] == [body["id"]]
    # The officer of another region does not see it; revoking answers the proposal.
    other = _headers(area.officer_b)
    _db.session.commit()
    assert client.get("/api/v1/oversight/revocation-proposals", headers=other).get_json() == []
    cert_id = product.certificates[0].id
    revoked = client.post(f"/api/v1/oversight/certificates/{cert_id}/revocation", headers=officer,
                          json={"decision_number": "5/QĐ", "revoked_on": TODAY.isoformat(),
                                "reason": "Sử dụng sai số sao trên nhãn."})
    assert revoked.status_code == 200
    assert client.get("/api/v1/oversight/revocation-proposals", headers=officer).get_json() == []


def test_a_proposal_to_revoke_needs_a_violation(client, area, product):
    headers = _headers(area.inspector)
    _db.session.commit()
    response = client.post("/api/v1/oversight/inspections", headers=headers,
                           json=_inspection(product_id=product.id, outcome="warning"))
    assert response.status_code == 422
    assert "propose_revocation" in response.get_json()["errors"]


def test_an_inspection_needs_a_subject_and_a_known_checklist(client, area, product):
    headers = _headers(area.inspector)
    _db.session.commit()
    no_subject = client.post("/api/v1/oversight/inspections", headers=headers, json=_inspection())
    assert no_subject.status_code == 422 and "producer_id" in no_subject.get_json()["errors"]
    unknown = client.post("/api/v1/oversight/inspections", headers=headers,
                          json=_inspection(product_id=product.id, checklist={"colour": True}))
    # A nested field is named by its path, so the contract keeps one list of messages per name.
    assert unknown.status_code == 422 and "checklist.colour" in unknown.get_json()["errors"]


def test_inspector_outside_the_region_gets_403(client, area, product):
    from tests.factories import make_user

    stranger = make_user("inspector", regions=[area.b])
    headers = _headers(stranger)
    _db.session.commit()
    response = client.post("/api/v1/oversight/inspections", headers=headers,
                           json=_inspection(product_id=product.id, outcome="compliant", propose_revocation=False))
    assert response.status_code == 403


def test_producers_cannot_inspect(client, area, product):
    from tests.factories import make_user

    owner = make_user("producer", producer=product.producer)
    headers = _headers(owner)
    _db.session.commit()
    response = client.post("/api/v1/oversight/inspections", headers=headers,
                           json=_inspection(product_id=product.id, outcome="compliant", propose_revocation=False))
    assert response.status_code == 403


def test_counterfeit_reports_come_with_the_scan_data_of_their_code(client, area, product):
    now = datetime.now(timezone.utc)
    code = "/01/08939977700018/10/L1/21/7ABCD"
    for i in range(4):
        _db.session.add(Scan(at=now - timedelta(days=i), code=code, product_id=product.id,
                             verdict=ScanVerdict.FORGED, network_hash=f"n{i % 2}"))
    _db.session.add(CounterfeitReport(code=code, product_id=product.id, verdict=ScanVerdict.FORGED,
                                      place_of_purchase="Chợ Bình Sơn", message="Tem mờ"))
    _db.session.add(CounterfeitReport(code="/01/00000000000000", verdict=ScanVerdict.UNKNOWN))
    foreign = make_product(make_producer(area.b))
    _db.session.add(CounterfeitReport(code="/x", product_id=foreign.id, verdict=ScanVerdict.FORGED))
    headers = _headers(area.inspector)
    _db.session.commit()
    rows = client.get("/api/v1/oversight/counterfeit-reports", headers=headers).get_json()
    by_code = {r["code"]: r for r in rows}
    assert set(by_code) == {code, "/01/00000000000000"}      # not the other region's report
    assert by_code[code]["scans"]["count"] == 4 and by_code[code]["scans"]["networks"] == 2
    assert by_code[code]["place_of_purchase"] == "Chợ Bình Sơn"
    report_id = by_code[code]["id"]
    done = client.post(f"/api/v1/oversight/counterfeit-reports/{report_id}/status", headers=headers,
                       json={"status": "investigating"})
    assert done.status_code == 200 and done.get_json()["status"] == "investigating"


def test_the_openapi_document_lists_the_oversight_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/oversight/certificates", "/api/v1/oversight/certificates/{certificate_id}/revocation",
                 "/api/v1/oversight/certificates/{certificate_id}/re-evaluation",
                 "/api/v1/oversight/inspections", "/api/v1/oversight/notices",
                 "/api/v1/oversight/reports/periodic", "/api/v1/oversight/imports",
                 "/api/v1/oversight/imports/dry-run"):
        assert path in paths, path
    assert paths["/api/v1/oversight/certificates/{certificate_id}/revocation"]["post"]["summary"].startswith("Revoke")


def test_the_api_checklist_matches_the_inspection_checklist():
    from traceability.oversight.schemas import ChecklistSchema
    from traceability.oversight.services import CHECKLIST

    assert list(ChecklistSchema._declared_fields) == list(CHECKLIST)
