"""Inspections, expiry notices (an outbox) and register imports."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..extensions import db
from ..models_base import TZDateTime, enum_column, utcnow
from ..registry.models import Certificate, Producer, Product


class InspectionOutcome(enum.StrEnum):
    COMPLIANT = "compliant"
    WARNING = "warning"
    VIOLATION = "violation"


class Inspection(db.Model):
    """An inspector's visit to a producer, or check of one product and its logo use."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    producer_id: Mapped[int] = mapped_column(sa.ForeignKey("producers.id"), index=True)
    product_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("products.id"), index=True)
    certificate_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("certificates.id"))
    inspected_on: Mapped[date]
    place: Mapped[Optional[str]] = mapped_column(sa.String(200))
    # {"certificate_valid": true, "stars_match": false, ...}: one answer per checklist item.
    checklist: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    findings: Mapped[Optional[str]] = mapped_column(sa.Text)
    outcome: Mapped[InspectionOutcome] = mapped_column(
        enum_column(InspectionOutcome, "inspection_outcome"))
    propose_revocation: Mapped[bool] = mapped_column(default=False)
    proposal_handled_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    photos: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    inspector: Mapped[User] = relationship()
    producer: Mapped[Producer] = relationship()
    product: Mapped[Optional[Product]] = relationship()
    certificate: Mapped[Optional[Certificate]] = relationship()

    __table_args__ = (
        sa.CheckConstraint("outcome = 'violation' OR NOT propose_revocation",
                           name="revocation_only_on_violation"),
    )

    def __repr__(self) -> str:
        return f"<Inspection {self.id} producer={self.producer_id} {self.outcome}>"


class NoticeStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class ExpiryNotice(db.Model):
    """The written notice due at least 30 days before a certificate expires; an outbox row.
    The unique (certificate, kind) pair is what makes sending exactly-once."""

    __tablename__ = "expiry_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"))
    kind: Mapped[str] = mapped_column(sa.String(20), default="expiry_30d")
    due_on: Mapped[date]
    recipient: Mapped[Optional[str]] = mapped_column(sa.String(254))
    status: Mapped[NoticeStatus] = mapped_column(enum_column(NoticeStatus, "notice_status"),
                                                 default=NoticeStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[Optional[str]] = mapped_column(sa.Text)
    next_attempt_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    sent_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    certificate: Mapped[Certificate] = relationship()

    __table_args__ = (sa.UniqueConstraint("certificate_id", "kind"),)

    def __repr__(self) -> str:
        return f"<ExpiryNotice {self.id} cert={self.certificate_id} {self.status}>"
