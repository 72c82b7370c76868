"""The batches API: batches of a product, the diary, attachments; bad input writes nothing."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest

from tests.factories import make_token
from traceability.batches.services import append_event
from traceability.extensions import db
from traceability.models_base import utcnow

from .conftest import call, jpeg_bytes, login


@pytest.fixture()
def tokens(farm, other_farm):
    result = {"owner": make_token(farm.owner), "staff": make_token(farm.staff),
              "foreign": make_token(other_farm.staff)}
    db.session.commit()
    return result


def test_open_a_batch_and_list_a_products_batches(client, farm, tokens):
    url = f"/api/v1/products/{farm.product.id}/batches"
    created = call(client, "POST", url, tokens["staff"], json={
        "lot": "TOI-02", "production_date": "2026-01-10", "expiry_date": "2027-01-10",
        "quantity": "250.5", "unit": "kg"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["lot"] == "TOI-02" and body["quantity"] == "250.500"
    code = farm.product.trace_code
    assert body["epcis_url"] == f"https://trace.example.vn/epcis/t/{code}/10/TOI-02"
    listed = call(client, "GET", url, tokens["staff"])
    assert sorted(b["lot"] for b in listed.get_json()) == ["TOI-01", "TOI-02"]
    assert listed.headers["X-Pagination"]


@pytest.mark.parametrize("payload, field", [
    ({"lot": "Lô 1"}, "lot"),
    ({"lot": ""}, "lot"),
    ({"lot": "TOI-01"}, "lot"),  # taken
    ({"lot": "X1", "quantity": "nhiều"}, "quantity"),
    ({"lot": "X1", "quantity": -1}, "quantity"),
    ({"lot": "X1", "production_date": "2026-05-01", "expiry_date": "2026-01-01"}, "expiry_date"),
    ({"lot": "X1", "colour": "red"}, "colour"),
    ({}, "lot"),
])
def test_bad_batch_input_names_the_field_and_writes_nothing(client, farm, tokens, row_counter,
                                                            payload, field):
    before = row_counter()
    response = call(client, "POST", f"/api/v1/products/{farm.product.id}/batches",
                    tokens["owner"], json=payload)
    assert 400 <= response.status_code < 500
    assert field in response.get_json()["errors"]
    assert row_counter() == before


def test_foreign_staff_cannot_open_a_batch_or_read_one(client, farm, tokens, row_counter):
    before = row_counter()
    response = call(client, "POST", f"/api/v1/products/{farm.product.id}/batches",
                    tokens["foreign"], json={"lot": "HACK"})
    assert response.status_code == 403
    assert row_counter() == before
    for url in (f"/api/v1/batches/{farm.batch.id}", f"/api/v1/batches/{farm.batch.id}/events",
                f"/api/v1/products/{farm.product.id}/batches"):
        assert call(client, "GET", url, tokens["foreign"]).status_code in (403, 404), url


def test_append_a_step_and_read_the_diary(client, farm, tokens):
    url = f"/api/v1/batches/{farm.batch.id}/events"
    created = call(client, "POST", url, tokens["staff"], json={
        "kind": "input", "occurred_at": "2026-01-05T07:30:00", "place": "Ruộng 2",
        "latitude": 15.3812345, "longitude": "109.12", "quantity": 2, "unit": "lít",
        "input_name": "Thuốc sinh học", "dose": "2 lít/ha", "pre_harvest_interval_days": 7,
        "notes": "Phun buổi sáng"})
    assert created.status_code == 201, created.get_json()
    event = created.get_json()
    assert event["seq"] == 1 and len(event["hash"]) == 64
    assert event["occurred_at"].startswith("2026-01-05T00:30:00")  # +07:00 assumed
    assert event["latitude"] == "15.381235"
    assert event["details"] == {"input_name": "Thuốc sinh học", "dose": "2 lít/ha",
                                "pre_harvest_interval_days": 7}
    listed = call(client, "GET", url, tokens["owner"]).get_json()
    assert [e["id"] for e in listed] == [event["id"]]
    one = call(client, "GET", f"{url}/{event['id']}", tokens["owner"])
    assert one.get_json()["hash"] == event["hash"]
    chain = call(client, "GET", f"/api/v1/batches/{farm.batch.id}/chain", tokens["owner"])
    assert chain.get_json()["intact"] is True


def test_a_correction_points_at_the_original_which_stays(client, farm, tokens):
    url = f"/api/v1/batches/{farm.batch.id}/events"
    first = call(client, "POST", url, tokens["owner"],
                 json={"kind": "harvest", "quantity": 100, "unit": "kg"}).get_json()
    fix = call(client, "POST", url, tokens["owner"],
               json={"kind": "harvest", "quantity": 90, "unit": "kg", "corrects_id": first["id"]})
    assert fix.status_code == 201
    listed = call(client, "GET", url, tokens["owner"]).get_json()
    assert [(e["quantity"], e["corrects_id"]) for e in listed] == [("100.000", None),
                                                                   ("90.000", first["id"])]


def test_there_is_no_way_to_edit_or_delete_a_step(client, farm, tokens):
    event = append_event(farm.batch, {"kind": "harvest", "occurred_at": utcnow()})
    db.session.commit()
    url = f"/api/v1/batches/{farm.batch.id}/events/{event.id}"
    for method in ("PUT", "PATCH", "DELETE"):
        assert call(client, method, url, tokens["owner"], json={}).status_code == 405
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        if "/events" in path and path.startswith("/api/v1/batches"):
            assert set(operations) & {"put", "patch", "delete"} == set(), path


def test_the_diary_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/products/{product_id}/batches", "/api/v1/batches/{batch_id}",
                 "/api/v1/batches/{batch_id}/events",
                 "/api/v1/batches/{batch_id}/events/{event_id}/attachments",
                 "/api/v1/batches/{batch_id}/chain", "/api/v1/batches/{batch_id}/epcis"):
        assert path in paths, path


@pytest.mark.parametrize("payload, field", [
    ({"kind": "dancing"}, "kind"),
    ({"kind": 5}, "kind"),
    ({}, "kind"),
    ({"kind": "harvest", "quantity": "nhiều"}, "quantity"),
    ({"kind": "harvest", "quantity": 0, "unit": "kg"}, "quantity"),
    ({"kind": "harvest", "quantity": 5}, "unit"),
    ({"kind": "harvest", "occurred_at": "hôm qua"}, "occurred_at"),
    ({"kind": "harvest", "occurred_at": "1999-12-31T00:00:00+07:00"}, "occurred_at"),
    ({"kind": "harvest", "latitude": 95, "longitude": 100}, "latitude"),
    ({"kind": "harvest", "latitude": 15, "longitude": -200}, "longitude"),
    ({"kind": "harvest", "latitude": 15}, "longitude"),
    ({"kind": "harvest", "latitude": "NaN", "longitude": 100}, "latitude"),
    ({"kind": "harvest", "place": 12}, "place"),
    ({"kind": "harvest", "unit": "x" * 21}, "unit"),
    ({"kind": "harvest", "input_name": "Urê"}, "input_name"),
    ({"kind": "input"}, "input_name"),
    ({"kind": "input", "input_name": "Urê", "pre_harvest_interval_days": "7"},
     "pre_harvest_interval_days"),
    ({"kind": "input", "input_name": "Urê", "pre_harvest_interval_days": -1},
     "pre_harvest_interval_days"),
    ({"kind": "lab_test", "laboratory": "Quatest"}, "result"),
    ({"kind": "harvest", "corrects_id": "one"}, "corrects_id"),
    ({"kind": "harvest", "corrects_id": 999999}, "corrects_id"),
    ({"kind": "harvest", "author_id": 1}, "author_id"),
    ({"kind": "harvest", "hash": "0" * 64}, "hash"),
])
def test_bad_step_input_names_the_field_and_writes_nothing(client, farm, tokens, row_counter,
                                                           payload, field):
    before = row_counter()
    response = call(client, "POST", f"/api/v1/batches/{farm.batch.id}/events", tokens["owner"],
                    json=payload)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"], response.get_json()
    assert row_counter() == before


def test_future_dated_step_is_refused_beyond_the_tolerance(client, farm, tokens, row_counter):
    url = f"/api/v1/batches/{farm.batch.id}/events"
    before = row_counter()
    late = (utcnow() + timedelta(hours=2)).isoformat()
    response = call(client, "POST", url, tokens["owner"], json={"kind": "harvest", "occurred_at": late})
    assert response.status_code == 422
    assert "occurred_at" in response.get_json()["errors"]
    assert row_counter() == before
    slightly = (utcnow() + timedelta(minutes=2)).isoformat()
    assert call(client, "POST", url, tokens["owner"],
                json={"kind": "harvest", "occurred_at": slightly}).status_code == 201


def test_correcting_a_step_of_another_batch_is_refused(client, farm, other_farm, tokens, row_counter):
    foreign_event = append_event(other_farm.batch, {"kind": "harvest", "occurred_at": utcnow()})
    db.session.commit()
    before = row_counter()
    response = call(client, "POST", f"/api/v1/batches/{farm.batch.id}/events", tokens["owner"],
                    json={"kind": "harvest", "corrects_id": foreign_event.id})
    assert response.status_code == 422
    assert "corrects_id" in response.get_json()["errors"]
    assert row_counter() == before


def test_foreign_staff_cannot_append_to_a_batch(client, farm, tokens, row_counter):
    before = row_counter()
    response = call(client, "POST", f"/api/v1/batches/{farm.batch.id}/events", tokens["foreign"],
                    json={"kind": "harvest"})
    assert response.status_code == 403
    assert row_counter() == before


def test_a_session_cookie_alone_cannot_append(client, farm, row_counter):
    login(client, farm.owner)
    before = row_counter()
    response = call(client, "POST", f"/api/v1/batches/{farm.batch.id}/events", json={"kind": "harvest"})
    assert response.status_code == 401
    assert row_counter() == before


def test_upload_an_attachment_to_a_step(client, farm, tokens):
    event = append_event(farm.batch, {"kind": "harvest", "occurred_at": utcnow()})
    db.session.commit()
    response = call(client, "POST",
                    f"/api/v1/batches/{farm.batch.id}/events/{event.id}/attachments",
                    tokens["staff"], data={"file": (io.BytesIO(jpeg_bytes()), "a.jpg")},
                    content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["content_type"] == "image/jpeg" and len(body["sha256"]) == 64
    assert body["url"].endswith(".jpg") and "/media/" in body["url"]
    listed = call(client, "GET", f"/api/v1/batches/{farm.batch.id}/events/{event.id}", tokens["staff"])
    assert [a["sha256"] for a in listed.get_json()["attachments"]] == [body["sha256"]]


def test_foreign_staff_cannot_attach_files(client, farm, tokens, row_counter):
    event = append_event(farm.batch, {"kind": "harvest", "occurred_at": utcnow()})
    db.session.commit()
    before = row_counter()
    response = call(client, "POST",
                    f"/api/v1/batches/{farm.batch.id}/events/{event.id}/attachments",
                    tokens["foreign"], data={"file": (io.BytesIO(jpeg_bytes()), "a.jpg")},
                    content_type="multipart/form-data")
    assert response.status_code == 403
    assert row_counter() == before


def test_a_missing_field_is_named_with_a_list_of_messages(client, farm, tokens):
    """The error contract is {field: [messages]}, also for messages set in a schema's
    error_messages (lazily translated strings, which marshmallow does not wrap)."""
    url = f"/api/v1/products/{farm.product.id}/batches"
    response = call(client, "POST", url, tokens["staff"], json={"quantity": "5"})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors["lot"] == ["Trường này là bắt buộc."]


@pytest.mark.parametrize("quantity", [1e30, "1e30", "1000000000", "-1", "NaN", "Infinity"])
def test_a_quantity_the_database_cannot_hold_is_a_422_naming_it_and_writes_nothing(
        client, farm, tokens, quantity):
    import sqlalchemy as sa

    from traceability.batches.models import Batch, DiaryEvent

    def count(model):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))

    events, batches = count(DiaryEvent), count(Batch)
    step = call(client, "POST", f"/api/v1/batches/{farm.batch.id}/events", tokens["staff"],
                json={"kind": "harvest", "quantity": quantity, "unit": "kg"})
    batch = call(client, "POST", f"/api/v1/products/{farm.product.id}/batches", tokens["staff"],
                 json={"lot": "TOI-LON", "quantity": quantity})
    for response in (step, batch):
        assert response.status_code == 422, response.get_json()
        assert list(response.get_json()["errors"]) == ["quantity"]
    assert (count(DiaryEvent), count(Batch)) == (events, batches)


def test_the_largest_quantity_the_column_holds_is_accepted(client, farm, tokens):
    step = call(client, "POST", f"/api/v1/batches/{farm.batch.id}/events", tokens["staff"],
                json={"kind": "harvest", "quantity": "999999999.999", "unit": "kg"})
    assert step.status_code == 201 and step.get_json()["quantity"] == "999999999.999"
