"""Bad input to the claim, the handover and the token endpoints gets a clear 4xx and changes
nothing; claim redemption is rate-limited; phone-only owners; the officers' page; demo logins."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.factories import login, make_producer, make_region, make_token, make_user
from traceability.accounts.models import ApiToken, Handover, Membership, MembershipRole, User
from traceability.accounts.services import issue_handover
from traceability.extensions import db
from traceability.registry.models import Producer

GOOD = "toi-ly-son-2026"


def _snapshot() -> tuple:
    count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    open_claims = db.session.scalar(sa.select(sa.func.count(Handover.id)).where(Handover.redeemed_at.is_(None)))
    return count(User), count(Membership), count(Handover), open_claims, count(ApiToken), count(Producer)


@pytest.fixture()
def claim():
    producer = make_producer(name="HTX Nước mắm Sa Huỳnh")
    consultant = make_user("consultant", producer=producer)
    _handover, secret = issue_handover(consultant, producer, days=7)
    db.session.commit()
    return producer, consultant, secret


@pytest.mark.parametrize("fields,named", [
    ({"password": "ngan", "password_confirm": "ngan"}, "password"),
    ({"password": GOOD, "password_confirm": GOOD + "x"}, "password_confirm"),
    ({"email": "khong-phai-email"}, "email"),
    ({"email": "", "phone": ""}, "email"),
    ({"phone": "12ab"}, "phone"),
    ({"full_name": ""}, "full_name"),
])
def test_the_claim_form_refuses_bad_credentials_in_vietnamese_and_changes_nothing(client, claim, fields, named):
    _producer, _consultant, secret = claim
    before = _snapshot()
    data = {"full_name": "Phạm Văn Sa", "email": "sa@nuocmam.vn", "phone": "",
            "password": GOOD, "password_confirm": GOOD} | fields
    response = client.post(f"/claim/{secret}", data=data)
    assert 400 <= response.status_code < 500
    html = response.get_data(as_text=True)
    assert 'class="error"' in html and "Nhận bàn giao" in html
    assert _snapshot() == before
    api = client.post(f"/api/v1/claims/{secret}", json=data)
    assert api.status_code in (400, 409, 422) and named in api.get_json()["errors"], api.get_json()
    assert _snapshot() == before


@pytest.mark.parametrize("body,named", [
    ({"full_name": 123, "email": "a@b.vn", "password": GOOD, "password_confirm": GOOD}, "full_name"),
    ({"full_name": "A", "email": ["a@b.vn"], "password": GOOD, "password_confirm": GOOD}, "email"),
    ({"full_name": "A", "email": "a@b.vn", "password": 1234567890123, "password_confirm": GOOD}, "password"),
    ({"full_name": "A", "email": "a@b.vn", "password": GOOD}, "password_confirm"),
    ({"full_name": "A", "email": "a@b.vn", "password": "x" * 300, "password_confirm": "x" * 300}, "password"),
])
def test_a_claim_with_wrong_types_gets_422_naming_the_field(client, claim, body, named):
    _producer, _consultant, secret = claim
    before = _snapshot()
    response = client.post(f"/api/v1/claims/{secret}", json=body)
    assert response.status_code == 422 and named in response.get_json()["errors"], response.get_json()
    assert _snapshot() == before


def test_an_email_already_taken_keeps_the_claim_open(client, claim):
    producer, consultant, secret = claim
    make_user("producer", email="da-co@example.vn")
    db.session.commit()
    before = _snapshot()
    taken = client.post(f"/api/v1/claims/{secret}", json={
        "full_name": "A", "email": "da-co@example.vn", "password": GOOD, "password_confirm": GOOD})
    assert taken.status_code == 409 and "email" in taken.get_json()["errors"]
    assert _snapshot() == before
    assert client.get(f"/api/v1/claims/{secret}").status_code == 200
    assert client.post(f"/api/v1/claims/{secret}", json={
        "full_name": "A", "email": "moi@example.vn", "password": GOOD, "password_confirm": GOOD}).status_code == 201


def test_an_unknown_claim_is_404_on_the_api_and_the_page(client):
    assert client.get("/api/v1/claims/khong-co-ma-nay-1234567").status_code == 404
    assert client.post("/api/v1/claims/khong-co-ma-nay-1234567", json={
        "full_name": "A", "email": "a@b.vn", "password": GOOD, "password_confirm": GOOD}).status_code == 404
    assert client.post("/claim/khong-co-ma-nay-1234567", data={}).status_code == 404


def test_a_phone_only_representative_owns_the_producer_and_signs_in_with_the_phone(client, claim):
    producer, _consultant, secret = claim
    done = client.post(f"/claim/{secret}", data={"full_name": "Phạm Văn Sa", "email": "", "phone": "0912 345 678",
                                                 "password": GOOD, "password_confirm": GOOD})
    assert done.status_code == 200 and "0912345678" in done.get_data(as_text=True)
    owner = db.session.scalars(sa.select(User).where(User.phone == "0912345678")).one()
    assert owner.email.endswith(".invalid")  # reserved: never a deliverable address, never NULL
    assert db.session.scalars(sa.select(Membership).where(
        Membership.user_id == owner.id, Membership.producer_id == producer.id)).one().role == MembershipRole.OWNER
    client.post("/logout")
    fresh = client.application.test_client()
    signed_in = fresh.post("/login", data={"login": "0912.345.678", "password": GOOD})
    assert signed_in.status_code == 302
    account = fresh.get("/account").get_data(as_text=True)
    assert "0912345678" in account and ".invalid" not in account


def test_claim_redemption_is_rate_limited_with_a_vietnamese_message(client, claim):
    _producer, _consultant, secret = claim
    before = _snapshot()
    body = {"full_name": "A", "email": "a@b.vn", "password": "ngan", "password_confirm": "ngan"}
    codes = [client.post(f"/api/v1/claims/{secret}", json=body).status_code for _ in range(10)]
    assert codes == [422] * 10
    limited = client.post(f"/api/v1/claims/{secret}", json=body | {"password": GOOD, "password_confirm": GOOD})
    assert limited.status_code == 429 and "thử lại" in limited.get_json()["message"]
    page = client.post(f"/claim/{secret}", data=body)
    assert page.status_code == 429 and "thử lại" in page.get_data(as_text=True)
    assert _snapshot() == before


@pytest.mark.parametrize("days", ["abc", 0, 91, 2**40, None, [7]])
def test_a_handover_with_bad_days_gets_422(client, days):
    producer = make_producer()
    token = make_token(make_user("consultant", producer=producer))
    db.session.commit()
    before = _snapshot()
    response = client.post(f"/api/v1/producers/{producer.id}/handovers", json={"days": days},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422 and "days" in response.get_json()["errors"]
    assert _snapshot() == before


@pytest.mark.parametrize("path,body,named", [
    ("/api/v1/tokens", {"name": "x", "producer_id": 2**40}, "producer_id"),
    ("/api/v1/tokens", {"name": "x", "producer_id": "mot"}, "producer_id"),
    ("/api/v1/tokens", {"name": "x", "expires_in_days": -1}, "expires_in_days"),
    ("/api/v1/tokens", {"name": ""}, "name"),
    ("/api/v1/producers", {"name": "HTX Mới", "kind": "cooperative", "address": "Xã A", "region_id": 2**40},
     "region_id"),
    ("/api/v1/producers", {"name": "HTX Mới", "kind": "cooperative", "address": "Xã A", "region_id": "x"},
     "region_id"),
])
def test_ids_and_numbers_out_of_range_get_422(client, path, body, named):
    token = make_token(make_user("admin"))
    db.session.commit()
    before = _snapshot()
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422 and named in response.get_json()["errors"], response.get_json()
    assert _snapshot() == before


def test_the_officers_page_shows_pending_age_and_only_their_regions(client):
    home, elsewhere = make_region(name="Xã Nhà"), make_region(name="Xã Xa")
    officer = make_user("officer", regions=[home])
    pending = make_producer(home, name="HTX Chờ Nhận")
    make_producer(home, name="HTX Chưa Bắt Đầu")
    make_producer(elsewhere, name="HTX Ngoài Vùng")
    issue_handover(make_user("consultant", producer=pending), pending, days=10)
    db.session.commit()
    login(client, officer)
    html = client.get("/officer/handovers").get_data(as_text=True)
    assert "HTX Chờ Nhận" in html and "HTX Chưa Bắt Đầu" in html and "HTX Ngoài Vùng" not in html
    assert client.get("/officer/handovers?state=khong-co").status_code == 400
    assert client.get(f"/officer/handovers?page={10**20}").status_code == 400
    consultant = make_user("consultant")
    db.session.commit()
    login(client, consultant)
    assert client.get("/officer/handovers").status_code in (403, 404)


def test_demo_accounts_load_once_with_the_demo_and_the_command_prints_the_logins(app):
    from traceability.accounts.demo import load_demo_accounts
    from traceability.demo import load_demo

    load_demo()
    db.session.commit()
    before = _snapshot()
    assert before[0] >= 5 and before[3] >= 1
    assert load_demo_accounts() == {"users": 0, "memberships": 0, "handovers": 0}
    db.session.commit()
    assert _snapshot() == before
    output = app.test_cli_runner().invoke(args=["demo-accounts"]).output
    assert "admin@demo.ocop.example" in output and "tuvan@demo.ocop.example" in output
    assert "/claim/" in output
    assert _snapshot() == before
