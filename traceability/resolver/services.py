"""Resolution of a scanned code: find what it names, verify its serial, log the scan."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from ..batches.models import Batch, DiaryEvent
from ..codes.keys import get_signer
from ..codes.models import LabelLevel, LabelRun
from ..errors import field_error
from ..extensions import db
from ..gs1 import DigitalLink, GS1Error
from ..models_base import utcnow
from ..registry.models import Certificate, CertificateStatus, Producer, Product
from ..registry.services import current_certificate
from ..registry.status import certificate_status, stars_allowed
from .models import CounterfeitReport, ReportStatus, Scan, ScanVerdict
from .scanlog import ScanLog


class SerialState:
    GENUINE = "genuine"          # tag verifies against an issued unit run
    FORGED = "forged"            # malformed, altered tag, or an index never issued
    UNVERIFIED = "unverified"    # the lot is unknown, so the serial cannot be checked


@dataclass
class Resolution:
    """What a code names, after walking up past unknown qualifiers."""

    link: DigitalLink
    product: Product | None
    batch: Batch | None = None
    run: LabelRun | None = None
    serial_index: int | None = None
    serial_state: str | None = None
    lot_unknown: bool = False
    certificate: Certificate | None = None
    history: list[Certificate] = field(default_factory=list)

    @property
    def level(self) -> str:
        """The deepest level that matched: 'serial', 'lot' or 'product'."""
        if self.batch is not None and self.link.serial is not None:
            return "serial"
        return "lot" if self.batch is not None else "product"

    @property
    def verdict(self) -> ScanVerdict:
        if self.product is None:
            return ScanVerdict.UNKNOWN
        if self.serial_state == SerialState.FORGED:
            return ScanVerdict.FORGED
        if self.serial_state == SerialState.GENUINE:
            return ScanVerdict.GENUINE
        return ScanVerdict.LOT


def _product_query() -> sa.Select:
    return sa.select(Product).options(
        joinedload(Product.producer).joinedload(Producer.region),
        selectinload(Product.certificates),
    )


def find_product(link: DigitalLink) -> Product | None:
    """A product by GTIN, or by trace code (which keeps working after a GTIN is assigned)."""
    if link.gtin is not None:
        stmt = _product_query().where(Product.gtin == link.gtin)
    else:
        stmt = _product_query().where(Product.trace_code == link.trace_code)
    return db.session.scalars(stmt).unique().one_or_none()


def resolve(link: DigitalLink) -> Resolution:
    product = find_product(link)
    result = Resolution(link=link, product=product)
    if product is None:
        return result
    result.certificate = current_certificate(product)
    result.history = sorted(product.certificates, key=lambda c: (c.issued_on, c.id), reverse=True)
    if link.lot is not None:
        result.batch = db.session.scalars(
            sa.select(Batch).where(Batch.product_id == product.id, Batch.lot == link.lot)
            .options(selectinload(Batch.events).selectinload(DiaryEvent.attachments))
        ).one_or_none()
        result.lot_unknown = result.batch is None
    if link.serial is not None:
        _verify_serial(result)
    return result


def _verify_serial(result: Resolution) -> None:
    """Arithmetic plus one lookup: the serial's index picks the run, its key checks the tag."""
    if result.batch is None:
        result.serial_state = SerialState.UNVERIFIED
        return
    signer = get_signer()
    try:
        index, _tag = signer.split(result.link.serial or "")
    except GS1Error:
        result.serial_state = SerialState.FORGED
        return
    result.serial_index = index
    run = db.session.scalars(sa.select(LabelRun).where(
        LabelRun.batch_id == result.batch.id, LabelRun.level == LabelLevel.UNIT,
        LabelRun.first_index <= index, LabelRun.first_index + LabelRun.count > index,
    ).limit(1)).first()
    if run is not None and run.key_version is not None and signer.verify(
            run.subject, result.batch.lot, result.link.serial or "", run.key_version):
        result.run = run
        result.serial_state = SerialState.GENUINE
    else:
        result.serial_state = SerialState.FORGED


# --- the cheap first look of the trace path -------------------------------------------------

@dataclass(frozen=True)
class Head:
    """One query's worth: ids, version stamps, and the unit run matching the serial."""
    product_id: int
    batch_id: int | None
    lot: str | None
    run_id: int | None
    run_subject: str | None
    run_key_version: int | None
    stamps: tuple
    times: tuple   # product, certificates, batch: when each last changed
    stats: "ScanStats | None" = None

    @property
    def changed(self) -> datetime:
        """Last-Modified of the page (only lot-level pages need it, so parsed on demand)."""
        return max(_aware(t) for t in self.times if t is not None)


# The trace path's read is plain SQL handed to the driver: building SQLAlchemy expressions
# and their cache keys on every request cost more than running them.
_HEAD_SQL = """
SELECT p.id, p.updated_at, pr.name, pr.address,
       (SELECT max(c.updated_at) FROM certificates c WHERE c.product_id = p.id),
       b.id, b.updated_at, b.lot, r.id, r.subject, r.key_version,
       count(sc.id), count(DISTINCT sc.network_hash), min(sc.at),
       sum(CASE WHEN sc.network_hash = :mine THEN 1 ELSE 0 END)
FROM products p
JOIN producers pr ON pr.id = p.producer_id
LEFT JOIN batches b ON b.product_id = p.id AND b.lot = :lot
LEFT JOIN label_runs r ON r.batch_id = b.id AND r.level = 'unit'
     AND r.first_index <= :idx AND r.first_index + r.count > :idx
LEFT JOIN scans sc ON sc.batch_id = b.id AND sc.serial_index = :idx AND sc.verdict = 'genuine'
WHERE p.{key} = :value
GROUP BY p.id, p.updated_at, pr.name, pr.address, b.id, b.updated_at, b.lot,
         r.id, r.subject, r.key_version
LIMIT 1
"""
_HEAD_BY = {key: _HEAD_SQL.format(key=key) for key in ("gtin", "trace_code")}
# PostgreSQL aggregates the unit's scans in a LATERAL subquery instead: grouping the joined
# rows sorted them on the wide text columns too, a third of the query's time (pgbench, one
# client, alternating runs: 0.35-0.39 vs 0.49-0.50 ms). SQLite has no LATERAL.
_PG_HEAD_SQL = """
SELECT p.id, p.updated_at, pr.name, pr.address,
       (SELECT max(c.updated_at) FROM certificates c WHERE c.product_id = p.id),
       b.id, b.updated_at, b.lot, r.id, r.subject, r.key_version,
       s.n, s.networks, s.first_at, s.mine
FROM products p
JOIN producers pr ON pr.id = p.producer_id
LEFT JOIN batches b ON b.product_id = p.id AND b.lot = :lot
LEFT JOIN label_runs r ON r.batch_id = b.id AND r.level = 'unit'
     AND r.first_index <= :idx AND r.first_index + r.count > :idx
LEFT JOIN LATERAL (
    SELECT count(sc.id) AS n, count(DISTINCT sc.network_hash) AS networks,
           min(sc.at) AS first_at,
           sum(CASE WHEN sc.network_hash = :mine THEN 1 ELSE 0 END) AS mine
    FROM scans sc
    WHERE sc.batch_id = b.id AND sc.serial_index = :idx AND sc.verdict = 'genuine'
) s ON true
WHERE p.{key} = :value
LIMIT 1
"""
_STATS = sa.text("""
SELECT count(id), count(DISTINCT network_hash), min(at),
       sum(CASE WHEN network_hash = :mine THEN 1 ELSE 0 END)
FROM scans WHERE batch_id = :batch AND serial_index = :idx AND verdict = 'genuine'
""")


def head(raw: Any, dialect: str, link: DigitalLink, serial_index: int | None,
         mine: str | None, app: Flask | None = None) -> Head | None:
    """Everything the fast path reads, in one indexed query on a DBAPI connection (`raw`):
    ids, version stamps, the unit run that covers the serial, and the unit's scan
    statistics (see scan_stats). Driver errors propagate to the caller."""
    key = "gtin" if link.gtin is not None else "trace_code"
    params = {"lot": link.lot, "idx": serial_index, "mine": mine,
              "value": link.gtin or link.trace_code}
    if dialect == "postgresql":
        row = _pg_head_row(raw, key, params)
    else:
        cursor = raw.cursor()  # sqlite3 takes the :name parameters as written
        try:
            row = cursor.execute(_HEAD_BY[key], params).fetchone()
        finally:
            cursor.close()
    if row is None:
        return None
    (product_id, product_changed, producer_name, producer_address, certs_changed,
     batch_id, batch_changed, lot, run_id, run_subject, run_key_version,
     count, networks, first_at, seen_here) = row
    stats = None
    if serial_index is not None and batch_id is not None:
        stats = _stats(count or 0, networks or 0, first_at, seen_here or 0, mine,
                       batch_id, serial_index, app or current_app._get_current_object())
    stamps = (product_id, str(product_changed), producer_name, producer_address,
              str(certs_changed), batch_id, str(batch_changed))
    return Head(product_id, batch_id, lot, run_id, run_subject, run_key_version, stamps,
                (product_changed, certs_changed, batch_changed), stats)


# PostgreSQL: the head query as a server-side prepared statement run through libpq
# (psycopg.pq), text in and text out. psycopg's cursor layer (adapting parameters, loading
# 15 typed columns) cost more client CPU than the query itself; timestamps stay text here,
# as they come from SQLite, and are parsed only where a page needs them.
_PG_PARAMS = ("lot", "idx", "mine", "value")
_PG_HEAD = {key: re.sub(r"(?<!:):([a-z_]+)", lambda m: f"${_PG_PARAMS.index(m.group(1)) + 1}",
                        _PG_HEAD_SQL.format(key=key)).encode() for key in _HEAD_BY}
_PG_INT_COLUMNS = (0, 5, 8, 10, 11, 12, 14)   # ids, key version and counts


def _pg_head_row(raw: Any, key: str, params: dict[str, Any]) -> tuple | None:
    from psycopg import OperationalError
    from psycopg.pq import ExecStatus

    pgconn = raw.driver_connection.pgconn
    name = b"ocop_trace_head_" + key.encode()
    prepared = raw.info.setdefault("ocop_prepared", set())  # per database connection
    if name not in prepared:
        result = pgconn.prepare(name, _PG_HEAD[key])
        if result.status != ExecStatus.COMMAND_OK:
            raise OperationalError(result.error_message.decode(errors="replace"))
        prepared.add(name)
    values = [None if params[p] is None else str(params[p]).encode() for p in _PG_PARAMS]
    result = pgconn.exec_prepared(name, values)
    if result.status != ExecStatus.TUPLES_OK:
        raise OperationalError(result.error_message.decode(errors="replace"))
    if result.ntuples == 0:
        return None
    row: list[Any] = [None if (v := result.get_value(0, column)) is None else v.decode()
                      for column in range(result.nfields)]
    for column in _PG_INT_COLUMNS:
        if row[column] is not None:
            row[column] = int(row[column])
    return tuple(row)


def _aware(value: datetime | str) -> datetime:
    """Aggregates (MAX) bypass the column type on SQLite and come back naive or as text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def serial_is_genuine(head_row: Head, serial: str, app: Flask | None = None) -> bool:
    if head_row.run_id is None or head_row.run_key_version is None or head_row.lot is None:
        return False
    return get_signer(app).verify(head_row.run_subject or "", head_row.lot, serial,
                               head_row.run_key_version)


def scan_log(app: Flask | None = None) -> ScanLog:
    """This process's scan log buffer (see scanlog.py). The hot path passes its `app`:
    each context-proxy lookup costs a few microseconds."""
    found = (app or current_app).extensions.get("scan_log")
    if found is None:
        found = current_app.extensions["scan_log"] = ScanLog(
            db.engine.url, current_app.config["SCAN_LOG_FLUSH_SECONDS"])
    return found


def insert_scan(code: str, *, product_id: int | None, batch_id: int | None,
                serial_index: int | None, verdict: ScanVerdict, remote_addr: str | None,
                user_agent: str | None, language: str | None, network: str | None = None,
                app: Flask | None = None) -> None:
    """Log one scan: a row for the scan log's next batched INSERT, no ORM object."""
    scan_log(app).add({
        "at": utcnow(), "code": code[:120], "product_id": product_id, "batch_id": batch_id,
        "serial_index": serial_index, "verdict": ScanVerdict(verdict).value,
        "network_hash": network or network_hash(remote_addr),
        "language": (language or "")[:8] or None, "device": device_class(user_agent)})


# --- scans -----------------------------------------------------------------------------

def network_hash(remote_addr: str | None, app: Flask | None = None) -> str | None:
    """A keyed hash of the client's /24 (IPv4) or /48 (IPv6) network. The address itself
    is never stored; the hash only lets us count distinct networks per code."""
    if not remote_addr:
        return None
    return _network_hash((app or current_app).config["SECRET_KEY"], remote_addr)


@lru_cache(maxsize=4096)
def _network_hash(secret: str, remote_addr: str) -> str | None:
    # Cached per process: the same phones and carrier gateways come back again and again.
    try:
        ip = ipaddress.ip_address(remote_addr)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    network = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
    return hmac.new(secret.encode(), b"scan-network\x1f" + str(network).encode(),
                    hashlib.sha256).hexdigest()[:16]


@lru_cache(maxsize=1024)
def device_class(user_agent: str | None) -> str:
    ua = (user_agent or "").lower()
    if any(bot in ua for bot in ("bot", "crawler", "spider", "curl", "wget", "python")):
        return "bot"
    if "android" in ua:
        return "android"
    if "iphone" in ua or "ipad" in ua:
        return "ios"
    if "mozilla" in ua:
        return "desktop"
    return "other"


def record_scan(result: Resolution, code: str, *, remote_addr: str | None,
                user_agent: str | None, language: str | None) -> None:
    """One INSERT per resolution; nothing personal is kept (see network_hash)."""
    insert_scan(code, product_id=result.product.id if result.product else None,
                batch_id=result.batch.id if result.batch else None,
                serial_index=result.serial_index, verdict=result.verdict,
                remote_addr=remote_addr, user_agent=user_agent, language=language)


@dataclass
class ScanStats:
    count: int
    networks: int
    first_at: datetime | None
    possible_copy: bool


def scan_stats(batch_id: int, serial_index: int, remote_addr: str | None) -> ScanStats:
    """How often this unit was scanned, from how many networks and since when, counting the
    scan being served (which is written after the page is rendered, to keep the write short).
    One indexed aggregate over (batch_id, serial_index)."""
    mine = network_hash(remote_addr)
    count, networks, first_at, seen_here = db.session.execute(
        _STATS, {"mine": mine, "batch": batch_id, "idx": serial_index}).one()
    return _stats(count, networks, first_at, seen_here, mine, batch_id, serial_index,
                  current_app._get_current_object())


def _stats(count: int, networks: int, first_at: Any, seen_here: int, mine: str | None,
           batch_id: int, serial_index: int, app: Flask) -> ScanStats:
    """The written scans' aggregates, plus this process's unwritten ones, plus this scan.
    An unwritten scan from another network that is also among the written ones is counted
    twice in `networks`: that needs two networks scanning one unit within a flush interval."""
    pending = scan_log(app).pending_for(batch_id, serial_index)
    count += pending.count + 1
    if mine is not None and not seen_here:
        networks += 1
    networks += len(pending.networks - {mine})
    first = _aware(first_at) if first_at is not None else None
    if pending.first_at is not None and (first is None or pending.first_at < first):
        first = pending.first_at
    config = app.config
    return ScanStats(count=count, networks=networks, first_at=first or utcnow(),
                     possible_copy=count > config["SCAN_COPY_MAX_SCANS"]
                     or networks > config["SCAN_COPY_MAX_NETWORKS"])


# --- certificate wording -------------------------------------------------------------------

def certificate_view(cert: Certificate | None, today: date) -> dict[str, Any]:
    """What the page says about the OCOP mark: status, and stars only while they are allowed."""
    if cert is None:
        return {"status": None, "stars": None, "cert": None}
    status = certificate_status(cert, today)
    return {
        "status": status.value,
        "stars": cert.stars if stars_allowed(cert, today) else None,
        "cert": cert,
        "days_left": (cert.expires_on - today).days,
        "is_valid": status in (CertificateStatus.VALID, CertificateStatus.EXPIRING),
    }


# --- counterfeit reports ------------------------------------------------------------------

def report_counterfeit(code: str, data: dict[str, Any], result: Resolution | None) -> CounterfeitReport:
    if not (data.get("message") or data.get("place_of_purchase")):
        raise field_error("message", _("Hãy cho biết nơi mua hoặc điều bạn thấy đáng ngờ."))
    report = CounterfeitReport(
        code=code[:120],
        product_id=result.product.id if result and result.product else None,
        batch_id=result.batch.id if result and result.batch else None,
        serial_index=result.serial_index if result else None,
        verdict=result.verdict if result else ScanVerdict.UNKNOWN,
        place_of_purchase=(data.get("place_of_purchase") or None),
        message=(data.get("message") or None), contact=(data.get("contact") or None),
        status=ReportStatus.OPEN, created_at=utcnow(),
    )
    db.session.add(report)
    db.session.flush()
    return report
