"""Rules for regions, producers, products and certificates."""
from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.vn import mst

from ..errors import Conflict, field_error
from ..extensions import db
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


def create_producer(data: dict[str, Any]) -> Producer:
    data = dict(data)
    if data.get("tax_code"):
        data["tax_code"] = validate_tax_code(data["tax_code"])
        taken = db.session.scalar(sa.select(Producer.id).where(Producer.tax_code == data["tax_code"]))
        if taken:
            raise field_error("tax_code", _("Mã số thuế này đã được đăng ký cho chủ thể khác."),
                              Conflict)
    if db.session.get(Region, data["region_id"]) is None:
        raise field_error("region_id", _("Không tìm thấy địa bàn này."))
    producer = Producer(**data)
    db.session.add(producer)
    db.session.flush()
    return producer


def new_trace_code() -> str:
    return "".join(secrets.choice(TRACE_CODE_ALPHABET) for _i in range(8))


def create_product(producer: Producer, data: dict[str, Any]) -> Product:
    data = dict(data)
    if data.get("gtin"):
        from ..gs1 import GS1Error, normalize_gtin

        try:
            data["gtin"] = normalize_gtin(data["gtin"])
        except GS1Error as exc:
            raise field_error("gtin", exc.message) from None
        ensure_gtin_free(data["gtin"])
    product = Product(producer=producer, trace_code=data.pop("trace_code", None) or new_trace_code(),
                      **data)
    db.session.add(product)
    db.session.flush()
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
    """The certificate that speaks for the product now: the newest not superseded."""
    live = [c for c in product.certificates if c.superseded_by_id is None]
    return max(live, key=lambda c: (c.issued_on, c.id)) if live else None
