"""Batches and the append-only, hash-chained production diary."""
from __future__ import annotations

import hashlib
import json
from datetime import timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ..errors import field_error
from ..extensions import db
from ..models_base import utcnow
from ..registry.models import Product
from .models import Batch, DiaryEvent, EventKind

GENESIS_HASH = "0" * 64


def create_batch(product: Product, data: dict[str, Any]) -> Batch:
    from ..gs1 import GS1Error, validate_lot

    try:
        lot = validate_lot(data["lot"])
    except GS1Error as exc:
        raise field_error("lot", exc.message) from None
    taken = db.session.scalar(sa.select(Batch.id).where(Batch.product_id == product.id,
                                                        Batch.lot == lot))
    if taken:
        raise field_error("lot", "Số lô này đã có cho sản phẩm này.")
    production, expiry = data.get("production_date"), data.get("expiry_date")
    if production and expiry and expiry < production:
        raise field_error("expiry_date", "Hạn sử dụng phải sau ngày sản xuất.")
    batch = Batch(product=product, **{**data, "lot": lot})
    db.session.add(batch)
    db.session.flush()
    return batch


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def event_digest(event: DiaryEvent) -> str:
    """SHA-256 over the previous link and every recorded fact of the event."""
    facts = {
        "batch_id": event.batch_id, "seq": event.seq, "kind": str(event.kind),
        "occurred_at": event.occurred_at.astimezone(timezone.utc).isoformat(),
        "recorded_at": event.recorded_at.astimezone(timezone.utc).isoformat(),
        "place": event.place,
        "latitude": _canonical(event.latitude), "longitude": _canonical(event.longitude),
        "quantity": _canonical(event.quantity), "unit": event.unit, "notes": event.notes,
        "details": event.details or {}, "author_id": event.author_id,
        "corrects_id": event.corrects_id,
    }
    payload = json.dumps(facts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((event.prev_hash + "\n" + payload).encode()).hexdigest()


def append_event(batch: Batch, data: dict[str, Any], author_id: int | None = None) -> DiaryEvent:
    """Add a step to the diary. Rows are locked per batch so two writers cannot fork the chain."""
    locked = db.session.execute(
        sa.select(Batch).where(Batch.id == batch.id).with_for_update()).scalar_one()
    last = db.session.execute(
        sa.select(DiaryEvent.seq, DiaryEvent.hash).where(DiaryEvent.batch_id == batch.id)
        .order_by(DiaryEvent.seq.desc()).limit(1)).first()
    corrects_id = data.get("corrects_id")
    if corrects_id is not None:
        target = db.session.get(DiaryEvent, corrects_id)
        if target is None or target.batch_id != batch.id:
            raise field_error("corrects_id", "Chỉ có thể đính chính một bước của chính lô hàng này.")
    event = DiaryEvent(
        batch_id=batch.id, seq=(last.seq + 1) if last else 1,
        kind=EventKind(data["kind"]), occurred_at=data["occurred_at"],
        recorded_at=data.get("recorded_at") or utcnow().replace(microsecond=0),
        place=data.get("place"), latitude=data.get("latitude"), longitude=data.get("longitude"),
        quantity=data.get("quantity"), unit=data.get("unit"), notes=data.get("notes"),
        details=data.get("details") or {}, author_id=author_id, corrects_id=corrects_id,
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = event_digest(event)
    db.session.add(event)
    locked.updated_at = utcnow()
    db.session.flush()
    return event


def verify_chain(batch_id: int) -> DiaryEvent | None:
    """Return the first event whose link is broken, or None when the chain holds."""
    prev = GENESIS_HASH
    events = db.session.scalars(
        sa.select(DiaryEvent).where(DiaryEvent.batch_id == batch_id).order_by(DiaryEvent.seq))
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq or event.prev_hash != prev or event_digest(event) != event.hash:
            return event
        prev = event.hash
    return None
