"""The links a code offers, by GS1 link type: its RFC 9264 linkset and link-type redirects."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _

from ..batches.epcis import MEDIA_TYPE as EPCIS_TYPE
from ..batches.epcis import public_path as epcis_path
from ..gs1 import DigitalLink, build_uri, canonical_path

if TYPE_CHECKING:
    from .trace import Resolution

VOC = "https://ref.gs1.org/voc/"
LINKSET_CONTEXT_URL = "https://ref.gs1.org/standards/resolver/linkset-context"
LINK_TYPES = ("pip", "traceability", "certificationInfo", "verificationService", "epcis")


def _entry(href: str, title: str, media: str = "text/html") -> dict[str, Any]:
    return {"href": href, "title": title, "type": media, "hreflang": ["vi", "en"]}


def _links_for(base: str, level_link: DigitalLink, res: Resolution) -> dict[str, dict[str, Any]]:
    """The links one level of the code offers, by short link type."""
    uri = build_uri(base, level_link)
    links: dict[str, dict[str, Any]] = {}
    if level_link.lot is None and level_link.serial is None:
        links["pip"] = _entry(uri, _("Thông tin sản phẩm"))
    else:
        links["traceability"] = _entry(uri, _("Truy xuất nguồn gốc lô hàng"))
        if res.batch is not None and level_link.lot is not None:
            links["epcis"] = _entry(base + epcis_path(level_link),
                                    _("Sự kiện EPCIS của lô hàng"), EPCIS_TYPE)
    if res.certificate is not None:
        links["certificationInfo"] = _entry(f"{base}/api/v1/certificates/{res.certificate.id}",
                                            _("Giấy chứng nhận OCOP"), "application/json")
    links["verificationService"] = _entry(
        f"{base}/verify{canonical_path(level_link)}", _("Kiểm tra mã"), "application/json")
    return links


def _default_type(level_link: DigitalLink) -> str:
    return "pip" if level_link.lot is None and level_link.serial is None else "traceability"


def _levels(res: Resolution) -> list[DigitalLink]:
    """The levels that exist, from the deepest matched one up to the GTIN (or trace code)."""
    chain = res.link.walk_up()
    if res.lot_unknown or res.batch is None:
        chain = [lvl for lvl in chain if lvl.lot is None and lvl.serial is None]
    return chain


def linkset(base: str, res: Resolution) -> dict[str, Any]:
    entries = []
    for level in _levels(res):
        links = _links_for(base, level, res)
        entry: dict[str, Any] = {"anchor": build_uri(base, level)}
        entry[VOC + "defaultLink"] = [links[_default_type(level)]]
        for short, link in links.items():
            entry[VOC + short] = [link]
        entries.append(entry)
    return {"linkset": entries}


def by_type(base: str, res: Resolution) -> dict[str, dict[str, Any]]:
    """Every link type's link; the deepest level's link of a type wins."""
    links: dict[str, dict[str, Any]] = {}
    for level in reversed(_levels(res)):
        links.update(_links_for(base, level, res))
    return links
