"""The OpenAPI document says what the API sends: the error contract's types, every status an
operation answers with, the pagination header as the JSON string it is, Decimal fields as
strings, uploads as multipart forms with their file, downloads with their content types."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask


@pytest.fixture(scope="module")
def document(app: Flask) -> dict[str, Any]:
    with app.test_client() as client:
        return client.get("/api/v1/openapi.json").get_json()


def _operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    return document["components"]["schemas"][name]


def test_the_error_schema_is_the_contract(document):
    error = _schema(document, "Error")
    assert error["properties"]["code"]["type"] == "string"
    assert error["properties"]["status"]["type"] == "integer"
    assert error["properties"]["message"]["type"] == "string"
    assert error["properties"]["errors"]["additionalProperties"] == {
        "type": "array", "items": {"type": "string"}}
    assert sorted(error["required"]) == ["code", "errors", "message", "status"]


def test_every_operation_lists_its_statuses_and_no_catch_all(document):
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        assert "default" not in responses, (method, path)
        assert "503" in responses, (method, path)
        if operation.get("security", document["security"]):
            assert "401" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)


def test_public_reads_and_the_claim_need_no_token(document):
    public = {(method, path) for path, method, operation in _operations(document)
              if operation.get("security") == []}
    assert ("get", "/api/v1/producers") in public
    assert ("post", "/api/v1/claims/{secret}") in public
    assert ("post", "/api/v1/producers") not in public
    assert document["security"] == [{"bearerAuth": []}]


def test_the_pagination_header_is_a_json_string(document):
    header = document["components"]["headers"]["PAGINATION"]
    assert header["schema"]["type"] == "string"
    assert header["schema"]["contentMediaType"] == "application/json"
    listing = document["paths"]["/api/v1/regions"]["get"]["responses"]["200"]
    assert listing["headers"]["X-Pagination"] == {"$ref": "#/components/headers/PAGINATION"}


def test_decimals_are_sent_as_strings(document):
    assert _schema(document, "Certificate")["properties"]["score"]["type"] == ["string", "null"]
    assert _schema(document, "Event")["properties"]["latitude"]["format"] == "decimal"


def test_an_attachment_is_uploaded_as_a_multipart_form_with_its_file(document):
    upload = document["paths"]["/api/v1/batches/{batch_id}/events/{event_id}/attachments"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].split("/")[-1]
    schema = _schema(document, form)
    assert schema["properties"]["file"]["format"] == "binary"
    assert schema["properties"]["keep_location"]["type"] == "boolean"
    assert schema["required"] == ["file"]
    # No form field is declared as a parameter: the only one is the Idempotency-Key header.
    assert [(p["in"], p["name"]) for p in upload.get("parameters", [])] == [("header", "Idempotency-Key")]


def test_downloads_declare_their_content_types(document):
    def types(path: str) -> set[str]:
        return set(document["paths"][path]["get"]["responses"]["200"]["content"])

    assert types("/api/v1/label-runs/{run_id}/labels.pdf") == {"application/pdf"}
    assert types("/api/v1/label-runs/{run_id}/labels.csv") == {"text/csv"}
    assert types("/api/v1/label-runs/{run_id}/labels-svg.zip") == {"application/zip"}
    assert types("/api/v1/products/{product_id}/qr.png") == {"image/png"}
    assert types("/api/v1/products/{product_id}/ean13.svg") == {"image/svg+xml"}
    assert types("/api/v1/handovers/{handover_id}/record.pdf") == {"application/pdf"}
    assert types("/api/v1/oversight/reports/periodic") == {
        "application/json", "text/csv", "application/zip",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
