"""Sign-in lock-out, API tokens (shown once, stored hashed, revocable, expiring) and the
officers' view of handover progress."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.factories import make_producer, make_region, make_token, make_user
from traceability.accounts.models import ApiToken, Membership, MembershipRole
from traceability.accounts.services import hash_password, issue_handover
from traceability.extensions import db
from traceability.models_base import utcnow


def test_repeated_wrong_passwords_lock_the_sign_in_with_a_vietnamese_message(client):
    make_user("consultant", email="tuvan@example.vn", password_hash=hash_password("dung-mat-khau-1"))
    db.session.commit()
    codes = [client.post("/login", data={"login": "tuvan@example.vn", "password": "sai-mat-khau"}).status_code
             for _ in range(6)]
    assert codes[:5] == [400] * 5
    locked = client.post("/login", data={"login": "tuvan@example.vn", "password": "dung-mat-khau-1"})
    assert locked.status_code == 429
    assert "tạm khóa" in locked.get_data(as_text=True)
    assert locked.headers["Retry-After"]


def test_a_token_is_shown_once_stored_hashed_and_revocable(client):
    user = make_user("consultant")
    bootstrap = make_token(user)
    db.session.commit()
    auth = {"Authorization": f"Bearer {bootstrap}"}
    created = client.post("/api/v1/tokens", json={"name": "Máy tính văn phòng"}, headers=auth)
    assert created.status_code == 201
    secret = created.get_json()["token"]
    stored = str(db.session.execute(sa.select(ApiToken.__table__)).all())
    assert secret not in stored
    listed = client.get("/api/v1/tokens", headers=auth).get_json()
    assert all("token" not in row or not row["token"] for row in listed)
    mine = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/users/me", headers=mine).status_code == 200
    token_id = created.get_json()["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=auth).status_code == 200
    assert client.get("/api/v1/users/me", headers=mine).status_code == 401


def test_an_expired_token_is_refused(client):
    user = make_user("consultant")
    secret = make_token(user)
    db.session.scalars(sa.select(ApiToken)).one().expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_session_cookie_alone_cannot_change_anything_through_the_api(client):
    from tests.factories import login

    user = make_user("consultant")
    login(client, user)
    assert client.get("/api/v1/users/me").status_code == 200
    assert client.post("/api/v1/tokens", json={"name": "x"}).status_code == 401


def test_officers_see_handover_progress_in_their_regions_only(client):
    home, elsewhere = make_region(name="Xã Nhà"), make_region(name="Xã Xa")
    officer = make_user("officer", regions=[home])
    done, pending, untouched = (make_producer(home, name=n) for n in ("HTX Xong", "HTX Chờ", "HTX Chưa"))
    make_producer(elsewhere, name="HTX Ngoài vùng")
    db.session.add(Membership(user_id=make_user("producer").id, producer_id=done.id, role=MembershipRole.OWNER))
    consultant = make_user("consultant", producer=pending)
    handover, _secret = issue_handover(consultant, pending, days=10)
    handover.created_at = utcnow() - timedelta(days=4)
    token = make_token(officer)
    db.session.commit()
    rows = client.get("/api/v1/handovers/status?page_size=50",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    by_name = {row["producer_name"]: row for row in rows}
    assert set(by_name) == {"HTX Xong", "HTX Chờ", "HTX Chưa"}
    states = {name: row["state"] for name, row in by_name.items()}
    assert states == {"HTX Xong": "handed_over", "HTX Chờ": "pending", "HTX Chưa": "not_started"}
    assert by_name["HTX Chờ"]["pending_days"] == 4
    assert by_name["HTX Chưa"]["pending_days"] is None
    login_page = client.get("/officer/handovers")
    assert login_page.status_code in (302, 401)


def test_a_token_records_when_it_was_last_used_even_by_a_read(client):
    user = make_user("consultant")
    secret = make_token(user)
    db.session.commit()
    before = utcnow()
    assert client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    db.session.rollback()  # read what was committed, not this session's copy
    first = db.session.scalars(sa.select(ApiToken)).one().last_used_at
    assert first is not None and first >= before
    client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})
    db.session.rollback()
    assert db.session.scalars(sa.select(ApiToken)).one().last_used_at == first  # within the minute
