"""The links a code offers, by GS1 link type: its RFC 9264 linkset, its default link and
link-type redirects.

Every level of a code (unit, lot, product) has one page, the trace page, at its Digital
Link path under /trace: the level's default link (GS1-Conformant Resolver 1.2, 2.5.8: a
title and nothing else) and, with its media type and languages, its gs1:pip (the product)
or gs1:traceability (a lot or a unit) link. A lot or serial that does not exist has its
page too: the product's, saying that the lot or serial was not found.
"""
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
PAGE_PREFIX = "/trace"


def page_uri(base: str, level: DigitalLink) -> str:
    """The trace page of one level of a code: its canonical Digital Link path under /trace."""
    return f"{base}{PAGE_PREFIX}{canonical_path(level)}"


def _entry(href: str, title: str, media: str = "text/html") -> dict[str, Any]:
    return {"href": href, "title": title, "type": media, "hreflang": ["vi", "en"]}


def _page_title(level: DigitalLink) -> str:
    if level.lot is None and level.serial is None:
        return _("Thông tin sản phẩm")
    return _("Truy xuất nguồn gốc lô hàng")


def _links_for(base: str, level: DigitalLink, res: Resolution) -> dict[str, dict[str, Any]]:
    """The links one level of the code offers, by short link type."""
    page = _entry(page_uri(base, level), _page_title(level))
    links: dict[str, dict[str, Any]] = {}
    if level.lot is None and level.serial is None:
        links["pip"] = page
    else:
        links["traceability"] = page
        if res.batch is not None and level.lot is not None:
            links["epcis"] = _entry(base + epcis_path(level),
                                    _("Sự kiện EPCIS của lô hàng"), EPCIS_TYPE)
    if res.certificate is not None:
        links["certificationInfo"] = _entry(f"{base}/api/v1/certificates/{res.certificate.id}",
                                            _("Giấy chứng nhận OCOP"), "application/json")
    links["verificationService"] = _entry(
        f"{base}/verify{canonical_path(level)}", _("Kiểm tra mã"), "application/json")
    return links


def default_link(base: str, link: DigitalLink) -> str:
    """Where a code's default link leads: its own trace page, which walks up past a lot or a
    serial that does not exist and says so (a sign of a forged label)."""
    return page_uri(base, link)


def _description(res: Resolution, level: DigitalLink, locale: str) -> str:
    product = res.product
    parts = [product.name_en if locale == "en" and product.name_en else product.name_vi]
    if level.variant is not None:
        parts.append(_("biến thể %(value)s", value=level.variant))
    if level.lot is not None:
        parts.append(_("lô %(value)s", value=level.lot))
    if level.serial is not None:
        parts.append(_("sê-ri %(value)s", value=level.serial))
    return ", ".join(parts)


def linkset(base: str, res: Resolution, locale: str) -> dict[str, Any]:
    """The code's linkset: one link context per existing level, each with its description
    (`description`, and `itemDescription` for readers of the older linkset schema), its
    default link and its links by type."""
    entries = []
    for level in res.link.walk_up():
        links = _links_for(base, level, res)
        description = _description(res, level, locale)
        entry: dict[str, Any] = {"anchor": build_uri(base, level), "description": description,
                                 "itemDescription": description}
        default = links["pip" if "pip" in links else "traceability"]
        entry[VOC + "defaultLink"] = [{"href": default["href"], "title": default["title"]}]
        for short, link in links.items():
            entry[VOC + short] = [link]
        entries.append(entry)
    return {"linkset": entries}


def by_type(base: str, res: Resolution) -> dict[str, dict[str, Any]]:
    """Every link type's link; the deepest level's link of a type wins."""
    links: dict[str, dict[str, Any]] = {}
    for level in reversed(res.link.walk_up()):
        links.update(_links_for(base, level, res))
    return links
