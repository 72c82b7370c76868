"""Set-up pages (mobile-first, no JavaScript): a consultant or an officer registers a producer,
its products and their codes, then hands the account over. The same services as the API."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import storage
from ..accounts.forms import ConfirmForm
from ..accounts.models import Role, User
from ..accounts.permissions import Action, allowed_actions, is_handed_over, region_scope
from ..batches import services as batches_services
from ..batches.media import max_upload_bytes, store_upload
from ..clock import local_today
from ..codes import services as codes_services
from ..errors import DomainError, Forbidden
from ..extensions import db
from ..gs1 import gtin13_display
from ..web import form_error, signed_in
from . import services
from .forms import ProducerForm, ProductForm
from .labels import GROUP_LABELS, PRODUCER_KIND_LABELS
from .models import Product, Region
from .status import standing

blp = Blueprint("setup", __name__, url_prefix="/setup")

LIST_LIMIT = 100
SETUP_ROLES = (Role.ADMIN, Role.OFFICER, Role.CONSULTANT)


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


@blp.context_processor
def _helpers() -> dict[str, Any]:
    def region_path(region: Region | None) -> str:
        names = []
        while region is not None:
            names.append(region.name)
            region = region.parent
        return ", ".join(names)

    def gtin_display(gtin: str | None) -> str:
        return (gtin13_display(gtin) or gtin) if gtin else ""

    return {"region_path": region_path, "gtin_display": gtin_display,
            "kind_labels": PRODUCER_KIND_LABELS, "group_labels": GROUP_LABELS}


def _refused(form: Any, exc: DomainError) -> None:
    """A service's refusal shown on the form; a refusal of the whole page (no field named,
    the caller may not act on this producer at all) is a 403 page instead."""
    if isinstance(exc, Forbidden) and not exc.errors:
        raise exc
    form_error(form, exc)


def _status() -> int:
    """A form shown again after a POST was refused."""
    return 422 if request.method == "POST" else 200


# --- producers ---------------------------------------------------------------------------


@blp.get("/producers")
@signed_in()
def producer_list():
    user = _user()
    query = (request.args.get("q") or "").strip()[:100]
    producers = services.producers_for(user, query or None, limit=LIST_LIMIT + 1)
    ids = [p.id for p in producers[:LIST_LIMIT]]
    return render_template("registry/producers.html", producers=producers[:LIST_LIMIT],
                           more=len(producers) > LIST_LIMIT, query=query,
                           products=services.products_by_producer(ids),
                           handed_over=services.handed_over_ids(ids),
                           may_create=services.may_create_producers(user))


def _region_options(form: ProducerForm, user: User, history: bool,
                    current: Region | None = None) -> dict[str, Any]:
    """What the region <select> shows: communes grouped by province (an officer's own only)."""
    within = region_scope(user) if user.role == Role.OFFICER else None
    groups = services.region_groups(local_today(), history=history, within=within)
    listed = {commune.id for group in groups for commune, _district in group.communes}
    return {"region_groups": groups, "history": history,
            "selected_region": form.region_id.data if "region_id" in form._fields else None,
            # A producer whose commune has since been merged keeps showing where it is.
            "current_region": current if current is not None and current.id not in listed else None}


@blp.route("/producers/new", methods=["GET", "POST"])
@signed_in(*SETUP_ROLES, refusal=_l("Chỉ đơn vị tư vấn, cán bộ quản lý và quản trị viên mới "
                                    "thêm được chủ thể OCOP."))
def new_producer():
    user = _user()
    history = request.args.get("history") == "1"
    form = ProducerForm()
    if form.validate_on_submit():
        try:
            producer = services.create_producer(user, form.data_for_service())
            flash(_("Đã thêm chủ thể %(name)s. Tiếp theo: thêm sản phẩm.", name=producer.name), "ok")
            return redirect(url_for("setup.producer", producer_id=producer.id))
        except DomainError as exc:
            _refused(form, exc)
    return render_template("registry/producer_form.html", form=form, producer=None,
                           **_region_options(form, user, history)), _status()


@blp.get("/producers/<int:producer_id>")
@signed_in()
def producer(producer_id: int):
    user = _user()
    found = services.get_producer(user, producer_id)
    return render_template("registry/producer.html", producer=found,
                           actions=allowed_actions(user, found), Action=Action,
                           handed_over=is_handed_over(found.id))


@blp.route("/producers/<int:producer_id>/edit", methods=["GET", "POST"])
@signed_in()
def edit_producer(producer_id: int):
    user = _user()
    found = services.get_producer(user, producer_id, Action.EDIT)
    history = request.args.get("history") == "1"
    form = ProducerForm()
    if not services.may_move_producer(user):
        del form.region_id  # shown, not chosen: only officers move a producer
    if request.method == "GET":
        form.fill(found)
    elif form.validate_on_submit():
        try:
            services.update_producer(user, found, form.data_for_service())
            flash(_("Đã lưu thông tin chủ thể."), "ok")
            return redirect(url_for("setup.producer", producer_id=found.id))
        except DomainError as exc:
            _refused(form, exc)
    return render_template("registry/producer_form.html", form=form, producer=found,
                           **_region_options(form, user, history, found.region)), _status()


# --- products ----------------------------------------------------------------------------


def _store_image(user: User, product: Product, form: ProductForm) -> None:
    """Re-encode and keep the uploaded photo (as diary photos are), then show it."""
    upload = form.image.data
    if upload is None or not getattr(upload, "filename", ""):
        return
    stored = store_upload(upload.read(), storage.media(), max_bytes=max_upload_bytes(current_app.config),
                          allow_pdf=False, field="image")
    services.set_product_image(user, product, stored.name)


@blp.route("/producers/<int:producer_id>/products/new", methods=["GET", "POST"])
@signed_in()
def new_product(producer_id: int):
    user = _user()
    found = services.get_producer(user, producer_id, Action.EDIT)
    form = ProductForm()
    if form.validate_on_submit():
        try:
            product = services.create_product(user, found, form.data_for_service())
            # After the row is flushed, before the commit: a refused photo rolls the product
            # back with it.
            _store_image(user, product, form)
            flash(_("Đã thêm sản phẩm %(name)s.", name=product.name_vi), "ok")
            return redirect(url_for("setup.product", product_id=product.id))
        except DomainError as exc:
            _refused(form, exc)
    return render_template("registry/product_form.html", form=form, producer=found, product=None,
                           max_mb=max_upload_bytes(current_app.config) // (1024 * 1024)), _status()


@blp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@signed_in()
def edit_product(product_id: int):
    user = _user()
    product = batches_services.get_product(user, product_id, Action.EDIT)
    form = ProductForm()
    if request.method == "GET":
        form.fill(product)
    elif form.validate_on_submit():
        try:
            services.update_product(user, product, form.data_for_service())
            _store_image(user, product, form)
            flash(_("Đã lưu thông tin sản phẩm."), "ok")
            return redirect(url_for("setup.product", product_id=product.id))
        except DomainError as exc:
            _refused(form, exc)
    return render_template("registry/product_form.html", form=form, producer=product.producer,
                           product=product,
                           max_mb=max_upload_bytes(current_app.config) // (1024 * 1024)), _status()


def _product_page(user: User, product: Product, gtin_form: ConfirmForm, status: int = 200):
    batches = list(db.session.scalars(batches_services.batches_of(product).limit(50)))
    return render_template(
        "registry/product.html", product=product, producer=product.producer, batches=batches,
        gtin_form=gtin_form, can_edit=Action.EDIT in allowed_actions(user, product.producer),
        public_url=codes_services.label_url(product),
        standing=standing(services.current_certificate(product), local_today())), status


@blp.get("/products/<int:product_id>")
@signed_in()
def product(product_id: int):
    user = _user()
    return _product_page(user, batches_services.get_product(user, product_id), ConfirmForm())


@blp.post("/products/<int:product_id>/gtin")
@signed_in()
def allocate_gtin(product_id: int):
    """"Cấp mã GTIN": the lowest free GTIN-13 of the producer's GS1 prefix (as the API's)."""
    user = _user()
    found = batches_services.get_product(user, product_id, Action.EDIT)
    form = ConfirmForm()  # its CSRF token is checked before the view, for every form
    try:
        codes_services.allocate_gtin(user, found)
    except DomainError as exc:
        _refused(form, exc)  # rolled back: the page shows the product as it was
        return _product_page(user, found, form, 422)
    flash(_("Đã cấp GTIN %(gtin)s cho sản phẩm.", gtin=gtin13_display(found.gtin) or found.gtin), "ok")
    return redirect(url_for("setup.product", product_id=found.id))
