"""Batches and the append-only, hash-chained production diary."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ..accounts.permissions import Action, require, visible_producer_ids
from ..errors import NotFound, field_error
from ..extensions import db
from ..models_base import utcnow
from ..registry.models import Producer, Product
from .models import Attachment, Batch, DiaryEvent, EventKind

if TYPE_CHECKING:
    from ..accounts.models import User
    from .media import StoredFile

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


def _fixed(value: Any, places: int) -> Decimal | None:
    """A number as the Numeric column will give it back, so the digest survives a round trip."""
    if value is None:
        return None
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return number.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


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
        place=data.get("place"), latitude=_fixed(data.get("latitude"), 6),
        longitude=_fixed(data.get("longitude"), 6), quantity=_fixed(data.get("quantity"), 3),
        unit=data.get("unit"), notes=data.get("notes"),
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


# --- permission-checked services for the producer UI and the API ------------------------

# A phone's clock may run a little fast; a step dated further ahead is a typo.
FUTURE_TOLERANCE = timedelta(minutes=10)
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=timezone.utc)
MAX_QUANTITY = Decimal("999999999.999")  # Numeric(12, 3)

# Facts kept in DiaryEvent.details, by kind (farmOS-style log fields).
DETAIL_FIELDS: dict[EventKind, tuple[str, ...]] = {
    EventKind.INPUT: ("input_name", "dose", "pre_harvest_interval_days"),
    EventKind.LAB_TEST: ("laboratory", "result"),
    EventKind.SHIPPING: ("counterparty",),
    EventKind.RECEIVING: ("counterparty",),
}
REQUIRED_DETAILS: dict[EventKind, tuple[str, ...]] = {
    EventKind.INPUT: ("input_name",),
    EventKind.LAB_TEST: ("result",),
}
DETAIL_MAX_LENGTH = {"input_name": 120, "dose": 60, "laboratory": 200, "result": 500,
                     "counterparty": 200}
ALL_DETAIL_KEYS = frozenset(k for keys in DETAIL_FIELDS.values() for k in keys)


def get_product(user: User | None, product_id: int, action: Action = Action.VIEW) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("Không tìm thấy sản phẩm #%(id)s.", id=product_id))
    require(user, action, product.producer)
    return product


def get_batch(user: User | None, batch_id: int, action: Action = Action.VIEW) -> Batch:
    """The batch, if `user` may do `action` to its producer (403 otherwise)."""
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(_("Không tìm thấy lô hàng #%(id)s.", id=batch_id))
    require(user, action, batch.product.producer)
    return batch


def get_event(user: User | None, batch_id: int, event_id: int,
              action: Action = Action.VIEW) -> DiaryEvent:
    batch = get_batch(user, batch_id, action)
    event = db.session.get(DiaryEvent, event_id)
    if event is None or event.batch_id != batch.id:
        raise NotFound(_("Không tìm thấy bước #%(id)s của lô hàng này.", id=event_id))
    return event


def batches_of(product: Product) -> sa.Select:
    return (sa.select(Batch).where(Batch.product_id == product.id)
            .order_by(Batch.created_at.desc(), Batch.id.desc()))


def events_of(batch: Batch) -> sa.Select:
    return (sa.select(DiaryEvent).where(DiaryEvent.batch_id == batch.id)
            .options(selectinload(DiaryEvent.attachments)).order_by(DiaryEvent.seq))


def new_batch(user: User | None, product: Product, data: dict[str, Any]) -> Batch:
    """Open a batch (lot) of `product` on behalf of `user`."""
    require(user, Action.EDIT, product.producer)
    data = dict(data)
    for key in ("unit",):
        if data.get(key) is not None:
            data[key] = data[key].strip() or None
    if data.get("quantity") is not None:
        data["quantity"] = _quantity(data["quantity"], "quantity")
    return create_batch(product, data)


def _decimal(value: Any, field_name: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise field_error(field_name, _("Phải là một số.")) from None
    if not number.is_finite():
        raise field_error(field_name, _("Phải là một số."))
    return number


def _quantity(value: Any, field_name: str) -> Decimal:
    number = _decimal(value, field_name).quantize(Decimal("0.001"), ROUND_HALF_UP)
    if number <= 0 or number > MAX_QUANTITY:
        raise field_error(field_name, _("Số lượng phải lớn hơn 0 và nhỏ hơn một tỷ."))
    return number


def _coordinate(value: Any, field_name: str, limit: int) -> Decimal:
    # Stored as Numeric(9, 6): round first, or the chain hash would not match what is read back.
    number = _decimal(value, field_name).quantize(Decimal("0.000001"), ROUND_HALF_UP)
    if not -limit <= number <= limit:
        raise field_error(field_name, _("Phải nằm trong khoảng từ %(low)s đến %(high)s.",
                                        low=-limit, high=limit))
    return number


def _text(data: dict[str, Any], key: str, max_length: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise field_error(key, _("Phải là chuỗi ký tự."))
    value = value.strip()
    if len(value) > max_length:
        raise field_error(key, _("Tối đa %(n)s ký tự.", n=max_length))
    return value or None


def clean_event_data(batch: Batch, data: dict[str, Any],
                     now: datetime | None = None) -> dict[str, Any]:
    """Check a step before it is written; every rule names the field it is about."""
    now = now or utcnow()
    try:
        kind = EventKind(data.get("kind"))
    except ValueError:
        raise field_error("kind", _("Loại bước không hợp lệ.")) from None
    occurred_at = data.get("occurred_at") or now
    if not isinstance(occurred_at, datetime) or occurred_at.tzinfo is None:
        raise field_error("occurred_at", _("Thời gian phải có múi giờ."))
    if occurred_at > now + FUTURE_TOLERANCE:
        raise field_error("occurred_at", _("Thời gian không được ở tương lai."))
    if occurred_at < EARLIEST_EVENT:
        raise field_error("occurred_at", _("Thời gian quá xa trong quá khứ."))
    clean: dict[str, Any] = {"kind": kind, "occurred_at": occurred_at.astimezone(timezone.utc)}
    clean["place"] = _text(data, "place", 200)
    clean["unit"] = _text(data, "unit", 20)
    clean["notes"] = _text(data, "notes", 5000)
    lat, lon = data.get("latitude"), data.get("longitude")
    if (lat is None) != (lon is None):
        missing = "longitude" if lon is None else "latitude"
        raise field_error(missing, _("Cần nhập cả vĩ độ và kinh độ."))
    clean["latitude"] = _coordinate(lat, "latitude", 90) if lat is not None else None
    clean["longitude"] = _coordinate(lon, "longitude", 180) if lon is not None else None
    quantity = data.get("quantity")
    clean["quantity"] = _quantity(quantity, "quantity") if quantity is not None else None
    if clean["quantity"] is not None and not clean["unit"]:
        raise field_error("unit", _("Cần ghi đơn vị tính cho số lượng."))

    details: dict[str, Any] = {}
    allowed = DETAIL_FIELDS.get(kind, ())
    for key in ALL_DETAIL_KEYS:
        value = data.get(key)
        if value is None or value == "":
            continue
        if key not in allowed:
            raise field_error(key, _("Trường này không dùng cho loại bước đã chọn."))
        if key == "pre_harvest_interval_days":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
                raise field_error(key, _("Thời gian cách ly phải là số ngày từ 0 đến 3650."))
            details[key] = value
        else:
            text = _text(data, key, DETAIL_MAX_LENGTH[key])
            if text:
                details[key] = text
    for key in REQUIRED_DETAILS.get(kind, ()):
        if key not in details:
            raise field_error(key, _("Thông tin này là bắt buộc với loại bước đã chọn."))
    clean["details"] = details

    corrects_id = data.get("corrects_id")
    if corrects_id is not None:
        if isinstance(corrects_id, bool) or not isinstance(corrects_id, int):
            raise field_error("corrects_id", _("Phải là mã số của một bước."))
        target = db.session.get(DiaryEvent, corrects_id)
        if target is None or target.batch_id != batch.id:
            raise field_error("corrects_id",
                              _("Chỉ có thể đính chính một bước của chính lô hàng này."))
    clean["corrects_id"] = corrects_id
    return clean


def record_event(user: User | None, batch: Batch, data: dict[str, Any]) -> DiaryEvent:
    """Append a step (or a correction of one) to the batch's diary on behalf of `user`."""
    require(user, Action.EDIT, batch.product.producer)
    clean = clean_event_data(batch, data)
    return append_event(batch, clean, author_id=user.id if user is not None else None)


def add_attachment(user: User | None, event: DiaryEvent, stored: StoredFile) -> Attachment:
    """Record an already stored file (see media.store_upload) as an attachment of `event`."""
    require(user, Action.EDIT, event.batch.product.producer)
    attachment = Attachment(event_id=event.id, path=stored.name, content_type=stored.content_type,
                            size_bytes=stored.size_bytes, sha256=stored.sha256)
    db.session.add(attachment)
    event.batch.updated_at = utcnow()  # the trace page's validators must change with it
    db.session.flush()
    return attachment


def chain_report(batch: Batch) -> dict[str, Any]:
    """What the chain check says about a batch, in the API's shape."""
    broken = verify_chain(batch.id)
    count = db.session.scalar(sa.select(sa.func.count(DiaryEvent.id))
                              .where(DiaryEvent.batch_id == batch.id)) or 0
    return {
        "batch_id": batch.id,
        "intact": broken is None,
        "first_broken": None if broken is None else {"seq": broken.seq, "id": broken.id},
        "events": count,
    }


# --- the producer dashboard -------------------------------------------------------------

DASHBOARD_PRODUCERS = 50
DASHBOARD_BATCHES = 5


@dataclass
class BatchLine:
    batch: Batch
    scans: int = 0
    last_scan: datetime | None = None
    label_runs: int = 0


@dataclass
class ProducerOverview:
    producer: Producer
    can_edit: bool
    products: list[Product] = field(default_factory=list)
    batch_count: int = 0
    label_run_count: int = 0
    scan_count: int = 0
    latest_event: DiaryEvent | None = None
    recent_batches: list[BatchLine] = field(default_factory=list)


def producers_of(user: User) -> list[Producer]:
    """The producers `user` may view, by name (a bounded list for the dashboard)."""
    stmt = sa.select(Producer).order_by(Producer.name, Producer.id)
    visible = visible_producer_ids(user)
    if visible is not None:
        stmt = stmt.where(Producer.id.in_(visible))
    return list(db.session.scalars(stmt.limit(DASHBOARD_PRODUCERS)))


def producer_overview(user: User) -> list[ProducerOverview]:
    """Per visible producer: products, batches, latest step, label runs and scans."""
    from ..accounts.permissions import allowed_actions
    from ..codes.models import LabelRun
    from ..resolver.models import Scan

    overviews: list[ProducerOverview] = []
    for producer in producers_of(user):
        actions = allowed_actions(user, producer)
        if Action.VIEW not in actions:
            continue
        overviews.append(ProducerOverview(producer=producer, can_edit=Action.EDIT in actions))
    if not overviews:
        return overviews
    by_id = {o.producer.id: o for o in overviews}
    ids = list(by_id)
    for product in db.session.scalars(sa.select(Product).where(Product.producer_id.in_(ids))
                                      .options(selectinload(Product.certificates))
                                      .order_by(Product.name_vi)):
        by_id[product.producer_id].products.append(product)
    for producer_id, count in db.session.execute(
            sa.select(Product.producer_id, sa.func.count(Batch.id)).join(Batch.product)
            .where(Product.producer_id.in_(ids)).group_by(Product.producer_id)):
        by_id[producer_id].batch_count = count
    for producer_id, count in db.session.execute(
            sa.select(Product.producer_id, sa.func.count(LabelRun.id))
            .join(Batch, LabelRun.batch_id == Batch.id).join(Batch.product)
            .where(Product.producer_id.in_(ids)).group_by(Product.producer_id)):
        by_id[producer_id].label_run_count = count
    for producer_id, count in db.session.execute(
            sa.select(Product.producer_id, sa.func.count(Scan.id))
            .join(Product, Scan.product_id == Product.id)
            .where(Product.producer_id.in_(ids)).group_by(Product.producer_id)):
        by_id[producer_id].scan_count = count
    for overview in overviews:
        overview.latest_event = db.session.scalar(
            sa.select(DiaryEvent).join(DiaryEvent.batch).join(Batch.product)
            .where(Product.producer_id == overview.producer.id)
            .order_by(DiaryEvent.recorded_at.desc(), DiaryEvent.id.desc()).limit(1))
        batches = list(db.session.scalars(
            sa.select(Batch).join(Batch.product).where(Product.producer_id == overview.producer.id)
            .order_by(Batch.updated_at.desc(), Batch.id.desc()).limit(DASHBOARD_BATCHES)))
        overview.recent_batches = [BatchLine(batch=b) for b in batches]
    lines = {line.batch.id: line for o in overviews for line in o.recent_batches}
    if lines:
        for batch_id, count, last in db.session.execute(
                sa.select(Scan.batch_id, sa.func.count(Scan.id), sa.func.max(Scan.at))
                .where(Scan.batch_id.in_(list(lines))).group_by(Scan.batch_id)):
            lines[batch_id].scans = count
            lines[batch_id].last_scan = last
        for batch_id, count in db.session.execute(
                sa.select(LabelRun.batch_id, sa.func.count(LabelRun.id))
                .where(LabelRun.batch_id.in_(list(lines))).group_by(LabelRun.batch_id)):
            lines[batch_id].label_runs = count
    return overviews


def scan_counts(batch_ids: list[int]) -> dict[int, int]:
    """Scans of each batch's labels (resolver's Scan rows), for lists of batches."""
    from ..resolver.models import Scan

    if not batch_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Scan.batch_id, sa.func.count(Scan.id)).where(Scan.batch_id.in_(batch_ids))
        .group_by(Scan.batch_id)).all())


def visible_batches(user: User, limit: int = 100) -> list[Batch]:
    stmt = (sa.select(Batch).join(Batch.product).options(selectinload(Batch.product))
            .order_by(Batch.updated_at.desc(), Batch.id.desc()).limit(limit))
    visible = visible_producer_ids(user)
    if visible is not None:
        stmt = stmt.where(Product.producer_id.in_(visible))
    return list(db.session.scalars(stmt))


def visible_products(user: User, limit: int = 200) -> list[Product]:
    stmt = sa.select(Product).order_by(Product.name_vi, Product.id).limit(limit)
    visible = visible_producer_ids(user)
    if visible is not None:
        stmt = stmt.where(Product.producer_id.in_(visible))
    return list(db.session.scalars(stmt))
