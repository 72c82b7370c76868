"""Who may do what: every role × every action, on its own and on a foreign producer,
checked in the permission service and through at least one real endpoint per action."""
from __future__ import annotations

from datetime import date

import pytest

from tests.factories import make_certificate, make_producer, make_product, make_region, make_token, make_user
from traceability.accounts.models import Membership, MembershipRole
from traceability.accounts.permissions import Action, allowed_actions
from traceability.accounts.services import issue_handover
from traceability.extensions import db

A = Action
# role, how the user relates to "own", expected actions on own / on foreign
MATRIX = [
    ("admin", None, set(Action), set(Action)),
    ("officer", "region", {A.VIEW, A.EDIT, A.CERTIFY, A.HANDOVER}, set()),
    ("inspector", "region", {A.VIEW, A.INSPECT}, set()),
    ("consultant", "consultant", {A.VIEW, A.EDIT, A.HANDOVER}, set()),
    ("producer", "owner", {A.VIEW, A.EDIT, A.MANAGE_STAFF}, set()),
    ("producer", "staff", {A.VIEW, A.EDIT}, set()),
]


@pytest.fixture()
def world():
    own_region, foreign_region = make_region(name="Xã Nhà"), make_region(name="Xã Khác")
    own, foreign = make_producer(own_region), make_producer(foreign_region)
    return own_region, own, foreign


def _user(role: str, relation: str | None, own_region, own):
    if relation == "region":
        return make_user(role, regions=[own_region])
    if relation in ("consultant", "owner", "staff"):
        return make_user(role, producer=own, membership=relation)
    return make_user(role)


@pytest.mark.parametrize("role,relation,on_own,on_foreign", MATRIX,
                         ids=[f"{r}-{rel}" for r, rel, _, _ in MATRIX])
def test_allowed_actions_on_own_and_foreign_producers(world, role, relation, on_own, on_foreign):
    own_region, own, foreign = world
    user = _user(role, relation, own_region, own)
    assert allowed_actions(user, own) == on_own
    assert allowed_actions(user, foreign) == on_foreign


def test_an_officer_loses_edit_once_the_producer_is_handed_over(world):
    own_region, own, _foreign = world
    officer = make_user("officer", regions=[own_region])
    db.session.add(Membership(user_id=make_user("producer").id, producer_id=own.id,
                              role=MembershipRole.OWNER))
    db.session.flush()
    assert allowed_actions(officer, own) == {A.VIEW, A.CERTIFY, A.HANDOVER}


def test_nobody_anonymous_or_inactive_may_do_anything(world):
    own_region, own, _ = world
    inactive = make_user("officer", regions=[own_region], is_active=False)
    assert allowed_actions(None, own) == set()
    assert allowed_actions(inactive, own) == set()


def _call(client, token, method, path, body=None):
    return client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("role,relation", [("officer", "region"), ("inspector", "region"),
                                           ("consultant", "consultant"), ("producer", "owner"),
                                           ("producer", "staff")])
def test_no_endpoint_lets_a_user_act_on_a_foreign_producer(client, world, role, relation):
    own_region, own, foreign = world
    product = make_product(foreign, gtin="08939900001010")
    cert = make_certificate(product)
    user = _user(role, relation, own_region, own)
    token = make_token(user)
    foreign_handover, _secret = issue_handover(make_user("admin"), foreign, days=7)
    db.session.commit()
    calls = [
        ("GET", f"/api/v1/handovers/{foreign_handover.id}/record.pdf", None),                # HANDOVER
        ("POST", f"/api/v1/handovers/{foreign_handover.id}/cancel", None),                   # HANDOVER
        ("PATCH", f"/api/v1/producers/{foreign.id}", {"phone": "0255 3111111"}),                # EDIT
        ("POST", f"/api/v1/producers/{foreign.id}/products", {"group": "food", "name_vi": "Muối tinh"}),  # EDIT
        ("POST", f"/api/v1/producers/{foreign.id}/staff", {"email": "nv@example.vn"}),         # MANAGE_STAFF
        ("POST", f"/api/v1/producers/{foreign.id}/handovers", {"days": 7}),                    # HANDOVER
        ("POST", f"/api/v1/products/{product.id}/gtin", None),                                 # EDIT (codes)
        ("POST", f"/api/v1/oversight/certificates/{cert.id}/revocation",                       # CERTIFY
         {"decision_number": "1/QĐ", "revoked_on": date.today().isoformat(), "reason": "Vi phạm tiêu chí"}),
        ("POST", "/api/v1/oversight/inspections",                                              # INSPECT
         {"producer_id": foreign.id, "inspected_on": date.today().isoformat(), "outcome": "compliant"}),
        ("GET", f"/api/v1/producers/{foreign.id}/members", None),                              # VIEW
    ]
    for method, path, body in calls:
        response = _call(client, token, method, path, body)
        assert response.status_code in (403, 404), (method, path, response.status_code, response.get_json())
        assert response.get_json()["code"] in ("forbidden", "not_found")
    db.session.refresh(foreign)
    assert foreign.phone != "0255 3111111"
    assert cert.revoked_on is None
    db.session.refresh(foreign_handover)
    assert foreign_handover.cancelled_at is None


@pytest.mark.parametrize("role,relation", [("officer", "region"), ("inspector", "region"),
                                           ("consultant", "consultant"), ("producer", "owner"),
                                           ("producer", "staff")])
def test_no_page_lets_a_signed_in_user_reach_a_foreign_producer(client, world, role, relation):
    from tests.factories import login

    own_region, own, foreign = world
    user = _user(role, relation, own_region, own)
    foreign_handover, _secret = issue_handover(make_user("admin"), foreign, days=7)
    db.session.commit()
    login(client, user)
    for path in (f"/account/producers/{foreign.id}/handover", f"/account/producers/{foreign.id}/staff",
                 f"/account/producers/{foreign.id}/handover/{foreign_handover.id}/record.pdf"):
        assert client.get(path).status_code in (403, 404), path
    assert client.post(f"/account/producers/{foreign.id}/handover", data={"days": "7"}).status_code in (403, 404)
    assert client.post(f"/account/producers/{foreign.id}/staff",
                       data={"email": "nv@example.vn"}).status_code in (403, 404)


def test_only_those_who_may_hand_over_see_the_claim_link(client, world):
    from tests.factories import login

    own_region, own, _foreign = world
    handover, secret = issue_handover(make_user("admin"), own, days=7)
    inspector = make_user("inspector", regions=[own_region])
    officer = make_user("officer", regions=[own_region])
    db.session.commit()
    login(client, inspector)
    page = client.get(f"/account/producers/{own.id}/handover")
    assert page.status_code == 200 and secret not in page.get_data(as_text=True)
    assert client.get(f"/account/producers/{own.id}/handover/{handover.id}/record.pdf").status_code == 403
    login(client, officer)
    assert secret in client.get(f"/account/producers/{own.id}/handover").get_data(as_text=True)
