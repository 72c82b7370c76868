"""Producer UI (mobile-first, no JavaScript), its EPCIS download and the public media files."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from marshmallow import ValidationError

from .. import idempotency, storage
from ..accounts.permissions import Action, can
from ..clock import local_today
from ..codes import print_jobs
from ..codes import services as codes_services
from ..codes.schemas import PrintJobCreateSchema
from ..errors import DomainError, ValidationFailed
from ..extensions import db
from ..registry.services import current_certificate
from ..registry.status import Standing, standing
from ..render import PRESETS
from ..render.qr import qr_svg
from ..web import form_error, signed_in
from . import services
from .forms import KIND_LABELS, BatchForm, EventForm, LabelRunForm
from .media import HASHED_NAME, max_upload_bytes, small_name, store_upload
from .models import Batch, DiaryEvent, EventKind

blp = Blueprint("batches", __name__)

HASHED_MAX_AGE = 365 * 24 * 3600
OTHER_MAX_AGE = 3600
# Where inspection photos and staged imports were kept before they moved to PRIVATE_FOLDER:
# files a deployment has not moved yet are still not published.
FORMERLY_PRIVATE = ("imports/", "inspections/")


def _user() -> Any:
    return current_user._get_current_object()


@blp.context_processor
def diary_helpers() -> dict[str, Any]:
    def kind_label(kind: Any) -> str:
        return str(KIND_LABELS.get(EventKind(kind), kind))

    def media_url(name: str, small: bool = False) -> str:
        return url_for("batches.media", name=name, w=480 if small else None)

    def certificate_standing(product: Any) -> Standing:
        return standing(current_certificate(product), local_today())

    return {"kind_label": kind_label, "media_url": media_url,
            "kind_labels": KIND_LABELS, "certificate_standing": certificate_standing}


# --- dashboard, products, batches -------------------------------------------------------


@blp.get("/producer/")
@signed_in()
def dashboard():
    user = _user()
    return render_template("producer/dashboard.html", overviews=services.producer_overview(user))


@blp.get("/producer/products")
@signed_in()
def product_list():
    return render_template("producer/products.html", products=services.visible_products(_user()))


@blp.get("/producer/products/<int:product_id>")
@signed_in()
def product_detail(product_id: int):
    user = _user()
    product = services.get_product(user, product_id)
    batches = list(db.session.scalars(services.batches_of(product).limit(200)))
    return render_template("producer/product.html", product=product, batches=batches,
                           scans=services.scan_counts([b.id for b in batches]),
                           can_edit=can(user, Action.EDIT, product.producer))


@blp.route("/producer/products/<int:product_id>/batches/new", methods=["GET", "POST"])
@signed_in()
def new_batch(product_id: int):
    user = _user()
    product = services.get_product(user, product_id, Action.EDIT)
    form = BatchForm()
    if form.validate_on_submit():
        try:
            batch = services.new_batch(user, product, form.data_for_service())
            return redirect(url_for("batches.batch_detail", batch_id=batch.id))
        except DomainError as exc:
            form_error(form, exc)
    status = 422 if request.method == "POST" else 200
    return render_template("producer/batch_new.html", product=product, form=form), status


@blp.get("/producer/batches")
@signed_in()
def batch_list():
    batches = services.visible_batches(_user())
    return render_template("producer/batches.html", batches=batches,
                           scans=services.scan_counts([b.id for b in batches]))


@blp.get("/producer/batches/<int:batch_id>")
@signed_in()
def batch_detail(batch_id: int):
    user = _user()
    batch = services.get_batch(user, batch_id)
    events = list(db.session.scalars(services.events_of(batch)))
    corrected_by: dict[int, list[DiaryEvent]] = {}
    for event in events:
        if event.corrects_id is not None:
            corrected_by.setdefault(event.corrects_id, []).append(event)
    authors = _author_names(events)
    # What a lot label's QR code carries: the lot's public trace page.
    lot_url = codes_services.label_url(batch.product, batch)
    return render_template(
        "producer/batch.html", batch=batch, product=batch.product, events=events,
        lot_url=lot_url, lot_qr=Markup(qr_svg(lot_url, scale=3)),
        corrected_by=corrected_by, authors=authors, chain=services.chain_report(batch),
        scans=services.scan_counts([batch.id]).get(batch.id, 0),
        can_edit=can(user, Action.EDIT, batch.product.producer),
        recorded=request.args.get("recorded", type=int))


@blp.get("/producer/batches/<int:batch_id>/epcis")
@signed_in()
def epcis_document(batch_id: int):
    """The batch's whole diary as EPCIS 2.0 JSON-LD, for those who may view its producer.
    The public document, with only what the trace page shows, is the resolver's."""
    from .api import epcis_response

    response = epcis_response(services.get_batch(_user(), batch_id))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _author_names(events: list[DiaryEvent]) -> dict[int, str]:
    from ..accounts.models import User

    ids = {e.author_id for e in events if e.author_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(ids))).all())


# --- recording and correcting steps ------------------------------------------------------


@blp.route("/producer/batches/<int:batch_id>/record", methods=["GET", "POST"])
@signed_in()
def record_step(batch_id: int):
    user = _user()
    batch = services.get_batch(user, batch_id, Action.EDIT)
    kind = request.values.get("kind")
    if request.method == "GET" and kind not in {k.value for k in EventKind}:
        return render_template("producer/choose_kind.html", batch=batch)
    return _event_form(user, batch, kind=kind, corrects=None)


@blp.route("/producer/batches/<int:batch_id>/events/<int:event_id>/correct",
           methods=["GET", "POST"])
@signed_in()
def correct_step(batch_id: int, event_id: int):
    user = _user()
    event = services.get_event(user, batch_id, event_id, Action.EDIT)
    return _event_form(user, event.batch, kind=event.kind.value, corrects=event)


def _event_form(user: Any, batch: Batch, *, kind: str | None, corrects: DiaryEvent | None):
    form = EventForm()
    if request.method == "GET":
        _prefill(form, batch, kind, corrects)
    elif form.validate_on_submit():
        data = form.data_for_service()
        data["corrects_id"] = corrects.id if corrects is not None else None
        try:
            replay = idempotency.claim(user, form.idempotency_key.data or None, field=None)
            if replay is not None:  # this form was sent before: the same step, the same page
                return replay
            event = services.record_event(user, batch, data)
            upload = form.attachment.data
            if upload is not None and getattr(upload, "filename", ""):
                # After the row is flushed but before the commit: a refused file rolls the
                # whole step back, and a refused step never leaves a file behind.
                stored = store_upload(upload.read(), storage.media(),
                                      max_bytes=max_upload_bytes(current_app.config),
                                      keep_location=bool(form.keep_location.data), field="attachment")
                services.add_attachment(user, event, stored)
            return redirect(url_for("batches.batch_detail", batch_id=batch.id,
                                    recorded=event.id, _anchor=f"event-{event.id}"))
        except DomainError as exc:
            form_error(form, exc)
    selected = form.kind.data or kind
    status = 422 if request.method == "POST" else 200
    return render_template("producer/record.html", batch=batch, form=form,
                           kind=selected, corrects=corrects,
                           max_mb=max_upload_bytes(current_app.config) // (1024 * 1024)), status


def _prefill(form: EventForm, batch: Batch, kind: str | None, corrects: DiaryEvent | None) -> None:
    from ..models_base import utcnow

    if corrects is not None:
        form.kind.data = corrects.kind.value
        form.occurred_at.data = corrects.occurred_at
        form.place.data = corrects.place
        form.latitude.data = corrects.latitude
        form.longitude.data = corrects.longitude
        form.quantity.data = corrects.quantity
        form.unit.data = corrects.unit
        form.notes.data = corrects.notes
        for key, value in (corrects.details or {}).items():
            if key in form._fields:
                form._fields[key].data = value
        return
    form.kind.data = kind
    form.occurred_at.data = utcnow()
    form.place.data = batch.product.producer.address
    if kind in (EventKind.HARVEST, EventKind.PACKING):
        form.unit.data = batch.unit


# --- label printing ---------------------------------------------------------------------


@blp.route("/producer/batches/<int:batch_id>/labels", methods=["GET", "POST"])
@signed_in()
def labels(batch_id: int):
    from ..codes.models import LabelRun

    user = _user()
    batch = services.get_batch(user, batch_id)
    form = LabelRunForm() if can(user, Action.EDIT, batch.product.producer) else None
    if request.method == "POST":
        if form is None:
            abort(403)
        if form.validate_on_submit():
            try:
                run = codes_services.create_label_run(user, batch, level=form.level.data,
                                                      count=form.count.data or 1)
                return redirect(url_for("batches.labels", batch_id=batch.id, issued=run.id))
            except DomainError as exc:
                form_error(form, exc)
    runs = list(db.session.scalars(sa.select(LabelRun).where(LabelRun.batch_id == batch.id)
                                   .order_by(LabelRun.id.desc())))
    presets = [(name, preset.description) for name, preset in PRESETS.items()]
    # The sheet previewed: the stock chosen for one run (the newest by default).
    chosen = request.args.get("preset")
    preset = chosen if chosen in PRESETS else codes_services.DEFAULT_PRESET
    issued = request.args.get("issued", type=int)
    shown = request.args.get("run", type=int) or issued or (runs[0].id if runs else None)
    status = 422 if request.method == "POST" else 200
    return render_template("producer/labels.html", batch=batch, runs=runs, form=form,
                           presets=presets, preset_descriptions=dict(presets), issued=issued,
                           preset=preset, shown_run=shown,
                           default_preset=codes_services.DEFAULT_PRESET,
                           download_limit=print_jobs.download_limit(),
                           jobs=print_jobs.jobs_of_runs([run.id for run in runs]),
                           job_states=print_jobs.STATE_LABELS), status


@blp.get("/producer/label-runs/<int:run_id>/preview.png")
@signed_in()
def label_preview(run_id: int):
    """The first sheet of a run as it will print, in the stock asked for (`?preset=`)."""
    run = codes_services.viewable_run(_user(), run_id)
    preset = request.args.get("preset", codes_services.DEFAULT_PRESET)
    if preset not in PRESETS:
        raise ValidationFailed(_("Khổ tem không hợp lệ."), {"preset": [_("Khổ tem không hợp lệ.")]})
    response = Response(codes_services.preview_png(run, preset), mimetype="image/png",
                        headers={"Cache-Control": "private, no-cache"})
    # Stars and names follow the certificate and the product: revalidated, a 304 if unchanged.
    response.add_etag()
    return response.make_conditional(request)


@blp.post("/producer/label-runs/<int:run_id>/print-jobs")
@signed_in()
def new_print_job(run_id: int):
    """Make a run's label file in the background ("Tạo tệp in"), then follow it."""
    user = _user()
    run = codes_services.viewable_run(user, run_id)
    try:
        # The API's schema: one validation for both doors.
        data = PrintJobCreateSchema().load(
            {key: request.form[key] for key in ("format", "preset", "ec") if key in request.form})
    except ValidationError as exc:
        raise ValidationFailed(_("Dữ liệu không hợp lệ: %(fields)s.",
                                 fields=", ".join(sorted(exc.messages))), exc.messages) from None
    job = print_jobs.create_print_job(user, run, fmt=data["format"], preset=data["preset"],
                                      ec=data["ec"])
    return redirect(url_for("batches.print_job", job_id=job.id))


@blp.get("/producer/print-jobs/<int:job_id>")
@signed_in()
def print_job(job_id: int):
    """A print job's progress; the page reloads itself until the file is ready."""
    job = print_jobs.viewable_print_job(_user(), job_id)
    return render_template("producer/print_job.html", job=job, run=job.label_run,
                           batch=job.label_run.batch, job_states=print_jobs.STATE_LABELS,
                           error=print_jobs.error_text(job),
                           working=job.state in print_jobs.ACTIVE_STATES,
                           presets=dict(PRESETS))


# --- public: media files ---------------------------------------------------------------


@blp.get("/media/<path:name>")
def media(name: str):
    """Uploaded photos and documents; `?w=480` serves a photo's small variant."""
    if name.startswith(FORMERLY_PRIVATE):
        abort(404)
    files = storage.media()
    wanted = name
    if request.args.get("w") == "480" and not name.endswith(".pdf"):
        wanted = small_name(name)
    # A file without its small variant (a PDF, a logo put there by hand) is served as it is.
    path = files.local_path(wanted) or files.local_path(name)
    if path is None:
        abort(404)
    hashed = HASHED_NAME.match(name) is not None
    response = send_file(path, max_age=HASHED_MAX_AGE if hashed else OTHER_MAX_AGE,
                         conditional=True)
    response.headers["Cache-Control"] = (f"public, max-age={HASHED_MAX_AGE}, immutable" if hashed
                                         else f"public, max-age={OTHER_MAX_AGE}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
