"""Read-only register API: paginated lists, filters, details, OpenAPI."""
from __future__ import annotations

import json
from datetime import date, timedelta

from tests.factories import make_certificate, make_producer, make_product, make_region


def test_products_are_listed_with_pagination_metadata(client, db):
    producer = make_producer()
    for _ in range(3):
        make_product(producer)
    db.session.commit()
    response = client.get("/api/v1/products?page=1&page_size=2")
    assert response.status_code == 200
    assert len(response.get_json()) == 2
    assert json.loads(response.headers["X-Pagination"])["total"] == 3


def test_page_size_over_the_limit_is_refused_naming_the_field(client):
    response = client.get("/api/v1/products?page_size=100000")
    assert response.status_code == 422
    assert "page_size" in response.get_json()["errors"]


def test_producers_filter_by_region(client, db):
    a, b = make_region(), make_region()
    make_producer(a)
    make_producer(b)
    db.session.commit()
    rows = client.get(f"/api/v1/producers?region_id={a.id}").get_json()
    assert [r["region_id"] for r in rows] == [a.id]
    assert "phone" not in rows[0]


def test_certificate_detail_carries_its_computed_status(client, db):
    cert = make_certificate(issued_on=date.today() - timedelta(days=20))
    revoked = make_certificate(issued_on=date.today() - timedelta(days=300))
    revoked.revoked_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert client.get(f"/api/v1/certificates/{cert.id}").get_json()["status"] == "valid"
    assert client.get(f"/api/v1/certificates/{revoked.id}").get_json()["status"] == "revoked"
    listed = client.get("/api/v1/certificates?status=revoked").get_json()
    assert [c["id"] for c in listed] == [revoked.id]


def test_regions_valid_on_a_date(client, db):
    make_region(name="Huyện Cũ", valid_to=date(2025, 6, 30))
    make_region(name="Xã Mới", valid_from=date(2025, 7, 1))
    db.session.commit()
    names = [r["name"] for r in client.get("/api/v1/regions?on=2025-08-01").get_json()]
    assert names == ["Xã Mới"]


def test_openapi_document_lists_the_register_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/products", "/api/v1/producers/{producer_id}", "/api/v1/certificates"):
        assert path in spec["paths"]
    assert spec["paths"]["/api/v1/products"]["get"]["summary"] == "List OCOP products"


def test_a_missing_object_is_named_in_the_readers_language(client, db):
    vietnamese = client.get("/api/v1/producers/424242").get_json()
    assert vietnamese["message"] == "Không tìm thấy chủ thể #424242."
    english = client.get("/api/v1/certificates/424242?lang=en").get_json()
    assert english["code"] == "not_found"
    assert english["message"] == "Could not find certificate #424242."


def test_producer_set_up_errors_read_in_english_when_asked(client, db):
    from tests.factories import make_token, make_user

    region = make_region()
    token = make_token(make_user("admin"))
    db.session.commit()
    body = {"name": "HTX Mới", "kind": "cooperative", "address": "Thôn Một, xã A",
            "region_id": region.id, "gln": "123", "gs1_company_prefix": "12345"}
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post("/api/v1/producers?lang=en", json=body, headers=headers)
    errors = response.get_json()["errors"]
    assert errors["gln"] == ["A GLN has 13 digits."]
    assert errors["gs1_company_prefix"] == [
        "A GS1 Vietnam company prefix is 893 followed by 4 to 7 digits."]
    bad_tax_code = {**body, "gln": None, "gs1_company_prefix": None, "tax_code": "4300000016"}
    response = client.post("/api/v1/producers?lang=en", headers=headers, json=bad_tax_code)
    assert response.status_code == 422
    assert response.get_json()["errors"]["tax_code"] == [
        "Invalid tax code: it must have 10 digits (13 for a dependent unit) and a correct "
        "check digit."]
    vietnamese = client.post("/api/v1/producers", json=body, headers=headers).get_json()["errors"]
    assert vietnamese["gln"] == ["GLN gồm 13 chữ số."]


def test_blank_codes_are_no_codes_and_a_taken_code_is_a_409_naming_it(client, db):
    from tests.factories import make_token, make_user

    region = make_region()
    token = make_token(make_user("admin"))
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}

    def create(name, **codes):
        return client.post("/api/v1/producers", headers=headers, json={
            "name": name, "kind": "cooperative", "address": "Thôn Một, xã A",
            "region_id": region.id, **codes})

    for name in ("HTX Một", "HTX Hai"):
        created = create(name, tax_code="")
        assert created.status_code == 201, created.get_json()
        assert created.get_json()["tax_code"] is None
    blank = create("HTX Ba", gln="  ")
    assert blank.status_code == 422 and list(blank.get_json()["errors"]) == ["gln"]
    for field, value in (("gs1_company_prefix", "8939900"), ("gln", "8939900000013")):
        assert create(f"HTX {field}", **{field: value}).status_code == 201
        taken = create(f"HTX {field} 2", **{field: value})
        assert taken.status_code == 409 and list(taken.get_json()["errors"]) == [field]
