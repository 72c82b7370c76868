"""The handover as the two people live it: a consultant sets a producer up and hands the
account over; the producer's representative claims it; the consultant is locked out; the
codes keep resolving."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pypdfium2
import sqlalchemy as sa
import zxingcpp

from tests.conftest import make_test_app
from tests.factories import (
    make_batch, make_certificate, make_producer, make_product, make_token, make_user, scan,
)
from traceability.accounts.models import ApiToken, Handover, Membership, MembershipRole, User
from traceability.accounts.services import hash_password
from traceability.codes.models import LabelLevel
from traceability.codes.services import issue_label_run, run_label_url
from traceability.extensions import db

BASE = "https://trace.example.vn"
PASSWORD = "mat-khau-tu-van-2026"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _setup():
    producer = make_producer(name="Hợp tác xã Tỏi An Hải", representative="Trần Thị Hoa")
    consultant = make_user("consultant", producer=producer, email="tuvan@example.vn",
                           password_hash=hash_password(PASSWORD))
    limited_token = make_token(consultant, producer=producer)
    product = make_product(producer, gtin="08939900001010", name_vi="Tỏi cô đơn Lý Sơn")
    make_certificate(product, stars=4, issued_on=date.today() - timedelta(days=30))
    batch = make_batch(product, lot="TOI-01")
    run = issue_label_run(batch, level=LabelLevel.UNIT, count=20)
    db.session.commit()
    return producer, consultant, limited_token, run


def _pdf_text_and_codes(pdf: bytes) -> tuple[str, list[str]]:
    document = pypdfium2.PdfDocument(io.BytesIO(pdf))
    text, codes = "", []
    for page in document:
        text += page.get_textpage().get_text_range()
        image = page.render(scale=300 / 72).to_pil()
        codes += [barcode.text for barcode in zxingcpp.read_barcodes(image)]
    return text, codes


def test_handover_through_the_web_ui(database_url, db):
    producer, consultant, limited_token, run = _setup()
    app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    consultant_phone, producer_phone = app.test_client(), app.test_client()

    # The consultant signs in through the real form.
    form = consultant_phone.get("/login").get_data(as_text=True)
    signed_in = consultant_phone.post("/login", data={"login": "tuvan@example.vn", "password": PASSWORD,
                                                      "csrf_token": _csrf(form)})
    assert signed_in.status_code == 302

    # ... issues the claim and prints the record.
    page = consultant_phone.get(f"/account/producers/{producer.id}/handover").get_data(as_text=True)
    issued = consultant_phone.post(f"/account/producers/{producer.id}/handover",
                                   data={"days": "14", "representative_name": "Trần Thị Hoa",
                                         "csrf_token": _csrf(page)})
    assert issued.status_code == 302
    page = consultant_phone.get(f"/account/producers/{producer.id}/handover").get_data(as_text=True)
    claim_url = re.search(rf"{BASE}/claim/[A-Za-z0-9_-]+", page).group(0)
    handover = db.session.scalars(sa.select(Handover).where(Handover.producer_id == producer.id)).one()
    record = consultant_phone.get(f"/account/producers/{producer.id}/handover/{handover.id}/record.pdf")
    assert record.status_code == 200 and record.mimetype == "application/pdf"
    text, codes = _pdf_text_and_codes(record.data)
    assert "Biên bản bàn giao" in text or "BIÊN BẢN BÀN GIAO" in text
    assert "Hợp tác xã Tỏi An Hải" in text
    assert codes == [claim_url]
    assert claim_url in "".join(text.split())  # the printed link, whatever its line breaks
    assert claim_url.split("/claim/")[1] not in str(db.session.execute(sa.select(Handover.__table__)).all())

    # The representative opens the claim on a phone and sets her own credentials.
    claim_path = claim_url.removeprefix(BASE)
    claim_form = producer_phone.get(claim_path).get_data(as_text=True)
    assert "Trần Thị Hoa" in claim_form
    claimed = producer_phone.post(claim_path, data={
        "full_name": "Trần Thị Hoa", "email": "hoa@antoi.vn", "phone": "",
        "password": "toi-ly-son-2026", "password_confirm": "toi-ly-son-2026",
        "csrf_token": _csrf(claim_form)})
    assert claimed.status_code == 200
    db.session.expire_all()
    owner = db.session.scalars(sa.select(User).where(User.email == "hoa@antoi.vn")).one()
    roles = {(m.user_id, m.role, m.ended_at is None) for m in
             db.session.scalars(sa.select(Membership).where(Membership.producer_id == producer.id))}
    assert (owner.id, MembershipRole.OWNER, True) in roles
    assert (consultant.id, MembershipRole.CONSULTANT, False) in roles

    # The consultant's access has ended, on the web and through its producer-limited token.
    assert consultant_phone.get(f"/account/producers/{producer.id}/handover").status_code in (403, 404)
    api = app.test_client()
    denied = api.patch(f"/api/v1/producers/{producer.id}", json={"phone": "0255 3999999"},
                       headers={"Authorization": f"Bearer {limited_token}"})
    assert denied.status_code == 401
    assert db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == consultant.id)).one().revoked_at

    # A replayed claim says it was used.
    again = app.test_client().get(claim_path)
    assert again.status_code == 410 and "đã được sử dụng" in again.get_data(as_text=True)

    # The codes never depended on the accounts.
    unit = run_label_url(run, run.first_index).removeprefix(BASE)
    scanned = scan(app.test_client(), unit)
    assert scanned.status_code == 200 and "Tem chính hãng" in scanned.get_data(as_text=True)


def test_handover_through_the_api(client, db):
    producer, consultant, limited_token, run = _setup()
    token = make_token(consultant)
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    issued = client.post(f"/api/v1/producers/{producer.id}/handovers", json={"days": 7}, headers=auth)
    assert issued.status_code in (200, 201), issued.get_json()
    body = issued.get_json()
    claim_url = body.get("claim_url") or body.get("url")
    assert claim_url and claim_url.startswith(f"{BASE}/claim/")
    secret = claim_url.rsplit("/", 1)[1]
    record = client.get(f"/api/v1/handovers/{body['id']}/record.pdf", headers=auth)
    assert record.status_code == 200 and record.data.startswith(b"%PDF")

    bad = client.post(f"/api/v1/claims/{secret}", json={"full_name": "Trần Thị Hoa", "email": "hoa@antoi.vn",
                                                         "password": "short", "password_confirm": "short"})
    assert bad.status_code == 422 and "password" in bad.get_json()["errors"]
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email == "hoa@antoi.vn")) == 0

    redeemed = client.post(f"/api/v1/claims/{secret}", json={
        "full_name": "Trần Thị Hoa", "email": "hoa@antoi.vn",
        "password": "toi-ly-son-2026", "password_confirm": "toi-ly-son-2026"})
    assert redeemed.status_code in (200, 201), redeemed.get_json()
    replay = client.post(f"/api/v1/claims/{secret}", json={
        "full_name": "Người khác", "email": "khac@example.vn",
        "password": "toi-ly-son-2026", "password_confirm": "toi-ly-son-2026"})
    assert replay.status_code == 410

    assert client.get(f"/api/v1/producers/{producer.id}/members", headers=auth).status_code in (403, 404)
    assert client.patch(f"/api/v1/producers/{producer.id}", json={"phone": "0255 3999999"},
                        headers={"Authorization": f"Bearer {limited_token}"}).status_code == 401
    unit = run_label_url(run, run.first_index).removeprefix(BASE)
    assert scan(client, unit).status_code == 200


def test_an_expired_or_cancelled_claim_says_so_and_changes_nothing(client, db):
    from traceability.accounts.services import cancel_handover, issue_handover
    from traceability.models_base import utcnow

    producer, consultant, _token, _run = _setup()
    handover, secret = issue_handover(consultant, producer, days=3)
    handover.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    users = db.session.scalar(sa.select(sa.func.count(User.id)))
    expired = client.get(f"/claim/{secret}")
    assert expired.status_code == 410 and "hết hạn" in expired.get_data(as_text=True)
    posted = client.post(f"/api/v1/claims/{secret}", json={
        "full_name": "A", "email": "a@example.vn", "password": "x" * 12, "password_confirm": "x" * 12})
    assert posted.status_code == 410
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == users

    second, secret2 = issue_handover(consultant, producer, days=3)
    cancel_handover(consultant, second)
    db.session.commit()
    cancelled = client.get(f"/claim/{secret2}")
    assert cancelled.status_code == 410 and "bị hủy" in cancelled.get_data(as_text=True)
    assert client.get("/claim/khong-co-ma-nay-1234567").status_code == 404


def test_the_consultant_sets_up_and_hands_over_through_the_api_alone(client, db):
    from tests.factories import make_region

    region = make_region(name="Huyện Lý Sơn")
    consultant = make_user("consultant", email="tuvan2@example.vn")
    officer = make_user("officer", regions=[region])
    token, officer_token = make_token(consultant), make_token(officer)
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}

    def call(method, path, body=None, headers=auth):
        return client.open(path, method=method, json=body, headers=headers)

    made = call("POST", "/api/v1/producers", {
        "name": "HTX Hành tím Lý Sơn", "kind": "cooperative", "address": "Thôn Đông, Lý Sơn",
        "region_id": region.id, "representative": "Võ Văn Hành", "gs1_company_prefix": "8939911"})
    assert made.status_code == 201, made.get_json()
    producer_id = made.get_json()["id"]
    product = call("POST", f"/api/v1/producers/{producer_id}/products",
                   {"group": "food", "name_vi": "Hành tím Lý Sơn"})
    assert product.status_code == 201, product.get_json()
    product_id = product.get_json()["id"]
    assert call("POST", f"/api/v1/products/{product_id}/gtin").status_code == 200
    batch = call("POST", f"/api/v1/products/{product_id}/batches", {"lot": "HANH-01"})
    assert batch.status_code == 201, batch.get_json()
    run = call("POST", f"/api/v1/batches/{batch.get_json()['id']}/label-runs", {"level": "unit", "count": 5})
    assert run.status_code == 201, run.get_json()
    unit_path = run.get_json()["first_url"].removeprefix(BASE)
    limited = call("POST", "/api/v1/tokens", {"name": "Chỉ HTX hành", "producer_id": producer_id})
    assert limited.status_code == 201
    limited_auth = {"Authorization": f"Bearer {limited.get_json()['token']}"}
    assert call("PATCH", f"/api/v1/producers/{producer_id}", {"phone": "0255 3000001"},
                headers=limited_auth).status_code == 200

    issued = call("POST", f"/api/v1/producers/{producer_id}/handovers", {"days": 10})
    assert issued.status_code == 201, issued.get_json()
    claim_url = issued.get_json()["claim_url"]
    record = call("GET", f"/api/v1/handovers/{issued.get_json()['id']}/record.pdf")
    text, codes = _pdf_text_and_codes(record.data)
    assert "HTX Hành tím Lý Sơn" in text and codes == [claim_url]
    secret = claim_url.rsplit("/", 1)[1]
    assert call("GET", f"/api/v1/claims/{secret}", headers={}).get_json()["producer_name"] == "HTX Hành tím Lý Sơn"
    status = call("GET", "/api/v1/handovers/status", headers={"Authorization": f"Bearer {officer_token}"})
    assert [(r["producer_name"], r["state"]) for r in status.get_json()] == [("HTX Hành tím Lý Sơn", "pending")]

    owner = call("POST", f"/api/v1/claims/{secret}", {
        "full_name": "Võ Văn Hành", "phone": "0987 654 321",
        "password": "hanh-tim-2026", "password_confirm": "hanh-tim-2026"}, headers={})
    assert owner.status_code == 201 and owner.get_json()["role"] == "producer"

    # The consultant is out: its own token is refused on the producer, its limited token is dead.
    assert call("PATCH", f"/api/v1/producers/{producer_id}", {"phone": "0255 3000002"}).status_code in (403, 404)
    assert call("POST", f"/api/v1/products/{product_id}/batches", {"lot": "HANH-02"}).status_code in (403, 404)
    assert call("POST", f"/api/v1/producers/{producer_id}/handovers", {"days": 10}).status_code in (403, 404, 409)
    assert call("GET", f"/api/v1/producers/{producer_id}/members").status_code in (403, 404)
    assert call("GET", "/api/v1/users/me", headers=limited_auth).status_code == 401
    states = {t["name"]: t["state"] for t in call("GET", "/api/v1/tokens").get_json()}
    assert states["Chỉ HTX hành"] == "revoked"
    status = call("GET", "/api/v1/handovers/status", headers={"Authorization": f"Bearer {officer_token}"})
    assert [r["state"] for r in status.get_json()] == ["handed_over"]

    # What the end of a real request does; the test client keeps one session across requests,
    # and on SQLite its pending token bookkeeping would lock out the scan log's writer.
    db.session.rollback()
    scanned = scan(client, unit_path)
    assert scanned.status_code == 200 and "Tem chính hãng" in scanned.get_data(as_text=True)
