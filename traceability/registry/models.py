"""Regions, producers, products and OCOP certificates."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from ..extensions import db
from ..models_base import TZDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from ..batches.models import Batch


class RegionLevel(enum.StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class Region(db.Model):
    """An administrative unit; a tree with validity dates so reforms are data, not code."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    level: Mapped[RegionLevel] = mapped_column(enum_column(RegionLevel, "region_level"))
    parent_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    valid_from: Mapped[Optional[date]]
    valid_to: Mapped[Optional[date]]

    parent: Mapped[Optional["Region"]] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Region"]] = relationship(back_populates="parent")

    __table_args__ = (
        sa.CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
                           name="validity_order"),
    )

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class ProducerKind(enum.StrEnum):
    COOPERATIVE = "cooperative"
    COMPANY = "company"
    HOUSEHOLD = "household"
    COOPERATIVE_GROUP = "cooperative_group"


class Producer(db.Model):
    """An OCOP subject (chủ thể OCOP): the co-op, company or household that owns the products."""

    __tablename__ = "producers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[ProducerKind] = mapped_column(enum_column(ProducerKind, "producer_kind"))
    tax_code: Mapped[Optional[str]] = mapped_column(sa.String(14), unique=True)
    address: Mapped[str] = mapped_column(sa.String(300))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    representative: Mapped[Optional[str]] = mapped_column(sa.String(120))
    phone: Mapped[Optional[str]] = mapped_column(sa.String(20))
    email: Mapped[Optional[str]] = mapped_column(sa.String(254))
    gs1_company_prefix: Mapped[Optional[str]] = mapped_column(sa.String(10), unique=True)
    gln: Mapped[Optional[str]] = mapped_column(sa.String(13), unique=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    region: Mapped[Region] = relationship()
    products: Mapped[list["Product"]] = relationship(back_populates="producer",
                                                     order_by="Product.id")

    def __repr__(self) -> str:
        return f"<Producer {self.id} {self.name}>"


class ProductGroup(enum.StrEnum):
    """The six OCOP product groups (Decision 148/QĐ-TTg)."""

    FOOD = "food"
    DRINKS = "drinks"
    HERBAL = "herbal"
    HANDICRAFTS = "handicrafts"
    PLANTS_ANIMALS = "plants_animals"
    TOURISM = "tourism"


class Product(db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_id: Mapped[int] = mapped_column(sa.ForeignKey("producers.id"), index=True)
    group: Mapped[ProductGroup] = mapped_column(enum_column(ProductGroup, "product_group"))
    name_vi: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[Optional[str]] = mapped_column(sa.String(200))
    description_vi: Mapped[Optional[str]] = mapped_column(sa.Text)
    description_en: Mapped[Optional[str]] = mapped_column(sa.Text)
    image_path: Mapped[Optional[str]] = mapped_column(sa.String(300))
    # GTIN-14 form; NULL until one is allocated. The trace code is the product's permanent
    # identifier for /t/{code} links, so labels printed before a GTIN keep resolving.
    gtin: Mapped[Optional[str]] = mapped_column(sa.String(14), unique=True)
    trace_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    standards: Mapped[Optional[str]] = mapped_column(sa.String(300))
    shelf_life_days: Mapped[Optional[int]]
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, onupdate=utcnow)

    producer: Mapped[Producer] = relationship(back_populates="products")
    certificates: Mapped[list["Certificate"]] = relationship(
        back_populates="product", order_by="Certificate.issued_on",
        foreign_keys="Certificate.product_id")
    batches: WriteOnlyMapped["Batch"] = relationship(back_populates="product")

    __table_args__ = (
        sa.CheckConstraint("shelf_life_days IS NULL OR shelf_life_days > 0", name="shelf_life_positive"),
    )

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.name_vi}>"


class IssuingLevel(enum.StrEnum):
    DISTRICT = "district"
    PROVINCE = "province"
    CENTRAL = "central"


class CertificateStatus(enum.StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class Certificate(db.Model):
    """An OCOP rating certificate (giấy chứng nhận sản phẩm OCOP) of 3 to 5 stars."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    stars: Mapped[int]
    score: Mapped[Optional[Decimal]] = mapped_column(sa.Numeric(5, 2))
    issuing_level: Mapped[IssuingLevel] = mapped_column(enum_column(IssuingLevel, "issuing_level"))
    issuing_authority: Mapped[str] = mapped_column(sa.String(200))
    decision_number: Mapped[str] = mapped_column(sa.String(60))
    issued_on: Mapped[date]
    expires_on: Mapped[date] = mapped_column(index=True)
    revoked_on: Mapped[Optional[date]]
    revocation_decision: Mapped[Optional[str]] = mapped_column(sa.String(60))
    revocation_reason: Mapped[Optional[str]] = mapped_column(sa.Text)
    superseded_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("certificates.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(back_populates="certificates", foreign_keys=[product_id])
    superseded_by: Mapped[Optional["Certificate"]] = relationship(remote_side=[id])

    __table_args__ = (
        sa.CheckConstraint("stars BETWEEN 3 AND 5", name="stars_range"),
        sa.CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
        sa.CheckConstraint("expires_on > issued_on", name="expiry_after_issue"),
        sa.CheckConstraint("revoked_on IS NULL OR revoked_on >= issued_on", name="revocation_after_issue"),
        sa.UniqueConstraint("issuing_authority", "decision_number", "product_id",
                            name="uq_certificates_decision_product"),
    )

    def status_on(self, today: date) -> CertificateStatus:
        from .status import certificate_status

        return certificate_status(self, today)

    def __repr__(self) -> str:
        return f"<Certificate {self.id} {self.stars}★ {self.decision_number}>"
