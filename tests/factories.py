"""Small factories for test data; each returns a flushed model with sensible defaults."""
from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from traceability.batches.models import Batch
from traceability.batches.services import create_batch
from traceability.demo import demo_tax_code
from traceability.extensions import db
from traceability.registry.models import (
    Certificate,
    IssuingLevel,
    Producer,
    ProducerKind,
    Product,
    ProductGroup,
    Region,
    RegionLevel,
)
from traceability.registry.services import register_certificate, register_producer, register_product

if TYPE_CHECKING:
    from traceability.accounts.models import User

_seq = itertools.count(1)


BASE = "https://trace.example.vn"  # the tests' PUBLIC_BASE_URL


def scan(client: Any, path: str, method: str = "GET", **kwargs: Any) -> Any:
    """What a phone does with a label: open the code's Digital Link URI and follow the
    resolver's redirect to its default link, the trace page."""
    first = client.open(path, method=method, **kwargs)
    assert first.status_code == 307, (path, first.status_code)
    return client.open(first.headers["Location"].removeprefix(BASE), method=method, **kwargs)


def tax_code(n: int | None = None) -> str:
    return demo_tax_code(500_000 + (n or next(_seq)))


def make_region(**kw: Any) -> Region:
    n = next(_seq)
    region = Region(code=kw.pop("code", f"T{n}"), name=kw.pop("name", f"Xã Thử {n}"),
                    level=kw.pop("level", RegionLevel.COMMUNE), **kw)
    db.session.add(region)
    db.session.flush()
    return region


def make_producer(region: Region | None = None, **kw: Any) -> Producer:
    region = region or make_region()
    data = {"name": f"Hợp tác xã Thử {next(_seq)}", "kind": ProducerKind.COOPERATIVE,
            "tax_code": tax_code(), "address": "Thôn Một, xã Thử, tỉnh Quảng Ngãi",
            "region_id": region.id}
    data.update(kw)
    return register_producer(data)


def make_product(producer: Producer | None = None, **kw: Any) -> Product:
    producer = producer or make_producer()
    data = {"group": ProductGroup.FOOD, "name_vi": f"Sản phẩm thử {next(_seq)}",
            "name_en": "Test product", "shelf_life_days": 365}
    data.update(kw)
    return register_product(producer, data)


def make_certificate(product: Product | None = None, **kw: Any) -> Certificate:
    product = product or make_product()
    data = {"stars": 4, "score": Decimal("75"), "issuing_level": IssuingLevel.PROVINCE,
            "issuing_authority": "Ủy ban nhân dân tỉnh Quảng Ngãi",
            "decision_number": f"{next(_seq)}/QĐ-UBND", "issued_on": date.today() - timedelta(days=10)}
    data.update(kw)
    return register_certificate(product, data)


def make_batch(product: Product | None = None, **kw: Any) -> Batch:
    product = product or make_product()
    data = {"lot": f"L{next(_seq)}", "production_date": date.today() - timedelta(days=3),
            "quantity": Decimal(100), "unit": "hộp"}
    data.update(kw)
    return create_batch(product, data)


def make_user(role: str = "producer", *, regions: list[Region] | None = None,
              producer: Producer | None = None, membership: str | None = None,
              **kw: Any) -> "User":
    """A user; officers and inspectors get `regions`, others a membership of `producer`."""
    from traceability.accounts.models import Membership, MembershipRole, Role, User

    n = next(_seq)
    user = User(email=kw.pop("email", f"user{n}@example.vn"),
                full_name=kw.pop("full_name", f"Người dùng {n}"), role=Role(role), **kw)
    if regions:
        user.regions = list(regions)
    db.session.add(user)
    db.session.flush()
    if producer is not None:
        default = {"consultant": "consultant", "producer": "owner"}.get(role, "staff")
        db.session.add(Membership(user_id=user.id, producer_id=producer.id,
                                  role=MembershipRole(membership or default)))
        db.session.flush()
    return user


def make_token(user: "User", producer: Producer | None = None) -> str:
    """An API token for `user`; returns the secret for an `Authorization: Bearer` header."""
    import secrets

    from traceability.accounts.auth import token_digest
    from traceability.accounts.models import ApiToken

    secret = "ocop_" + secrets.token_urlsafe(24)
    db.session.add(ApiToken(user_id=user.id, producer_id=producer.id if producer else None,
                            name="test", prefix=secret[:10], token_hash=token_digest(secret)))
    db.session.flush()
    return secret


def login(client: Any, user: "User") -> None:
    """Sign `user` in on the test client's session without going through the form, with the
    session identifier that Flask-Login's "strong" session protection checks."""
    from flask_login.utils import _create_identifier

    db.session.commit()
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session["_id"] = identifier
