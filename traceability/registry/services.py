"""Rules for producers, products and certificates: who may create and edit them, which codes
must be unique, and what is audited."""
from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from flask_babel import gettext as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.vn import mst

from ..accounts.models import Membership, MembershipRole, Role, User
from ..accounts.permissions import Action, refuse_limited_token, region_scope, require, require_role
from ..errors import Conflict, Forbidden, InvalidState, field_error
from ..extensions import db
from ..gs1 import GS1Error, normalize_gtin
from ..services_common import audit
from .models import Certificate, IssuingLevel, Producer, Product, Region
from .status import SCORE_BANDS, default_expiry, score_fits_stars

TRACE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud by phone


def validate_tax_code(value: str) -> str:
    """A Vietnamese tax code (mã số thuế), 10 digits or 10+3 for a branch."""
    try:
        return mst.validate(value)
    except StdnumError:
        raise field_error("tax_code", _("Mã số thuế không hợp lệ: phải gồm 10 chữ số (hoặc 13 "
                                        "chữ số với đơn vị phụ thuộc) và đúng chữ số kiểm "
                                        "tra.")) from None


def _ensure_unused(column: Any, value: str, field: str, message: str,
                   producer_id: int | None = None) -> None:
    """Refuse a producer's unique code that another producer already holds."""
    # `id != None` is `id IS NOT NULL`: every producer, for a new one.
    taken = db.session.scalar(sa.select(Producer.id).where(column == value, Producer.id != producer_id))
    if taken is not None:
        raise field_error(field, message, Conflict)


def _checked_producer_codes(data: dict[str, Any], producer_id: int | None = None) -> dict[str, Any]:
    """The tax code normalised, and the tax code, GS1 company prefix and GLN each unused by
    another producer."""
    data = dict(data)
    for field in ("tax_code", "gs1_company_prefix", "gln"):
        if field in data and not (data[field] or "").strip():
            data[field] = None  # left blank: not a code, and not one more "" to collide with
    if data.get("tax_code"):
        data["tax_code"] = validate_tax_code(data["tax_code"])
        _ensure_unused(Producer.tax_code, data["tax_code"], "tax_code",
                       _("Mã số thuế này đã được đăng ký cho chủ thể khác."), producer_id)
    for field in ("gs1_company_prefix", "gln"):
        if data.get(field):
            _ensure_unused(getattr(Producer, field), data[field], field,
                           _("Mã này đã được dùng cho chủ thể khác."), producer_id)
    return data


def register_producer(data: dict[str, Any]) -> Producer:
    """Record a producer without a permission check or audit: for the demo and the command
    line only. Every request goes through create_producer."""
    data = _checked_producer_codes(data)
    if db.session.get(Region, data["region_id"]) is None:
        raise field_error("region_id", _("Không tìm thấy địa bàn này."))
    producer = Producer(**data)
    db.session.add(producer)
    db.session.flush()
    return producer


def create_producer(user: User, data: dict[str, Any]) -> Producer:
    """A consultant, officer or admin registers a producer to set it up.

    A consultant becomes its consultant member (until the handover); an officer may only
    register producers in its own regions.
    """
    require_role(user, [Role.ADMIN, Role.OFFICER, Role.CONSULTANT])
    refuse_limited_token(user)
    if user.role == Role.OFFICER and data.get("region_id") not in region_scope(user):
        raise field_error("region_id", _("Địa bàn này nằm ngoài phạm vi phụ trách của bạn."), Forbidden)
    producer = register_producer(data)
    if user.role == Role.CONSULTANT:
        db.session.add(Membership(user_id=user.id, producer_id=producer.id,
                                  role=MembershipRole.CONSULTANT))
    audit(user, "producer.create", producer)
    return producer


_PRODUCER_EDITABLE = ("name", "kind", "address", "representative", "phone", "email",
                      "gs1_company_prefix", "gln", "tax_code")


def update_producer(user: User, producer: Producer, data: dict[str, Any]) -> Producer:
    require(user, Action.EDIT, producer)
    changes = _checked_producer_codes({k: v for k, v in data.items() if k in _PRODUCER_EDITABLE},
                                      producer.id)
    for key, value in changes.items():
        setattr(producer, key, value)
    audit(user, "producer.update", producer, fields=sorted(changes))
    return producer


def new_trace_code() -> str:
    return "".join(secrets.choice(TRACE_CODE_ALPHABET) for _i in range(8))


def _normalized_gtin(value: str) -> str:
    try:
        return normalize_gtin(value)
    except GS1Error as exc:
        raise field_error("gtin", exc.message) from None


def register_product(producer: Producer, data: dict[str, Any]) -> Product:
    """Record a product without a permission check or audit: for the demo and the command
    line only. Every request goes through create_product."""
    data = dict(data)
    if data.get("gtin"):
        data["gtin"] = _normalized_gtin(data["gtin"])
        ensure_gtin_free(data["gtin"])
    product = Product(producer=producer, trace_code=data.pop("trace_code", None) or new_trace_code(),
                      **data)
    db.session.add(product)
    db.session.flush()
    return product


def create_product(user: User, producer: Producer, data: dict[str, Any]) -> Product:
    """Add a product to a producer; its trace code is always the service's own."""
    require(user, Action.EDIT, producer)
    product = register_product(producer, {k: v for k, v in data.items() if k != "trace_code"})
    audit(user, "product.create", product)
    return product


_PRODUCT_EDITABLE = ("group", "name_vi", "name_en", "description_vi", "description_en",
                     "standards", "shelf_life_days", "gtin")


def update_product(user: User, product: Product, data: dict[str, Any]) -> Product:
    """Edit a product; a GTIN, once assigned, never changes (printed codes must keep resolving)."""
    require(user, Action.EDIT, product.producer)
    changes = {k: v for k, v in data.items() if k in _PRODUCT_EDITABLE}
    if "gtin" in changes:
        if changes["gtin"] in (None, ""):
            if product.gtin is not None:
                raise field_error("gtin", _("Không thể xóa GTIN đã gán: mã đã in phải tiếp tục truy xuất được."),
                                  InvalidState)
            changes.pop("gtin")
        else:
            gtin = _normalized_gtin(changes["gtin"])
            if product.gtin is not None and product.gtin != gtin:
                raise field_error("gtin", _("Không thể đổi GTIN đã gán: mã đã in phải tiếp tục truy xuất được."),
                                  InvalidState)
            ensure_gtin_free(gtin, product.id)
            changes["gtin"] = gtin
    for key, value in changes.items():
        setattr(product, key, value)
    audit(user, "product.update", product, fields=sorted(changes))
    return product


def ensure_gtin_free(gtin: str, product_id: int | None = None) -> None:
    owner = db.session.scalar(sa.select(Product.id).where(Product.gtin == gtin))
    if owner is not None and owner != product_id:
        raise field_error("gtin", _("GTIN này đã được gán cho sản phẩm khác."), Conflict)


def check_score(stars: int, score: Decimal | None) -> None:
    if stars not in SCORE_BANDS:
        raise field_error("stars", _("Chứng nhận OCOP chỉ cấp cho sản phẩm từ 3 đến 5 sao."))
    if score is not None and not score_fits_stars(score, stars):
        low, high = SCORE_BANDS[stars]
        if stars == 5:
            message = _("Điểm %(score)s không khớp hạng %(stars)s sao (theo Quyết định 148/QĐ-TTg "
                        "phải từ %(low)s đến 100).", score=score, stars=stars, low=low)
        else:
            message = _("Điểm %(score)s không khớp hạng %(stars)s sao (theo Quyết định 148/QĐ-TTg "
                        "phải từ %(low)s đến dưới %(high)s).",
                        score=score, stars=stars, low=low, high=high)
        raise field_error("score", message)


def register_certificate(product: Product, data: dict[str, Any]) -> Certificate:
    """Record a certificate; expiry defaults to issue + 36 months (Decision 148/QĐ-TTg)."""
    data = dict(data)
    check_score(data["stars"], data.get("score"))
    issued_on: date = data["issued_on"]
    data["expires_on"] = data.get("expires_on") or default_expiry(issued_on)
    if data["expires_on"] <= issued_on:
        raise field_error("expires_on", _("Ngày hết hạn phải sau ngày cấp."))
    data["issuing_level"] = IssuingLevel(data["issuing_level"])
    cert = Certificate(product=product, **data)
    db.session.add(cert)
    db.session.flush()
    return cert


def current_certificate(product: Product) -> Certificate | None:
    """The certificate that speaks for the product now: the newest not superseded.

    current_certificate_id() below is its SQL twin: change both together
    (tests/registry/test_current_certificate.py holds them equal)."""
    live = [c for c in product.certificates if c.superseded_by_id is None]
    return max(live, key=lambda c: (c.issued_on, c.id)) if live else None


def current_certificate_id(product_id: Any) -> sa.ScalarSelect[int]:
    """SQL twin of current_certificate(): the id of that certificate of the product whose id is
    the expression `product_id` (a column of the outer query), or NULL."""
    # An alias of its own, so that an outer query over Certificate is not correlated into it.
    live = aliased(Certificate)
    return (sa.select(live.id)
            .where(live.product_id == product_id, live.superseded_by_id.is_(None))
            .order_by(live.issued_on.desc(), live.id.desc())
            .limit(1).correlate_except(live).scalar_subquery())


def region_in_force(region: Region, on: date) -> bool:
    """An administrative unit exists on `on` (the 2025 reform abolished the districts and
    merged communes: their rows stay, with a valid_to). SQL twin: region_in_force_condition()."""
    return (region.valid_from is None or region.valid_from <= on) and \
        (region.valid_to is None or region.valid_to >= on)


def region_in_force_condition(on: date) -> sa.ColumnElement[bool]:
    return sa.and_(sa.or_(Region.valid_from.is_(None), Region.valid_from <= on),
                   sa.or_(Region.valid_to.is_(None), Region.valid_to >= on))
