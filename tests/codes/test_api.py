"""Codes API: GTIN allocation, label runs, their downloads and a product's symbols."""
from __future__ import annotations

import csv
import io
import json
import zipfile

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from tests.factories import (
    login,
    make_batch,
    make_certificate,
    make_producer,
    make_product,
    make_user,
)
from traceability.codes.models import LabelLevel, LabelRun
from traceability.codes.services import create_label_run, iter_run_labels
from traceability.gs1 import make_gtin13

HOST = "https://trace.example.vn"


@pytest.fixture
def gtin_product(producer):
    product = make_product(producer, gtin=make_gtin13("8934567", 5), name_vi="Tỏi cô đơn Lý Sơn")
    make_certificate(product, stars=4)
    return product


@pytest.fixture
def unit_run(gtin_product, owner) -> LabelRun:
    return create_label_run(owner, make_batch(gtin_product, lot="TOI-26"), level=LabelLevel.UNIT,
                            count=30)


def _get(client, url, headers):
    response = client.get(url, headers=headers, buffered=False)
    response.was_streamed = response.is_streamed
    data = response.get_data()
    response.close()
    return response, data


# --- GTIN -------------------------------------------------------------------------------


def test_allocating_a_gtin_returns_the_product_codes(client, db, producer, owner, bearer):
    product = make_product(producer)
    headers = bearer(owner)
    db.session.commit()
    response = client.post(f"/api/v1/products/{product.id}/gtin", headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    expected13 = make_gtin13("8934567", 0)
    assert (body["gtin"], body["gtin13"]) == ("0" + expected13, expected13)
    assert body["url"] == f"{HOST}/01/0{expected13}"
    again = client.post(f"/api/v1/products/{product.id}/gtin", headers=headers)
    assert again.status_code == 409 and "gtin" in again.get_json()["errors"]


def test_allocation_without_a_prefix_is_422_naming_the_prefix(client, db, bearer):
    producer = make_producer()
    owner = make_user("producer", producer=producer)
    product = make_product(producer)
    headers = bearer(owner)
    db.session.commit()
    response = client.post(f"/api/v1/products/{product.id}/gtin", headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert list(body["errors"]) == ["gs1_company_prefix"] and "GS1" in body["message"]


def test_allocation_for_a_foreign_producer_is_403(client, db, producer, bearer):
    stranger = make_user("consultant", producer=make_producer())
    product = make_product(producer)
    headers = bearer(stranger)
    db.session.commit()
    assert client.post(f"/api/v1/products/{product.id}/gtin", headers=headers).status_code == 403
    db.session.expire_all()
    assert db.session.get(type(product), product.id).gtin is None


def test_allocation_needs_a_bearer_token(app, client, db, producer, owner):
    product = make_product(producer)
    _web_login(app, client, owner)  # a session cookie alone may not change anything
    assert client.post(f"/api/v1/products/{product.id}/gtin").status_code == 401
    assert client.post("/api/v1/products/999999/gtin").status_code == 401


def test_allocation_for_an_unknown_product_is_404(client, db, owner, bearer):
    headers = bearer(owner)
    db.session.commit()
    assert client.post("/api/v1/products/999999/gtin", headers=headers).status_code == 404


# --- label runs -------------------------------------------------------------------------


def test_creating_a_10000_unit_run_writes_one_row(client, db, gtin_product, owner, bearer):
    batch = make_batch(gtin_product)
    headers = bearer(owner)
    db.session.commit()
    response = client.post(f"/api/v1/batches/{batch.id}/label-runs",
                           json={"level": "unit", "count": 10_000}, headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["level"], body["count"], body["first_index"], body["last_index"]) == \
        ("unit", 10_000, 1, 10_000)
    assert body["first_url"].startswith(f"{HOST}/01/{gtin_product.gtin}/10/{batch.lot}/21/1")
    assert body["key_version"] == 2 and body["lot"] == batch.lot
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LabelRun)) == 1


@pytest.mark.parametrize(("payload", "field"), [
    ({"level": "pallet", "count": 3}, "level"),
    ({"count": 3}, "level"),
    ({"level": "unit", "count": 0}, "count"),
    ({"level": "unit", "count": 1_000_001}, "count"),
    ({"level": "unit", "count": "many"}, "count"),
    ({"level": "lot", "count": 5}, "count"),
])
def test_bad_run_input_is_422_naming_the_field(client, db, gtin_product, owner, bearer,
                                               payload, field):
    batch = make_batch(gtin_product)
    headers = bearer(owner)
    db.session.commit()
    response = client.post(f"/api/v1/batches/{batch.id}/label-runs", json=payload,
                           headers=headers)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert field in errors and isinstance(errors[field], list) and errors[field][0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LabelRun)) == 0


def test_runs_of_a_batch_are_listed_with_pagination(client, db, gtin_product, owner, bearer):
    batch = make_batch(gtin_product)
    for count in (5, 6, 7):
        create_label_run(owner, batch, level=LabelLevel.UNIT, count=count)
    headers = bearer(owner)
    db.session.commit()
    response = client.get(f"/api/v1/batches/{batch.id}/label-runs?page_size=2", headers=headers)
    assert response.status_code == 200
    assert [r["count"] for r in response.get_json()] == [5, 6]
    assert json.loads(response.headers["X-Pagination"])["total"] == 3


def test_a_foreign_producers_run_is_refused(client, db, unit_run, bearer):
    stranger = make_user("producer", producer=make_producer())
    headers = bearer(stranger)
    db.session.commit()
    for path in ("", "/labels.pdf", "/labels.csv", "/labels-svg.zip"):
        response, _ = _get(client, f"/api/v1/label-runs/{unit_run.id}{path}", headers)
        assert response.status_code == 403, path
    response, _ = _get(client, f"/api/v1/batches/{unit_run.batch_id}/label-runs", headers)
    assert response.status_code == 403
    response = client.post(f"/api/v1/batches/{unit_run.batch_id}/label-runs",
                           json={"level": "unit", "count": 1}, headers=headers)
    assert response.status_code == 403


def test_anonymous_caller_is_401(client, db, unit_run):
    db.session.commit()
    assert client.get(f"/api/v1/label-runs/{unit_run.id}").status_code == 401
    assert client.get("/api/v1/label-runs/999999").status_code == 401


def test_unknown_run_is_404(client, db, owner, bearer):
    headers = bearer(owner)
    db.session.commit()
    response = client.get("/api/v1/label-runs/999999", headers=headers)
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_run_detail(client, db, unit_run, owner, bearer):
    headers = bearer(owner)
    db.session.commit()
    body = client.get(f"/api/v1/label-runs/{unit_run.id}", headers=headers).get_json()
    assert body["id"] == unit_run.id and body["count"] == 30 and body["lot"] == "TOI-26"
    assert body["guaranteed_until"] == unit_run.guaranteed_until.isoformat()


# --- downloads --------------------------------------------------------------------------


def test_pdf_download_decodes_back_to_the_label_urls(client, db, unit_run, owner, bearer):
    urls = [label.url for label in iter_run_labels(unit_run)]
    headers = bearer(owner)
    db.session.commit()
    response, data = _get(client, f"/api/v1/label-runs/{unit_run.id}/labels.pdf?preset=a4-3x8",
                          headers)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.was_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    assert data.startswith(b"%PDF-")
    document = pdfium.PdfDocument(io.BytesIO(data))
    try:
        assert len(document) == 2  # 30 labels, 24 per A4 sheet
        page = document[0]
        image = page.render(scale=300 / 72).to_pil()
        text = page.get_textpage().get_text_range()
        page.close()
    finally:
        document.close()
    decoded = [b.text for b in zxingcpp.read_barcodes(image)
               if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert urls[0] in decoded
    assert len(decoded) >= 20 and set(decoded) <= set(urls[:24])
    assert "Tỏi cô đơn Lý Sơn" in text and "★★★★" in text


def test_pdf_download_on_a_roll_preset_with_ec_q(client, db, unit_run, owner, bearer):
    headers = bearer(owner)
    db.session.commit()
    response, data = _get(client,
                          f"/api/v1/label-runs/{unit_run.id}/labels.pdf?preset=roll-50x30&ec=q",
                          headers)
    assert response.status_code == 200
    document = pdfium.PdfDocument(io.BytesIO(data))
    try:
        assert len(document) == 30
    finally:
        document.close()


@pytest.mark.parametrize(("query", "field"), [("preset=a3-1x1", "preset"), ("ec=H", "ec")])
def test_bad_download_options_are_422_naming_the_field(client, db, unit_run, owner, bearer,
                                                       query, field):
    headers = bearer(owner)
    db.session.commit()
    response = client.get(f"/api/v1/label-runs/{unit_run.id}/labels.pdf?{query}",
                          headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_csv_download_has_one_row_per_label(client, db, unit_run, owner, bearer):
    urls = [label.url for label in iter_run_labels(unit_run)]
    headers = bearer(owner)
    db.session.commit()
    response, data = _get(client, f"/api/v1/label-runs/{unit_run.id}/labels.csv", headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [row["url"] for row in rows] == urls
    assert rows[0]["product_name"] == "Tỏi cô đơn Lý Sơn" and rows[0]["lot"] == "TOI-26"
    assert rows[0]["stars"] == "4" and rows[0]["url"].endswith("/21/" + rows[0]["serial"])


def test_svg_zip_download_has_one_symbol_per_label(client, db, unit_run, owner, bearer):
    serials = [label.serial for label in iter_run_labels(unit_run)]
    headers = bearer(owner)
    db.session.commit()
    response, data = _get(client, f"/api/v1/label-runs/{unit_run.id}/labels-svg.zip", headers)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [f"{serial}.svg" for serial in serials]
        assert archive.read(archive.namelist()[0]).startswith(b"<svg")


def _web_login(app, client, user) -> None:
    """factories.login plus the session identifier that "strong" session protection checks."""
    from flask_login.utils import _create_identifier

    login(client, user)
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session["_id"] = identifier


def test_downloads_work_with_the_web_session(app, client, db, unit_run, owner):
    _web_login(app, client, owner)
    response, data = _get(client, f"/api/v1/label-runs/{unit_run.id}/labels.csv", {})
    assert response.status_code == 200 and data.count(b"\n") == 31


# --- a product's symbols ----------------------------------------------------------------


def test_ean13_png_decodes_to_the_gtin13(client, db, gtin_product, owner, bearer):
    headers = bearer(owner)
    db.session.commit()
    response = client.get(f"/api/v1/products/{gtin_product.id}/ean13.png", headers=headers)
    assert response.status_code == 200 and response.mimetype == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
    assert [(b.format, b.text) for b in found] == [(zxingcpp.BarcodeFormat.EAN13,
                                                    gtin_product.gtin[1:])]
    svg = client.get(f"/api/v1/products/{gtin_product.id}/ean13.svg", headers=headers)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert gtin_product.gtin[1:2] in svg.get_data(as_text=True)


def test_ean13_of_a_product_without_gtin_is_404_naming_gtin(client, db, producer, owner, bearer):
    product = make_product(producer)
    headers = bearer(owner)
    db.session.commit()
    for kind in ("svg", "png"):
        response = client.get(f"/api/v1/products/{product.id}/ean13.{kind}", headers=headers)
        assert response.status_code == 404
        assert response.is_json and "gtin" in response.get_json()["errors"]


def test_product_qr_png_decodes_to_the_product_url(client, db, gtin_product, owner, bearer):
    headers = bearer(owner)
    db.session.commit()
    for query in ("", "?ec=Q"):
        response = client.get(f"/api/v1/products/{gtin_product.id}/qr.png{query}",
                              headers=headers)
        assert response.status_code == 200 and response.mimetype == "image/png"
        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
        assert [b.text for b in found] == [f"{HOST}/01/{gtin_product.gtin}"]
        assert found[0].ec_level == (query[-1] if query else "M")
    svg = client.get(f"/api/v1/products/{gtin_product.id}/qr.svg", headers=headers)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert client.get(f"/api/v1/products/{gtin_product.id}/qr.png?ec=X",
                      headers=headers).status_code == 422


def test_product_qr_without_gtin_uses_the_trace_code(client, db, producer, owner, bearer):
    product = make_product(producer)
    headers = bearer(owner)
    db.session.commit()
    response = client.get(f"/api/v1/products/{product.id}/qr.png", headers=headers)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
    assert [b.text for b in found] == [f"{HOST}/t/{product.trace_code}"]


def test_symbols_of_a_foreign_product_are_refused(client, db, gtin_product, bearer):
    stranger = make_user("producer", producer=make_producer())
    headers = bearer(stranger)
    db.session.commit()
    for path in ("ean13.svg", "ean13.png", "qr.svg", "qr.png"):
        assert client.get(f"/api/v1/products/{gtin_product.id}/{path}",
                          headers=headers).status_code == 403


def test_openapi_documents_the_codes_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert paths["/api/v1/products/{product_id}/gtin"]["post"]["summary"] == \
        "Allocate a GTIN-13 for a product"
    assert "requestBody" in paths["/api/v1/batches/{batch_id}/label-runs"]["post"]
    pdf = paths["/api/v1/label-runs/{run_id}/labels.pdf"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]
    assert any(p["name"] == "preset" for p in pdf["parameters"])
    for path in ("/api/v1/label-runs/{run_id}", "/api/v1/label-runs/{run_id}/labels.csv",
                 "/api/v1/label-runs/{run_id}/labels-svg.zip",
                 "/api/v1/products/{product_id}/ean13.png", "/api/v1/products/{product_id}/qr.svg"):
        assert paths[path]["get"]["summary"], path
