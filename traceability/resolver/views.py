"""The public GS1 Digital Link resolver: trace pages, linksets, verification, reports.

The default link is served in place (200, no redirect): a consumer's phone on 3G saves a
full round trip, and GS1-Conformant Resolver 1.2 allows the resolver to answer the default
response itself. Every other link type is a 307 redirect to its href.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..accounts.models import Role
from ..batches.forms import KIND_LABELS
from ..batches.models import EventKind
from ..accounts.permissions import Action, can
from ..clock import VIETNAM, local_today
from ..errors import DomainError
from ..extensions import db, limiter
from ..gs1 import DigitalLink, GS1Error, build_uri, canonical_path, parse_path
from . import services
from .services import Resolution, SerialState

blp = Blueprint("resolver", __name__)

VOC = "https://ref.gs1.org/voc/"
LINKSET_CONTEXT = ('<https://ref.gs1.org/standards/resolver/linkset-context>; '
                   'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"')
LINK_TYPES = ("pip", "traceability", "certificationInfo", "verificationService", "epcis")
INSPECTOR_ROLES = (Role.INSPECTOR, Role.OFFICER, Role.ADMIN)


class ReportForm(FlaskForm):
    code = HiddenField()
    place_of_purchase = StringField(_l("Nơi mua"), validators=[Optional(), Length(max=200)])
    message = TextAreaField(_l("Điều bạn thấy đáng ngờ"), validators=[Optional(), Length(max=2000)])
    contact = StringField(_l("Số điện thoại hoặc e-mail (không bắt buộc)"),
                          validators=[Optional(), Length(max=120)])


# --- plumbing ---------------------------------------------------------------------------

def _base() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def _raw_path() -> str:
    """The undecoded request path: a lot such as A%2FB must reach the parser still encoded."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        if path.startswith(("http://", "https://")):  # absolute-form request target
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        return path
    return quote(request.path, safe="/")


def _linkset_header(path: str) -> str:
    return f'<{_base()}{path}?linkType=linkset>; rel="linkset"; type="application/linkset+json"'


def _finish(response: Response, path: str) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "Link, ETag, Location"
    response.headers.add("Link", _linkset_header(path))
    response.vary.update(("Accept", "Accept-Language", "Cookie"))
    return response


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _wants_linkset() -> bool:
    link_type = request.args.get("linkType", "")
    if link_type in ("linkset", "all"):
        return True
    if link_type:
        return False
    accept = request.accept_mimetypes
    return accept.best_match(["text/html", "application/linkset+json"]) == "application/linkset+json" \
        and accept["application/linkset+json"] > accept["text/html"]


def _syntax_error(exc: GS1Error, path: str) -> Response:
    if _wants_json() or request.accept_mimetypes["application/linkset+json"]:
        body = {"code": "bad_request", "status": 400, "message": exc.message,
                "errors": {exc.field: [exc.message]}}
        response = make_response(jsonify(body), 400)
    else:
        response = make_response(render_template("resolver/bad_code.html", error=exc, path=path), 400)
    return _finish(response, path)


# --- links --------------------------------------------------------------------------------

def _link_entry(href: str, title: str, media: str = "text/html") -> dict[str, Any]:
    return {"href": href, "title": title, "type": media, "hreflang": ["vi", "en"]}


def _links_for(level_link: DigitalLink, res: Resolution) -> dict[str, dict[str, Any]]:
    """The links one level of the code offers, by short link type."""
    uri = build_uri(_base(), level_link)
    links: dict[str, dict[str, Any]] = {}
    if level_link.lot is None and level_link.serial is None:
        links["pip"] = _link_entry(uri, _("Thông tin sản phẩm"))
    else:
        links["traceability"] = _link_entry(uri, _("Truy xuất nguồn gốc lô hàng"))
        if res.batch is not None and level_link.lot is not None:
            links["epcis"] = _link_entry(f"{_base()}/epcis/batch/{res.batch.id}",
                                         _("Sự kiện EPCIS của lô hàng"), "application/ld+json")
    if res.certificate is not None:
        links["certificationInfo"] = _link_entry(
            f"{_base()}/api/v1/certificates/{res.certificate.id}",
            _("Giấy chứng nhận OCOP"), "application/json")
    links["verificationService"] = _link_entry(
        f"{_base()}/verify{canonical_path(level_link)}", _("Kiểm tra mã"), "application/json")
    return links


def _default_type(level_link: DigitalLink) -> str:
    return "pip" if level_link.lot is None and level_link.serial is None else "traceability"


def _levels(res: Resolution) -> list[DigitalLink]:
    """The levels that exist, from the deepest matched one up to the GTIN (or trace code)."""
    chain = res.link.walk_up()
    if res.lot_unknown or res.batch is None:
        chain = [lvl for lvl in chain if lvl.lot is None and lvl.serial is None]
    return chain


def linkset(res: Resolution) -> dict[str, Any]:
    entries = []
    for level in _levels(res):
        links = _links_for(level, res)
        entry: dict[str, Any] = {"anchor": build_uri(_base(), level)}
        entry[VOC + "defaultLink"] = [links[_default_type(level)]]
        for short, link in links.items():
            entry[VOC + short] = [link]
        entries.append(entry)
    return {"linkset": entries}


# --- routes -------------------------------------------------------------------------------

@blp.route("/01/<path:rest>", methods=["GET", "HEAD", "OPTIONS"])
@blp.route("/t/<path:rest>", methods=["GET", "HEAD", "OPTIONS"])
@limiter.exempt
def resolve(rest: str) -> Response:
    path = _raw_path()
    if request.method == "OPTIONS":
        response = make_response("", 204)
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Accept-Language"
        response.headers["Allow"] = "GET, HEAD, OPTIONS"
        return _finish(response, path)
    try:
        link = parse_path(path, request.query_string.decode("latin-1"))
    except GS1Error as exc:
        return _syntax_error(exc, path)
    canonical = canonical_path(link)
    res = services.resolve(link)

    if res.product is None:
        services.record_scan(res, canonical, **_client())
        db.session.commit()
        response = make_response(render_template(
            "resolver/unknown.html", link=link, code=canonical, form=_report_form(canonical)), 404)
        return _finish(response, canonical)

    if _wants_linkset():
        services.record_scan(res, canonical, **_client())
        db.session.commit()
        response = make_response(jsonify(linkset(res)), 200)
        response.mimetype = "application/linkset+json"
        response.headers.add("Link", LINKSET_CONTEXT)
        return _finish(response, canonical)

    link_type = request.args.get("linkType", "")
    short = link_type.removeprefix("gs1:").removeprefix(VOC)
    if link_type and short != "defaultLink":
        links: dict[str, dict[str, Any]] = {}
        for level in reversed(_levels(res)):  # the deepest level's link of a type wins
            links.update(_links_for(level, res))
        target = links.get(short)
        if target is None:
            response = make_response(render_template(
                "resolver/no_link.html", link_type=link_type, code=canonical), 404)
            return _finish(response, canonical)
        services.record_scan(res, canonical, **_client())
        db.session.commit()
        query = {k: v for k, v in request.args.items(multi=True) if k != "linkType"}
        href = target["href"]
        if query:
            href += ("&" if "?" in href else "?") + urlencode(query)
        return _finish(redirect(href, 307), canonical)

    return _trace_page(res, canonical)


def _client() -> dict[str, Any]:
    return {"remote_addr": request.remote_addr, "user_agent": request.headers.get("User-Agent"),
            "language": str(get_locale() or "")}


def _report_form(code: str) -> ReportForm:
    form = ReportForm(formdata=None)
    form.code.data = code
    return form


def _inspector() -> Any | None:
    if not current_user.is_authenticated or current_user.role not in INSPECTOR_ROLES:
        return None
    return current_user._get_current_object()


def _validators(res: Resolution, today: Any, inspector: Any) -> tuple[str, datetime]:
    """ETag and Last-Modified of a lot- or product-level page: they change with the
    product, its certificates, the batch (bumped by each diary event), the day and language."""
    stamps = [res.product.updated_at] + [c.updated_at for c in res.history]
    if res.batch is not None:
        stamps.append(res.batch.updated_at)
    last = max(s for s in stamps if s is not None)
    key = "|".join([canonical_path(res.link), str(res.lot_unknown), today.isoformat(),
                    str(get_locale()), str(getattr(inspector, "id", "")),
                    *(s.isoformat() for s in stamps if s is not None)])
    return hashlib.sha256(key.encode()).hexdigest()[:32], last


def _trace_page(res: Resolution, canonical: str) -> Response:
    today = local_today()
    inspector = _inspector()
    if inspector is not None and not can(inspector, Action.VIEW, res.product.producer):
        inspector = None
    services.record_scan(res, canonical, **_client())
    stats = None
    if res.serial_state == SerialState.GENUINE and res.batch is not None:
        db.session.flush()
        stats = services.scan_stats(res.batch.id, res.serial_index or 0)
    db.session.commit()

    cacheable = res.link.serial is None
    etag = last_modified = None
    if cacheable:
        etag, last_modified = _validators(res, today, inspector)
        if request.if_none_match.contains(etag):
            response = make_response("", 304)
            response.set_etag(etag)
            return _finish(response, canonical)

    html = render_template(
        "resolver/trace.html", res=res, code=canonical, stats=stats, today=today,
        cert=services.certificate_view(res.certificate, today), inspector=inspector,
        form=_report_form(canonical), uri=build_uri(_base(), res.link),
        inspection_url=f"/oversight/inspections/new?product_id={res.product.id}&code={quote(canonical)}",
        local=lambda value: value.astimezone(VIETNAM) if value else value,
        kind_label=lambda kind: str(KIND_LABELS.get(EventKind(kind), kind)),
    )
    response = make_response(html, 200)
    if cacheable:
        response.set_etag(etag)
        response.last_modified = last_modified
        response.cache_control.no_cache = True  # revalidate every time: revocations show at once
    else:
        response.cache_control.no_store = True  # scan counts change on every scan
    if inspector is not None:
        response.cache_control.private = True
    return _finish(response, canonical)


@blp.get("/verify/01/<path:rest>")
@blp.get("/verify/t/<path:rest>")
@limiter.limit("60/minute")
def verify(rest: str) -> Response:
    """gs1:verificationService: a JSON verdict for apps and inspectors; no scan is logged."""
    path = _raw_path().removeprefix("/verify")
    try:
        link = parse_path(path, "")
    except GS1Error as exc:
        return _syntax_error(exc, path)
    res = services.resolve(link)
    today = local_today()
    cert = services.certificate_view(res.certificate, today)
    body = {
        "code": canonical_path(link), "known_product": res.product is not None,
        "lot_found": res.batch is not None if link.lot else None,
        "serial": res.serial_state, "label_run": res.run.id if res.run else None,
        "guaranteed_until": res.run.guaranteed_until.isoformat() if res.run else None,
        "certificate": None if cert["cert"] is None else {
            "decision_number": cert["cert"].decision_number, "status": cert["status"],
            "issuing_authority": cert["cert"].issuing_authority,
            "expires_on": cert["cert"].expires_on.isoformat(), "stars_allowed": cert["stars"]},
    }
    response = make_response(jsonify(body), 200 if res.product is not None else 404)
    response.cache_control.no_store = True
    return _finish(response, canonical_path(link))


@blp.post("/report")
@limiter.limit("5/hour;20/day")
def report() -> Response:
    """A consumer's counterfeit report from the warning page (CSRF-protected form)."""
    form = ReportForm()
    code = (form.code.data or "")[:120]
    if not form.validate():
        return make_response(render_template("resolver/report_done.html", ok=False, form=form,
                                             code=code), 400)
    res = None
    try:
        res = services.resolve(parse_path(code, ""))
    except GS1Error:
        pass
    try:
        services.report_counterfeit(code, form.data, res)
    except DomainError as exc:
        db.session.rollback()
        form.message.errors = [exc.message]
        return make_response(render_template("resolver/report_done.html", ok=False, form=form,
                                             code=code), 422)
    db.session.commit()
    return make_response(render_template("resolver/report_done.html", ok=True, form=form, code=code))


@blp.get("/.well-known/gs1resolver")
def well_known() -> Response:
    body = {
        "name": "OCOP Trace",
        "resolverRoot": _base(),
        "supportedPrimaryKeys": ["gtin"],
        "supportedLinkType": [{"namespace": VOC, "prefix": "gs1:", "profile": VOC + t}
                              for t in LINK_TYPES],
        "linkTypeDefaultCanBeLinkset": False,
        "supportedContextValuesEnumerated": [],
        "validatedDigitalLinkSyntax": "uncompressed",
        "contact": {"organizationName": "OCOP Trace"},
    }
    response = make_response(jsonify(body))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
