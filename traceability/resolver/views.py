"""The public GS1 Digital Link resolver's routes: trace pages, verification, reports.

A code's Digital Link URI redirects (307) to its default link, its trace page under /trace
(GS1-Conformant Resolver 1.2, 2.6.1: the resolver SHALL redirect to the default link), or
to the link type asked for. What a code's answer is, is decided by the trace read model
(trace.py); the routes only read the request.
"""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..accounts.models import Role
from ..batches.api import epcis_response
from ..batches.epcis import public_path
from ..errors import DomainError, error_response
from ..extensions import db, limiter
from ..gs1 import GS1Error, canonical_path, parse_path
from . import services, trace
from .infra import trace_infra
from .links import LINKSET_CONTEXT_URL, PAGE_PREFIX, VOC

blp = Blueprint("resolver", __name__)

INSPECTOR_ROLES = (Role.INSPECTOR, Role.OFFICER, Role.ADMIN)


class ReportForm(FlaskForm):
    code = HiddenField()
    place_of_purchase = StringField(_l("Nơi mua"), validators=[Optional(), Length(max=200)])
    message = TextAreaField(_l("Điều bạn thấy đáng ngờ"), validators=[Optional(), Length(max=2000)])
    contact = StringField(_l("Số điện thoại hoặc e-mail (không bắt buộc)"),
                          validators=[Optional(), Length(max=120)])


# --- reading the request ------------------------------------------------------------------

def _raw_path() -> str:
    return trace.raw_path(request.environ)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _wants_linkset() -> bool:
    # `in` before `get`: werkzeug builds an exception object for each missing key looked up.
    if "linkType" in request.args:
        return request.args["linkType"] in ("linkset", "all")
    if "linkset" not in request.environ.get("HTTP_ACCEPT", ""):
        return False
    accept = request.accept_mimetypes
    return accept.best_match(["text/html", "application/linkset+json"]) == "application/linkset+json" \
        and accept["application/linkset+json"] > accept["text/html"]


def _inspector() -> Any | None:
    """A signed-in inspector (or officer, or admin); anonymous phones (no session cookie)
    are not looked up at all."""
    name = current_app.config.get("SESSION_COOKIE_NAME", "session")
    if name not in request.environ.get("HTTP_COOKIE", "") or name not in request.cookies:
        return None
    if not current_user.is_authenticated or current_user.role not in INSPECTOR_ROLES:
        return None
    return current_user._get_current_object()


def _reader(link: Any, **flask_only: Any) -> trace.Reader:
    """The request as the trace read model reads it: what the lane reads from the environ,
    and what only Flask knows."""
    return trace.Reader.from_environ(request.environ, link, current_app._get_current_object(),
                                     **flask_only)


def _finish(response: Response, path: str) -> Response:
    """What the read model's pages carry, on the answers made here."""
    app = current_app._get_current_object()
    response.headers.extend(trace.common_headers(app, path))
    scans = trace_infra(app).scan_log
    if scans.due():  # written once this response is out, by this thread (see scanlog.py)
        response.call_on_close(scans.flush_if_due)
    return response


def _preflight(path: str | None) -> Response:
    """The answer to a CORS preflight (OPTIONS) on a resolver address; on a code's address it
    carries the code's Link header too."""
    response = make_response("", 204)
    response.headers.extend(trace.PREFLIGHT_HEADERS)
    return response if path is None else _finish(response, path)


def _syntax_error(exc: GS1Error, path: str) -> Response:
    if _wants_json() or request.accept_mimetypes["application/linkset+json"]:
        body = {"code": "bad_request", "status": 400, "message": exc.message,
                "errors": {exc.field: [exc.message]}}
        response = make_response(jsonify(body), 400)
    else:
        response = make_response(render_template("resolver/bad_code.html", error=exc, path=path), 400)
    return _finish(response, path)


def _report_form(code: str) -> ReportForm:
    form = ReportForm(formdata=None)
    form.code.data = code
    return form


# --- routes -------------------------------------------------------------------------------

@blp.route("/01/<path:rest>", methods=["GET", "HEAD", "OPTIONS"])
@blp.route("/t/<path:rest>", methods=["GET", "HEAD", "OPTIONS"])
@limiter.exempt
def resolve(rest: str) -> Response:
    """A code's Digital Link URI: a 307 to its default link (the trace page), to the link
    type asked for, or its linkset."""
    path = _raw_path()
    if request.method == "OPTIONS":
        return _preflight(path)
    try:
        link = parse_path(path, request.query_string.decode("latin-1"))
    except GS1Error as exc:
        return _syntax_error(exc, path)
    args = request.args
    reader = _reader(link, link_type=args["linkType"] if "linkType" in args else "",
                     wants_linkset=_wants_linkset())
    return trace.page(current_app._get_current_object(), reader, render=True).response()


@blp.get(PAGE_PREFIX + "/01/<path:rest>")
@blp.get(PAGE_PREFIX + "/t/<path:rest>")
@limiter.exempt
def trace_page(rest: str) -> Response:
    """A code's trace page, its default link: what the product, its lot and its unit are."""
    path = trace.code_path(_raw_path())
    try:
        link = parse_path(path, request.query_string.decode("latin-1"))
    except GS1Error as exc:
        return _syntax_error(exc, path)
    reader = _reader(link, inspector=_inspector())
    return trace.page(current_app._get_current_object(), reader, render=True).response()


@blp.route("/verify/01/<path:rest>", methods=["GET", "HEAD", "OPTIONS"])
@blp.route("/verify/t/<path:rest>", methods=["GET", "HEAD", "OPTIONS"])
@limiter.limit("60/minute")
def verify(rest: str) -> Response:
    """gs1:verificationService: a JSON verdict for apps and inspectors; no scan is logged."""
    path = _raw_path().removeprefix("/verify")
    if request.method == "OPTIONS":
        return _preflight(None)
    try:
        link = parse_path(path, "")
    except GS1Error as exc:
        return _syntax_error(exc, path)
    verdict = trace.verdict(current_app._get_current_object(), link)
    res, cert = verdict.res, verdict.cert
    body = {
        "code": canonical_path(link), "known_product": res.product is not None,
        "lot_found": res.batch is not None if link.lot else None,
        "serial": res.serial_state, "label_run": res.run.id if res.run else None,
        "guaranteed_until": res.run.guaranteed_until.isoformat() if res.run else None,
        "copy_suspected": verdict.copy_suspected if res.stats else None,
        "certificate": None if cert["cert"] is None else {
            "decision_number": cert["cert"].decision_number, "status": cert["status"],
            "issuing_authority": cert["cert"].issuing_authority,
            "expires_on": cert["cert"].expires_on.isoformat(), "stars_allowed": cert["stars"]},
    }
    response = make_response(jsonify(body), 200 if res.product is not None else 404)
    response.cache_control.no_store = True
    return _finish(response, canonical_path(link))


@blp.route("/epcis/01/<path:rest>", methods=["GET", "HEAD", "OPTIONS"])
@blp.route("/epcis/t/<path:rest>", methods=["GET", "HEAD", "OPTIONS"])
def epcis(rest: str) -> Response:
    """gs1:epcis: the lot's public EPCIS 2.0 document, at its Digital Link path under /epcis,
    with only what the trace page shows (the API serves the whole diary to those who may)."""
    path = _raw_path().removeprefix("/epcis")
    if request.method == "OPTIONS":
        return _preflight(None)
    try:
        link = parse_path(path, "")
    except GS1Error as exc:
        response = error_response(400, "bad_request", exc.message, {exc.field: [exc.message]})
        return _finish(response, path)
    res = None
    if link.lot is not None and link.serial is None and link.variant is None:
        res = trace.resolve(current_app._get_current_object(), link)
    if res is None or res.batch is None:
        message = _("Không có tài liệu EPCIS công khai cho mã %(code)s.", code=canonical_path(link))
        return _finish(error_response(404, "not_found", message), path)
    response = epcis_response(res.batch, public=True)
    response.headers["Cache-Control"] = "public, max-age=60"
    return _finish(response, public_path(link).removeprefix("/epcis"))


@blp.get("/report")
def report_form() -> Response:
    """The counterfeit report form for a code (linked from every trace page)."""
    code = (request.args.get("code") or "")[:120]
    return make_response(render_template("resolver/report_done.html", ok=None,
                                         form=_report_form(code), code=code))


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
        res = trace.resolve(current_app._get_current_object(), parse_path(code, ""))
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


@blp.route("/.well-known/gs1resolver", methods=["GET", "HEAD", "OPTIONS"])
def well_known() -> Response:
    """The resolver description file (GS1-Conformant Resolver 1.2, section 3), with only the
    properties of its JSON schema."""
    if request.method == "OPTIONS":
        return _preflight(None)
    body = {
        "name": "OCOP Trace",
        "resolverRoot": current_app.config["PUBLIC_BASE_URL"],
        "supportedPrimaryKeys": ["01"],  # by AI; /t/ trace codes are this service's own
        "supportedLinkType": [{"namespace": VOC, "prefix": "gs1:"}],
        "linkTypeDefaultCanBeLinkset": False,
        "jsonLdContextLocation": LINKSET_CONTEXT_URL,
        "contact": {"fn": "OCOP Trace"},
    }
    response = make_response(jsonify(body))
    response.headers.extend(trace.CORS_HEADERS)
    return response
