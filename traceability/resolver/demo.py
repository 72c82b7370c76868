"""Demo scans: one demo unit scanned from more networks than a package travels through, so
that testers can see a label flagged as a possible copy (`flask demo-samples`, copy-flagged)."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..batches.models import Batch
from ..codes.demo import DEMO_RUN_COUNT
from ..codes.models import LabelLevel, LabelRun
from ..extensions import db
from ..models_base import utcnow
from ..registry.models import Producer, Product
from .models import Scan, ScanVerdict

DEMO_COPIED_INDEX = DEMO_RUN_COUNT  # the last label of the first demo batch's run


def copied_unit() -> tuple[LabelRun, int] | None:
    """The demo's copied unit: its label run and serial index (None before the demo runs)."""
    run = db.session.scalars(
        sa.select(LabelRun).join(Batch).join(Product).join(Producer)
        .where(Producer.is_demo.is_(True), LabelRun.level == LabelLevel.UNIT)
        .order_by(Batch.id, LabelRun.id).limit(1)).first()
    if run is None or not run.first_index <= DEMO_COPIED_INDEX < run.first_index + run.count:
        return None
    return run, DEMO_COPIED_INDEX


def load_demo_scans() -> int:
    """Scans of the copied unit, one an hour from more networks than SCAN_COPY_MAX_NETWORKS
    allows; none if it has scans already. Returns the number of scans added."""
    found = copied_unit()
    if found is None:
        return 0
    run, index = found
    scanned = db.session.scalar(sa.select(sa.func.count(Scan.id)).where(
        Scan.batch_id == run.batch_id, Scan.serial_index == index))
    if scanned:
        return 0
    from ..codes.services import run_label_url

    code = run_label_url(run, index).removeprefix(current_app.config["PUBLIC_BASE_URL"])
    networks = current_app.config["SCAN_COPY_MAX_NETWORKS"] + 2
    start = utcnow() - timedelta(hours=networks + 1)
    product_id = db.session.scalar(sa.select(Batch.product_id).where(Batch.id == run.batch_id))
    for hour in range(networks):
        network = hashlib.sha256(f"demo network {hour}".encode()).hexdigest()[:16]
        db.session.add(Scan(at=start + timedelta(hours=hour), code=code[:120],
                            product_id=product_id, batch_id=run.batch_id, serial_index=index,
                            verdict=ScanVerdict.GENUINE, network_hash=network, language="vi",
                            device="android"))
    db.session.flush()
    return networks
