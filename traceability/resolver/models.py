"""Scans of labels and counterfeit reports from the public trace page."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_base import TZDateTime, enum_column, utcnow


class ScanVerdict(enum.StrEnum):
    GENUINE = "genuine"        # a unit serial whose tag verified
    LOT = "lot"                # a lot- or product-level code (nothing to verify)
    FORGED = "forged"          # a serial whose tag or index does not verify
    UNKNOWN = "unknown"        # a well-formed code for a product we do not know


class Scan(db.Model):
    """One resolution of a label. No IP address or other personal data is kept: the
    network is reduced to a keyed hash of its /24 (/48 for IPv6), enough to count
    distinct networks and nothing more."""

    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    code: Mapped[str] = mapped_column(sa.String(120))
    product_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("products.id"))
    batch_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("batches.id"))
    serial_index: Mapped[Optional[int]]
    verdict: Mapped[ScanVerdict] = mapped_column(enum_column(ScanVerdict, "scan_verdict"))
    network_hash: Mapped[Optional[str]] = mapped_column(sa.String(16))
    language: Mapped[Optional[str]] = mapped_column(sa.String(8))
    device: Mapped[Optional[str]] = mapped_column(sa.String(20))

    __table_args__ = (
        sa.Index("ix_scans_batch_serial", "batch_id", "serial_index"),
        sa.Index("ix_scans_product_at", "product_id", "at"),
    )

    def __repr__(self) -> str:
        return f"<Scan {self.id} {self.code} {self.verdict}>"


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    CLOSED = "closed"


class CounterfeitReport(db.Model):
    """A consumer's report that a scanned product looks counterfeit."""

    __tablename__ = "counterfeit_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    code: Mapped[str] = mapped_column(sa.String(120))
    product_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("products.id"), index=True)
    batch_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("batches.id"))
    serial_index: Mapped[Optional[int]]
    verdict: Mapped[ScanVerdict] = mapped_column(enum_column(ScanVerdict, "scan_verdict"))
    place_of_purchase: Mapped[Optional[str]] = mapped_column(sa.String(200))
    message: Mapped[Optional[str]] = mapped_column(sa.Text)
    contact: Mapped[Optional[str]] = mapped_column(sa.String(120))
    status: Mapped[ReportStatus] = mapped_column(enum_column(ReportStatus, "report_status"),
                                                 default=ReportStatus.OPEN)

    def __repr__(self) -> str:
        return f"<CounterfeitReport {self.id} {self.code}>"
