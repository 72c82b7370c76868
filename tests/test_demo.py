"""Demo data: every certificate status is covered and loading twice changes nothing."""
from __future__ import annotations

import json

import sqlalchemy as sa
from stdnum import ean
from stdnum.vn import mst

from traceability.batches.models import Batch, DiaryEvent
from traceability.batches.services import verify_chain
from traceability.demo import DISTRICTS, demo_certificate_counts, load_demo
from traceability.extensions import db
from traceability.models import Certificate, Producer, Product, Region

MODELS = (Region, Producer, Product, Certificate, Batch, DiaryEvent)


def _counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in MODELS}


def test_loading_the_demo_twice_changes_nothing():
    load_demo()
    db.session.commit()
    first = _counts()
    assert load_demo() == {"producers": 0, "products": 0, "certificates": 0, "batches": 0}
    db.session.commit()
    assert _counts() == first


def test_demo_covers_every_certificate_status():
    load_demo()
    counts = demo_certificate_counts()
    for status in ("valid", "expiring", "expired", "revoked", "superseded"):
        assert counts.get(status, 0) >= 1, status
    stars = set(db.session.scalars(sa.select(Certificate.stars)))
    assert stars == {3, 4, 5}


def test_one_demo_certificate_expires_within_30_days():
    from traceability.clock import local_today

    load_demo()
    today = local_today()
    days = [(c.expires_on - today).days for c in db.session.scalars(sa.select(Certificate))]
    assert any(0 <= d <= 30 for d in days)


def test_demo_has_the_13_districts_and_valid_codes():
    load_demo()
    names = set(db.session.scalars(sa.select(Region.name).where(Region.level == "district")))
    assert names == {name for _, name, _ in DISTRICTS} and len(names) == 13
    for producer in db.session.scalars(sa.select(Producer)):
        assert producer.is_demo and producer.name.startswith("[DEMO]")
        assert mst.is_valid(producer.tax_code)
    for product in db.session.scalars(sa.select(Product)):
        assert ean.is_valid(product.gtin) and product.gtin.startswith("0893")


def test_every_demo_batch_has_an_intact_diary():
    load_demo()
    for batch in db.session.scalars(sa.select(Batch)):
        assert len(batch.events) >= 3
        assert verify_chain(batch.id) is None


def test_demo_samples_prints_one_json_line_per_case(app):
    load_demo()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo-samples"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    cases = {row["case"] for row in rows}
    assert {"valid", "expiring", "expired", "revoked"} <= cases
    assert all(row["url"].startswith("https://trace.example.vn/01/") for row in rows)
