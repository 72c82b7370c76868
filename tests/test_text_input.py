"""Typed text enters as NFC and without control characters, through the API and the forms."""
from __future__ import annotations

import unicodedata

import pytest
import sqlalchemy as sa

from tests.factories import login, make_region, make_token, make_user
from traceability.extensions import db
from traceability.registry.models import Producer

NAME = "Hợp tác xã Tỏi đen Lý Sơn"
NFD = unicodedata.normalize("NFD", NAME)


def _admin_headers() -> dict[str, str]:
    token = make_token(make_user("admin"))
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _producer(region_id: int, name: str) -> dict:
    return {"name": name, "kind": "cooperative", "address": "Thôn Đông, xã An Vĩnh",
            "region_id": region_id}


def test_a_name_typed_decomposed_is_stored_precomposed_and_found_by_a_precomposed_search(client):
    assert NFD != NAME
    region = make_region()
    headers = _admin_headers()
    created = client.post("/api/v1/producers", json=_producer(region.id, NFD), headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["name"] == NAME
    assert db.session.scalar(sa.select(Producer.name)) == NAME
    found = client.get("/api/v1/producers", query_string={"q": "Tỏi đen"}).get_json()
    assert [p["name"] for p in found] == [NAME]
    found_nfd = client.get("/api/v1/producers",
                           query_string={"q": unicodedata.normalize("NFD", "Tỏi đen")}).get_json()
    assert [p["name"] for p in found_nfd] == [NAME]


@pytest.mark.parametrize("bad", ["Tỏi\x00đen", "Tỏi\u000bđen", "Tỏi\x1bđen", "Tỏi\x85đen"])
def test_control_characters_are_refused_naming_the_field_on_both_databases(client, bad):
    region = make_region()
    headers = _admin_headers()
    response = client.post("/api/v1/producers", json=_producer(region.id, bad), headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"]["name"] == ["Không được chứa ký tự điều khiển (ký tự ẩn, không in được)."]
    assert db.session.scalar(sa.select(sa.func.count(Producer.id))) == 0


def test_line_breaks_and_tabs_in_a_note_are_text_not_control_characters(client):
    region = make_region()
    headers = _admin_headers()
    body = {**_producer(region.id, NAME), "address": "Thôn Đông\r\nxã An Vĩnh\tLý Sơn"}
    assert client.post("/api/v1/producers", json=body, headers=headers).status_code == 201


def test_a_form_refuses_control_characters_with_a_vietnamese_message(client):
    user = make_user("consultant")
    db.session.commit()
    login(client, user)
    page = client.post("/account/tokens", data={"name": "Máy\x0bvăn phòng"})
    assert page.status_code in (200, 400, 422)
    assert "Không được chứa ký tự điều khiển" in page.get_data(as_text=True)
