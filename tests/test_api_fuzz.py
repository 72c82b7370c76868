"""Every operation of the OpenAPI document, fed generated input by schemathesis (its coverage
phase and its fuzzing, valid and invalid data) and checked with all its checks: no server
error, and every answer's status, content type, headers and body are what the document says.

The callers are anonymous, an admin, an officer of the data set's commune, the consultant
setting up one producer and the owner of another; each case is sent by one of them. Ids in
paths now and then name objects of a small data set, so that answers other than 404 are seen.

Checks that need a stateful run (use_after_free, ensure_resource_availability) or configured
identities (object_level_authorization) pass without effect here; the access matrices in the
domain tests cover object-level access. positive_data_acceptance is configured below.
"""
from __future__ import annotations

import zlib
from datetime import date, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NOT_SET

from tests.factories import (
    make_batch,
    make_certificate,
    make_producer,
    make_product,
    make_region,
    make_token,
    make_user,
)

CALLERS = ("anonymous", "admin", "officer", "consultant", "owner")


def _data_set() -> dict[str, Any]:
    """A commune with a producer handed over to its owner (with a staff member and an open
    invitation) and one a consultant is setting up (with an open handover claim); their
    products, certificates, batches, a diary step, label runs, inspections (one proposing a
    revocation), counterfeit reports (one on an unknown product) and a failed expiry notice.
    Returns each caller's token and, by path parameter name, the values that name something."""
    from traceability.accounts.auth import token_digest
    from traceability.accounts.invitations import invite_staff
    from traceability.accounts.models import ApiToken
    from traceability.accounts.services import issue_handover
    from traceability.batches.services import record_event
    from traceability.codes.models import LabelLevel
    from traceability.codes.services import allocate_gtin, create_label_run
    from traceability.extensions import db
    from traceability.oversight.models import ExpiryNotice, NoticeStatus
    from traceability.oversight.services import create_inspection
    from traceability.resolver.models import CounterfeitReport, ScanVerdict

    region = make_region(name="Xã Thử Fuzz")
    owned = make_producer(region, gs1_company_prefix="8930001")
    set_up = make_producer(region)
    elsewhere = make_producer(make_region())
    users = {"admin": make_user("admin"), "officer": make_user("officer", regions=[region]),
             "consultant": make_user("consultant", producer=set_up),
             "owner": make_user("producer", producer=owned)}
    staff = make_user("producer", producer=owned, membership="staff")
    product = make_product(owned)
    allocate_gtin(users["admin"], product)
    products = [product, make_product(owned), make_product(set_up), make_product(elsewhere)]
    certificates = [make_certificate(product), make_certificate(products[2])]
    batches = [make_batch(product), make_batch(products[2])]
    event = record_event(users["owner"], batches[0], {"kind": "harvest", "notes": "Thu hoạch"})
    runs = [create_label_run(users["admin"], batches[0], level=LabelLevel.LOT),
            create_label_run(users["admin"], batches[0], level=LabelLevel.UNIT, count=3)]
    handover, claim = issue_handover(users["consultant"], set_up)
    invitation, _link = invite_staff(users["owner"], owned, {"email": "moi@example.vn"})
    yesterday = date.today() - timedelta(days=1)
    inspections = [
        create_inspection(users["admin"], {"product_id": product.id, "outcome": "compliant",
                                           "inspected_on": yesterday}),
        create_inspection(users["admin"], {"product_id": product.id, "outcome": "violation",
                                           "propose_revocation": True, "inspected_on": yesterday})]
    reports = [CounterfeitReport(code="https://trace.example.vn/01/08930001000015/10/L1",
                                 product_id=product.id, verdict=ScanVerdict.FORGED),
               CounterfeitReport(code="https://trace.example.vn/01/08930009999995",
                                 verdict=ScanVerdict.UNKNOWN, message="Không có trên bao bì")]
    # A failed notice of a producer without an e-mail: sending it again never reaches SMTP.
    notice = ExpiryNotice(certificate_id=certificates[0].id, due_on=date.today(),
                          status=NoticeStatus.FAILED, attempts=3)
    db.session.add_all([*reports, notice])
    db.session.flush()
    tokens = {name: make_token(user) for name, user in users.items()}
    # Tokens that may be revoked without silencing a caller.
    spare = [token_digest(make_token(user)) for user in users.values()]
    spare_ids = list(db.session.scalars(db.select(ApiToken.id).where(ApiToken.token_hash.in_(spare))
                                        .order_by(ApiToken.id)))
    known = {
        "region_id": [region.id], "producer_id": [owned.id, set_up.id, elsewhere.id],
        "product_id": [p.id for p in products], "certificate_id": [c.id for c in certificates],
        "batch_id": [b.id for b in batches], "event_id": [event.id], "run_id": [r.id for r in runs],
        "handover_id": [handover.id], "inspection_id": [i.id for i in inspections],
        "user_id": [staff.id, users["consultant"].id, users["owner"].id],
        "invitation_id": [invitation.id], "report_id": [r.id for r in reports],
        "notice_id": [notice.id],
        "token_id": spare_ids, "secret": [claim],
    }
    return {"tokens": tokens, "known": known}


class _CurrentApp:
    """The WSGI app that the generated requests go to. schemathesis binds an operation to its
    app when the tests are collected, before the session's app and database exist; the
    `fuzz_data` fixture points this at them."""

    def __init__(self) -> None:
        from tests.conftest import make_test_app

        # Until then, an app without a database, enough to answer the OpenAPI document.
        self.target = make_test_app("sqlite://")

    def __call__(self, environ: dict, start_response: Any) -> Any:
        return self.target(environ, start_response)


CONFIG = SchemathesisConfig.from_dict({
    "seed": 12,
    "generation": {"database": "none", "with-security-parameters": False},
    "checks": {
        # By design a request can have the documented shape and still break a rule that the
        # document cannot state: a GTIN's check digit, a region or product that must exist,
        # a score inside its stars' band, an image that must decode, a date not in the future.
        # Those answer 422 naming the field; a used handover claim answers 410.
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "410", "422", "429"]},
    },
})
_APP = _CurrentApp()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _APP, config=CONFIG)

# What names something in the current test's data set, by path parameter; read as cases are drawn.
_KNOWN: dict[str, list[Any]] = {}


@pytest.fixture
def fuzz_data(app, db) -> dict[str, Any]:
    data = _data_set()
    db.session.commit()
    _APP.target = app
    _KNOWN.clear()
    _KNOWN.update(data["known"])
    return data


def _replaceable(name: str, value: Any) -> bool:
    """A valid value of the parameter (an id, or a claim's secret): replacing it with another
    keeps a valid case valid and an invalid case invalid (its mutation is elsewhere)."""
    if name == "secret":
        return isinstance(value, str)
    return type(value) is int and 0 <= value < 2**31


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    names = [name for name, value in (path_parameters or {}).items()
             if name in _KNOWN and _replaceable(name, value)]
    if not names:
        return st.just(path_parameters)
    drawn = {name: st.one_of(st.just(path_parameters[name]), st.integers(0, 3).map(
        lambda i, name=name: _KNOWN[name][i % len(_KNOWN[name])])) for name in names}
    return st.fixed_dictionaries(drawn).map(lambda known: {**path_parameters, **known})


def _caller(case: Any) -> str:
    """The caller who sends a case: the same one whenever the case is replayed, and in every
    run (a known value counts by its place in the data set: a claim's secret is random)."""
    path = {name: ("known", _KNOWN[name].index(value)) if value in _KNOWN.get(name, ()) else value
            for name, value in (case.path_parameters or {}).items()}
    body = None if case.body is NOT_SET else case.body  # NOT_SET's repr is its address
    drawn = repr((case.method, path, case.query, body, case.media_type))
    return CALLERS[zlib.crc32(drawn.encode("utf-8", "surrogatepass")) % len(CALLERS)]


def error_status_is_the_answers(ctx: Any, response: Any, case: Any) -> None:
    """The error contract's `status` repeats the answer's HTTP status: a rule of the contract
    that the document's schema cannot state."""
    content_type = (response.headers.get("content-type") or [""])[0]
    if response.status_code >= 400 and content_type.startswith("application/json"):
        assert response.json()["status"] == response.status_code, response.text


@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_operation_answers_as_documented(case, fuzz_data):
    caller = _caller(case)
    token = fuzz_data["tokens"].get(caller)
    try:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"} if token else None,
                               additional_checks=[error_status_is_the_answers])
    except Exception as exc:
        exc.add_note(f"Caller: {caller}")
        raise
