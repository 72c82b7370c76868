"""The resolver's rules: what a scan may keep about its reader, what the page says about a
certificate, and counterfeit reports. The trace read model is trace.py."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from flask_babel import gettext as _

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
