"""The public GS1 Digital Link resolver: trace pages, linksets, verification, reports.

The default link is served in place (200, no redirect): a consumer's phone on 3G saves a
full round trip, and GS1-Conformant Resolver 1.2 allows the resolver to answer the default
response itself. Every other link type is a 307 redirect to its href.
"""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_babel import get_locale
from markupsafe import Markup, escape
from werkzeug.http import http_date, parse_etags, quote_etag
from werkzeug.wsgi import ClosingIterator
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
from .. import locale_from_environ
from . import services
from .cache import ShellCache
from .models import ScanVerdict
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

def _base(app: Flask | None = None) -> str:
    return (app or current_app).config["PUBLIC_BASE_URL"]


def _raw_path() -> str:
    return raw_path(request.environ)


def raw_path(environ: dict[str, Any]) -> str:
    """The undecoded request path: a lot such as A%2FB must reach the parser still encoded."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        if path.startswith(("http://", "https://")):  # absolute-form request target
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        return path
    # PATH_INFO is the decoded path as latin-1 text (PEP 3333): back to bytes, then quoted.
    return quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/",
                 encoding="latin-1")


def _linkset_header(path: str, app: Flask | None = None) -> str:
    return f'<{_base(app)}{path}?linkType=linkset>; rel="linkset"; type="application/linkset+json"'


VARY = ("Accept", "Accept-Language", "Cookie")


CORS_HEADERS = (("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Expose-Headers", "Link, ETag, Location"))


def _finish(response: Response, path: str) -> Response:
    headers = response.headers
    headers.update(CORS_HEADERS)
    headers.add("Link", _linkset_header(path))
    if "Vary" in headers:
        response.vary.update(VARY)
    else:
        headers["Vary"] = ", ".join(VARY)
    _flush_after(response)
    return response


def _flush_after(response: Response) -> None:
    scans = services.scan_log()
    if scans.due():  # written once this response is out, by this thread (see scanlog.py)
        response.call_on_close(scans.flush_if_due)


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
    if "linkType" not in request.args and not _wants_linkset() and not _inspector_session():
        fast = fast_trace_page(request.environ, link, canonical, render=True)
        if fast is not None:
            return fast.response()
    res = services.resolve(link)

    if res.product is None:
        response = make_response(render_template(
            "resolver/unknown.html", link=link, code=canonical, form=_report_form(canonical)), 404)
        _log_scan(res, canonical)
        return _finish(response, canonical)

    if _wants_linkset():
        response = make_response(jsonify(linkset(res)), 200)
        response.mimetype = "application/linkset+json"
        response.headers.add("Link", LINKSET_CONTEXT)
        _log_scan(res, canonical)
        return _finish(response, canonical)

    link_type = request.args["linkType"] if "linkType" in request.args else ""
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
        _log_scan(res, canonical)
        query = {k: v for k, v in request.args.items(multi=True) if k != "linkType"}
        href = target["href"]
        if query:
            href += ("&" if "?" in href else "?") + urlencode(query)
        return _finish(redirect(href, 307), canonical)

    return _trace_page(res, canonical)


def _client() -> dict[str, Any]:
    return {"remote_addr": request.remote_addr, "user_agent": request.environ.get("HTTP_USER_AGENT"),
            "language": str(get_locale() or "")}


def _report_form(code: str) -> ReportForm:
    form = ReportForm(formdata=None)
    form.code.data = code
    return form


def _inspector() -> Any | None:
    if not current_user.is_authenticated or current_user.role not in INSPECTOR_ROLES:
        return None
    return current_user._get_current_object()


HEAD_MARK, TAIL_MARK = "<!--unit-head-->", "<!--unit-tail-->"
UNIT_SPLIT = "<!--split-->"


def shell_cache(app: Flask | None = None) -> ShellCache:
    extensions = (app or current_app).extensions
    cache = extensions.get("trace_shells")
    if cache is None:
        cache = extensions["trace_shells"] = ShellCache()
    return cache


def _inspector_session() -> bool:
    """Whether the caller may be an inspector; anonymous phones (no session cookie) never are."""
    name = current_app.config.get("SESSION_COOKIE_NAME", "session")
    return name in request.environ.get("HTTP_COOKIE", "") and name in request.cookies \
        and _inspector() is not None


def _shell_key(stamps: tuple, today: Any, locale: str | None = None) -> str:
    """ETag of a page: its version stamps, the day and the language."""
    raw = "|".join(map(str, (*stamps, today.isoformat(), locale or get_locale())))
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def _render_shell(res: Resolution, today: Any) -> str:
    """The page without its unit-specific parts, which stay as markers to fill in."""
    lot_link = DigitalLink(gtin=res.link.gtin, trace_code=res.link.trace_code,
                           lot=res.batch.lot if res.batch else None)
    return render_template(
        "resolver/trace.html", res=res, lot_code=canonical_path(lot_link), today=today,
        cert=services.certificate_view(res.certificate, today),
        unit_head=Markup(HEAD_MARK), unit_tail=Markup(TAIL_MARK),
        local=_local, kind_label=_kind_label)


def _local(value: Any) -> Any:
    return value.astimezone(VIETNAM) if value else value


def _kind_label(kind: Any) -> str:
    return str(KIND_LABELS.get(EventKind(kind), kind))


def _unit_parts(res: Resolution, canonical: str, stats: Any, inspector: Any, cert: dict) -> tuple[str, str]:
    """The unit-specific head and tail of a page, rendered straight through Jinja (no context
    processors: these fragments need none). The report form, and with it a CSRF token and a
    session cookie, only appears where the page warns of a forgery or a copy."""
    warn = res.serial_state == SerialState.FORGED or bool(stats and stats.possible_copy)
    context = dict(res=res, code=canonical, stats=stats, inspector=inspector, cert=cert,
                   local=_local, warn=warn, report_url="/report?" + urlencode({"code": canonical}),
                   inspection_url=f"/oversight/inspections/new?product_id={res.product.id}"
                                  f"&code={quote(canonical)}" if res.product else "")
    html = current_app.jinja_env.get_template("resolver/_unit.html").render(context)
    head_html, _sep, tail_html = html.partition(UNIT_SPLIT)
    return head_html, tail_html


def _genuine_parts(serial: str, stats: Any, canonical: str, locale: str,
                   app: Flask) -> tuple[str, str]:
    """The unit fragment of the commonest page (a genuine serial, no copy flag), formatted
    directly: it says the same as resolver/_unit.html does for that case, without a template
    render per scan."""
    genuine, serial_label, scanned, report = _genuine_strings(locale, app)
    first = _local(stats.first_at)
    scanned = scanned % {"n": stats.count, "t": f"{first:%H:%M %d/%m/%Y}"}
    head_html = (f'<p class="alert ok"><strong>{genuine}</strong> '
                 f'{serial_label}: {escape(serial)}.\n{escape(scanned)}</p>')
    report_url = "/report?code=" + quote(canonical, safe="")
    tail_html = f'<p id="bao-cao"><a href="{escape(report_url)}">{report}</a></p>'
    return head_html, tail_html


def _genuine_strings(locale: str, app: Flask) -> tuple[str, str, str, str]:
    """The genuine fragment's words in one language, looked up once per process."""
    cache = app.extensions.setdefault("genuine_strings", {})
    found = cache.get(locale)
    if found is None:
        fast_gettext = app.extensions["fast_gettext"]

        def t(message: str) -> str:
            return fast_gettext(message, locale)

        found = cache[locale] = (str(escape(t("Tem chính hãng."))), str(escape(t("Số sê-ri"))),
                                 t("Đã quét %(n)s lần, lần đầu lúc %(t)s."),
                                 str(escape(t("Nghi ngờ hàng giả? Báo cáo sản phẩm"))))
    return found


def _page_response(shell: str, head_html: str, tail_html: str, *, cacheable: bool,
                   etag: str | None, last_modified: Any, private: bool) -> Response:
    response = Response(shell.replace(HEAD_MARK, head_html, 1).replace(TAIL_MARK, tail_html, 1),
                        mimetype="text/html")
    if cacheable:
        response.set_etag(etag)
        if last_modified is not None:
            response.last_modified = last_modified
        control = "no-cache"  # revalidate every time: revocations show at once
    else:
        control = "no-store"  # scan counts change on every scan
    response.headers["Cache-Control"] = "private, " + control if private else control
    return response


def fast_trace_page(environ: dict[str, Any], link: DigitalLink, canonical: str, *,
                    render: bool, app: Flask | None = None) -> FastPage | None:
    """The common case in one statement: a known product, a known lot, a genuine serial, an
    anonymous reader. One query on a raw autocommit connection reads everything (no ORM,
    no BEGIN/COMMIT round trips); the scan goes to the scan log's batched writer. Anything
    else (forged, unknown, walk-up, inspector) returns None and takes the full path.

    Reads the WSGI environ only, so that the trace lane (lane.py) can call it before Flask
    builds a request. Without `render` (no request context to render templates in) it
    answers only what needs no template: a genuine unit under a cached page shell, and a
    lot page's 304; the rest is left to the full path. With `app` given and this process's
    read engine and scan log made, it runs without any Flask context."""
    # Passed down, not looked up through current_app: each proxy lookup costs microseconds.
    app = app or current_app._get_current_object()
    serial_index = None
    if link.serial is not None:
        if link.lot is None:
            return None
        try:
            serial_index, _tag = services.get_signer(app).split(link.serial)
        except GS1Error:
            return None
    network = services.network_hash(environ.get("REMOTE_ADDR"), app)
    engine = _autocommit(app)
    pinned = _pinned_connection(engine, app)
    try:
        found = services.head(pinned.raw, engine.dialect.name, link, serial_index, network, app)
    except engine.dialect.loaded_dbapi.Error:
        # A dropped connection or a locked database: this connection is not trusted again,
        # and the full path (whose session pings and retries) answers.
        pinned.drop()
        return None
    if found is None or (link.lot is not None and found.batch_id is None):
        return None
    if link.serial is not None and not services.serial_is_genuine(found, link.serial, app):
        return None
    today = local_today()
    locale = locale_from_environ(environ, app.config)  # what get_locale() would say
    key = _shell_key(found.stamps, today, locale)
    cacheable = link.serial is None
    verdict = ScanVerdict.GENUINE if serial_index is not None else ScanVerdict.LOT
    if cacheable and "HTTP_IF_NONE_MATCH" in environ \
            and parse_etags(environ["HTTP_IF_NONE_MATCH"]).contains(key):  # key is the ETag
        # What werkzeug keeps of a 304: no entity headers (Content-*, Last-Modified).
        page = FastPage(304, [("ETag", quote_etag(key)), ("Cache-Control", "no-cache")], b"")
    else:
        shell = shell_cache(app).get(key)
        genuine = serial_index is not None and found.stats is not None \
            and not found.stats.possible_copy
        if not render and (shell is None or not genuine):
            return None
        res = None
        if shell is None:
            res = services.resolve(link)
            shell = _render_shell(res, today)
            shell_cache(app).put(key, shell)
        if genuine:
            head_html, tail_html = _genuine_parts(link.serial or "", found.stats, canonical,
                                                  locale, app)
        else:
            unit_res = res or Resolution(link=link, product=None, serial_index=serial_index,
                                         serial_state=SerialState.GENUINE if serial_index else None)
            head_html, tail_html = _unit_parts(unit_res, canonical, found.stats, None, {})
        body = shell.replace(HEAD_MARK, head_html, 1).replace(TAIL_MARK, tail_html, 1).encode()
        headers = [("Content-Type", "text/html; charset=utf-8"),
                   ("Content-Length", str(len(body)))]
        if cacheable:
            headers += [("ETag", quote_etag(key)), ("Last-Modified", http_date(found.changed)),
                        ("Cache-Control", "no-cache")]
        else:
            headers.append(("Cache-Control", "no-store"))
        page = FastPage(200, headers, body)
    page.headers += [*CORS_HEADERS, ("Link", _linkset_header(canonical, app)),
                     ("Vary", ", ".join(VARY))]
    page.scans = services.scan_log(app)
    services.insert_scan(canonical, product_id=found.product_id, batch_id=found.batch_id,
                         serial_index=serial_index, verdict=verdict, network=network,
                         remote_addr=None, user_agent=environ.get("HTTP_USER_AGENT"),
                         language=locale, app=app)
    return page


@dataclass
class FastPage:
    """A fast-path answer as plain WSGI parts: the lane sends them as they are (a werkzeug
    Response, its Headers object and its header checks cost as much as the page's query)."""
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    scans: Any = None  # this process's scan log: the lane sends the page outside any context

    def response(self) -> Response:
        """The same page as a Flask response, for the Flask route."""
        response = Response(self.body, self.status, self.headers)
        if self.scans.due():
            response.call_on_close(self.scans.flush_if_due)
        return response

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """The page as a WSGI application: the lane's answer."""
        start_response(_STATUS_LINES[self.status], self.headers)
        body = [] if environ.get("REQUEST_METHOD") == "HEAD" else [self.body]
        if self.scans.due():  # written once this response is out (see scanlog.py)
            return ClosingIterator(body, self.scans.flush_if_due)
        return body


_STATUS_LINES = {200: "200 OK", 304: "304 NOT MODIFIED"}


class _Pinned(threading.local):
    """The trace read's connection, checked out once per thread and kept: a pool checkout
    and return on every scan cost more than the query. Dropped (and invalidated) after a
    driver error, and never carried over a fork."""
    raw: Any = None
    pid: int = 0

    def drop(self) -> None:
        raw, self.raw = self.raw, None
        if raw is not None:
            raw.invalidate()

    def close(self) -> None:
        raw, self.raw = self.raw, None
        if raw is not None:
            raw.close()


def _pinned_connection(engine: sa.Engine, app: Flask) -> _Pinned:
    pinned = app.extensions.get("trace_connection")
    if pinned is None:
        pinned = app.extensions["trace_connection"] = _Pinned()
    if pinned.raw is None or pinned.pid != os.getpid():
        pinned.raw, pinned.pid = engine.raw_connection(), os.getpid()
    return pinned


def _autocommit(app: Flask) -> Any:
    """An engine of the same database whose connections are in autocommit mode from the
    start (its own small pool: switching a pooled connection's isolation level on every
    checkout costs two extra statements, and with nothing written there is nothing to
    reset on return). No pre-ping: a dropped connection fails the first query, and the
    caller falls back to the full path, whose session pings. It only reads."""
    engine = app.extensions.get("trace_autocommit")
    if engine is None:
        options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}
        if db.engine.dialect.name == "postgresql":
            # The head query is prepared once per connection, and its right plan is index
            # lookups whatever the parameters and the table sizes. PostgreSQL's default
            # re-plans it for each of the first five runs and then may settle on a
            # generic plan (planning costs five times the execution: 0.35 vs 0.55 ms per
            # query in pgbench), so the generic plan is forced; and sequential scans are
            # ruled out on this connection, because a generic plan made while the scans
            # table was empty (just created, or analyzed empty) scanned the whole table on
            # every scan ever after, 1 ms more per page for each 20,000 scans logged.
            options.update(pool_size=2, max_overflow=4, connect_args={
                "options": "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off"})
        engine = current_app.extensions["trace_autocommit"] = sa.create_engine(
            db.engine.url, **options)
    return engine


def _trace_page(res: Resolution, canonical: str) -> Response:
    """The full path: every case, inspectors included. Reads everything, renders, and only
    then writes the scan, so the write transaction stays one short INSERT."""
    today = local_today()
    inspector = _inspector()
    if inspector is not None and not can(inspector, Action.VIEW, res.product.producer):
        inspector = None
    stats = None
    if res.serial_state == SerialState.GENUINE and res.batch is not None:
        stats = services.scan_stats(res.batch.id, res.serial_index or 0, request.remote_addr)
    cacheable = res.link.serial is None
    stamps = (res.product.id, str(res.product.updated_at), res.product.producer.name,
              res.product.producer.address,
              str(max((c.updated_at for c in res.history), default=None)),
              res.batch.id if res.batch else None, str(res.batch.updated_at) if res.batch else "None")
    etag = _shell_key(stamps + (res.lot_unknown, getattr(inspector, "id", "")), today)
    changed = max(t for t in [res.product.updated_at, *(c.updated_at for c in res.history),
                              res.batch.updated_at if res.batch else None] if t is not None)
    if cacheable and request.if_none_match.contains(etag):
        response = make_response("", 304)
        response.set_etag(etag)
        # A 304 carries the Cache-Control the 200 would have (RFC 9111, 4.3.4).
        response.headers["Cache-Control"] = "private, no-cache" if inspector else "no-cache"
        _log_scan(res, canonical)
        return _finish(response, canonical)
    cert = services.certificate_view(res.certificate, today)
    head_html, tail_html = _unit_parts(res, canonical, stats, inspector, cert)
    response = _page_response(_render_shell(res, today), head_html, tail_html,
                              cacheable=cacheable, etag=etag, last_modified=changed,
                              private=inspector is not None)
    _log_scan(res, canonical)
    return _finish(response, canonical)


def _log_scan(res: Resolution, canonical: str) -> None:
    services.record_scan(res, canonical, **_client())


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
