"""The trace read model: every answer to a scanned code, built in one place for both doors.

A code has two addresses: its GS1 Digital Link URI (/01/..., /t/...), where the resolver
answers with a 307 to its default link, a 307 to the link type asked for, or its linkset;
and its trace page, the default link (/trace/01/..., /trace/t/...). The WSGI lane (lane.py)
and the Flask routes (views.resolve, views.trace_page) each read the request into a
`Reader` — the lane from the WSGI environ alone, Flask adding what only it knows (who is
signed in, link types, linkset negotiation) — and call `page()`. For a page it reads the
code with one head query, verifies the serial, counts the unit's scans, builds the page
from the templates and logs the scan, and returns a `Page` (status, headers, body, the
scan log to write once it is sent). Without `render` (the lane: no request context to
render templates in) it answers only from cached page parts, and the redirect to the
default link, and returns None for anything else, which then reaches Flask and this same
function with `render`.
"""
from __future__ import annotations

import hashlib
import re
from collections import namedtuple
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from functools import lru_cache
from operator import itemgetter
from types import SimpleNamespace
from typing import Any, Callable, NamedTuple
from urllib.parse import quote, quote_plus, unquote

import sqlalchemy as sa
from flask import Flask, Response, render_template
from flask_babel import gettext as _
from markupsafe import Markup, escape
from PIL import Image
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import HTTP_STATUS_CODES, http_date, parse_accept_header, parse_etags, quote_etag
from werkzeug.wsgi import ClosingIterator

from .. import formats, locale_from_environ, storage
from ..accounts.permissions import Action, can
from ..batches.forms import KIND_LABELS
from ..batches.media import small_name
from ..batches.models import Batch, DiaryEvent, EventKind
from ..clock import local_today
from ..codes.keys import get_signer
from ..codes.models import LabelLevel, LabelRun
from ..errors import prefers_json
from ..extensions import db
from ..gs1 import DigitalLink, GS1Error, canonical_path
from ..models_base import utcnow
from ..registry.models import Certificate, Producer, Product
from ..registry.services import current_certificate
from ..schemas_common import MAX_ID as MAX_SERIAL_INDEX
from . import compress, links
from .compress import accepts_gzip
from .infra import TraceInfra, trace_infra
from .models import ScanVerdict
from .scanlog import ScanLog
from .services import (
    PageVerdict,
    Tone,
    certificate_view,
    device_class,
    diary_entries,
    network_hash,
    page_verdict,
)


class SerialState:
    GENUINE = "genuine"          # tag verifies against an issued unit run
    FORGED = "forged"            # malformed, altered tag, or an index never issued
    UNVERIFIED = "unverified"    # the lot is unknown, so the serial cannot be checked


# --- the head query --------------------------------------------------------------------------

class Column(NamedTuple):
    name: str
    sql: str                 # the same on SQLite and PostgreSQL
    integer: bool = False    # PostgreSQL answers in text (see _pg_row): parsed back to int
    stamp: bool = False      # a version stamp of the page (ETag, page shell cache)
    changed: bool = False    # a change time (Last-Modified)
    grouped: bool = True     # a head column in SQLite's GROUP BY (not a subquery)


HEAD_COLUMNS = (
    Column("product_id", "p.id", integer=True, stamp=True),
    Column("product_changed", "p.updated_at", stamp=True, changed=True),
    Column("producer_name", "pr.name", stamp=True),
    Column("producer_address", "pr.address", stamp=True),
    Column("certificates_changed",
           "(SELECT max(c.updated_at) FROM certificates c WHERE c.product_id = p.id)",
           stamp=True, changed=True, grouped=False),
    Column("batch_id", "b.id", integer=True, stamp=True),
    Column("batch_changed", "b.updated_at", stamp=True, changed=True),
    Column("lot", "b.lot"),
    Column("run_id", "r.id", integer=True),
    Column("run_subject", "r.subject"),
    Column("run_key_version", "r.key_version", integer=True),
)
# The unit's genuine scans (see unit_stats), aggregated over the scans table.
SCAN_COLUMNS = (
    Column("scans", "count(sc.id)", integer=True),
    Column("networks", "count(DISTINCT sc.network_hash)", integer=True),
    # Scans counted once per network and hour: one phone reloading the page, or one shop
    # showing it to customers all afternoon, is one window, not dozens of scans. The hour is
    # the time's text up to the hour, the same expression on both databases.
    Column("windows", "count(DISTINCT coalesce(sc.network_hash, '-') || '|' "
                      "|| substr(CAST(sc.at AS TEXT), 1, 13))", integer=True),
    Column("first_scan", "min(sc.at)"),
    Column("scans_here", "sum(CASE WHEN sc.network_hash = :mine THEN 1 ELSE 0 END)", integer=True),
)
COLUMNS = HEAD_COLUMNS + SCAN_COLUMNS
PARAMETERS = ("lot", "idx", "mine", "value")

_FROM = f"""
FROM products p
JOIN producers pr ON pr.id = p.producer_id
LEFT JOIN batches b ON b.product_id = p.id AND b.lot = :lot
LEFT JOIN label_runs r ON r.batch_id = b.id AND r.level = '{LabelLevel.UNIT.value}'
     AND r.first_index <= :idx AND r.first_index + r.count > :idx
"""
_UNIT_SCANS = (f"sc.batch_id = b.id AND sc.serial_index = :idx "
               f"AND sc.verdict = '{ScanVerdict.GENUINE.value}'")


def head_sql(dialect: str, key: str) -> str:
    """The head query: a product by `key` (gtin or trace_code), its producer, the batch of
    the lot, the unit run covering the serial's index, and the unit's scans. The trace path
    hands it to the driver as text: building SQLAlchemy expressions and their cache keys on
    every request cost more than running them."""
    head = ", ".join(c.sql for c in HEAD_COLUMNS)
    if dialect == "postgresql":
        # The unit's scans aggregated in a LATERAL subquery: grouping the joined rows sorted
        # them on the wide text columns too, a third of the query's time (pgbench, one
        # client, alternating runs: 0.35-0.39 vs 0.49-0.50 ms). SQLite has no LATERAL.
        inner = ", ".join(f"{c.sql} AS {c.name}" for c in SCAN_COLUMNS)
        outer = ", ".join(f"s.{c.name}" for c in SCAN_COLUMNS)
        return (f"SELECT {head}, {outer}{_FROM}"
                f"LEFT JOIN LATERAL (SELECT {inner} FROM scans sc WHERE {_UNIT_SCANS}) s ON true\n"
                f"WHERE p.{key} = :value\nLIMIT 1")
    scans = ", ".join(c.sql for c in SCAN_COLUMNS)
    grouped = ", ".join(c.sql for c in HEAD_COLUMNS if c.grouped)
    return (f"SELECT {head}, {scans}{_FROM}LEFT JOIN scans sc ON {_UNIT_SCANS}\n"
            f"WHERE p.{key} = :value\nGROUP BY {grouped}\nLIMIT 1")


_KEYS = ("gtin", "trace_code")
_SQLITE_HEAD = {key: head_sql("sqlite", key) for key in _KEYS}  # sqlite3 takes :name as written
# PostgreSQL: $1..$4 for a server-side prepared statement.
_PG_HEAD = {key: re.sub(r"(?<!:):([a-z_]+)", lambda m: f"${PARAMETERS.index(m.group(1)) + 1}",
                        head_sql("postgresql", key)).encode() for key in _KEYS}
_PG_INTEGERS = tuple(i for i, c in enumerate(COLUMNS) if c.integer)
_stamps = itemgetter(*(i for i, c in enumerate(COLUMNS) if c.stamp))
_changes = itemgetter(*(i for i, c in enumerate(COLUMNS) if c.changed))


class Head(namedtuple("HeadRow", [c.name for c in COLUMNS])):
    """The head query's row. Times stay as the driver's text (SQLite stores them as text,
    and PostgreSQL's are read in text) and are parsed only where a page needs them."""
    __slots__ = ()

    @property
    def stamps(self) -> tuple:
        """The versions of everything a page shell shows: product, producer, certificates,
        batch and its diary (a new event or attachment bumps the batch)."""
        return _stamps(self)

    @property
    def changed(self) -> datetime:
        """Last-Modified of the page."""
        return max(_aware(t) for t in _changes(self) if t is not None)


def read_head(infra: TraceInfra, link: DigitalLink, serial_index: int | None,
              mine: str | None) -> Head | None:
    """The head query on this thread's pinned autocommit connection (no ORM, no
    BEGIN/COMMIT round trips). Driver errors propagate."""
    key = "gtin" if link.gtin is not None else "trace_code"
    values = (link.lot, serial_index, mine, link.gtin or link.trace_code)
    raw = infra.connection()
    if infra.dialect == "postgresql":
        row = _pg_row(raw, key, values)
    else:
        cursor = raw.cursor()
        try:
            row = cursor.execute(_SQLITE_HEAD[key], dict(zip(PARAMETERS, values))).fetchone()
        finally:
            cursor.close()
    return None if row is None else Head._make(row)


def _pg_row(raw: Any, key: str, values: tuple) -> tuple | None:
    """PostgreSQL: the head query as a server-side prepared statement run through libpq
    (psycopg.pq), text in and text out. psycopg's cursor layer (adapting parameters, loading
    15 typed columns) cost more client CPU than the query itself."""
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
    result = pgconn.exec_prepared(name, [None if v is None else str(v).encode() for v in values])
    if result.status != ExecStatus.TUPLES_OK:
        raise OperationalError(result.error_message.decode(errors="replace"))
    if result.ntuples == 0:
        return None
    row: list[Any] = [None if (v := result.get_value(0, column)) is None else v.decode()
                      for column in range(result.nfields)]
    for column in _PG_INTEGERS:
        if row[column] is not None:
            row[column] = int(row[column])
    return tuple(row)


def _aware(value: datetime | str) -> datetime:
    """Times come back as text, or naive from SQLite's aggregates: UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


# --- what a code names ----------------------------------------------------------------------

@dataclass
class ScanStats:
    count: int
    networks: int
    first_at: datetime | None  # None: never scanned (a verification counts no scan)
    possible_copy: bool
    windows: int = 0

    def shown(self, locale: str) -> SimpleNamespace:
        """The figures as a page prints them, in the reader's language."""
        return SimpleNamespace(count=formats.number(self.count, locale),
                               networks=formats.number(self.networks, locale),
                               first_seen=formats.datetime(self.first_at, locale),
                               possible_copy=self.possible_copy)


@dataclass
class Resolution:
    """What a code names, after walking up past unknown qualifiers: the head query's answer
    and the serial's verdict, and the ORM objects once a page to render needs them (load)."""

    link: DigitalLink
    head: Head | None                 # None: no product has this code
    serial_index: int | None = None   # set once the serial parses under a known batch
    serial_state: str | None = None   # a SerialState, for a code with a serial
    stats: ScanStats | None = None    # a genuine unit's scans, the one served included
    loaded: bool = False
    product: Product | None = None
    batch: Batch | None = None
    run: LabelRun | None = None
    certificate: Certificate | None = None
    history: list[Certificate] = field(default_factory=list)

    @property
    def lot_unknown(self) -> bool:
        return self.head is not None and self.link.lot is not None and self.head.batch_id is None

    @property
    def verdict(self) -> ScanVerdict:
        if self.head is None:
            return ScanVerdict.UNKNOWN
        if self.serial_state == SerialState.FORGED:
            return ScanVerdict.FORGED
        if self.serial_state == SerialState.GENUINE:
            return ScanVerdict.GENUINE
        return ScanVerdict.LOT


def read(app: Flask, infra: TraceInfra, link: DigitalLink, mine: str | None,
         served: bool = True) -> Resolution:
    """One head query, and the serial verified by arithmetic: its index picks the run, the
    run's key checks the tag. `mine` is the reader's network hash and `served` whether a
    scan is being served (see unit_stats)."""
    signer = get_signer(app)
    index = None
    malformed = False
    if link.serial is not None and link.lot is not None:
        try:
            index, _tag = signer.split(link.serial)
        except GS1Error:
            malformed = True
        else:
            if index > MAX_SERIAL_INDEX:  # never issued, and beyond the 32-bit index columns
                index, malformed = None, True
    head = read_head(infra, link, index, mine)
    res = Resolution(link, head)
    if head is None or link.serial is None:
        return res
    if head.batch_id is None:
        res.serial_state = SerialState.UNVERIFIED
    elif malformed:
        res.serial_state = SerialState.FORGED
    else:
        res.serial_index = index
        if head.run_id is not None and head.run_key_version is not None and signer.verify(
                head.run_subject or "", head.lot, link.serial, head.run_key_version):
            res.serial_state = SerialState.GENUINE
            res.stats = unit_stats(app, infra, head, index, mine, served)
        else:
            res.serial_state = SerialState.FORGED
    return res


def unit_stats(app: Flask, infra: TraceInfra, head: Head, serial_index: int,
               mine: str | None, served: bool = True) -> ScanStats:
    """How often this unit was scanned, from how many networks and since when: the written
    scans' aggregates from the head query, plus this process's unwritten ones, plus the scan
    being served if `served` (written after the page, to keep the write short; a verification
    serves none). An unwritten scan from another network that is also among the written ones
    is counted twice in `networks`: that needs two networks scanning one unit within a flush
    interval."""
    pending = infra.scan_log.pending_for(head.batch_id, serial_index)
    count = (head.scans or 0) + pending.count + (1 if served else 0)
    networks = head.networks or 0
    if served and mine is not None and not head.scans_here:
        networks += 1
    networks += len(pending.networks - {mine})
    first = _aware(head.first_scan) if head.first_scan is not None else None
    if pending.first_at is not None and (first is None or pending.first_at < first):
        first = pending.first_at
    # Unwritten scans and this one may fall in a network-hour already written: counted as
    # new windows, at most one each, which errs towards the flag by a scan or two.
    windows = (head.windows or 0) + len(pending.networks | {mine or "-"} if served
                                        else pending.networks)
    if first is None and served:
        first = utcnow()
    return ScanStats(count=count, networks=networks, first_at=first, windows=windows,
                     possible_copy=copy_suspected(app.config, windows, networks))


def copy_suspected(config: Any, windows: int, networks: int) -> bool:
    """A unit serial looks copied when it is scanned from more networks than a package
    travels through, or in more network-hours than one package is looked at, from more than
    one network: a single network (one phone, one shop, one attacker reloading) never flags
    a genuine product for everyone else. copy_suspected_condition is its SQL twin."""
    return networks > config["SCAN_COPY_MAX_NETWORKS"] or (
        networks > 1 and windows > config["SCAN_COPY_MAX_SCANS"])


def scan_window(at: Any, network: Any) -> Any:
    """The network-hour a scan falls in, as an SQL expression (the head query's `windows`)."""
    return sa.func.coalesce(network, "-") + "|" + sa.func.substr(sa.cast(at, sa.Text), 1, 13)


def copy_suspected_condition(config: Any, windows: Any, networks: Any) -> Any:
    """copy_suspected over SQL aggregates (the reports' list of possible copies)."""
    return sa.or_(networks > config["SCAN_COPY_MAX_NETWORKS"],
                  sa.and_(networks > 1, windows > config["SCAN_COPY_MAX_SCANS"]))


def load(res: Resolution) -> Resolution:
    """The ORM objects a rendered page shows (needs an application context)."""
    if res.loaded or res.head is None:
        return res
    head = res.head
    res.product = db.session.scalars(sa.select(Product).where(Product.id == head.product_id).options(
        joinedload(Product.producer).joinedload(Producer.region),
        selectinload(Product.certificates),
    )).unique().one()
    res.certificate = current_certificate(res.product)
    res.history = sorted(res.product.certificates, key=lambda c: (c.issued_on, c.id), reverse=True)
    if head.batch_id is not None:
        res.batch = db.session.scalars(sa.select(Batch).where(Batch.id == head.batch_id).options(
            selectinload(Batch.events).selectinload(DiaryEvent.attachments))).one()
    if res.serial_state == SerialState.GENUINE:
        res.run = db.session.get(LabelRun, head.run_id)
    res.loaded = True
    return res


def resolve(app: Flask, link: DigitalLink) -> Resolution:
    """A code's resolution with its ORM objects, for the verification service and reports:
    no scan is served, so none is counted in the unit's scans."""
    return load(_read_once_more(app, trace_infra(app), link, None, served=False))


@dataclass
class Verdict:
    """The verification service's answer on a code (/verify, the inspector's label check):
    the resolution with its ORM objects, and what may be said of its certificate today."""

    res: Resolution
    cert: dict[str, Any]
    today: date

    @property
    def copy_suspected(self) -> bool:
        return bool(self.res.stats and self.res.stats.possible_copy)


def verdict(app: Flask, link: DigitalLink) -> Verdict:
    """The verdict on a code by the trace page's own rules (serial tag, label run, copy flag,
    certificate status and stars); nothing is logged."""
    today = local_today()
    res = resolve(app, link)
    return Verdict(res, certificate_view(res.certificate, today), today)


def _read_once_more(app: Flask, infra: TraceInfra, link: DigitalLink,
                    mine: str | None, served: bool = True) -> Resolution:
    """read(), once more through a fresh connection if the pinned one fails."""
    try:
        return read(app, infra, link, mine, served)
    except infra.driver_error:
        # A dropped connection or a locked database: that connection is not trusted again.
        infra.drop_connection()
        return read(app, infra, link, mine, served)


# --- the request and the answer -------------------------------------------------------------

@dataclass
class Reader:
    """A trace request as the read model needs it."""
    link: DigitalLink
    canonical: str                     # the code's canonical path
    trace_page: bool                   # the trace page's address, not the Digital Link URI
    query: str                         # the query string as sent, without linkType
    locale: str
    network: str | None                # keyed hash of the client's network (services.network_hash)
    user_agent: str | None
    if_none_match: str | None
    accept: str                        # the Accept field as sent ("" when none)
    gzip: bool                         # Accept-Encoding admits gzip
    # Flask's door only: the lane leaves requests that may carry these to Flask.
    inspector: Any = None              # a signed-in inspector, officer or admin
    link_type: str = ""                # ?linkType=
    wants_linkset: bool = False

    @property
    def other_link_type(self) -> str | None:
        """The short name of the link type asked for, unless none or the default link is."""
        short = self.link_type.removeprefix("gs1:").removeprefix(links.VOC)
        return None if not self.link_type or short == "defaultLink" else short

    @property
    def wants_json(self) -> bool:
        """An error in the JSON error contract rather than as a page (errors.prefers_json)."""
        return prefers_json(parse_accept_header(self.accept, MIMEAccept))

    @classmethod
    def from_environ(cls, environ: dict[str, Any], link: DigitalLink, app: Flask,
                     **flask_only: Any) -> Reader:
        return cls(link, canonical_path(link), raw_path(environ).startswith(PAGE_PREFIX + "/"),
                   passed_on_query(environ.get("QUERY_STRING", "")),
                   locale_from_environ(environ, app.config),
                   network_hash(environ.get("REMOTE_ADDR"), app), environ.get("HTTP_USER_AGENT"),
                   environ.get("HTTP_IF_NONE_MATCH"), environ.get("HTTP_ACCEPT", ""),
                   accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", "")), **flask_only)


PAGE_PREFIX = links.PAGE_PREFIX
# Printable ASCII but what may not stand in a URI as it is: kept as sent, escapes included.
_QUERY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"<>\\^`{|}')


def passed_on_query(query: str) -> str:
    """The query string a redirect passes on (GS1-Conformant Resolver 1.2, 2.12): as it came,
    repeated keys, order, separators and escapes included, less its linkType parameters.
    (WSGI gives it as latin-1 text: bytes that may not stand in a URI are percent-encoded.)"""
    if "linkType" in query or "%" in query:
        kept = [part for part in re.split(r"(?<=[&;])", query)
                if unquote(part.partition("=")[0].rstrip("&;")) != "linkType"]
        query = "".join(kept).rstrip("&;")
    return quote(query, safe=_QUERY_SAFE, encoding="latin-1")


def code_path(path: str) -> str:
    """A code's path from its Digital Link URI's or its trace page's request path."""
    return path.removeprefix(PAGE_PREFIX) if path.startswith(PAGE_PREFIX + "/") else path


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


_STATUS_LINES = {code: f"{code} {text.upper()}" for code, text in HTTP_STATUS_CODES.items()}


@dataclass
class Page:
    """An answer as plain WSGI parts: the lane sends them as they are (a werkzeug Response,
    its Headers object and its header checks cost as much as the page's query)."""
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    scans: ScanLog  # written once the page is out, when due (see scanlog.py)

    def response(self) -> Response:
        """The page as a Flask response (Flask's door)."""
        response = Response(self.body, self.status, self.headers)
        if self.scans.due():
            response.call_on_close(self.scans.flush_if_due)
        return response

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        """The page as a WSGI application (the lane's door)."""
        start_response(_STATUS_LINES[self.status], self.headers)
        body = [] if environ.get("REQUEST_METHOD") == "HEAD" else [self.body]
        if self.scans.due():
            return ClosingIterator(body, self.scans.flush_if_due)
        return body


CORS_HEADERS = (("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Expose-Headers", "Link, ETag, Location"))
# A CORS preflight's answer (OPTIONS): what a script on another site may send.
PREFLIGHT_HEADERS = (("Access-Control-Allow-Origin", "*"),
                     ("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
                     ("Access-Control-Allow-Headers",
                      "Accept, Accept-Language, If-None-Match, If-Modified-Since"),
                     ("Access-Control-Max-Age", "86400"),
                     ("Allow", "GET, HEAD, OPTIONS"))
VARY = ("Vary", "Accept, Accept-Encoding, Accept-Language, Cookie")
LINKSET_CONTEXT = (f'<{links.LINKSET_CONTEXT_URL}>; '
                   'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"')


def common_headers(app: Flask, path: str, *links: str) -> list[tuple[str, str]]:
    """What every resolver answer carries: CORS, Vary and one Link header holding the link
    to the code's linkset and any further `links` (RFC 8288: one field, comma-separated)."""
    linkset = (f'<{app.config["PUBLIC_BASE_URL"]}{path}?linkType=linkset>; rel="linkset"; '
               'type="application/linkset+json"')
    return [*CORS_HEADERS, ("Link", ", ".join((*links, linkset))), VARY]


def report_url(code: str) -> str:
    return "/report?code=" + quote_plus(code, safe="")


def page(app: Flask, reader: Reader, *, render: bool) -> Page | None:
    """The answer to a GET or HEAD of a code's Digital Link URI or of its trace page (see
    the module's docstring)."""
    infra = trace_infra(app)
    if not reader.trace_page:
        return _resolve(app, infra, reader, render)
    link = reader.link
    res = _read(app, infra, link, reader.network, render)
    if res is None:
        return None
    if res.head is None:
        return _unknown(app, infra, reader, res) if render else None

    inspector = reader.inspector
    if inspector is not None:
        if not render:
            return None
        if not can(inspector, Action.VIEW, load(res).product.producer):
            inspector = None  # another region's inspector sees the consumer's page
    today = local_today()
    key = _key(*res.head.stamps, today.isoformat(), reader.locale)
    cacheable = link.serial is None
    private = inspector is not None
    if cacheable:
        etag = key if inspector is None else _key(key, inspector.id)
        # The gzip answer is another representation, with an ETag of its own (RFC 9110,
        # 8.8.3); either one still matches what the page is now.
        answer_etag = etag + GZIP_ETAG if reader.gzip else etag
        if reader.if_none_match is not None:
            held = parse_etags(reader.if_none_match)
            if held.contains(etag) or held.contains(etag + GZIP_ETAG):
                # What werkzeug keeps of a 304: no entity headers (Content-*, Last-Modified),
                # and the Cache-Control the 200 would have (RFC 9111, 4.3.4).
                headers = [("ETag", quote_etag(answer_etag)), _cache_control(cacheable, private)]
                return _finish(app, infra, reader, res, 304, headers, b"")

    shell = infra.shells.get(key)
    if shell is None:
        if not render:
            return None
        shell = _render_shell(load(res), today)
        infra.shells.put(key, shell)
    stats = res.stats
    verdict = page_verdict(res.serial_state, bool(stats and stats.possible_copy),
                           res.lot_unknown, shell.cert)
    if inspector is None and verdict.tone != Tone.BAD:
        unit = _cached_unit(infra, res, reader, shell, verdict, render)
        if unit is None:
            return None
    elif not render:
        return None
    else:
        # A warning carries the report form (and with it a CSRF token and a session cookie).
        unit = _unit_html(app.jinja_env, load(res), stats and stats.shown(reader.locale),
                          verdict=verdict, cert_line=Markup(shell.cert_line), code=reader.canonical,
                          report=report_url(reader.canonical), inspector=inspector,
                          cert=certificate_view(res.certificate, today) if inspector else {},
                          warn=verdict.tone == Tone.BAD)
    raw = (shell.parts[0], unit[0].encode(), shell.parts[1], unit[1].encode(), shell.parts[2])
    headers = [("Content-Type", "text/html; charset=utf-8")]
    if reader.gzip:
        body = compress.member(raw, (shell.packed[0], compress.stored(raw[1]), shell.packed[1],
                                     compress.stored(raw[3]), shell.packed[2]))
        headers.append(("Content-Encoding", "gzip"))
    else:
        body = b"".join(raw)
    headers.append(("Content-Length", str(len(body))))
    if cacheable:
        headers += [("ETag", quote_etag(answer_etag)),
                    ("Last-Modified", http_date(res.head.changed))]
    headers.append(_cache_control(cacheable, private))
    return _finish(app, infra, reader, res, 200, headers, body)


def _cache_control(cacheable: bool, private: bool) -> tuple[str, str]:
    # no-cache: revalidate every time, so that revocations show at once; unit pages change
    # with every scan (their count).
    control = "no-cache" if cacheable else "no-store"
    return ("Cache-Control", "private, " + control if private else control)


def _key(*parts: Any) -> str:
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).hexdigest()


def _finish(app: Flask, infra: TraceInfra, reader: Reader, res: Resolution | None, status: int,
            headers: list[tuple[str, str]], body: bytes, *links: str) -> Page:
    """The page with the headers every answer carries (`links` join the Link header); the
    scan logged unless `res` is None."""
    headers += common_headers(app, reader.canonical, *links)
    if res is not None:
        write_scan(infra, reader, res)
    return Page(status, headers, body, infra.scan_log)


def write_scan(infra: TraceInfra, reader: Reader, res: Resolution) -> None:
    """Log one scan: a row for the scan log's next batched INSERT, no ORM object; nothing
    personal is kept (see services.network_hash)."""
    head = res.head
    infra.scan_log.add({
        "at": utcnow(), "code": reader.canonical[:120],
        "product_id": head.product_id if head else None,
        "batch_id": head.batch_id if head else None,
        "serial_index": res.serial_index, "verdict": res.verdict.value,
        "network_hash": reader.network, "language": (reader.locale or "")[:8] or None,
        "device": device_class(reader.user_agent)})


def _read(app: Flask, infra: TraceInfra, link: DigitalLink, mine: str | None,
          render: bool) -> Resolution | None:
    """read(); where it fails without `render` (the lane), None: Flask's door reads again
    through a fresh connection."""
    if render:
        return _read_once_more(app, infra, link, mine)
    try:
        return read(app, infra, link, mine)
    except infra.driver_error:
        infra.drop_connection()
        return None


def _resolve(app: Flask, infra: TraceInfra, reader: Reader, render: bool) -> Page | None:
    """The Digital Link URI's answer (GS1-Conformant Resolver 1.2): its linkset, a 307 to the
    link type asked for, or else a 307 to its default link (2.6.1: the resolver SHALL
    redirect to the default link), the query string passed on (2.12). The default link's
    redirect reads only whether the product exists (else 404, 2.4.1), not the unit's serial,
    and logs no scan: the page it leads to does."""
    if reader.wants_linkset or reader.other_link_type is not None:
        if not render:
            return None
        res = _read_once_more(app, infra, reader.link, reader.network)
        return _unknown(app, infra, reader, res) if res.head is None \
            else _other_page(app, infra, reader, res)
    res = _read(app, infra, replace(reader.link, lot=None, serial=None), reader.network, render)
    if res is None:
        return None
    if res.head is None:
        return _unknown(app, infra, reader, res) if render else None
    href = links.default_link(app.config["PUBLIC_BASE_URL"], reader.link)
    return _finish(app, infra, reader, None, *_redirect(href, reader.query))


def _redirect(href: str, query: str) -> tuple[int, list[tuple[str, str]], bytes]:
    if query:
        href += ("&" if "?" in href else "?") + query
    # An empty body, typed as Flask types every response, so that both doors send the same.
    return 307, [("Location", href), ("Content-Type", "text/html; charset=utf-8"),
                 ("Content-Length", "0")], b""


def _unknown(app: Flask, infra: TraceInfra, reader: Reader, res: Resolution) -> Page:
    """No product has this code (404): a warning with a report form, or the JSON error
    contract for a client that prefers JSON."""
    if reader.wants_json:
        message = _("Mã %(code)s không thuộc sản phẩm OCOP nào đã đăng ký.", code=reader.canonical)
        return _finish(app, infra, reader, res,
                       *_json_error(app, reader, 404, "not_found", message))
    html = render_template("resolver/unknown.html", link=reader.link, code=reader.canonical,
                           form=None)
    return _finish(app, infra, reader, res, *_body(reader, 404, "text/html; charset=utf-8",
                                                   html.encode()))


def _other_page(app: Flask, infra: TraceInfra, reader: Reader, res: Resolution) -> Page:
    """A linkset, or a link type's redirect."""
    load(res)
    base = app.config["PUBLIC_BASE_URL"]
    if reader.wants_linkset:
        body = app.json.response(links.linkset(base, res, reader.locale)).get_data()
        return _finish(app, infra, reader, res,
                       *_body(reader, 200, "application/linkset+json", body), LINKSET_CONTEXT)
    target = links.by_type(base, res).get(reader.other_link_type)
    if target is None:
        message = _("Mã %(code)s không có liên kết loại %(type)s.", code=reader.canonical,
                    type=reader.link_type)
        if reader.wants_json:
            return _finish(app, infra, reader, None,
                           *_json_error(app, reader, 404, "not_found", message))
        html = render_template("resolver/no_link.html", link_type=reader.link_type,
                               code=reader.canonical)
        return _finish(app, infra, reader, None, *_body(reader, 404, "text/html; charset=utf-8",
                                                        html.encode()))
    return _finish(app, infra, reader, res, *_redirect(target["href"], reader.query))


# Below this a gzip member costs about as many bytes as it saves.
GZIP_MIN_BYTES = 1024
GZIP_ETAG = "-gzip"


def _body(reader: Reader, status: int, content_type: str,
          body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """A status, its headers and body, gzipped when the reader takes gzip and it pays."""
    headers = [("Content-Type", content_type)]
    if reader.gzip and len(body) >= GZIP_MIN_BYTES:
        body = compress.gzip(body)
        headers.append(("Content-Encoding", "gzip"))
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body


def _json_error(app: Flask, reader: Reader, status: int, code: str,
                message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The error contract (errors.py), for a client that prefers JSON."""
    body = app.json.response({"code": code, "status": status, "message": message,
                              "errors": {}}).get_data()
    return _body(reader, status, "application/json", body)


# --- page parts from the templates ----------------------------------------------------------

HEAD_MARK, TAIL_MARK = "<!--unit-head-->", "<!--unit-tail-->"
UNIT_TEMPLATE = "resolver/_unit.html"
UNIT_SPLIT = "<!--split-->"


@dataclass(frozen=True)
class Shell:
    """A rendered page without its unit-specific parts: the three pieces around them, as
    UTF-8 and as deflate pieces (compress.py), and what the page's verdict needs of the
    certificate, which the shell's version stamps and day decide too."""
    parts: tuple[bytes, bytes, bytes]
    packed: tuple[bytes, bytes, bytes]
    cert: dict[str, Any]       # certificate_view's status, stars and is_valid
    cert_line: str             # the certificate's sentence in the verdict, as HTML


def _render_shell(res: Resolution, today: Any) -> Shell:
    """The page without its unit-specific parts, which stay as markers to fill in."""
    lot_link = DigitalLink(gtin=res.link.gtin, trace_code=res.link.trace_code,
                           lot=res.batch.lot if res.batch else None)
    cert = certificate_view(res.certificate, today)
    html = render_template(
        "resolver/trace.html", res=res, lot_code=canonical_path(lot_link), today=today,
        cert=cert, diary=diary_entries(res.batch.events) if res.batch else [],
        photo=_photo, unit_head=Markup(HEAD_MARK),
        unit_tail=Markup(TAIL_MARK), kind_label=_kind_label)
    head, _mark, rest = html.partition(HEAD_MARK)
    middle, _mark, tail = rest.partition(TAIL_MARK)
    parts = (head.encode(), middle.encode(), tail.encode())
    packed = (compress.piece(parts[0]), compress.piece(parts[1]),
              compress.piece(parts[2], last=True))
    line = render_template("resolver/_certificate_line.html", cert=cert).strip()
    return Shell(parts, packed, {name: cert.get(name) for name in ("status", "stars", "is_valid")},
                 line)


def _kind_label(kind: Any) -> str:
    return str(KIND_LABELS.get(EventKind(kind), kind))


PHOTO_SIZE = (480, 360)  # the size the page reserves for a photo it cannot measure


@lru_cache(maxsize=1024)
def _photo_size(path: str) -> tuple[int, int]:
    try:
        with Image.open(path) as image:  # reads the header only
            return image.size
    except (OSError, ValueError):
        return PHOTO_SIZE


def _photo(name: str) -> tuple[str, int, int]:
    """A stored photo's 480 px variant as a page links it, with its width and height, so that
    the page does not jump when it arrives (read once per process: the names are content
    hashes)."""
    files = storage.media()
    path = files.local_path(small_name(name)) or files.local_path(name)
    width, height = _photo_size(path) if path else PHOTO_SIZE
    return f"/media/{quote(name)}?w=480", width, height


def _unit_html(env: Any, res: Any, stats: Any, *, verdict: PageVerdict, cert_line: str, code: str,
               report: str, inspector: Any = None, cert: dict | None = None,
               warn: bool = False) -> tuple[str, str]:
    """The unit-specific head and tail of a page, rendered straight through Jinja (no context
    processors: these fragments need none)."""
    context = {"res": res, "code": code, "stats": stats, "inspector": inspector, "cert": cert,
               "warn": warn, "report_url": report, "verdict": verdict, "cert_line": cert_line}
    if inspector is not None:
        # An officer views the producer but does not record inspections.
        context["inspection_url"] = (f"/oversight/inspections/new?product_id={res.product.id}"
                                     f"&code={quote(code)}") \
            if can(inspector, Action.INSPECT, res.product.producer) else None
    head_html, _sep, tail_html = env.get_template(UNIT_TEMPLATE).render(context) \
        .partition(UNIT_SPLIT)
    return head_html, tail_html


# A unit fragment without a warning or an inspector's block differs from page to page only
# in a few values: it is rendered once per language and verdict with these markers in their
# place, and kept as %-format strings that each page fills in.
_MARKS = {name: f"\x1e{name}\x1e" for name in ("serial", "lot", "count", "first", "report", "cert")}


def _cached_unit(infra: TraceInfra, res: Resolution, reader: Reader, shell: Shell,
                 verdict: PageVerdict, render: bool) -> tuple[str, str] | None:
    """The unit fragment of a page without a warning or an inspector's block, filled in
    from its cached form (made on a miss where templates can be rendered); None on a miss
    without `render`."""
    link = res.link
    kind = (reader.locale, verdict)
    fragment = infra.fragments.get(kind)
    if fragment is None:
        if not render:
            return None
        marked = SimpleNamespace(
            serial_state=res.serial_state, lot_unknown=res.lot_unknown,
            link=SimpleNamespace(lot=_MARKS["lot"],
                                 serial=_MARKS["serial"] if link.serial is not None else None))
        stats = None if res.stats is None else SimpleNamespace(
            count=_MARKS["count"], first_seen=_MARKS["first"], possible_copy=False)
        parts = _unit_html(infra.strict_jinja, marked, stats, verdict=verdict,
                           cert_line=_MARKS["cert"], code="", report=_MARKS["report"])
        fragment = infra.fragments[kind] = tuple(_format_string(part) for part in parts)
    stats = res.stats
    values = {"serial": escape(link.serial or ""), "lot": escape(link.lot or ""),
              "count": formats.number(stats.count, reader.locale) if stats else "",
              "first": formats.datetime(stats.first_at, reader.locale) if stats else "",
              "report": escape(report_url(reader.canonical)), "cert": shell.cert_line}
    return fragment[0] % values, fragment[1] % values


def _format_string(html: str) -> str:
    html = html.replace("%", "%%")
    for name, mark in _MARKS.items():
        html = html.replace(mark, f"%({name})s")
    return html
