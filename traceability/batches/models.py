"""Batches (lots) and their append-only, hash-chained production diary."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models_base import TZDateTime, enum_column, utcnow
from ..registry.models import Product


class Batch(db.Model):
    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    lot: Mapped[str] = mapped_column(sa.String(20))
    production_date: Mapped[Optional[date]]
    expiry_date: Mapped[Optional[date]]
    quantity: Mapped[Optional[Decimal]] = mapped_column(sa.Numeric(12, 3))
    unit: Mapped[Optional[str]] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    # Bumped by every new diary event, so page validators change at once.
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    product: Mapped[Product] = relationship(back_populates="batches")
    events: Mapped[list["DiaryEvent"]] = relationship(
        back_populates="batch", order_by="DiaryEvent.seq")

    __table_args__ = (
        sa.UniqueConstraint("product_id", "lot"),
        sa.CheckConstraint("expiry_date IS NULL OR production_date IS NULL "
                           "OR expiry_date >= production_date", name="expiry_after_production"),
        sa.CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
    )

    def __repr__(self) -> str:
        return f"<Batch {self.id} lot={self.lot}>"


class EventKind(enum.StrEnum):
    """Diary steps after farmOS logs and EPCIS business steps."""

    PLANTING = "planting"
    INPUT = "input"
    HARVEST = "harvest"
    PROCESSING = "processing"
    PACKING = "packing"
    LAB_TEST = "lab_test"
    STORAGE = "storage"
    SHIPPING = "shipping"
    RECEIVING = "receiving"
    OTHER = "other"


class DiaryEvent(db.Model):
    """One production step; never updated or deleted. A correction is a new event."""

    __tablename__ = "diary_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"))
    seq: Mapped[int]
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, "event_kind"))
    occurred_at: Mapped[datetime] = mapped_column(TZDateTime)
    recorded_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    place: Mapped[Optional[str]] = mapped_column(sa.String(200))
    latitude: Mapped[Optional[Decimal]] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Optional[Decimal]] = mapped_column(sa.Numeric(9, 6))
    quantity: Mapped[Optional[Decimal]] = mapped_column(sa.Numeric(12, 3))
    unit: Mapped[Optional[str]] = mapped_column(sa.String(20))
    notes: Mapped[Optional[str]] = mapped_column(sa.Text)
    # Kind-specific facts: input name, dose, pre-harvest interval, lab result...
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    author_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    corrects_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("diary_events.id"))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    batch: Mapped[Batch] = relationship(back_populates="events")
    corrects: Mapped[Optional["DiaryEvent"]] = relationship(remote_side=[id])
    attachments: Mapped[list["Attachment"]] = relationship(back_populates="event")

    __table_args__ = (
        sa.UniqueConstraint("batch_id", "seq"),
        sa.CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        sa.CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)",
                           name="longitude_range"),
    )

    def __repr__(self) -> str:
        return f"<DiaryEvent {self.id} batch={self.batch_id} #{self.seq} {self.kind}>"


class Attachment(db.Model):
    """A photo or document attached to a diary event; stored under the upload folder."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("diary_events.id"), index=True)
    path: Mapped[str] = mapped_column(sa.String(300))
    content_type: Mapped[str] = mapped_column(sa.String(60))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    event: Mapped[DiaryEvent] = relationship(back_populates="attachments")

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.path}>"
