"""Rules for producers, products and certificates: who may create and edit them, which codes
must be unique, and what is audited."""
from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from flask_babel import gettext as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.vn import mst

from ..accounts.models import Membership, MembershipRole, Role, User
from ..accounts.permissions import (
    Action,
    refuse_limited_token,
    region_scope,
    require,
    require_role,
    visible_producer_ids,
)
from ..errors import Conflict, Forbidden, InvalidState, field_error
from ..extensions import db
from ..gs1 import GS1Error, check_digit, normalize_gtin, validate_company_prefix
from ..services_common import audit, get_or_404
from .models import Certificate, IssuingLevel, Producer, Product, Region, RegionLevel
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


def validate_gln(value: str) -> str:
    """A Global Location Number: 13 digits, the last one the GS1 check digit."""
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        raise field_error("gln", _("GLN gồm 13 chữ số."))
    expected = check_digit(value[:12])
    if value[12] != expected:
        raise field_error("gln", _("Số kiểm tra của GLN không đúng (phải là %(expected)s).",
                                   expected=expected))
    return value


def _valid_prefix(value: str) -> str:
    try:
        return validate_company_prefix(value)
    except GS1Error as exc:
        raise field_error("gs1_company_prefix", exc.message) from None


def _checked_producer_codes(data: dict[str, Any], producer_id: int | None = None) -> dict[str, Any]:
    """The tax code normalised, the GS1 company prefix and the GLN well formed, and the tax
    code, GS1 company prefix and GLN each unused by another producer."""
    data = dict(data)
    for field in ("tax_code", "gs1_company_prefix", "gln"):
        if field in data and not (data[field] or "").strip():
            data[field] = None  # left blank: not a code, and not one more "" to collide with
    if data.get("tax_code"):
        data["tax_code"] = validate_tax_code(data["tax_code"])
        _ensure_unused(Producer.tax_code, data["tax_code"], "tax_code",
                       _("Mã số thuế này đã được đăng ký cho chủ thể khác."), producer_id)
    if data.get("gs1_company_prefix"):
        data["gs1_company_prefix"] = _valid_prefix(data["gs1_company_prefix"])
    if data.get("gln"):
        data["gln"] = validate_gln(data["gln"])
    for field in ("gs1_company_prefix", "gln"):
        if data.get(field):
            _ensure_unused(getattr(Producer, field), data[field], field,
                           _("Mã này đã được dùng cho chủ thể khác."), producer_id)
    return data


def register_producer(data: dict[str, Any]) -> Producer:
    """Record a producer without a permission check or audit: for the demo and the command
    line only. Every request goes through create_producer."""
    data = _checked_producer_codes(data)
    _existing_region(data["region_id"])
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
    _check_region_scope(user, data.get("region_id"))
    producer = register_producer(data)
    if user.role == Role.CONSULTANT:
        db.session.add(Membership(user_id=user.id, producer_id=producer.id,
                                  role=MembershipRole.CONSULTANT))
    audit(user, "producer.create", producer)
    return producer


def _existing_region(region_id: Any) -> Region:
    region = db.session.get(Region, region_id) if isinstance(region_id, int) else None
    if region is None:
        raise field_error("region_id", _("Không tìm thấy địa bàn này."))
    return region


def _check_region_scope(user: User, region_id: Any) -> None:
    """An officer places producers only inside its own regions."""
    if user.role == Role.OFFICER and region_id not in region_scope(user):
        raise field_error("region_id", _("Địa bàn này nằm ngoài phạm vi phụ trách của bạn."), Forbidden)


_PRODUCER_EDITABLE = ("name", "kind", "address", "representative", "phone", "email",
                      "gs1_company_prefix", "gln", "tax_code", "region_id")


def may_move_producer(user: User) -> bool:
    """A producer's region decides which officers oversee it: only officers and admins move it."""
    return user.role in (Role.ADMIN, Role.OFFICER)


def update_producer(user: User, producer: Producer, data: dict[str, Any]) -> Producer:
    """Edit a producer. Its region changes only by an officer (inside its regions) or an admin:
    the API does not take it."""
    require(user, Action.EDIT, producer)
    changes = _checked_producer_codes({k: v for k, v in data.items() if k in _PRODUCER_EDITABLE},
                                      producer.id)
    if "region_id" in changes:
        if changes["region_id"] == producer.region_id:
            changes.pop("region_id")
        else:
            if not may_move_producer(user):
                raise field_error("region_id", _("Chỉ cán bộ quản lý mới đổi được địa bàn của chủ thể."),
                                  Forbidden)
            _existing_region(changes["region_id"])
            _check_region_scope(user, changes["region_id"])
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


# --- what the set-up pages read -----------------------------------------------------------


def get_producer(user: User, producer_id: int, action: Action = Action.VIEW) -> Producer:
    """The producer, if `user` may do `action` to it (NotFound / Forbidden otherwise)."""
    producer: Producer = get_or_404(Producer, producer_id, _("chủ thể"))
    require(user, action, producer)
    return producer


def may_create_producers(user: User) -> bool:
    return user.role in (Role.ADMIN, Role.OFFICER, Role.CONSULTANT) \
        and getattr(user, "token_producer_id", None) is None


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def producers_for(user: User, query: str | None = None, limit: int = 100) -> list[Producer]:
    """The producers `user` may view, by name; `query` filters on the name."""
    stmt = sa.select(Producer).order_by(Producer.name, Producer.id).limit(limit)
    visible = visible_producer_ids(user)
    if visible is not None:
        stmt = stmt.where(Producer.id.in_(visible))
    if query:
        stmt = stmt.where(Producer.name.ilike(_like_pattern(query), escape="\\"))
    return list(db.session.scalars(stmt))


def products_by_producer(producer_ids: list[int]) -> dict[int, list[Product]]:
    """Each producer's products by name, in one query (the set-up list links each one)."""
    found: dict[int, list[Product]] = {}
    if producer_ids:
        for product in db.session.scalars(sa.select(Product).where(Product.producer_id.in_(producer_ids))
                                          .order_by(Product.name_vi, Product.id)):
            found.setdefault(product.producer_id, []).append(product)
    return found


def handed_over_ids(producer_ids: list[int]) -> set[int]:
    """Which of these producers have an owner (the handover is done)."""
    if not producer_ids:
        return set()
    return set(db.session.scalars(
        sa.select(Membership.producer_id).where(
            Membership.producer_id.in_(producer_ids), Membership.role == MembershipRole.OWNER,
            Membership.ended_at.is_(None))))


def set_product_image(user: User, product: Product, image_path: str) -> Product:
    """Show a stored photo (batches.media.store_upload) as the product's image."""
    require(user, Action.EDIT, product.producer)
    product.image_path = image_path
    audit(user, "product.image", product, image_path=image_path)
    return product


@dataclass(frozen=True)
class RegionGroup:
    """A province and the communes under it (through a former district too), for a choice."""

    province: Region
    communes: list[tuple[Region, Region | None]]  # (commune, its former district or None)


def region_groups(day: date, *, history: bool = False,
                  within: set[int] | None = None) -> list[RegionGroup]:
    """The communes a producer may be placed in, grouped by province and sorted by name:
    those in force on `day`, or every one ever recorded when `history` is asked; only the
    ids in `within` when it is given (an officer's regions)."""
    regions = {r.id: r for r in db.session.scalars(sa.select(Region))}
    groups: dict[int, RegionGroup] = {}
    for region in regions.values():
        if region.level != RegionLevel.COMMUNE:
            continue
        if within is not None and region.id not in within:
            continue
        if not history and not region_in_force(region, day):
            continue
        district, province = None, region.parent_id and regions.get(region.parent_id)
        if province and province.level == RegionLevel.DISTRICT:
            district, province = province, regions.get(province.parent_id or 0)
        if not province:
            continue  # a commune outside any province: an import error, not a choice
        group = groups.setdefault(province.id, RegionGroup(province, []))
        group.communes.append((region, district))
    for group in groups.values():
        group.communes.sort(key=lambda pair: (_sort_key(pair[0].name), pair[0].code))
    return sorted(groups.values(), key=lambda g: (_sort_key(g.province.name), g.province.code))


def _sort_key(name: str) -> str:
    # "Xã Đức ..." sorts by its letters without accents, as a Vietnamese reader expects.
    folded = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in folded if not unicodedata.combining(c)).casefold()


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
