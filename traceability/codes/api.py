"""Codes API: GTIN allocation, label runs and their downloads, a product's EAN-13 and QR images."""
from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask import Response
from flask.views import MethodView
from flask_babel import gettext as _

from ..accounts.auth import api_user
from ..accounts.permissions import Action, require
from ..batches.models import Batch
from ..errors import NotFound, field_error
from ..extensions import db
from ..openapi import BINARY, TEXT, Blueprint
from ..pagination import paginate_select
from ..gs1 import gtin13_display
from ..registry.models import Product
from ..render import (
    ean13_png,
    ean13_svg,
    labels_csv,
    labels_svg_zip,
    qr_png,
    qr_svg,
    render_label_pdf,
)
from ..services_common import get_or_404
from .models import LabelRun
from .schemas import (
    EcQuerySchema,
    LabelRunCreateSchema,
    LabelRunSchema,
    PdfQuerySchema,
    ProductCodesSchema,
    QrQuerySchema,
)
from .services import (
    allocate_gtin,
    create_label_run,
    iter_run_labels,
    label_runs_of,
    label_url,
    run_filename,
)

blp = Blueprint("codes", __name__, url_prefix="/api/v1",
                description="GS1 codes: GTIN allocation, label runs, printable labels, barcodes.")


# Every endpoint asks for the caller before looking anything up, so an anonymous request
# cannot probe which ids exist.


def _viewable_run(run_id: int) -> LabelRun:
    user = api_user()
    run: LabelRun = get_or_404(LabelRun, run_id, _("đợt tem"))
    require(user, Action.VIEW, run.batch.product.producer)
    return run


def _viewable_product(product_id: int) -> Product:
    user = api_user()
    product: Product = get_or_404(Product, product_id, _("sản phẩm"))
    require(user, Action.VIEW, product.producer)
    return product


def _gtin13_of(product: Product) -> str:
    gtin13 = gtin13_display(product.gtin) if product.gtin else None
    if gtin13 is None:
        message = (_("Sản phẩm chưa có GTIN. Hãy cấp GTIN trước khi in mã vạch EAN-13.")
                   if product.gtin is None else
                   _("GTIN-14 này không in được thành mã vạch EAN-13."))
        raise field_error("gtin", message, NotFound)
    return gtin13


# --- streaming --------------------------------------------------------------------------

_CHUNK_BYTES = 64 * 1024
_QUEUED_CHUNKS = 16
_DONE = object()


class _QueueWriter(io.RawIOBase):
    """A write-only, unseekable file whose bytes go to a bounded queue in 64 KiB chunks."""

    def __init__(self, chunks: queue.Queue, cancelled: threading.Event) -> None:
        super().__init__()
        self._chunks, self._cancelled = chunks, cancelled
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += data
        if len(self._buffer) >= _CHUNK_BYTES:
            self.push()
        return len(data)

    def push(self) -> None:
        if self._buffer:
            _put(self._chunks, bytes(self._buffer), self._cancelled)
            self._buffer.clear()


def _put(chunks: queue.Queue, item: Any, cancelled: threading.Event) -> None:
    while True:
        if cancelled.is_set():
            # The client went away: stop rendering instead of filling a queue nobody reads.
            raise BrokenPipeError("download cancelled")
        try:
            chunks.put(item, timeout=0.5)
            return
        except queue.Full:
            continue


def _streamed(produce: Callable[[BinaryIO], Any]) -> Iterator[bytes]:
    """Run `produce(out)` in a thread and yield what it writes, with bounded memory.

    The renderers write to a file; a response streams an iterator. A small queue between
    them keeps a 100,000-label PDF from ever being whole in memory.
    """
    chunks: queue.Queue = queue.Queue(maxsize=_QUEUED_CHUNKS)
    cancelled = threading.Event()

    def run() -> None:
        out = _QueueWriter(chunks, cancelled)
        try:
            produce(out)  # type: ignore[arg-type]
            out.push()
            _put(chunks, _DONE, cancelled)
        except BrokenPipeError:
            pass
        except BaseException as exc:  # noqa: BLE001  (handed to the response iterator)
            try:
                _put(chunks, exc, cancelled)
            except BrokenPipeError:
                pass

    thread = threading.Thread(target=run, name="label-download", daemon=True)
    thread.start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancelled.set()
        thread.join(timeout=30)


def _download(produce: Callable[[BinaryIO], Any], mimetype: str, filename: str) -> Response:
    body = _streamed(produce)
    # Pull the first chunk now, so a failure before any byte is an error response, not a
    # truncated file.
    first = next(body, b"")

    def chained() -> Iterator[bytes]:
        try:
            yield first
            yield from body
        finally:
            body.close()

    return Response(chained(), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store",
    })


def _text_stream(write_text: Callable[[io.TextIOWrapper], Any]) -> Callable[[BinaryIO], None]:
    def produce(out: BinaryIO) -> None:
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        write_text(text)
        text.flush()
        text.detach()

    return produce


# --- endpoints --------------------------------------------------------------------------


@blp.route("/products/<int:product_id>/gtin")
class ProductGtin(MethodView):
    @blp.response(200, ProductCodesSchema)
    @blp.errors(403, descriptions={409: "The product already has a GTIN, or the prefix is used up",
                                   422: "The producer has no GS1 company prefix"})
    def post(self, product_id: int):
        """Allocate a GTIN-13 for a product

        Takes the lowest free item reference inside the producer's licensed GS1 company
        prefix. The service never invents a prefix.
        """
        user = api_user()
        product = get_or_404(Product, product_id, _("sản phẩm"))
        allocate_gtin(user, product)
        db.session.commit()
        return product


@blp.route("/batches/<int:batch_id>/label-runs")
class BatchLabelRuns(MethodView):
    @blp.arguments(LabelRunCreateSchema)
    @blp.response(201, LabelRunSchema)
    @blp.errors(403)
    def post(self, data: dict, batch_id: int):
        """Issue a label run for a batch

        One row is written whatever the count: unit serials are computed, not stored.
        """
        user = api_user()
        batch = get_or_404(Batch, batch_id, _("lô hàng"))
        run = create_label_run(user, batch, level=data["level"], count=data["count"])
        db.session.commit()
        return run

    @blp.response(200, LabelRunSchema(many=True))
    @blp.errors(403)
    @blp.paginate()
    def get(self, batch_id: int, pagination_parameters):
        """List a batch's label runs"""
        user = api_user()
        batch = get_or_404(Batch, batch_id, _("lô hàng"))
        require(user, Action.VIEW, batch.product.producer)
        return paginate_select(label_runs_of(batch), pagination_parameters)


@blp.route("/label-runs/<int:run_id>")
class LabelRunById(MethodView):
    @blp.response(200, LabelRunSchema)
    @blp.errors(403)
    def get(self, run_id: int):
        """Get one label run"""
        return _viewable_run(run_id)


@blp.route("/label-runs/<int:run_id>/labels.pdf")
class LabelRunPdf(MethodView):
    @blp.arguments(PdfQuerySchema, location="query")
    @blp.response(200, BINARY, content_type="application/pdf",
                  description="Print-ready label sheets, streamed page by page")
    @blp.errors(403)
    def get(self, args: dict, run_id: int):
        """Download a label run as a printable PDF"""
        run = _viewable_run(run_id)
        labels = iter_run_labels(run)
        preset, ec = args["preset"], args["ec"].upper()
        return _download(lambda out: render_label_pdf(labels, preset, out, ec=ec),
                         "application/pdf", run_filename(run, "pdf"))


@blp.route("/label-runs/<int:run_id>/labels.csv")
class LabelRunCsv(MethodView):
    @blp.response(200, TEXT, content_type="text/csv",
                  description="One row per label: url, product_name, lot, serial, stars")
    @blp.errors(403)
    def get(self, run_id: int):
        """Download a label run as CSV for variable-data printing"""
        run = _viewable_run(run_id)
        labels = iter_run_labels(run)
        return _download(_text_stream(lambda text: labels_csv(labels, text)),
                         "text/csv; charset=utf-8", run_filename(run, "csv"))


@blp.route("/label-runs/<int:run_id>/labels-svg.zip")
class LabelRunSvgZip(MethodView):
    @blp.arguments(EcQuerySchema, location="query")
    @blp.response(200, BINARY, content_type="application/zip",
                  description="A ZIP with one QR SVG per label, named after its serial")
    @blp.errors(403)
    def get(self, args: dict, run_id: int):
        """Download a label run as a ZIP of QR SVGs"""
        run = _viewable_run(run_id)
        labels = iter_run_labels(run)
        ec = args["ec"].upper()
        return _download(lambda out: labels_svg_zip(labels, out, ec=ec),
                         "application/zip", run_filename(run, "zip"))


def _image(data: bytes | str, mimetype: str) -> Response:
    return Response(data, mimetype=mimetype, headers={"Cache-Control": "private, max-age=300"})


@blp.route("/products/<int:product_id>/ean13.svg")
class ProductEan13Svg(MethodView):
    @blp.response(200, TEXT, content_type="image/svg+xml")
    @blp.errors(403, descriptions={404: "No such product, or it has no GTIN (errors name `gtin`)"})
    def get(self, product_id: int):
        """Get a product's EAN-13 barcode as SVG"""
        return _image(ean13_svg(_gtin13_of(_viewable_product(product_id))), "image/svg+xml")


@blp.route("/products/<int:product_id>/ean13.png")
class ProductEan13Png(MethodView):
    @blp.response(200, BINARY, content_type="image/png")
    @blp.errors(403, descriptions={404: "No such product, or it has no GTIN (errors name `gtin`)"})
    def get(self, product_id: int):
        """Get a product's EAN-13 barcode as a 300 dpi PNG"""
        return _image(ean13_png(_gtin13_of(_viewable_product(product_id))), "image/png")


@blp.route("/products/<int:product_id>/qr.svg")
class ProductQrSvg(MethodView):
    @blp.arguments(QrQuerySchema, location="query")
    @blp.response(200, TEXT, content_type="image/svg+xml")
    @blp.errors(403)
    def get(self, args: dict, product_id: int):
        """Get a product's QR code (product-level Digital Link) as SVG"""
        product = _viewable_product(product_id)
        svg = qr_svg(label_url(product), ec=args["ec"].upper(), scale=args["scale"] or 4)
        return _image(svg, "image/svg+xml")


@blp.route("/products/<int:product_id>/qr.png")
class ProductQrPng(MethodView):
    @blp.arguments(QrQuerySchema, location="query")
    @blp.response(200, BINARY, content_type="image/png")
    @blp.errors(403)
    def get(self, args: dict, product_id: int):
        """Get a product's QR code (product-level Digital Link) as PNG"""
        product = _viewable_product(product_id)
        png = qr_png(label_url(product), ec=args["ec"].upper(), scale=args["scale"] or 8)
        return _image(png, "image/png")
