"""What every page and API call shares (traceability/web.py): the sign-in and role guard, a
service's refusal on a form, and one commit per request."""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Blueprint, Flask, redirect, request

from tests.conftest import make_test_app
from tests.factories import login, make_producer, make_region, make_user
from traceability.errors import Conflict, field_error
from traceability.extensions import db
from traceability.registry.models import Region, RegionLevel
from traceability.web import form_error

ROLES = ("admin", "officer", "inspector", "consultant", "producer")
EVERYONE = frozenset(ROLES)
STAFF_ONLY = "Trang này dành cho cán bộ quản lý OCOP và kiểm tra viên."
# page -> the roles it opens for; every other signed-in role gets 403, anonymous visitors the
# sign-in page. The same answers as before the three guards became one.
PAGES = {
    "/account": EVERYONE,
    "/account/tokens": EVERYONE,
    "/producer/": EVERYONE,
    "/producer/batches": EVERYONE,
    "/officer/": {"admin", "officer"},
    "/officer/certificates": {"admin", "officer"},
    "/officer/imports": {"admin", "officer"},
    "/inspector/": {"admin", "officer", "inspector"},
    "/inspector/products": {"admin", "officer", "inspector"},
    "/inspector/verify": {"admin", "officer", "inspector"},
    "/officer/handovers": {"admin", "officer"},  # signed in by the guard, the role by the service
}


@pytest.fixture()
def people() -> dict[str, object]:
    region = make_region()
    producer = make_producer(region)
    users = {
        "admin": make_user("admin"),
        "officer": make_user("officer", regions=[region]),
        "inspector": make_user("inspector", regions=[region]),
        "consultant": make_user("consultant", producer=producer),
        "producer": make_user("producer", producer=producer),
    }
    db.session.commit()
    return users


@pytest.mark.parametrize("page", sorted(PAGES))
def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client, page):
    response = client.get(page)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=" + quote(page)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_its_pages(client, people, role):
    login(client, people[role])
    answers = {page: client.get(page) for page in PAGES}
    assert {page: r.status_code for page, r in answers.items()} == {
        page: 200 if role in roles else 403 for page, roles in PAGES.items()}
    for page, response in answers.items():
        if response.status_code == 403 and page.startswith(("/officer/", "/inspector/")) \
                and page != "/officer/handovers":
            assert STAFF_ONLY in response.get_data(as_text=True)


def test_the_api_still_answers_an_anonymous_caller_with_401_json(client):
    response = client.get("/api/v1/users/me")
    assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"


# --- a refusal on the form ----------------------------------------------------------------------

def test_field_errors_go_under_their_fields_and_the_rest_on_top(app):
    from traceability.accounts.forms import TokenForm

    with app.test_request_context("/", method="POST"):
        form = TokenForm()
        form_error(form, Conflict("Tên đã dùng.", {"name": ["Tên đã dùng."], "other": ["Khác."]}))
        assert (form.name.errors, form.form_errors) == (["Tên đã dùng."], ["Khác."])
        form = TokenForm()
        form_error(form, field_error("nowhere", "Không có ô này."))
        assert form.form_errors == ["Không có ô này."]
        form = TokenForm()
        form_error(form, Conflict("Trùng."))
        assert form.form_errors == ["Trùng."]


def test_a_refusal_rolls_back_what_the_service_had_written(app):
    from traceability.accounts.forms import TokenForm

    with app.test_request_context("/", method="POST"):
        make_region(code="HALF-DONE")
        form_error(TokenForm(), Conflict("Trùng."))
        assert db.session.scalar(sa.select(Region).where(Region.code == "HALF-DONE")) is None


# --- one commit per request ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def probe_app(database_url: str) -> Iterator[Flask]:
    """The real application plus one route that writes a row, then ends as the URL says."""
    app = make_test_app(database_url, PROPAGATE_EXCEPTIONS=False)
    probe = Blueprint("probe", __name__)

    @probe.route("/probe/<ending>", methods=["GET", "POST", "PUT", "DELETE"])
    def write_then(ending: str):
        db.session.add(Region(code=f"{request.method}-{ending}", name="Thử", level=RegionLevel.COMMUNE))
        db.session.flush()
        if ending == "refused":
            raise Conflict("Không được.")
        if ending == "error-answer":
            return "Không được.", 422
        if ending == "crash":
            raise RuntimeError("an unexpected failure after the flush")
        if ending == "redirect":
            return redirect("/")
        if ending == "beyond-range":  # refused by the database only when the commit flushes
            db.session.add(Region(id=2**70, code="TOO-BIG", name="Thử", level=RegionLevel.COMMUNE))
        return "ok", 201

    app.register_blueprint(probe)
    yield app
    with app.app_context():
        db.engine.dispose()


def _committed_codes() -> set[str]:
    """What another connection sees: only committed rows."""
    with db.engine.connect() as connection:
        return set(connection.scalars(sa.select(Region.code)))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("ending,status", [("ok", 201), ("redirect", 302)])
def test_a_state_changing_request_that_succeeds_is_committed_once(probe_app, method, ending, status):
    response = probe_app.test_client().open(f"/probe/{ending}", method=method)
    assert response.status_code == status
    assert f"{method}-{ending}" in _committed_codes()


@pytest.mark.parametrize("ending,status", [("refused", 409), ("error-answer", 422), ("crash", 500)])
def test_a_failing_request_leaves_nothing_of_what_it_flushed(probe_app, ending, status):
    response = probe_app.test_client().post(f"/probe/{ending}")
    assert response.status_code == status
    assert _committed_codes() == set()


def test_a_refusal_at_the_commit_gets_its_error_answer_and_keeps_nothing(probe_app):
    response = probe_app.test_client().post("/probe/beyond-range", headers={"Accept": "application/json"})
    assert response.status_code == 422 and response.get_json()["code"] == "validation_failed"
    assert _committed_codes() == set()


def test_a_safe_request_commits_nothing(probe_app):
    assert probe_app.test_client().get("/probe/ok").status_code == 201
    assert _committed_codes() == set()


def test_a_failing_api_call_through_the_shared_session_leaves_nothing(client, people):
    """The real app, with the test sharing the request's session: a claim redeemed with an
    e-mail already in use has marked the claim redeemed before the refusal."""
    from traceability.accounts.models import Handover, User
    from traceability.accounts.services import issue_handover

    producer = make_producer()
    _handover, secret = issue_handover(people["admin"], producer, days=7)
    db.session.commit()
    users = db.session.scalar(sa.select(sa.func.count(User.id)))
    response = client.post(f"/api/v1/claims/{secret}", json={
        "full_name": "Chủ mới", "email": people["producer"].email,
        "password": "toi-ly-son-2026", "password_confirm": "toi-ly-son-2026"})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.scalar(sa.select(Handover.redeemed_at)) is None
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == users
