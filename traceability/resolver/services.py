"""Resolution of a scanned code: find what it names, verify its serial, log the scan."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
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


# --- scans -----------------------------------------------------------------------------

def network_hash(remote_addr: str | None) -> str | None:
    """A keyed hash of the client's /24 (IPv4) or /48 (IPv6) network. The address itself
    is never stored; the hash only lets us count distinct networks per code."""
    if not remote_addr:
        return None
    try:
        ip = ipaddress.ip_address(remote_addr)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    network = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"scan-network\x1f" + str(network).encode(), hashlib.sha256).hexdigest()[:16]


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
    db.session.add(Scan(
        code=code[:120], product_id=result.product.id if result.product else None,
        batch_id=result.batch.id if result.batch else None, serial_index=result.serial_index,
        verdict=result.verdict, network_hash=network_hash(remote_addr),
        language=(language or "")[:8] or None, device=device_class(user_agent),
    ))


@dataclass
class ScanStats:
    count: int
    networks: int
    first_at: datetime | None
    possible_copy: bool


def scan_stats(batch_id: int, serial_index: int) -> ScanStats:
    """How often this unit was scanned, from how many networks, since when (this scan included
    once it is flushed). One indexed aggregate over (batch_id, serial_index)."""
    row = db.session.execute(sa.select(
        sa.func.count(Scan.id), sa.func.count(sa.distinct(Scan.network_hash)), sa.func.min(Scan.at),
    ).where(Scan.batch_id == batch_id, Scan.serial_index == serial_index,
            Scan.verdict == ScanVerdict.GENUINE)).one()
    count, networks, first_at = row
    config = current_app.config
    return ScanStats(count=count, networks=networks, first_at=first_at,
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
        raise field_error("message", "Hãy cho biết nơi mua hoặc điều bạn thấy đáng ngờ.")
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
