"""Inspection photos and staged register imports are private: kept outside the public media
folder, never reachable through /media (whatever the path's spelling), and the photos shown
only to those who may see their inspection."""
from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from PIL import Image

from tests.factories import make_certificate, make_producer, make_product, make_token, make_user, tax_code
from traceability.clock import local_today
from traceability.extensions import db as _db
from traceability.models import Inspection
from traceability.oversight.imports import COLUMNS

TODAY = local_today()


def _escapes(name: str) -> list[str]:
    """Ways a path under /media could try to reach `name` in the private folder beside it."""
    encoded = name.replace("/", "%2F")
    return [
        f"/media/{name}",
        f"/media/../private/{name}",
        f"/media/%2e%2e/private/{name}",
        f"/media/..%2Fprivate%2F{encoded}",
        f"/media/%2E%2E%2Fprivate%2F{encoded}",
        f"/media/%252e%252e%252fprivate%252f{encoded}",
        f"/media/..%5Cprivate%5C{name.replace('/', '%5C')}",
        f"/media/./../private/{name}",
        f"/media/{encoded}",
    ]


def _unreachable(client, name: str) -> None:
    for path in _escapes(name):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 404, path


@pytest.fixture()
def product(area):
    product = make_product(make_producer(area.a), name_vi="Tỏi cô đơn Lý Sơn")
    make_certificate(product, stars=4, issued_on=TODAY - timedelta(days=100))
    return product


def _photo() -> io.BytesIO:
    photo = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(photo, "JPEG")
    photo.seek(0)
    return photo


def _inspect(client, product) -> Inspection:
    response = client.post("/oversight/inspections/new", content_type="multipart/form-data", data={
        "product_id": str(product.id), "inspected_on": TODAY.isoformat(), "outcome": "compliant",
        "certificate_valid": "yes", "stars_match": "yes", "photos": [(_photo(), "anh.jpg")]})
    assert response.status_code == 302, response.get_data(as_text=True)
    return _db.session.scalar(sa.select(Inspection))


def test_an_inspection_photo_is_kept_outside_the_public_folder(client, sign_in, area, product,
                                                              upload_folder):
    sign_in(client, area.inspector)
    inspection = _inspect(client, product)
    name = inspection.photos[0]
    private = os.path.join(os.path.dirname(upload_folder), "private")
    assert os.path.isfile(os.path.join(private, *name.split("/")))
    assert not os.path.exists(upload_folder)
    _unreachable(client, name)


def test_an_inspection_photo_is_shown_only_to_those_who_may_see_the_inspection(
        app, client, sign_in, area, product, upload_folder):
    sign_in(client, area.inspector)
    inspection = _inspect(client, product)
    url = f"/inspector/inspections/{inspection.id}/photos/{inspection.photos[0]}"
    shown = client.get(url)
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert "no-store" in shown.headers["Cache-Control"]
    sign_in(client, area.officer_b)  # an officer of another commune
    assert client.get(url).status_code in (403, 404)
    sign_in(client, make_user("producer", producer=product.producer))
    assert client.get(url).status_code == 403
    other = app.test_client()
    assert other.get(url).status_code == 302  # to the sign-in page
    _unreachable(other, inspection.photos[0])


def test_a_photo_added_through_the_api_is_private_too(client, area, product, upload_folder):
    headers = {"Authorization": f"Bearer {make_token(area.inspector)}"}
    created = client.post("/api/v1/oversight/inspections", headers=headers, json={
        "producer_id": product.producer.id, "product_id": product.id,
        "inspected_on": TODAY.isoformat(), "outcome": "compliant"})
    assert created.status_code == 201, created.get_json()
    added = client.post(f"/api/v1/oversight/inspections/{created.get_json()['id']}/photos",
                        headers=headers, content_type="multipart/form-data",
                        data={"photo": (_photo(), "anh.jpg")})
    assert added.status_code == 201, added.get_json()
    name = added.get_json()["photos"][0]
    assert not os.path.exists(upload_folder)
    _unreachable(client, name)


def test_a_too_large_inspection_photo_is_refused_from_its_header(client, area, product, upload_folder):
    headers = {"Authorization": f"Bearer {make_token(area.inspector)}"}
    created = client.post("/api/v1/oversight/inspections", headers=headers, json={
        "producer_id": product.producer.id, "inspected_on": TODAY.isoformat(), "outcome": "compliant"})
    from tests.batches.test_media import _jpeg_claiming

    refused = client.post(f"/api/v1/oversight/inspections/{created.get_json()['id']}/photos",
                          headers=headers, content_type="multipart/form-data",
                          data={"photo": (io.BytesIO(_jpeg_claiming(9000, 7000)), "anh.jpg")})
    assert refused.status_code == 422
    assert "triệu điểm ảnh" in refused.get_json()["errors"]["photo"][0]


def test_a_staged_import_is_kept_outside_the_public_folder(client, sign_in, area, upload_folder):
    sign_in(client, area.officer)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([heading for _key, heading, _required in COLUMNS])
    sheet.append(["Hợp tác xã Hai Máy", tax_code(), "", "Thôn 2", area.a.code, "Nước mắm", "Thực phẩm",
                  3, None, "9/QĐ-UBND", "", "01/02/2025", ""])
    out = io.BytesIO()
    workbook.save(out)
    checked = client.post("/officer/imports", content_type="multipart/form-data",
                          data={"file": (io.BytesIO(out.getvalue()), "so.xlsx")})
    assert checked.status_code == 200
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{64})"',
                      checked.get_data(as_text=True)).group(1)
    private = os.path.join(os.path.dirname(upload_folder), "private")
    assert os.path.isfile(os.path.join(private, "imports", token))
    assert not os.path.exists(upload_folder)
    _unreachable(client, f"imports/{token}")


@pytest.mark.parametrize("name", ["inspections/0123abcd.jpg", "imports/" + "ab" * 32])
def test_files_left_in_the_public_folder_by_an_earlier_version_are_not_served(client, upload_folder,
                                                                              name):
    path = os.path.join(upload_folder, *name.split("/"))
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as handle:
        handle.write(b"\xff\xd8 kept from before PRIVATE_FOLDER")
    assert client.get(f"/media/{name}").status_code == 404
    assert client.get(f"/media/{name.replace('/', '%2F')}").status_code == 404
