"""The EPCIS 2.0 JSON-LD export: the standard's context, event types and fields, every diary step."""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from tests.factories import login, make_batch, make_producer, make_product, make_token
from traceability.batches.epcis import EPCIS_CONTEXT
from traceability.batches.models import Attachment, DiaryEvent
from traceability.batches.services import append_event
from traceability.extensions import db
from traceability.models_base import utcnow

from .conftest import call

EVENT_ID = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
OCOP_NAMESPACE = "https://ocop-trace.vn/ns/diary#"


def _event_id(event: DiaryEvent) -> str:
    """The eventID a reader recomputes from the diary's chain hash (RFC 9562 UUID version 5)."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, OCOP_NAMESPACE + "event")
    return uuid.uuid5(namespace, event.hash).urn
OFFSET = re.compile(r"^[+-]\d\d:\d\d$")
CBV_STEPS = {"commissioning", "inspecting", "sampling", "packing", "storing", "shipping",
             "receiving", "other"}
COMMON = {"type", "eventTime", "eventTimeZoneOffset", "recordTime", "eventID", "readPoint",
          "bizLocation", "bizStep", "disposition", "errorDeclaration"}
OBJECT_EVENT = COMMON | {"epcList", "quantityList", "action", "ilmd"}
TRANSFORMATION_EVENT = COMMON | {"inputQuantityList", "outputQuantityList"}


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, value
    return parsed


def check_document(doc: dict) -> list[dict]:
    """What can be checked of EPCIS 2.0 JSON-LD without the network; returns the events."""
    context = doc["@context"]
    assert context[0] == "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
    for extra in context[1:]:  # only prefix declarations for extensions
        assert all(isinstance(v, str) and v.startswith("https://") for v in extra.values())
    prefixes = {k for extra in context[1:] for k in extra}
    assert doc["type"] == "EPCISDocument"
    assert doc["schemaVersion"] == "2.0"
    _time(doc["creationDate"])
    events = doc["epcisBody"]["eventList"]
    for event in events:
        allowed = OBJECT_EVENT if event["type"] == "ObjectEvent" else TRANSFORMATION_EVENT
        assert event["type"] in ("ObjectEvent", "TransformationEvent")
        for key in event:
            # Non-standard terms must be compact IRIs, or JSON-LD expansion would drop them.
            assert key in allowed or key.split(":", 1)[0] in prefixes, key
        _time(event["eventTime"])
        _time(event["recordTime"])
        assert OFFSET.match(event["eventTimeZoneOffset"])
        assert EVENT_ID.match(event["eventID"])
        assert event["bizStep"] in CBV_STEPS
        for where in ("readPoint", "bizLocation"):
            assert set(event[where]) == {"id"}
            assert re.match(r"^(urn:epc:id:sgln:|https://|geo:)", event[where]["id"])
        if event["type"] == "ObjectEvent":
            assert event["action"] in ("ADD", "OBSERVE", "DELETE")
            assert event["epcList"] or event["quantityList"]
            if "ilmd" in event:
                assert event["action"] == "ADD"
        else:
            assert event["inputQuantityList"] and event["outputQuantityList"]
        for element in (event.get("quantityList", []) + event.get("inputQuantityList", [])
                        + event.get("outputQuantityList", [])):
            assert element["epcClass"].startswith("https://")
            assert isinstance(element.get("quantity", 0), (int, float))
        if "errorDeclaration" in event:
            declaration = event["errorDeclaration"]
            assert declaration["reason"] == "incorrect_data"
            _time(declaration["declarationTime"])
            assert all(EVENT_ID.match(i) for i in declaration["correctiveEventIDs"])
    return events


def _full_diary(batch, author_id=None) -> list[DiaryEvent]:
    start = utcnow() - timedelta(days=20)
    specs = [
        {"kind": "planting", "place": "Ruộng cát"},
        {"kind": "input", "details": {"input_name": "Phân hữu cơ", "dose": "2 tấn/ha",
                                      "pre_harvest_interval_days": 7}},
        {"kind": "harvest", "quantity": 120, "unit": "kg", "latitude": 15.38, "longitude": 109.12},
        {"kind": "processing", "quantity": 100, "unit": "kg", "notes": "Phơi khô"},
        {"kind": "lab_test", "details": {"laboratory": "Quatest 2", "result": "Đạt"}},
        {"kind": "packing", "quantity": 200, "unit": "hộp"},
        {"kind": "storage"},
        {"kind": "shipping", "details": {"counterparty": "Siêu thị A"}},
        {"kind": "receiving", "details": {"counterparty": "Siêu thị A"}},
        {"kind": "other", "notes": "Tập huấn"},
    ]
    events = [append_event(batch, {**spec, "occurred_at": start + timedelta(days=i)},
                           author_id=author_id) for i, spec in enumerate(specs)]
    db.session.commit()
    return events


def _full(client, farm, batch=None) -> dict:
    """The whole diary's document, from the API as one of the producer's staff."""
    token = make_token(farm.staff)
    db.session.commit()
    response = call(client, "GET", f"/api/v1/batches/{(batch or farm.batch).id}/epcis", token)
    assert response.status_code == 200
    return response.get_json(force=True)


def _public_path(farm) -> str:
    return f"/epcis/t/{farm.product.trace_code}/10/TOI-01"


def test_export_is_epcis_json_ld_and_carries_every_diary_event(client, farm):
    events = _full_diary(farm.batch)
    response = call(client, "GET", f"/api/v1/batches/{farm.batch.id}/epcis", make_token(farm.staff))
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    doc = json.loads(response.data)
    exported = check_document(doc)
    assert {e["eventID"] for e in exported} == {_event_id(e) for e in events}
    assert len(exported) == len(events)
    assert [e["ocop:seq"] for e in exported] == list(range(1, 11))


def test_each_step_maps_to_its_event_type_and_business_step(client, farm):
    _full_diary(farm.batch)
    doc = _full(client, farm)
    by_kind = {e["ocop:kind"]: e for e in doc["epcisBody"]["eventList"]}
    # Packing is the commissioning step: ADD with the lot's ILMD.
    packing = by_kind["packing"]
    assert (packing["type"], packing["action"], packing["bizStep"]) == ("ObjectEvent", "ADD",
                                                                         "commissioning")
    assert packing["ilmd"]["cbvmda:lotNumber"] == "TOI-01"
    assert packing["ilmd"]["cbvmda:productionDate"] == farm.batch.production_date.isoformat()
    assert packing["quantityList"][0]["quantity"] == 200
    assert by_kind["harvest"]["bizStep"] == "commissioning"
    assert by_kind["harvest"]["readPoint"] == {"id": "geo:15.38,109.12"}
    assert by_kind["harvest"]["quantityList"][0]["uom"] == "KGM"
    processing = by_kind["processing"]
    assert processing["type"] == "TransformationEvent"
    assert processing["inputQuantityList"][0]["epcClass"] == processing["outputQuantityList"][0]["epcClass"]
    assert {k: by_kind[k]["bizStep"] for k in ("storage", "shipping", "receiving", "lab_test",
                                               "input", "planting", "other")} == {
        "storage": "storing", "shipping": "shipping", "receiving": "receiving",
        "lab_test": "inspecting", "input": "other", "planting": "other", "other": "other"}
    assert all(by_kind[k]["action"] == "OBSERVE" for k in ("storage", "shipping", "lab_test"))
    assert by_kind["input"]["ocop:inputName"] == "Phân hữu cơ"
    assert by_kind["input"]["ocop:preHarvestIntervalDays"] == 7
    assert by_kind["lab_test"]["ocop:result"] == "Đạt"
    assert by_kind["shipping"]["ocop:counterparty"] == "Siêu thị A"
    for event in doc["epcisBody"]["eventList"]:
        assert event["eventTimeZoneOffset"] == "+07:00"
        assert event["eventTime"].endswith("+07:00")


def test_lot_is_a_digital_link_class_and_location_an_sgln(client):
    producer = make_producer(gs1_company_prefix="8930000123", gln="8930000123008")
    product = make_product(producer, gtin="8930000123015")
    batch = make_batch(product, lot="A/1")
    append_event(batch, {"kind": "harvest", "occurred_at": utcnow()})
    db.session.commit()
    response = client.get("/epcis/01/08930000123015/10/A%2F1")
    assert response.status_code == 200
    event = json.loads(response.data)["epcisBody"]["eventList"][0]
    assert event["quantityList"][0]["epcClass"] == "https://trace.example.vn/01/08930000123015/10/A%2F1"
    assert event["bizLocation"] == {"id": "urn:epc:id:sgln:8930000123.00.0"}


def test_product_without_gtin_uses_the_trace_code_form_and_producer_url(client, farm):
    append_event(farm.batch, {"kind": "storage", "occurred_at": utcnow()})
    db.session.commit()
    event = json.loads(client.get(_public_path(farm)).data)["epcisBody"]["eventList"][0]
    code = farm.product.trace_code
    assert event["quantityList"][0]["epcClass"] == f"https://trace.example.vn/t/{code}/10/TOI-01"
    # The only step is also the commissioning one.
    assert event["action"] == "ADD" and "ilmd" in event
    assert event["bizLocation"]["id"] == f"https://trace.example.vn/api/v1/producers/{farm.producer.id}"


def test_correction_is_an_error_declaration_with_corrective_event_ids(client, farm):
    original = append_event(farm.batch, {"kind": "harvest", "occurred_at": utcnow() - timedelta(days=2),
                                         "quantity": 100, "unit": "kg"})
    append_event(farm.batch, {"kind": "storage", "occurred_at": utcnow() - timedelta(days=1)})
    fix = append_event(farm.batch, {"kind": "harvest", "occurred_at": utcnow() - timedelta(days=2),
                                    "quantity": 80, "unit": "kg", "corrects_id": original.id})
    db.session.commit()
    events = check_document(json.loads(client.get(_public_path(farm)).data))
    original_id, fix_id = _event_id(original), _event_id(fix)
    copies = [e for e in events if e["eventID"] == original_id]
    assert len(copies) == 2  # the original as recorded, and its error declaration
    assert "errorDeclaration" not in copies[0]
    assert copies[1]["errorDeclaration"]["correctiveEventIDs"] == [fix_id]
    assert copies[1]["quantityList"] == copies[0]["quantityList"]
    corrective = next(e for e in events if e["eventID"] == fix_id)
    assert corrective["ocop:corrects"] == original_id
    assert corrective["quantityList"][0]["quantity"] == 80
    assert events.index(copies[1]) == events.index(corrective) - 1


def test_api_export_needs_a_caller_who_may_view(client, farm, other_farm):
    append_event(farm.batch, {"kind": "harvest", "occurred_at": utcnow()})
    token = make_token(farm.staff)
    db.session.commit()
    assert call(client, "GET", f"/api/v1/batches/{farm.batch.id}/epcis").status_code == 401
    ok = call(client, "GET", f"/api/v1/batches/{farm.batch.id}/epcis", token)
    assert ok.status_code == 200 and ok.mimetype == "application/ld+json"
    check_document(ok.get_json(force=True))
    foreign = call(client, "GET", f"/api/v1/batches/{other_farm.batch.id}/epcis", token)
    assert foreign.status_code in (403, 404)


def test_export_of_an_empty_diary_has_no_events(client, farm):
    doc = json.loads(client.get(_public_path(farm)).data)
    assert check_document(doc) == []
    assert db.session.scalar(sa.select(sa.func.count(DiaryEvent.id))) == 0


# --- the public document: only what the trace page shows --------------------------------


def _with_kept_gps_photo(farm) -> None:
    harvest = db.session.scalars(sa.select(DiaryEvent).where(DiaryEvent.kind == "harvest")).one()
    db.session.add(Attachment(event_id=harvest.id, path="ab/" + "a" * 64 + ".jpg",
                              content_type="image/jpeg", size_bytes=1, sha256="a" * 64))
    db.session.add(Attachment(event_id=harvest.id, path="cd/" + "c" * 64 + ".pdf",
                              content_type="application/pdf", size_bytes=1, sha256="c" * 64))
    db.session.commit()


def test_public_document_has_the_same_events_without_what_the_trace_page_hides(client, farm):
    _full_diary(farm.batch)
    _with_kept_gps_photo(farm)
    full = _full(client, farm)
    response = client.get(_public_path(farm))
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    public = check_document(json.loads(response.data))
    events = full["epcisBody"]["eventList"]
    # The full document has them all: the test data reaches every filtered field.
    text = json.dumps(full, ensure_ascii=False)
    for shown_in_full in ("geo:15.38,109.12", "Phơi khô", "Tập huấn", "Phân hữu cơ", "Quatest 2",
                          "Siêu thị A", "/media/ab/", "/media/cd/"):
        assert shown_in_full in text
    text = json.dumps(public, ensure_ascii=False)
    for hidden in ("geo:", "Phơi khô", "Tập huấn", "Phân hữu cơ", "2 tấn/ha", "Quatest 2", "Đạt",
                   "Siêu thị A", "/media/", "ocop:notes", "ocop:attachments", "ocop:inputName",
                   "ocop:laboratory", "ocop:result", "ocop:counterparty"):
        assert hidden not in text, hidden
    # Same events, same mapping: what the page shows stays.
    assert [e["eventID"] for e in public] == [e["eventID"] for e in events]
    assert [(e["type"], e["bizStep"]) for e in public] == [(e["type"], e["bizStep"]) for e in events]
    by_kind = {e["ocop:kind"]: e for e in public}
    assert by_kind["planting"]["ocop:place"] == "Ruộng cát"
    assert by_kind["packing"]["quantityList"][0]["quantity"] == 200
    assert by_kind["packing"]["ilmd"]["cbvmda:lotNumber"] == "TOI-01"
    assert by_kind["harvest"]["readPoint"] == by_kind["harvest"]["bizLocation"]


def test_sequential_batch_ids_give_nothing_anonymously(client, farm):
    _full_diary(farm.batch)
    for path in (f"/epcis/batch/{farm.batch.id}", f"/producer/batches/{farm.batch.id}/epcis"):
        response = client.get(path)
        assert response.status_code in (302, 404), path
        assert b"ocop:notes" not in response.data and b"eventList" not in response.data
    assert client.get(f"/epcis/batch/{farm.batch.id}").status_code == 404


def test_signed_in_producer_downloads_the_whole_diary_and_others_get_nothing(client, farm,
                                                                             other_farm):
    _full_diary(farm.batch)
    login(client, farm.staff)
    own = client.get(f"/producer/batches/{farm.batch.id}/epcis")
    assert own.status_code == 200 and own.mimetype == "application/ld+json"
    assert "ocop:notes" in own.get_data(as_text=True)
    assert own.headers["Cache-Control"] == "private, no-store"
    assert "Access-Control-Allow-Origin" not in own.headers
    login(client, other_farm.staff)
    assert client.get(f"/producer/batches/{farm.batch.id}/epcis").status_code in (403, 404)


def test_unknown_code_or_lot_is_a_json_404_and_a_bad_code_a_json_400(client, farm):
    code = farm.product.trace_code
    for path in ("/epcis/01/08930000123015/10/TOI-01", f"/epcis/t/{code}/10/KHONG-CO",
                 f"/epcis/t/{code}", f"/epcis/t/{code}/10/TOI-01/21/ABC"):
        response = client.get(path)
        assert response.status_code == 404, path
        body = response.get_json()
        assert body["code"] == "not_found" and body["status"] == 404 and body["message"]
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    bad = client.get("/epcis/01/123/10/TOI-01")
    assert bad.status_code == 400
    assert bad.get_json()["code"] == "bad_request" and bad.get_json()["errors"]


def test_event_ids_claim_no_event_hash_and_the_extension_namespace_is_fixed(app, client, farm,
                                                                         monkeypatch):
    """An eventID ending in ?ver=CBV2.0 claims the CBV 2.0 event hash (CBV §8.9), which the
    export does not compute; and the ocop: terms mean the same on every installation."""
    append_event(farm.batch, {"kind": "harvest", "occurred_at": utcnow() - timedelta(days=1)})
    db.session.commit()
    documents = []
    for base in ("https://trace.example.vn", "https://truyxuat.tinh.gov.example"):
        monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", base)
        documents.append(json.loads(client.get(_public_path(farm)).data))
    for doc in documents:
        assert doc["@context"][1] == {"ocop": OCOP_NAMESPACE}
        assert all("ver=CBV" not in e["eventID"] for e in doc["epcisBody"]["eventList"])
    assert [e["eventID"] for e in documents[0]["epcisBody"]["eventList"]] == \
        [e["eventID"] for e in documents[1]["epcisBody"]["eventList"]]
