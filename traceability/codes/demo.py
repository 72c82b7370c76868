"""Demo label runs: one unit-level run of 100 labels on every demo batch."""
from __future__ import annotations

import sqlalchemy as sa

from ..batches.models import Batch
from ..extensions import db
from ..registry.models import Producer, Product
from .models import LabelLevel, LabelRun
from .services import issue_label_run

DEMO_RUN_COUNT = 100


def load_demo_label_runs() -> int:
    """Issue the missing demo runs; a batch that already has a unit run is left alone."""
    has_unit_run = sa.exists().where(LabelRun.batch_id == Batch.id,
                                     LabelRun.level == LabelLevel.UNIT)
    batches = db.session.scalars(
        sa.select(Batch).join(Product).join(Producer)
        .where(Producer.is_demo.is_(True), ~has_unit_run).order_by(Batch.id))
    created = 0
    for batch in list(batches):
        issue_label_run(batch, level=LabelLevel.UNIT, count=DEMO_RUN_COUNT, actor=None)
        created += 1
    return created
