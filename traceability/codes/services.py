"""Rules for codes: GTIN allocation inside a licensed prefix, label runs, label URLs and labels."""
from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import date
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from .. import formats
from ..accounts.models import User
from ..accounts.permissions import Action, require
from ..batches.models import Batch
from ..clock import local_today
from ..errors import Conflict, InvalidState, field_error
from ..extensions import db
from ..gs1 import (
    DigitalLink,
    GS1Error,
    build_uri,
    item_reference_capacity,
    iter_serials,
    make_gtin13,
    next_free_item_reference,
    validate_company_prefix,
)
from ..gs1.serials import MAX_INDEX
from ..registry.models import Producer, Product
from ..registry.services import current_certificate
from ..registry.status import VALIDITY_MONTHS, add_months, stars_in_force
from ..render import Label, labels_csv, labels_svg_zip, render_label_pdf, render_sheet_png
from ..services_common import audit, get_or_404
from .keys import get_signer
from .models import LabelLevel, LabelRun, PrintFormat

# One run is one print job; a million labels is already a few thousand PDF pages.
MAX_RUN_COUNT = 1_000_000
# Another transaction may take the same GTIN between our read and our flush (a different
# producer with an overlapping prefix, or a SQLite writer): retry a few times, then give up.
_ALLOCATION_ATTEMPTS = 5


# --- GTIN allocation ----------------------------------------------------------------------


def _used_item_references(prefix: str) -> set[int]:
    """Item references already taken under `prefix`, by any product (GTINs are global)."""
    start = 1 + len(prefix)  # GTIN-14 = "0" + GTIN-13 = "0" + prefix + item reference + check
    gtins = db.session.scalars(sa.select(Product.gtin).where(Product.gtin.like(f"0{prefix}%")))
    return {int(gtin[start:13]) for gtin in gtins if gtin is not None}


def allocate_gtin(user: User, product: Product) -> Product:
    """Give `product` the lowest free GTIN-13 of its producer's GS1 company prefix.

    The producer row is locked for the transaction so two requests for the same producer
    queue up; the unique constraint on products.gtin is the last word, with a retry.
    """
    require(user, Action.EDIT, product.producer)
    producer = db.session.execute(
        sa.select(Producer).where(Producer.id == product.producer_id)
        .with_for_update().execution_options(populate_existing=True)).scalar_one()
    # Re-read under the lock: a concurrent request may have just given this product a GTIN.
    db.session.refresh(product, ["gtin"])
    if product.gtin is not None:
        raise field_error("gtin", _("Sản phẩm này đã có GTIN %(gtin)s.", gtin=product.gtin),
                          Conflict)
    if not producer.gs1_company_prefix:
        raise field_error(
            "gs1_company_prefix",
            _("Chủ thể chưa có mã doanh nghiệp GS1. Hãy đăng ký với GS1 Việt Nam và cập nhật "
              "mã doanh nghiệp (bắt đầu bằng 893) trước khi cấp GTIN."))
    try:
        prefix = validate_company_prefix(producer.gs1_company_prefix)
    except GS1Error as exc:
        raise field_error("gs1_company_prefix", exc.message) from None

    refused: set[int] = set()
    for _attempt in range(_ALLOCATION_ATTEMPTS):
        try:
            item = next_free_item_reference(prefix, _used_item_references(prefix) | refused)
        except GS1Error:
            raise field_error(
                "gs1_company_prefix",
                _("Mã doanh nghiệp GS1 %(prefix)s đã dùng hết %(capacity)s mã sản phẩm. "
                  "Hãy đăng ký thêm mã doanh nghiệp với GS1 Việt Nam.",
                  prefix=prefix, capacity=item_reference_capacity(prefix)),
                InvalidState) from None
        gtin = "0" + make_gtin13(prefix, item)
        try:
            with db.session.begin_nested():
                product.gtin = gtin
                db.session.flush()
        except IntegrityError:
            refused.add(item)
            continue
        audit(user, "gtin.allocate", product, producer.id, gtin=gtin)
        return product
    raise Conflict(_("Không cấp được GTIN vì có nhiều yêu cầu cùng lúc. Vui lòng thử lại."))


# --- label runs -------------------------------------------------------------------------


def guaranteed_until(product: Product, issued_on: date) -> date:
    """VALIDITY_MONTHS from issue, and never before the current certificate's expiry."""
    horizon = add_months(issued_on, VALIDITY_MONTHS)
    cert = current_certificate(product)
    if cert is not None and cert.expires_on > horizon:
        return cert.expires_on
    return horizon


def create_label_run(user: User, batch: Batch, *, level: LabelLevel,
                     count: int = 1) -> LabelRun:
    """Issue a run of labels for `batch` on behalf of `user`: one row whatever `count` is."""
    require(user, Action.EDIT, batch.product.producer)
    return issue_label_run(batch, level=level, count=count, actor=user)


def issue_label_run(batch: Batch, *, level: LabelLevel, count: int = 1,
                    actor: User | None = None) -> LabelRun:
    """Issue a run without a permission check: for the command line and the demo only.

    Every request path goes through create_label_run.
    """
    level = LabelLevel(level)
    if level == LabelLevel.LOT and count != 1:
        raise field_error("count", _("Tem theo lô chỉ có một mã cho cả lô: số lượng phải là 1."))
    if not 1 <= count <= MAX_RUN_COUNT:
        raise field_error("count", _("Số tem mỗi đợt phải từ 1 đến %(max)s.",
                                     max=formats.number(MAX_RUN_COUNT, formats.current_locale())))
    # Lock the batch so two runs issued at once never get overlapping serial indexes.
    db.session.execute(sa.select(Batch.id).where(Batch.id == batch.id).with_for_update())
    product = batch.product
    run = LabelRun(batch_id=batch.id, level=level, count=count,
                   subject=product.gtin or product.trace_code,
                   guaranteed_until=guaranteed_until(product, local_today()),
                   issued_by_id=actor.id if actor is not None else None)
    if level == LabelLevel.UNIT:
        last = db.session.scalar(
            sa.select(sa.func.max(LabelRun.first_index + LabelRun.count - 1))
            .where(LabelRun.batch_id == batch.id, LabelRun.level == LabelLevel.UNIT))
        run.first_index = (last or 0) + 1
        if run.first_index + count - 1 > MAX_INDEX:
            raise field_error("count", _("Lô hàng này đã dùng hết số thứ tự tem."))
        run.key_version = get_signer().current_version
    else:
        run.first_index, run.key_version = 1, None
    db.session.add(run)
    db.session.flush()
    audit(actor, "label_run.create", run, product.producer_id, batch_id=batch.id,
          level=level.value, count=count, first_index=run.first_index)
    return run


def viewable_run(user: User, run_id: int) -> LabelRun:
    """A label run `user` may see and download, or NotFound / Forbidden."""
    run: LabelRun = get_or_404(LabelRun, run_id, _("đợt tem"))
    require(user, Action.VIEW, run.batch.product.producer)
    return run


def label_runs_of(batch: Batch) -> sa.Select:
    return sa.select(LabelRun).where(LabelRun.batch_id == batch.id).order_by(LabelRun.id)


# --- URLs and labels --------------------------------------------------------------------


def _link(subject: str, is_gtin: bool, lot: str | None, serial: str | None) -> DigitalLink:
    if is_gtin:
        return DigitalLink(gtin=subject, lot=lot, serial=serial)
    return DigitalLink(gtin=None, trace_code=subject, lot=lot, serial=serial)


def label_url(run_or_product: LabelRun | Product, batch: Batch | None = None,
              serial: str | None = None) -> str:
    """The public URL a label's QR code carries, on PUBLIC_BASE_URL.

    A run keeps the subject it was printed with, so a /t/ label stays /t/ after the product
    gets a GTIN; a product without a GTIN gets the /t/{trace code} form.
    """
    if isinstance(run_or_product, LabelRun):
        batch = batch or run_or_product.batch
        subject = run_or_product.subject
        # Compared with the product's permanent trace code, not guessed from the shape:
        # an all-digit trace code could pass for a GTIN.
        is_gtin = subject != run_or_product.batch.product.trace_code
    else:
        subject = run_or_product.gtin or run_or_product.trace_code
        is_gtin = run_or_product.gtin is not None
    lot = batch.lot if batch is not None else None
    return build_uri(current_app.config["PUBLIC_BASE_URL"], _link(subject, is_gtin, lot, serial))


def label_stars(product: Product, today: date | None = None) -> int | None:
    """The OCOP stars a label may print today, or None when no certificate is in force."""
    return stars_in_force(current_certificate(product), today or local_today())


def run_label_url(run: LabelRun, index: int) -> str:
    """The URL of label `index` of a run (the lot URL for a lot run)."""
    if run.level == LabelLevel.LOT:
        return label_url(run)
    serial = get_signer().make(run.subject, run.batch.lot, index, run.key_version)
    return label_url(run, run.batch, serial)


def iter_run_labels(run: LabelRun) -> Iterator[Label]:
    """The labels of a run, made lazily.

    Everything that needs the database or the app is read here, at the call; the returned
    iterator is pure, so it may be consumed after the request or in another thread.
    """
    batch = run.batch
    product = batch.product
    name, lot, stars = product.name_vi, batch.lot, label_stars(product)
    base = label_url(run, batch)
    # The GTIN the run was printed with (a /t/ run keeps its trace code, and prints none).
    gtin = run.subject if run.subject != product.trace_code else None
    if run.level == LabelLevel.LOT:
        return iter([Label(url=base, product_name=name, lot=lot, stars=stars, gtin=gtin)])
    serials = iter_serials(get_signer(), run.subject, lot, run.first_index, run.count,
                           run.key_version)
    # Serials are [0-9A-Z] only, so appending one is exactly what canonical_path would build.
    return (Label(url=f"{base}/21/{serial}", product_name=name, lot=lot, serial=serial,
                  stars=stars, gtin=gtin) for serial in serials)


DEFAULT_PRESET = "a4-3x8"
# What each file format is served as.
MIMETYPES = {PrintFormat.PDF: "application/pdf", PrintFormat.CSV: "text/csv; charset=utf-8",
             PrintFormat.ZIP: "application/zip"}


def write_labels(fmt: PrintFormat, labels: Iterable[Label], out: BinaryIO, *,
                 preset: str | None = None, ec: str | None = None,
                 workers: int | None = None) -> int:
    """Write `labels` to `out` as a PDF sheet (`preset`, `ec`), a CSV for print shops or a ZIP
    of QR SVGs (`ec`); returns the number of labels. The one place that picks the renderer,
    for the downloads, the print jobs and `flask labels print`."""
    ec = (ec or "M").upper()
    if fmt is PrintFormat.PDF:
        return render_label_pdf(labels, preset or DEFAULT_PRESET, out, ec=ec, workers=workers)
    if fmt is PrintFormat.ZIP:
        return labels_svg_zip(labels, out, ec=ec)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    count = labels_csv(labels, text)
    text.detach()  # flushes, and leaves `out` open for the caller
    return count


def preview_png(run: LabelRun, preset: str, ec: str | None = None) -> bytes:
    """A picture of the first sheet of the run's labels in `preset`, as the PDF prints it."""
    return render_sheet_png(iter_run_labels(run), preset, ec=(ec or "M").upper())


def run_filename(run: LabelRun, extension: str) -> str:
    safe_lot = "".join(c if c.isalnum() or c in "-_" else "_" for c in run.batch.lot)
    return f"tem-{run.id}-{safe_lot}.{extension}"
