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


class PrintFormat(enum.StrEnum):
    PDF = "pdf"
    CSV = "csv"
    ZIP = "zip"


class PrintJobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # done, and its file deleted after the keeping period


class PrintJob(db.Model):
    """A label run written to a file by a background worker, for runs too large to stream.

    A worker claims the row with a conditional UPDATE that stores a fresh `claim_token`;
    every later write (progress, done, failed) is conditional on that token, so a worker that
    lost its claim (stale heartbeat, re-claimed elsewhere) can change nothing.
    """

    __tablename__ = "print_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    label_run_id: Mapped[int] = mapped_column(sa.ForeignKey("label_runs.id"), index=True)
    format: Mapped[PrintFormat] = mapped_column(enum_column(PrintFormat, "print_format"))
    preset: Mapped[Optional[str]] = mapped_column(sa.String(32))  # PDF only
    ec: Mapped[Optional[str]] = mapped_column(sa.String(1))  # PDF and ZIP only
    state: Mapped[PrintJobState] = mapped_column(
        enum_column(PrintJobState, "print_job_state"), default=PrintJobState.QUEUED, index=True)
    total: Mapped[int]
    done: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    claim_token: Mapped[Optional[str]] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    started_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    heartbeat_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    finished_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    expires_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    file_name: Mapped[Optional[str]] = mapped_column(sa.String(120))
    file_size: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    error: Mapped[Optional[str]] = mapped_column(sa.String(500))

    label_run: Mapped[LabelRun] = relationship()

    __table_args__ = (
        sa.CheckConstraint("done >= 0 AND done <= total", name="done_within_total"),
    )

    @property
    def progress(self) -> dict[str, int]:
        return {"done": self.done, "total": self.total}

    def __repr__(self) -> str:
        return f"<PrintJob {self.id} run={self.label_run_id} {self.format} {self.state}>"
