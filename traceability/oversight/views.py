"""Officer and inspector pages: dashboard, certificates, notices, reports, imports, inspections."""
from __future__ import annotations

import hashlib
import os
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from .. import formats, storage
from ..accounts.models import Role, User
from ..accounts.permissions import Action, can
from ..accounts.services import HANDOVER_STATUS_LABELS, HandoverStatus
from ..batches.media import max_upload_bytes
from ..clock import local_today
from ..errors import Forbidden, InvalidState, NotFound, Unavailable, ValidationFailed
from ..extensions import db
from ..registry.labels import GROUP_LABELS, PRODUCER_KIND_LABELS
from ..registry.models import Producer, Product
from ..registry.services import current_certificate
from ..registry.status import in_force
from ..resolver.links import page_uri
from ..resolver.models import CounterfeitReport
from ..services_common import get_or_404
from ..web import form_error, signed_in
from . import charts, imports, mail, reports, services, verify
from .forms import (
    ActionForm,
    CertificateForm,
    ImportConfirmForm,
    ImportForm,
    InspectionForm,
    LabelCodeForm,
    LabelPhotoForm,
    ReportForm,
    ReportStatusForm,
    RevocationForm,
    choices,
)
from .models import ExpiryNotice, Inspection, NoticeStatus
from .photos import read_photo, save_photo

blp = Blueprint("oversight", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


STAFF_ONLY = _l("Trang này dành cho cán bộ quản lý OCOP và kiểm tra viên.")
officers_only = signed_in(Role.OFFICER, Role.ADMIN, refusal=STAFF_ONLY)
inspectors_only = signed_in(Role.INSPECTOR, Role.OFFICER, Role.ADMIN, refusal=STAFF_ONLY)


@blp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"group_labels": GROUP_LABELS,
            "outcome_labels": services.OUTCOME_LABELS, "level_labels": services.LEVEL_LABELS,
            "checklist_labels": services.CHECKLIST, "this_url": _this_url}


def _this_url(**changes: Any) -> str:
    """This page's address with some query arguments changed (None drops one); the filters'
    links keep the others. A change of filter goes back to the first page."""
    args = {k: v for k, v in request.args.items() if v != ""}
    if "page" not in changes:
        args.pop("page", None)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint or ".dashboard", **(request.view_args or {}), **args)


def _page_arg() -> int:
    page = request.args.get("page", "1")
    # The cap keeps OFFSET inside PostgreSQL's bigint for any typed-in page number.
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        abort(400)
    return int(page)


def _id_arg(name: str) -> int | None:
    value = request.args.get(name) or ""
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        abort(400)
    return int(value)


def _choice_arg(name: str, allowed: tuple[str, ...] | set[str]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        abort(400)
    return value


def _stars_arg() -> int | None:
    value = _choice_arg("stars", ("3", "4", "5"))
    return int(value) if value else None


def _history_arg() -> bool:
    return request.args.get("history") == "1"


# --- officer: dashboard ------------------------------------------------------------------------

@blp.get("/officer/")
@officers_only
def dashboard():
    user = _user()
    region_id = _id_arg("region_id")
    history = _history_arg()
    board = reports.dashboard(user, region_id)
    areas = sorted({row["area"] for row in board.by_area})
    per_area = {a: [0, 0, 0, 0] for a in areas}
    for row in board.by_area:
        totals = per_area[row["area"]]
        for i, key in enumerate(("s5", "s4", "s3", "none")):
            totals[i] += row[key]
    stars_chart = charts.stacked_bar_chart(
        areas, [(name, [per_area[a][i] for a in areas]) for i, name in
                enumerate(("5★", "4★", "3★", _("Không hiệu lực")))],
        _("Sản phẩm theo địa bàn và hạng sao"))
    cert_items = [(str(BUCKET_TITLES[bucket]), board.certificates[bucket])
                  for bucket in services.FOLLOW_UP_BUCKETS]
    handover_items = [(str(HANDOVER_STATUS_LABELS[state]), board.handover[state])
                      for state in HandoverStatus]
    months = [(formats.month(month, formats.current_locale()), n) for month, n in board.scans_by_month]
    return render_template(
        "oversight/dashboard.html", board=board, region_id=region_id, history=history,
        regions=services.region_choices(user, history, keep=region_id),
        summary=services.officer_summary(user),
        stars_chart=stars_chart, cert_items=cert_items, buckets=services.FOLLOW_UP_BUCKETS,
        handover_items=handover_items, months=months,
        cert_chart=charts.bar_chart(cert_items, _("Giấy chứng nhận cần theo dõi"), charts.PALETTE[1]),
        handover_chart=charts.bar_chart(handover_items, _("Tình trạng bàn giao tài khoản"), charts.PALETTE[2]),
        scans_chart=charts.bar_chart(months, _("Lượt quét theo tháng")))


# --- officer: certificates -----------------------------------------------------------------------

BUCKET_TITLES = {"expiring_90": _l("Hết hạn trong 90 ngày"), "expiring_30": _l("Hết hạn trong 30 ngày"),
                 "lapsed": _l("Đã hết hạn"), "revoked": _l("Đã thu hồi"), "all": _l("Tất cả")}


@blp.get("/officer/certificates")
@officers_only
def follow_up():
    user = _user()
    bucket = request.args.get("bucket", "expiring_90")
    if bucket not in services.LIST_BUCKETS:
        abort(404)
    region_id, history = _id_arg("region_id"), _history_arg()
    listing = services.follow_up_list(user, bucket, region_id, _stars_arg(), _page_arg())
    return render_template("oversight/follow_up.html", bucket=bucket, listing=listing,
                           titles=BUCKET_TITLES, today=local_today(), region_id=region_id,
                           history=history, regions=services.region_choices(user, history, keep=region_id),
                           current_certificate=current_certificate)


PRODUCT_STATUS_TITLES = {"valid": _l("Còn hiệu lực"), "expiring": _l("Sắp hết hạn"),
                         "expired": _l("Đã hết hạn"), "revoked": _l("Đã thu hồi"),
                         "none": _l("Chưa có giấy chứng nhận")}


@blp.get("/officer/products")
@officers_only
def products():
    user = _user()
    q = (request.args.get("q") or "").strip()[:100]
    region_id, history = _id_arg("region_id"), _history_arg()
    status = _choice_arg("status", services.PRODUCT_STATUSES)
    found = services.officer_products(user, q or None, region_id, status, _stars_arg(), _page_arg())
    return render_template("oversight/products.html", found=found, q=q, today=local_today(),
                           status=status, status_titles=PRODUCT_STATUS_TITLES, region_id=region_id,
                           history=history, regions=services.region_choices(user, history, keep=region_id))


@blp.get("/officer/producers/<int:producer_id>")
@officers_only
def producer(producer_id: int):
    return render_template("oversight/producer.html", overview=services.producer_overview(_user(), producer_id),
                           today=local_today(), kind_labels=PRODUCER_KIND_LABELS,
                           handover_labels=HANDOVER_STATUS_LABELS)


def _product_page(product: Product, form: CertificateForm | None = None, status: int = 200):
    today = local_today()
    current = current_certificate(product)
    form = form or CertificateForm(issuing_authority=current.issuing_authority if current else "",
                                   issued_on=today)
    inspections = services.list_inspections(_user(), producer_id=product.producer_id, limit=20)
    return render_template("oversight/product.html", product=product, current=current,
                           history=services.certificate_history(product), form=form, today=today,
                           in_force=in_force(current, today),
                           inspections=[i for i in inspections if i.product_id in (None, product.id)]), status


@blp.get("/officer/products/<int:product_id>")
@officers_only
def product(product_id: int):
    return _product_page(services.get_product_for(_user(), product_id))


@blp.post("/officer/products/<int:product_id>/certificates")
@officers_only
def register_certificate(product_id: int):
    user = _user()
    product = services.get_product_for(user, product_id)
    form = CertificateForm()
    if form.validate_on_submit():
        try:
            services.register(user, product, form.data_dict())
        except (ValidationFailed, InvalidState) as exc:
            form_error(form, exc)
        else:
            flash(_("Đã ghi giấy chứng nhận."), "ok")
            return redirect(url_for(".product", product_id=product.id))
    return _product_page(product, form, 422)


@blp.route("/officer/certificates/<int:certificate_id>/re-evaluate", methods=["GET", "POST"])
@officers_only
def re_evaluate(certificate_id: int):
    user = _user()
    cert = services.get_certificate_for(user, certificate_id, Action.CERTIFY)
    form = CertificateForm(issuing_authority=cert.issuing_authority, issuing_level=cert.issuing_level.value,
                           stars=str(cert.stars), issued_on=local_today())
    if form.validate_on_submit():
        try:
            services.re_evaluate(user, cert, form.data_dict())
        except (ValidationFailed, InvalidState) as exc:
            form_error(form, exc)
        else:
            flash(_("Đã ghi kết quả đánh giá lại; giấy chứng nhận cũ được thay thế."), "ok")
            return redirect(url_for(".product", product_id=cert.product_id))
    status = 422 if request.method == "POST" else 200
    return render_template("oversight/re_evaluate.html", cert=cert, form=form), status


@blp.route("/officer/certificates/<int:certificate_id>/revoke", methods=["GET", "POST"])
@officers_only
def revoke(certificate_id: int):
    user = _user()
    cert = services.get_certificate_for(user, certificate_id, Action.CERTIFY)
    form = RevocationForm(revoked_on=local_today())
    if form.validate_on_submit():
        try:
            services.revoke(user, cert, {"decision_number": form.decision_number.data.strip(),
                                         "revoked_on": form.revoked_on.data, "reason": form.reason.data.strip()})
        except (ValidationFailed, InvalidState) as exc:
            form_error(form, exc)
        else:
            flash(_("Đã thu hồi giấy chứng nhận. Trang truy xuất hiển thị ngay tình trạng mới."), "ok")
            return redirect(url_for(".product", product_id=cert.product_id))
    proposals = [i for i in services.revocation_proposals(user) if i.product_id == cert.product_id]
    status = 422 if request.method == "POST" else 200
    return render_template("oversight/revoke.html", cert=cert, form=form, proposals=proposals), status


@blp.get("/officer/certificates/<int:certificate_id>/notice.pdf")
@officers_only
def notice_letter(certificate_id: int):
    cert = services.get_certificate_for(_user(), certificate_id, Action.CERTIFY)
    notice = db.session.scalar(sa.select(ExpiryNotice).where(ExpiryNotice.certificate_id == cert.id))
    body = mail.notice_pdf(cert, local_today(), notice.id if notice else None)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="thong-bao-het-han-ocop-{cert.id}.pdf"',
        "Cache-Control": "no-store"})


# --- officer: notices and proposals ----------------------------------------------------------------

@blp.get("/officer/notices")
@officers_only
def notices():
    status = request.args.get("status") or None
    if status and status not in {s.value for s in NoticeStatus}:
        abort(404)
    return render_template("oversight/notices.html", outbox=services.notice_outbox(_user(), status, _page_arg()),
                           status=status, lead_days=mail.NOTICE_LEAD_DAYS, error_text=mail.error_text,
                           error_detail=mail.error_detail, labels=services.NOTICE_STATUS_LABELS,
                           per_click=services.SEND_DUE_PER_CLICK, form=ActionForm())


@blp.post("/officer/notices/send-due")
@officers_only
def send_due_notices():
    """The button that does what `flask notices send-due` does, for the officer's regions."""
    if not ActionForm().validate_on_submit():
        abort(400)
    result = services.send_due_notices(_user())
    done = result.as_dict()
    if not any(done[k] for k in ("sent", "failed", "retrying", "skipped")):
        flash(_("Không có thông báo nào đến hạn gửi."), "ok")
    else:
        parts = []
        if done["sent"]:
            parts.append(ngettext("Đã gửi %(num)d thông báo.", "Đã gửi %(num)d thông báo.", done["sent"]))
        if done["failed"]:
            parts.append(ngettext("%(num)d thông báo không gửi được: xem lý do bên dưới.",
                                  "%(num)d thông báo không gửi được: xem lý do bên dưới.", done["failed"]))
        if done["retrying"]:
            parts.append(ngettext("%(num)d thông báo chưa gửi được, hệ thống sẽ tự gửi lại sau.",
                                  "%(num)d thông báo chưa gửi được, hệ thống sẽ tự gửi lại sau.",
                                  done["retrying"]))
        if done["skipped"]:
            parts.append(ngettext("%(num)d thông báo không cần gửi nữa (giấy chứng nhận đã được đánh giá "
                                  "lại, thu hồi hoặc đã hết hạn).",
                                  "%(num)d thông báo không cần gửi nữa (giấy chứng nhận đã được đánh giá "
                                  "lại, thu hồi hoặc đã hết hạn).", done["skipped"]))
        flash(" ".join(parts), "bad" if done["failed"] or done["retrying"] else "ok")
    if result.left:
        flash(ngettext("Còn %(num)d thông báo đến hạn: bấm nút lần nữa để gửi tiếp.",
                       "Còn %(num)d thông báo đến hạn: bấm nút lần nữa để gửi tiếp.", result.left), "ok")
    return redirect(url_for(".notices"))


@blp.post("/officer/notices/<int:notice_id>/retry")
@officers_only
def retry_notice(notice_id: int):
    user = _user()
    notice = get_or_404(ExpiryNotice, notice_id, _("thông báo"))
    if not can(user, Action.CERTIFY, notice.certificate.product.producer):
        raise Forbidden(_("Bạn không có quyền với thông báo này."))
    if ActionForm().validate_on_submit():
        mail.requeue(notice)
        flash(_("Thông báo sẽ được gửi lại trong lần chạy tới."), "ok")
    return redirect(url_for(".notices"))


@blp.get("/officer/proposals")
@officers_only
def proposals():
    return render_template("oversight/proposals.html", proposals=services.revocation_proposals(_user()),
                           form=ActionForm())


@blp.post("/officer/inspections/<int:inspection_id>/dismiss")
@officers_only
def dismiss_proposal(inspection_id: int):
    user = _user()
    inspection = services.get_inspection_for(user, inspection_id)
    if ActionForm().validate_on_submit():
        services.dismiss_proposal(user, inspection)
        flash(_("Đã đóng đề nghị thu hồi."), "ok")
    return redirect(url_for(".proposals"))


# --- officer: periodic report ------------------------------------------------------------------------

@blp.get("/officer/reports")
@officers_only
def report_form():
    user = _user()
    today = local_today()
    start_default = date(today.year, ((today.month - 1) // 3) * 3 + 1, 1)
    submitted = "start" in request.args  # ?history=1 alone only widens the region list
    form = ReportForm(request.args if submitted else None, start=start_default, end=today)
    history = bool(form.history.data) if submitted else _history_arg()
    form.history.data = history
    keep = _id_arg("region_id")
    form.region_id.choices = choices([("", _("Toàn bộ phạm vi quản lý"))] + [
        (str(r.id), region_option(r)) for r in services.region_choices(user, history, keep=keep)])
    report = None
    if submitted and form.validate():
        region_id = int(form.region_id.data) if form.region_id.data else None
        try:
            report = reports.periodic_report(user, form.start.data, form.end.data, region_id)
        except ValidationFailed as exc:
            form_error(form, exc)
        else:
            if form.format.data != "html":
                stem = f"bao-cao-ocop-{report.start:%Y%m%d}-{report.end:%Y%m%d}"
                if form.format.data == "csv":
                    body, mimetype, name = reports.report_csv_zip(report), "application/zip", stem + "-csv.zip"
                else:
                    body, mimetype, name = reports.report_xlsx(report), XLSX, stem + ".xlsx"
                return Response(body, mimetype=mimetype, headers={
                    "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
    status = 422 if submitted and (form.errors or form.form_errors) else 200
    return render_template("oversight/report_form.html", form=form, report=report, history=history), status


def region_option(region: services.RegionChoice) -> str:
    """A region picker's option text, indented under its parent as _macros.region_options does."""
    return "\u00a0\u00a0" * region.depth + region.label


# --- officer: imports -----------------------------------------------------------------------------------

@blp.get("/officer/imports/template.<fmt>")
@officers_only
def import_template(fmt: str):
    if fmt == "xlsx":
        body, mimetype = imports.template_xlsx(), XLSX
    elif fmt == "csv":
        body, mimetype = imports.template_csv(), "text/csv; charset=utf-8"
    else:
        abort(404)
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="mau-danh-sach-ocop.{fmt}"'})


@blp.route("/officer/imports", methods=["GET", "POST"])
@officers_only
def import_upload():
    """Step 1: upload and dry run. The file is kept under its SHA-256 for step 2."""
    form = ImportForm()
    report = confirm = None
    if form.validate_on_submit():
        upload = form.file.data
        content = upload.read()
        filename = os.path.basename(upload.filename or "tep.xlsx")
        try:
            report = imports.dry_run(_user(), filename, content)
        except ValidationFailed as exc:
            form_error(form, exc)
        else:
            # A dry run writes nothing, whatever its checks may have flushed.
            db.session.rollback()
            token = hashlib.sha256(content).hexdigest()
            storage.staging().put(token, content)
            confirm = ImportConfirmForm(token=token, filename=filename)
    status = 422 if request.method == "POST" and (form.errors or form.form_errors) else 200
    return render_template("oversight/imports.html", form=form, report=report, confirm=confirm,
                           regions=services.region_choices(_user())), status


@blp.post("/officer/imports/confirm")
@officers_only
def import_confirm():
    """Step 2: import the checked file in one transaction."""
    form = ImportConfirmForm()
    if not form.validate_on_submit() or not all(c in "0123456789abcdef" for c in form.token.data) \
            or len(form.token.data) != 64:
        abort(400)
    staged = storage.staging()
    try:
        with staged.open(form.token.data) as fh:
            content = fh.read()
    except FileNotFoundError:
        raise NotFound(_("Tệp đã hết hạn; hãy tải lên lại.")) from None
    try:
        report = imports.run_import(_user(), form.filename.data, content)
    except ValidationFailed as exc:
        db.session.rollback()  # the refused import, before the file is checked again
        report = imports.dry_run(_user(), form.filename.data, content)
        return render_template("oversight/imports.html", form=ImportForm(), report=report, confirm=None,
                               failed=exc.message, regions=services.region_choices(_user())), 422
    staged.delete(form.token.data)
    return render_template("oversight/import_done.html", report=report)


# --- inspector -----------------------------------------------------------------------------------------

REPORT_TABS = ("unresolved", "open", "investigating", "closed", "all")


@blp.get("/inspector/")
@inspectors_only
def inspector_home():
    user = _user()
    tab = request.args.get("status") or "unresolved"
    if tab not in REPORT_TABS:
        abort(404)
    status = tab if tab in ("open", "investigating", "closed") else None
    reports = services.counterfeit_reports(user, status, limit=100, unresolved=tab == "unresolved")
    return render_template("oversight/inspector_home.html", reports=reports, tab=tab,
                           overview=services.inspector_overview(user),
                           recent_days=services.RECENT_DAYS,
                           inspections=services.list_inspections(user, limit=20),
                           status_form=ReportStatusForm())


def _verify_page(code_form: LabelCodeForm, photo_form: LabelPhotoForm,
                 check: verify.LabelCheck | None = None, status: int = 200):
    base = current_app.config["PUBLIC_BASE_URL"]
    inspection_url = public_url = stats = None
    if check is not None:
        public_url = page_uri(base, check.scanned.link)
        if check.verdict.res.stats is not None:
            stats = check.verdict.res.stats.shown(formats.current_locale())
        if check.may_inspect:
            inspection_url = url_for(".new_inspection", product_id=check.verdict.res.product.id,
                                     code=check.code)
    return render_template(
        "oversight/inspector_verify.html", code_form=code_form, photo_form=photo_form,
        check=check, stats=stats, inspection_url=inspection_url, public_url=public_url,
        ours=urlsplit(base).hostname), status


@blp.get("/inspector/verify")
@inspectors_only
def verify_label():
    """Kiểm tra tem: the verdict on a code typed or pasted (?code=…)."""
    if "code" not in request.args:
        return _verify_page(LabelCodeForm(formdata=None), LabelPhotoForm())
    code_form = LabelCodeForm(request.args)
    if code_form.validate():
        try:
            check = verify.check_code(_user(), code_form.code.data)
        except ValidationFailed as exc:
            form_error(code_form, exc)
        else:
            return _verify_page(code_form, LabelPhotoForm(), check)
    return _verify_page(code_form, LabelPhotoForm(), status=422)


@blp.post("/inspector/verify")
@inspectors_only
def verify_label_photo():
    """Kiểm tra tem: the verdict on the code in a photo of the label."""
    photo_form = LabelPhotoForm()
    status = 422
    if photo_form.validate_on_submit():
        upload = photo_form.photo.data
        try:
            # One byte over the limit is enough to refuse the file.
            data = upload.read(max_upload_bytes(current_app.config) + 1)
            check = verify.check_photo(_user(), data)
        except (ValidationFailed, Unavailable) as exc:
            form_error(photo_form, exc)
            status = exc.status
        else:
            return _verify_page(LabelCodeForm(formdata=None, code=check.code), photo_form, check)
    return _verify_page(LabelCodeForm(formdata=None), photo_form, status=status)


@blp.post("/inspector/reports/<int:report_id>/status")
@inspectors_only
def report_status(report_id: int):
    form = ReportStatusForm()
    report = get_or_404(CounterfeitReport, report_id, _("phản ánh"))
    if form.validate_on_submit():
        services.set_report_status(_user(), report, form.status.data)
        flash(_("Đã cập nhật trạng thái phản ánh."), "ok")
    return redirect(url_for(".inspector_home"))


@blp.get("/inspector/products")
@inspectors_only
def inspector_products():
    user = _user()
    q = (request.args.get("q") or "").strip()[:100]
    stmt = sa.select(Product).join(Producer).order_by(Producer.name, Product.name_vi).limit(100)
    if q:
        stmt = stmt.where(sa.or_(Product.name_vi.ilike(f"%{q}%"), Producer.name.ilike(f"%{q}%")))
    found = list(db.session.scalars(services.scoped(stmt, user)))
    return render_template("oversight/inspector_products.html", products=found, q=q)


@blp.route("/oversight/inspections/new", methods=["GET", "POST"])
@inspectors_only
def new_inspection():
    """The trace page's inspector button lands here with ?product_id=…&code=…."""
    user = _user()
    source = request.form if request.method == "POST" else request.args
    product_id = source.get("product_id", type=int)
    producer_id = source.get("producer_id", type=int)
    product = get_or_404(Product, product_id, _("sản phẩm")) if product_id else None
    producer = product.producer if product else (
        get_or_404(Producer, producer_id, _("chủ thể")) if producer_id else None)
    if producer is None:
        return redirect(url_for(".inspector_products"))
    if not can(user, Action.INSPECT, producer):
        raise Forbidden(_("Bạn không có quyền kiểm tra chủ thể này."))
    today = local_today()
    cert = current_certificate(product) if product else None
    code = (source.get("code") or "")[:300]
    form = InspectionForm(inspected_on=today, product_id=str(product.id) if product else "",
                          producer_id=str(producer.id), code=code)
    if form.validate_on_submit():
        data = form.data_dict()
        if code and code not in (data["findings"] or ""):
            data["findings"] = ((data["findings"] + "\n") if data["findings"] else "") + _("Mã đã quét: %(code)s", code=code)
        try:
            data["photos"] = [save_photo(f, "photos") for f in (form.photos.data or []) if f and f.filename]
            inspection = services.create_inspection(user, data)
        except (ValidationFailed, InvalidState) as exc:
            form_error(form, exc)
        else:
            flash(_("Đã lưu biên bản kiểm tra."), "ok")
            return redirect(url_for(".inspection", inspection_id=inspection.id))
    status = 422 if request.method == "POST" else 200
    return render_template("oversight/inspection_form.html", form=form, product=product, producer=producer,
                           cert=cert, code=code, today=today), status


@blp.get("/inspector/inspections/<int:inspection_id>")
@inspectors_only
def inspection(inspection_id: int):
    return render_template("oversight/inspection.html",
                           inspection=services.get_inspection_for(_user(), inspection_id))


@blp.get("/inspector/inspections/<int:inspection_id>/photos/<path:name>")
@inspectors_only
def inspection_photo(inspection_id: int, name: str):
    inspection_row: Inspection = services.get_inspection_for(_user(), inspection_id)
    if name not in (inspection_row.photos or []):
        abort(404)
    body = read_photo(name)  # a resized JPEG: small enough to answer from memory
    if body is None:
        abort(404)
    return Response(body, mimetype="image/jpeg", headers={"Cache-Control": "private, no-store"})
