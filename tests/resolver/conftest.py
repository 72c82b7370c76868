"""Fixtures for the resolver: a certified product with a batch, a diary and a unit label run."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import request, request_started

from tests.factories import BASE, make_batch, make_certificate, make_producer, make_product, scan

__all__ = ["BASE", "GTIN", "Shelf", "scan"]
from traceability.batches.services import append_event
from traceability.codes.keys import get_signer
from traceability.codes.models import LabelLevel
from traceability.codes.services import issue_label_run
from traceability.extensions import db

GTIN = "08939900001010"


@dataclass
class Shelf:
    producer: Any
    product: Any
    cert: Any
    batch: Any
    run: Any

    def serial(self, index: int) -> str:
        return get_signer().make(self.run.subject, self.batch.lot, index, self.run.key_version)

    def unit_path(self, index: int = 1) -> str:
        return f"/01/{GTIN}/10/{self.batch.lot}/21/{self.serial(index)}"

    @property
    def lot_path(self) -> str:
        return f"/01/{GTIN}/10/{self.batch.lot}"

    def unit_page(self, index: int = 1) -> str:
        """The unit's trace page, its Digital Link URI's default link."""
        return "/trace" + self.unit_path(index)

    @property
    def lot_page(self) -> str:
        return "/trace" + self.lot_path


@pytest.fixture()
def shelf() -> Shelf:
    producer = make_producer(name="Hợp tác xã Tỏi An Hải", address="Thôn Đông, xã An Hải, huyện Lý Sơn")
    product = make_product(producer, gtin=GTIN, name_vi="Tỏi cô đơn Lý Sơn",
                           name_en="Ly Son single-clove garlic", standards="VietGAP",
                           shelf_life_days=365)
    cert = make_certificate(product, stars=4, issued_on=date.today() - timedelta(days=100),
                            decision_number="123/QĐ-UBND")
    batch = make_batch(product, lot="TOI2026-10")
    append_event(batch, {"kind": "harvest", "occurred_at": datetime(2026, 10, 1, 1, tzinfo=timezone.utc),
                         "place": "Ruộng tỏi An Hải", "notes": "Thu hoạch tỏi khô."})
    append_event(batch, {"kind": "packing", "occurred_at": datetime(2026, 10, 5, 1, tzinfo=timezone.utc),
                         "place": "Xưởng đóng gói", "notes": "Đóng hộp 500 g."})
    run = issue_label_run(batch, level=LabelLevel.UNIT, count=50)
    db.session.commit()
    return Shelf(producer, product, cert, batch, run)


@pytest.fixture()
def flask_requests(app):
    """The paths of the requests that reached Flask (its `request_started` signal): the
    trace lane answers the others."""
    seen: list[str] = []

    def started(sender, **_extra):
        seen.append(request.path)

    request_started.connect(started, app)
    yield seen
    request_started.disconnect(started, app)
