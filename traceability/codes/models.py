"""Label runs: one row per printed run of codes, whatever the number of units."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..batches.models import Batch
from ..extensions import db
from ..models_base import TZDateTime, enum_column, utcnow


class LabelLevel(enum.StrEnum):
    LOT = "lot"
    UNIT = "unit"


class LabelRun(db.Model):
    """Serials first_index .. first_index+count-1 of a batch, tagged with one key version."""

    __tablename__ = "label_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    level: Mapped[LabelLevel] = mapped_column(enum_column(LabelLevel, "label_level"))
    # What the serial tags were keyed with: the GTIN-14, or the product's trace code when
    # the run was printed before the product had a GTIN.
    subject: Mapped[str] = mapped_column(sa.String(16))
    first_index: Mapped[int] = mapped_column(default=1)
    count: Mapped[int] = mapped_column(default=1)
    key_version: Mapped[Optional[int]]
    issued_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    guaranteed_until: Mapped[date]
    issued_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))

    batch: Mapped[Batch] = relationship()

    __table_args__ = (
        sa.CheckConstraint("first_index >= 1", name="first_index_positive"),
        sa.CheckConstraint("count >= 1", name="count_positive"),
        sa.CheckConstraint("level = 'lot' OR key_version IS NOT NULL", name="unit_runs_keyed"),
    )

    @property
    def last_index(self) -> int:
        return self.first_index + self.count - 1

    def __repr__(self) -> str:
        return f"<LabelRun {self.id} batch={self.batch_id} {self.level} x{self.count}>"
