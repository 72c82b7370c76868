"""The resolver's rules: what a scan may keep about its reader, what the page says about a
certificate and a label (its verdict) and shows of the diary, and counterfeit reports. The
trace read model is trace.py."""
from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from flask_babel import gettext as _

from ..batches.media import PDF_TYPE
from ..batches.models import Attachment, DiaryEvent, EventKind
from ..clock import VIETNAM
from ..errors import field_error
from ..extensions import db
from ..models_base import utcnow
from ..registry.models import Certificate, CertificateStatus
from ..registry.status import certificate_status, stars_allowed
from .models import CounterfeitReport, ReportStatus, ScanVerdict

if TYPE_CHECKING:
    from .trace import Resolution


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


class Tone(enum.StrEnum):
    """The one colour of a page's verdict."""
    OK = "ok"        # the label is genuine (or there is none to check) and the OCOP claim stands
    WARN = "warn"    # the label is genuine or cannot be checked, but the OCOP claim does not stand
    BAD = "bad"      # the label itself is not to be trusted


class LabelStanding(enum.StrEnum):
    """What the page can say of a unit label's serial."""
    GENUINE = "genuine"
    FORGED = "forged"            # the tag does not verify, or the index was never issued
    COPY = "copy"                # genuine, but scanned from too many places: possibly copied
    UNVERIFIED = "unverified"    # the lot is unknown, so the serial cannot be checked


@dataclass(frozen=True)
class PageVerdict:
    """The verdict a trace page opens with: the label's standing (None on a lot or product
    page, which has no serial) and the certificate's status (None: no certificate) in one
    colour; `stars` only where the OCOP claim stands, the only place a page shows them."""
    label: LabelStanding | None
    certificate: str | None      # a CertificateStatus value
    lot_unknown: bool
    tone: Tone
    stars: int | None


def page_verdict(serial_state: str | None, possible_copy: bool, lot_unknown: bool,
                 cert: dict[str, Any]) -> PageVerdict:
    """The verdict on a code: red where the label is not to be trusted (a forged serial, a
    possible copy), amber where it cannot be checked (an unknown lot) or the product may not
    show the OCOP mark (no certificate, expired, revoked), green otherwise. An expiring
    certificate is still in force: green, and the page says until when."""
    label = None if serial_state is None else LabelStanding(serial_state)
    if label == LabelStanding.GENUINE and possible_copy:
        label = LabelStanding.COPY
    if label in (LabelStanding.FORGED, LabelStanding.COPY):
        tone = Tone.BAD
    elif lot_unknown or label == LabelStanding.UNVERIFIED or not cert.get("is_valid"):
        tone = Tone.WARN
    else:
        tone = Tone.OK
    return PageVerdict(label, cert["status"], lot_unknown, tone,
                       cert["stars"] if tone == Tone.OK else None)


# --- the diary as the public page shows it -----------------------------------------------

@dataclass
class DiaryEntry:
    """One step of the public diary: the event, whether a later step corrects it, its photos
    and documents, and for an input applied, how long after it the lot was harvested."""
    event: DiaryEvent
    corrected: bool
    photos: list[Attachment]
    documents: list[Attachment]
    harvested_after_days: int | None = None

    @property
    def details(self) -> dict[str, Any]:
        return self.event.details or {}

    @property
    def interval_kept(self) -> bool | None:
        """Whether the harvest waited the input's pre-harvest interval (None: unknown)."""
        days = self.details.get("pre_harvest_interval_days")
        if days is None or self.harvested_after_days is None:
            return None
        return self.harvested_after_days >= days


def diary_entries(events: list[DiaryEvent]) -> list[DiaryEntry]:
    """The batch's diary for the public page. Corrected steps stay (shown struck out) but do
    not count in the pre-harvest check: an input is checked against the first harvest
    recorded after it, by their days in Vietnam."""
    corrected = {e.corrects_id for e in events if e.corrects_id is not None}
    harvests = sorted((e.occurred_at for e in events
                       if e.kind == EventKind.HARVEST and e.id not in corrected))
    entries = []
    for event in events:
        entry = DiaryEntry(
            event, event.id in corrected,
            photos=[a for a in event.attachments if a.content_type.startswith("image/")],
            documents=[a for a in event.attachments if a.content_type == PDF_TYPE])
        if event.kind == EventKind.INPUT and not entry.corrected \
                and "pre_harvest_interval_days" in entry.details:
            later = next((at for at in harvests if at >= event.occurred_at), None)
            if later is not None:
                entry.harvested_after_days = (later.astimezone(VIETNAM).date()
                                              - event.occurred_at.astimezone(VIETNAM).date()).days
        entries.append(entry)
    return entries


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
