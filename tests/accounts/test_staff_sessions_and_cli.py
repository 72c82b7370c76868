"""Owners manage staff; sessions (sign-out, inactive users, 401 vs redirect, rehash); tokens
limited to one producer stay inside it; the header loads no user for anonymous pages; admins
create users from the command line."""
from __future__ import annotations

import sqlalchemy as sa
from argon2 import PasswordHasher

from tests.factories import login, make_producer, make_token, make_user
from traceability.accounts import services
from traceability.accounts.models import ApiToken, Membership, MembershipRole, Role, User
from traceability.extensions import db

PASSWORD = "mat-khau-du-dai-2026"


def _accept(client, invite_url: str, password: str = PASSWORD, **extra):
    """The invitee, on a phone of their own (a client with its own cookies)."""
    path = invite_url.split("trace.example.vn", 1)[1]
    return client.application.test_client().post(path, data={"full_name": "Phạm Văn Nhân", "password": password,
                                   "password_confirm": password, **extra})


def test_the_owner_invites_staff_who_join_by_the_link_and_whose_tokens_stop_when_removed(client):
    producer = make_producer()
    owner = make_user("producer", producer=producer)
    owner_token = make_token(owner)
    db.session.commit()
    auth = {"Authorization": f"Bearer {owner_token}"}

    invited = client.post(f"/api/v1/producers/{producer.id}/staff", headers=auth, json={
        "email": "NhanVien@Example.vn", "full_name": "Phạm Văn Nhân"})
    assert invited.status_code == 201, invited.get_json()
    body = invited.get_json()
    assert body["email"] == "nhanvien@example.vn" and body["state"] == "open"
    # Nothing happens until the invitee acts: no account, no membership.
    assert db.session.scalar(sa.select(User).where(User.email == "nhanvien@example.vn")) is None
    listed = client.get(f"/api/v1/producers/{producer.id}/staff/invitations", headers=auth).get_json()
    assert [i["id"] for i in listed] == [body["id"]] and "invite_url" not in listed[0]
    joined = _accept(client, body["invite_url"])
    assert joined.status_code == 302
    staff = db.session.scalars(sa.select(User).where(User.email == "nhanvien@example.vn")).one()
    assert staff.role == Role.PRODUCER
    assert _accept(client, body["invite_url"]).status_code == 410   # one time only
    staff_token = make_token(staff, producer=producer)
    db.session.commit()
    staff_auth = {"Authorization": f"Bearer {staff_token}"}
    assert client.patch(f"/api/v1/producers/{producer.id}", headers=staff_auth,
                        json={"representative": "Phạm Văn Nhân"}).status_code == 200
    # Staff may edit but not manage other staff.
    assert client.post(f"/api/v1/producers/{producer.id}/staff", headers=staff_auth,
                       json={"email": "khac@example.vn"}).status_code == 403

    members = client.get(f"/api/v1/producers/{producer.id}/members", headers=auth).get_json()
    assert {m["role"] for m in members} == {"owner", "staff"}
    removed = client.delete(f"/api/v1/producers/{producer.id}/staff/{staff.id}", headers=auth)
    assert removed.status_code == 200
    assert client.get(f"/api/v1/producers/{producer.id}/members", headers=staff_auth).status_code == 401
    db.session.expire_all()
    assert db.session.get(ApiToken, db.session.scalar(
        sa.select(ApiToken.id).where(ApiToken.user_id == staff.id))).revoked_at is not None


def test_an_invitation_says_nothing_about_whose_address_it_is(client):
    """An official's, another producer's owner's and an unused address get the same answer."""
    producer, other = make_producer(), make_producer()
    owner = make_user("producer", producer=producer)
    make_user("officer", email="canbo@example.vn")
    make_user("producer", producer=other, email="chu-khac@example.vn")
    token = make_token(owner)
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    answers = []
    for email in ("canbo@example.vn", "chu-khac@example.vn", "chua-co@example.vn"):
        response = client.post(f"/api/v1/producers/{producer.id}/staff", headers=auth, json={"email": email})
        body = response.get_json()
        answers.append((response.status_code, sorted(body), body["state"]))
    assert answers[0] == answers[1] == answers[2] == (201, sorted(
        ["id", "producer_id", "email", "full_name", "created_at", "expires_at", "state", "invite_url"]), "open")
    assert db.session.scalar(sa.select(sa.func.count(Membership.id)).where(
        Membership.producer_id == producer.id, Membership.role == MembershipRole.STAFF)) == 0


def test_an_existing_account_joins_only_with_its_own_password(client):
    producer, other = make_producer(), make_producer()
    owner = make_user("producer", producer=producer)
    someone = make_user("producer", producer=other, email="chu-khac@example.vn",
                        password_hash=services.hash_password(PASSWORD))
    token = make_token(owner)
    db.session.commit()
    url = client.post(f"/api/v1/producers/{producer.id}/staff", json={"email": "chu-khac@example.vn"},
                      headers={"Authorization": f"Bearer {token}"}).get_json()["invite_url"]
    guessed = _accept(client, url, password="mat-khau-doan-mo-2026")
    assert guessed.status_code == 422
    assert "không đúng" in guessed.get_data(as_text=True)
    assert _accept(client, url).status_code == 302
    assert db.session.scalar(sa.select(Membership.role).where(
        Membership.user_id == someone.id, Membership.producer_id == producer.id)) == MembershipRole.STAFF


def test_an_official_cannot_join_a_producer_even_with_the_right_password(client):
    producer = make_producer()
    owner = make_user("producer", producer=producer)
    make_user("officer", email="canbo@example.vn", password_hash=services.hash_password(PASSWORD))
    token = make_token(owner)
    db.session.commit()
    url = client.post(f"/api/v1/producers/{producer.id}/staff", json={"email": "canbo@example.vn"},
                      headers={"Authorization": f"Bearer {token}"}).get_json()["invite_url"]
    refused = _accept(client, url)
    assert refused.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count(Membership.id)).where(
        Membership.producer_id == producer.id, Membership.role == MembershipRole.STAFF)) == 0


def test_the_staff_page_invites_shows_the_link_once_and_cancels(client):
    producer = make_producer()
    owner = make_user("producer", producer=producer)
    login(client, owner)
    page = client.get(f"/account/producers/{producer.id}/staff")
    assert page.status_code == 200 and "Mời nhân viên" in page.get_data(as_text=True)
    posted = client.post(f"/account/producers/{producer.id}/staff", data={
        "email": "nv2@example.vn", "full_name": "Nhân viên Hai"})
    text = posted.get_data(as_text=True)
    assert posted.status_code == 200 and "/invite/" in text and "nv2@example.vn" in text
    again = client.get(f"/account/producers/{producer.id}/staff").get_data(as_text=True)
    assert "/invite/" not in again and "Lời mời đang chờ" in again
    from traceability.accounts.models import StaffInvitation

    invitation = db.session.scalar(sa.select(StaffInvitation))
    cancelled = client.post(f"/account/producers/{producer.id}/staff/invitations/{invitation.id}/cancel")
    assert cancelled.status_code == 302
    db.session.refresh(invitation)
    assert invitation.cancelled_at is not None


def test_a_producer_limited_token_cannot_reach_another_producer_nor_mint_tokens(client):
    mine, other = make_producer(), make_producer()
    consultant = make_user("consultant", producer=mine)
    db.session.add(Membership(user_id=consultant.id, producer_id=other.id, role=MembershipRole.CONSULTANT))
    limited = make_token(consultant, producer=mine)
    db.session.commit()
    auth = {"Authorization": f"Bearer {limited}"}
    assert client.patch(f"/api/v1/producers/{mine.id}", json={"representative": "A"},
                        headers=auth).status_code == 200
    assert client.patch(f"/api/v1/producers/{other.id}", json={"representative": "B"},
                        headers=auth).status_code == 403
    tokens = db.session.scalar(sa.select(sa.func.count(ApiToken.id)))
    assert client.post("/api/v1/tokens", json={"name": "leo thang"}, headers=auth).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == tokens


def test_sign_out_needs_a_post_and_ends_the_session(client):
    user = make_user("consultant", password_hash=services.hash_password(PASSWORD))
    login(client, user)
    assert client.get("/account").status_code == 200
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/account").status_code == 302


def test_sign_out_without_the_csrf_token_is_refused(app, client, monkeypatch):
    user = make_user("consultant")
    login(client, user)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200


def test_an_inactive_user_cannot_sign_in_and_loses_its_session(client):
    user = make_user("consultant", email="khoa@example.vn", password_hash=services.hash_password(PASSWORD))
    login(client, user)
    user.is_active = False
    db.session.commit()
    assert client.get("/account").status_code == 302
    refused = client.post("/login", data={"login": "khoa@example.vn", "password": PASSWORD})
    assert refused.status_code == 403 and "bị khóa" in refused.get_data(as_text=True)


def test_pages_redirect_to_sign_in_and_the_api_answers_401_json(client):
    page = client.get("/account/tokens")
    assert page.status_code == 302 and "/login?next=" in page.headers["Location"]
    api = client.get("/api/v1/tokens")
    assert api.status_code == 401 and api.get_json()["code"] == "unauthorized"


def test_a_hash_made_with_old_parameters_is_upgraded_at_sign_in(client):
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    user = make_user("consultant", email="cu@example.vn", password_hash=old)
    db.session.commit()
    assert client.post("/login", data={"login": "cu@example.vn", "password": PASSWORD}).status_code == 302
    db.session.refresh(user)
    assert user.password_hash != old and user.password_hash.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(user.password_hash)


def test_the_header_loads_no_user_for_anonymous_pages(client):
    """The sign-in link in the header costs no query: anonymous pages never read the users table."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        home = client.get("/")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert home.status_code == 200 and "Đăng nhập" in home.get_data(as_text=True)
    assert statements and not [s for s in statements if "users" in s]


def test_the_header_shows_the_signed_in_user_and_a_sign_out_button(client):
    user = make_user("consultant", full_name="Lê Minh Tư Vấn")
    login(client, user)
    html = client.get("/").get_data(as_text=True)
    assert "Lê Minh Tư Vấn" in html and 'action="/logout"' in html


def test_users_create_command_prompts_for_the_password(app):
    from tests.factories import make_region

    make_region(code="51")
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--role", "officer", "--email", "CanBo@Example.vn", "--region", "51"],
        input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalars(sa.select(User).where(User.email == "canbo@example.vn")).one()
    assert user.role == Role.OFFICER and [r.code for r in user.regions] == ["51"]
    assert services.authenticate("canbo@example.vn", PASSWORD) is user

    short = app.test_cli_runner().invoke(
        args=["users", "create", "--role", "admin", "--email", "x@example.vn"], input="ngan\nngan\n")
    assert short.exit_code != 0 and "ít nhất" in short.output
    assert db.session.scalar(sa.select(User.id).where(User.email == "x@example.vn")) is None


def test_guessing_an_accounts_password_through_an_invitation_locks_like_the_sign_in(client):
    producer, other = make_producer(), make_producer()
    owner = make_user("producer", producer=producer)
    make_user("producer", producer=other, email="chu-khac@example.vn",
              password_hash=services.hash_password(PASSWORD))
    token = make_token(owner)
    db.session.commit()
    url = client.post(f"/api/v1/producers/{producer.id}/staff", json={"email": "chu-khac@example.vn"},
                      headers={"Authorization": f"Bearer {token}"}).get_json()["invite_url"]
    codes = [_accept(client, url, password=f"doan-mat-khau-{n:04d}").status_code for n in range(5)]
    assert codes == [422] * 5
    assert _accept(client, url).status_code == 429   # even the right password waits now
