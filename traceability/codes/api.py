"""Codes API: GTIN allocation, label runs and their downloads, a product's EAN-13 and QR images."""
from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from flask import Response, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from werkzeug.wsgi import wrap_file

from .. import storage
from ..accounts.auth import api_user
from ..accounts.permissions import Action, require
from ..batches.models import Batch
from ..errors import Gone, NotFound, field_error
from ..openapi import BINARY, TEXT, Blueprint
from ..pagination import paginate_select
from ..gs1 import gtin13_display
from ..registry.models import Product
from ..render import ean13_png, ean13_svg, qr_png, qr_svg
from ..services_common import get_or_404
from .models import LabelRun, PrintFormat, PrintJob
from .print_jobs import check_downloadable, create_print_job, finished_file, viewable_print_job
from .schemas import (
    EcQuerySchema,
    LabelRunCreateSchema,
    LabelRunSchema,
    PdfQuerySchema,
    PrintJobCreateSchema,
    PrintJobSchema,
    ProductCodesSchema,
    QrQuerySchema,
)
from .services import (
    MIMETYPES,
    allocate_gtin,
    create_label_run,
    iter_run_labels,
    label_runs_of,
    label_url,
    run_filename,
    viewable_run,
    write_labels,
)

blp = Blueprint("codes", __name__, url_prefix="/api/v1",
                description="GS1 codes: GTIN allocation, label runs, printable labels, barcodes.")


# Every endpoint asks for the caller before looking anything up, so an anonymous request
# cannot probe which ids exist.


def _viewable_run(run_id: int) -> LabelRun:
    return viewable_run(api_user(), run_id)


def _downloadable_run(run_id: int) -> LabelRun:
    run = _viewable_run(run_id)
    check_downloadable(run)
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


def _run_download(run: LabelRun, fmt: PrintFormat, preset: str | None = None,
                  ec: str | None = None) -> Response:
    labels = iter_run_labels(run)
    return _download(lambda out: write_labels(fmt, labels, out, preset=preset, ec=ec),
                     MIMETYPES[fmt], run_filename(run, fmt.value))


_TOO_LARGE = ("The run has more labels than LABEL_DOWNLOAD_MAX_LABELS (5,000 by default): "
              "code `print_job_required`, `errors.count` says how many. Create a print job "
              "(POST /label-runs/{run_id}/print-jobs) and download its file when done.")


@blp.route("/label-runs/<int:run_id>/labels.pdf")
class LabelRunPdf(MethodView):
    @blp.arguments(PdfQuerySchema, location="query")
    @blp.response(200, BINARY, content_type="application/pdf",
                  description="Print-ready label sheets, streamed page by page")
    @blp.errors(403, descriptions={409: _TOO_LARGE})
    def get(self, args: dict, run_id: int):
        """Download a label run as a printable PDF

        Runs above the download limit are refused (409): make a print job instead.
        """
        run = _downloadable_run(run_id)
        return _run_download(run, PrintFormat.PDF, args["preset"], args["ec"])


@blp.route("/label-runs/<int:run_id>/labels.csv")
class LabelRunCsv(MethodView):
    @blp.response(200, TEXT, content_type="text/csv",
                  description="One row per label: url, product_name, lot, serial, stars")
    @blp.errors(403, descriptions={409: _TOO_LARGE})
    def get(self, run_id: int):
        """Download a label run as CSV for variable-data printing

        Runs above the download limit are refused (409): make a print job instead.
        """
        return _run_download(_downloadable_run(run_id), PrintFormat.CSV)


@blp.route("/label-runs/<int:run_id>/labels-svg.zip")
class LabelRunSvgZip(MethodView):
    @blp.arguments(EcQuerySchema, location="query")
    @blp.response(200, BINARY, content_type="application/zip",
                  description="A ZIP with one QR SVG per label, named after its serial")
    @blp.errors(403, descriptions={409: _TOO_LARGE})
    def get(self, args: dict, run_id: int):
        """Download a label run as a ZIP of QR SVGs

        Runs above the download limit are refused (409): make a print job instead.
        """
        return _run_download(_downloadable_run(run_id), PrintFormat.ZIP, ec=args["ec"])


# --- print jobs -------------------------------------------------------------------------


@blp.route("/label-runs/<int:run_id>/print-jobs")
class LabelRunPrintJobs(MethodView):
    @blp.arguments(PrintJobCreateSchema)
    @blp.response(202, PrintJobSchema, headers={"Location": {
        "description": "The job's URL, to poll until its state is done",
        "schema": {"type": "string"}}})
    @blp.errors(403, descriptions={409: "The producer already has 5 jobs queued or running"})
    def post(self, data: dict, run_id: int):
        """Make a label run's file in the background (a print job)

        For runs of any size, and the way to get runs above the download limit. Answers at
        once with the job; poll `GET /print-jobs/{job_id}` (its `progress` grows) until
        `state` is `done`, then download `download_url`. The same request while an equal job
        is queued, running or done answers that job instead of making a second one. Files
        are kept for 7 days (PRINT_JOB_KEEP_DAYS).
        """
        user = api_user()
        job = create_print_job(user, viewable_run(user, run_id), fmt=data["format"],
                               preset=data["preset"], ec=data["ec"])
        return job, 202, {"Location": url_for("codes.PrintJobById", job_id=job.id)}


@blp.route("/print-jobs/<int:job_id>")
class PrintJobById(MethodView):
    @blp.response(200, PrintJobSchema)
    @blp.errors(403)
    def get(self, job_id: int):
        """Get a print job: its state and progress"""
        return viewable_print_job(api_user(), job_id)


_FILE_TYPES = {fmt: mimetype.split(";")[0] for fmt, mimetype in MIMETYPES.items()}


def _file_response(job: PrintJob) -> Response:
    name = finished_file(job)
    try:
        handle = storage.generated().open(name)
    except FileNotFoundError:
        raise Gone(_("Không còn tệp in trên máy chủ. Hãy tạo lại.")) from None
    response = Response(wrap_file(request.environ, handle, _CHUNK_BYTES),
                        mimetype=MIMETYPES[job.format], direct_passthrough=True, headers={
                            "Content-Disposition":
                                f'attachment; filename="{run_filename(job.label_run, job.format.value)}"',
                            "Cache-Control": "private, no-store"})
    response.content_length = job.file_size
    # A finished file never changes: a dropped download resumes with Range (curl -C -).
    response.set_etag(name.replace("/", "-"))
    return response.make_conditional(request, accept_ranges=True,
                                     complete_length=job.file_size)


def _file_responses(view: Callable) -> Callable:
    """Document the file's three content types, whole (200) or in part (206)."""
    for status, description in ((200, "The finished file, streamed"),
                                (206, "The part of the finished file a Range header asked for")):
        for fmt in PrintFormat:
            view = blp.alt_response(status, schema=TEXT if fmt is PrintFormat.CSV else BINARY,
                                    content_type=_FILE_TYPES[fmt], description=description,
                                    success=True)(view)
    return view


@blp.route("/print-jobs/<int:job_id>/file")
class PrintJobFile(MethodView):
    @_file_responses
    @blp.errors(403, descriptions={409: "The job is not done yet",
                                   410: "The file was deleted after its keeping period"})
    def get(self, job_id: int):
        """Download a print job's finished file

        Streamed in chunks, with Content-Length; a dropped download resumes with a Range
        request (`curl -C -`).
        """
        return _file_response(viewable_print_job(api_user(), job_id))


def _image(data: bytes | str, mimetype: str) -> Response:
    # Revalidated each time (a 304 while unchanged): a product's QR changes from its /t/ form
    # to its GTIN form when the GTIN is allocated, and the product page must show the new one.
    response = Response(data, mimetype=mimetype, headers={"Cache-Control": "private, no-cache"})
    response.add_etag()
    return response.make_conditional(request)


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
