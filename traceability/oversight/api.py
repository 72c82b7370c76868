"""Oversight API: certificate life cycle, inspections, expiry notices, reports and register imports."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Page

from ..accounts.auth import api_user
from ..accounts.permissions import Action
from ..clock import local_today
from ..extensions import db
from ..openapi import BINARY, TEXT, Blueprint
from ..registry.schemas import CertificateSchema
from ..resolver.models import CounterfeitReport
from ..services_common import get_or_404
from . import imports, mail, reports, services
from .models import ExpiryNotice
from .photos import save_photo
from .schemas import (
    CertificateCreateSchema,
    CertificateDataSchema,
    CounterfeitQuerySchema,
    CounterfeitReportSchema,
    CounterfeitStatusSchema,
    DashboardQuerySchema,
    DashboardSchema,
    FollowUpQuerySchema,
    ImportResultSchema,
    ImportUploadSchema,
    InspectionCreateSchema,
    InspectionQuerySchema,
    InspectionSchema,
    NoticeQuerySchema,
    NoticeSchema,
    PeriodicQuerySchema,
    PeriodicReportSchema,
    PhotoUploadSchema,
    RevocationSchema,
    SendResultSchema,
    TemplateQuerySchema,
)

blp = Blueprint("oversight_api", __name__, url_prefix="/api/v1/oversight",
                description="Officers and inspectors: certificates' life cycle, inspections, "
                            "expiry notices, reports and register imports.")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


# --- certificates ---------------------------------------------------------------------------

@blp.route("/certificates")
class Certificates(MethodView):
    @blp.arguments(CertificateCreateSchema)
    @blp.response(201, CertificateSchema)
    @blp.errors(403, 404, 409)
    def post(self, data: dict):
        """Register a certificate for a product

        Stars are checked against the score bands of Decision 148/QĐ-TTg. A product whose
        certificate is still in force gets a re-evaluation instead (409)."""
        user = api_user()
        product = services.get_product_for(user, data.pop("product_id"))
        cert = services.register(user, product, data)
        return cert


@blp.route("/certificates/follow-up")
class FollowUp(MethodView):
    @blp.arguments(FollowUpQuerySchema, location="query")
    @blp.response(200, CertificateSchema(many=True))
    @blp.errors(403)
    @blp.paginate(Page)
    def get(self, args: dict):
        """List certificates expiring within 90 or 30 days, lapsed, or revoked"""
        user = api_user()
        regions = reports.report_regions(user, args.get("region_id")) if args.get("region_id") else None
        return services.follow_up(user, args["bucket"], region_ids=regions)


@blp.route("/certificates/<int:certificate_id>/re-evaluation")
class ReEvaluation(MethodView):
    @blp.arguments(CertificateDataSchema)
    @blp.response(201, CertificateSchema)
    @blp.errors(403, 409)
    def post(self, data: dict, certificate_id: int):
        """Record a re-evaluation: the new certificate supersedes this one"""
        user = api_user()
        old = services.get_certificate_for(user, certificate_id)
        new = services.re_evaluate(user, old, data)
        return new


@blp.route("/certificates/<int:certificate_id>/revocation")
class Revocation(MethodView):
    @blp.arguments(RevocationSchema)
    @blp.response(200, CertificateSchema)
    @blp.errors(403, 409)
    def post(self, data: dict, certificate_id: int):
        """Revoke a certificate (decision number, date, reason); trace pages show it at once"""
        user = api_user()
        cert = services.get_certificate_for(user, certificate_id)
        cert = services.revoke(user, cert, data)
        return cert


@blp.route("/products/<int:product_id>/certificates")
class History(MethodView):
    @blp.response(200, CertificateSchema(many=True))
    @blp.errors(403)
    def get(self, product_id: int):
        """A product's certificate history, newest first"""
        user = api_user()
        return services.certificate_history(services.get_product_for(user, product_id))


# --- inspections ------------------------------------------------------------------------------

@blp.route("/inspections")
class Inspections(MethodView):
    @blp.arguments(InspectionQuerySchema, location="query")
    @blp.response(200, InspectionSchema(many=True))
    @blp.errors(403)
    @blp.paginate(Page)
    def get(self, args: dict):
        """List inspections in the caller's regions"""
        return services.list_inspections(api_user(), mine=args["mine"], producer_id=args.get("producer_id"))

    @blp.arguments(InspectionCreateSchema)
    @blp.response(201, InspectionSchema)
    @blp.errors(403, 404)
    def post(self, data: dict):
        """Record an inspection: checklist, findings, outcome, and on a violation a proposal to revoke"""
        inspection = services.create_inspection(api_user(), data)
        return inspection


@blp.route("/inspections/<int:inspection_id>")
class InspectionById(MethodView):
    @blp.response(200, InspectionSchema)
    @blp.errors(403)
    def get(self, inspection_id: int):
        """Get one inspection"""
        return services.get_inspection_for(api_user(), inspection_id)


@blp.route("/inspections/<int:inspection_id>/photos")
class InspectionPhotos(MethodView):
    @blp.arguments(PhotoUploadSchema, location="files")
    @blp.response(201, InspectionSchema)
    @blp.errors(403)
    def post(self, files: dict, inspection_id: int):
        """Add a photo (JPEG or PNG) to an inspection"""
        user = api_user()
        inspection = services.get_inspection_for(user, inspection_id)
        path = save_photo(files["photo"])
        services.add_inspection_photos(user, inspection, [path])
        return inspection


@blp.route("/revocation-proposals")
class Proposals(MethodView):
    @blp.response(200, InspectionSchema(many=True))
    @blp.errors(403)
    def get(self):
        """Open proposals to revoke, from inspections that found a violation"""
        return services.revocation_proposals(api_user())


@blp.route("/inspections/<int:inspection_id>/proposal-dismissal")
class ProposalDismissal(MethodView):
    @blp.response(200, InspectionSchema)
    @blp.errors(403, 409)
    def post(self, inspection_id: int):
        """Close a proposal to revoke without revoking"""
        user = api_user()
        inspection = services.get_inspection_for(user, inspection_id)
        services.dismiss_proposal(user, inspection)
        return inspection


@blp.route("/counterfeit-reports")
class CounterfeitReports(MethodView):
    @blp.arguments(CounterfeitQuerySchema, location="query")
    @blp.response(200, CounterfeitReportSchema(many=True))
    @blp.errors(403)
    @blp.paginate(Page)
    def get(self, args: dict):
        """Counterfeit reports from the trace page, with the scan data of each code"""
        status = args["status"].value if args.get("status") else None
        return services.counterfeit_reports(api_user(), status)


@blp.route("/counterfeit-reports/<int:report_id>/status")
class CounterfeitReportStatus(MethodView):
    @blp.arguments(CounterfeitStatusSchema)
    @blp.response(200, CounterfeitStatusSchema)
    @blp.errors(403)
    def post(self, data: dict, report_id: int):
        """Mark a counterfeit report as being investigated or closed"""
        report = get_or_404(CounterfeitReport, report_id, _("phản ánh"))
        services.set_report_status(api_user(), report, data["status"].value)
        return {"status": report.status}


# --- notices -------------------------------------------------------------------------------------

@blp.route("/notices")
class Notices(MethodView):
    @blp.arguments(NoticeQuerySchema, location="query")
    @blp.response(200, NoticeSchema(many=True))
    @blp.errors(403)
    @blp.paginate(Page)
    def get(self, args: dict):
        """The expiry-notice outbox in the caller's regions"""
        return services.notices_for(api_user(), args["status"].value if args.get("status") else None)


@blp.route("/notices/send-due")
class SendDue(MethodView):
    @blp.response(200, SendResultSchema)
    @blp.errors(403)
    def post(self):
        """Create and send the notices due today (what the daily cron job does); admins only"""
        from ..accounts.models import Role
        from ..accounts.permissions import require_role

        require_role(api_user(), (Role.ADMIN,))
        # Not one transaction: send_due commits each notice's claim before its SMTP send and
        # each result after it, so that no notice is sent twice.
        return mail.send_due().as_dict()


@blp.route("/notices/<int:notice_id>/retry")
class NoticeRetry(MethodView):
    @blp.response(200, NoticeSchema)
    @blp.errors(403, 409)
    def post(self, notice_id: int):
        """Put a failed notice back in the outbox"""
        user = api_user()
        notice = get_or_404(ExpiryNotice, notice_id, _("thông báo"))
        services.require(user, Action.CERTIFY, notice.certificate.product.producer)
        mail.requeue(notice)
        return notice


@blp.route("/certificates/<int:certificate_id>/notice.pdf")
class NoticeLetter(MethodView):
    @blp.response(200, BINARY, content_type="application/pdf", description="The letter as a PDF")
    @blp.errors(403)
    def get(self, certificate_id: int):
        """The expiry-notice letter of a certificate, as a Vietnamese PDF"""
        user = api_user()
        cert = services.get_certificate_for(user, certificate_id, Action.CERTIFY)
        return download(mail.notice_pdf(cert, local_today()), "application/pdf",
                        f"thong-bao-het-han-ocop-{cert.id}.pdf")


# --- reports --------------------------------------------------------------------------------------

@blp.route("/reports/dashboard")
class Dashboard(MethodView):
    @blp.arguments(DashboardQuerySchema, location="query")
    @blp.response(200, DashboardSchema)
    @blp.errors(403)
    def get(self, args: dict):
        """Dashboard figures for the caller's regions (or one of them)"""
        board = reports.dashboard(api_user(), args.get("region_id"))
        return {
            "today": board.today, "products": board.product_count,
            "by_stars": {str(k): v for k, v in sorted(board.by_stars.items())},
            "by_area": [{k: (str(v) if k == "group_label" else v) for k, v in row.items()}
                        for row in board.by_area],
            "certificates": board.certificates, "handover": board.handover,
            "products_without_label_run": [p.id for p in board.without_label_run],
            "label_runs_shorter_than_certificate": [run.id for run, _p, _c in board.short_runs],
            "scans_by_month": [{"month": m, "scans": n} for m, n in board.scans_by_month],
            "counterfeit_reports": board.counterfeit_by_status, "copy_flags": board.copy_flags,
            "four_star_target": {"per_commune": board.target, "communes": len(board.communes),
                                 "communes_met": board.communes_met,
                                 "rows": [{"commune": c["name"], "four_star": c["four_star"],
                                           "met": c["met"]} for c in board.communes]},
        }


_PERIODIC_FORMATS = ("format=xlsx (the default): a workbook, one sheet per section; format=csv: "
                     "one section's CSV with `section`, else a ZIP of every section's CSV and a "
                     "guide; format=json: every section as JSON. CSV files follow the Vietnamese "
                     "convention: UTF-8 with a BOM, `;` between fields, decimal comma (120,5), "
                     "dates as dd/mm/yyyy")


@blp.route("/reports/periodic")
class Periodic(MethodView):
    @blp.arguments(PeriodicQuerySchema, location="query")
    @blp.response(200, PeriodicReportSchema, description=_PERIODIC_FORMATS)
    @blp.alt_response(200, schema=BINARY, content_type=XLSX, description=_PERIODIC_FORMATS,
                      success=True)
    @blp.alt_response(200, schema=TEXT, content_type="text/csv", description=_PERIODIC_FORMATS,
                      success=True)
    @blp.alt_response(200, schema=BINARY, content_type="application/zip",
                      description=_PERIODIC_FORMATS, success=True)
    @blp.errors(403)
    def get(self, args: dict):
        """The periodic report for a period and region: XLSX (one sheet per section), CSV or JSON"""
        report = reports.periodic_report(api_user(), args["start"], args["end"], args.get("region_id"))
        stem = f"bao-cao-ocop-{report.start:%Y%m%d}-{report.end:%Y%m%d}"
        if args["format"] == "xlsx":
            return download(reports.report_xlsx(report), XLSX, stem + ".xlsx")
        if args["format"] == "json":
            return {"start": report.start, "end": report.end,
                    "region": report.region_name,
                    "sections": [{"key": s.key, "title": s.title,
                                  "columns": [asdict(c) for c in s.columns],
                                  "rows": [[_json(v) for v in row] for row in s.rows]}
                                 for s in report.sections]}
        if args.get("section"):
            section = reports.find_section(report, args["section"])
            return download(reports.section_csv(section), "text/csv; charset=utf-8",
                            f"{stem}-{section.key}.csv")
        return download(reports.report_csv_zip(report), "application/zip", stem + "-csv.zip")


def _json(value: Any) -> Any:
    from datetime import date
    from decimal import Decimal

    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


# --- imports -------------------------------------------------------------------------------------

def _import_result(report: imports.ImportReport) -> dict[str, Any]:
    return {"ok": report.ok, "counts": report.counts(), "created": report.created,
            "file_errors": report.file_errors,
            "rows": [{"number": r.number, "action": r.action, "errors": r.errors,
                      "values": {k: _json(v) for k, v in r.values.items()}} for r in report.rows]}


@blp.route("/imports/template")
class ImportTemplate(MethodView):
    @blp.arguments(TemplateQuerySchema, location="query")
    @blp.response(200, BINARY, content_type=XLSX, description="The register template: XLSX, or CSV")
    @blp.alt_response(200, schema=TEXT, content_type="text/csv",
                      description="The register template: XLSX, or CSV", success=True)
    @blp.errors(403)
    def get(self, args: dict):
        """Download the register template with its Vietnamese column headings"""
        services.require_officer(api_user())
        if args["format"] == "csv":
            return download(imports.template_csv(), "text/csv; charset=utf-8", "mau-danh-sach-ocop.csv")
        return download(imports.template_xlsx(), XLSX, "mau-danh-sach-ocop.xlsx")


@blp.route("/imports/dry-run")
class ImportDryRun(MethodView):
    @blp.arguments(ImportUploadSchema, location="files")
    @blp.response(200, ImportResultSchema)
    @blp.errors(403)
    def post(self, files: dict):
        """Check a register file and list every row's problems; nothing is written"""
        upload = files["file"]
        report = imports.dry_run(api_user(), upload.filename or "", _read(upload))
        db.session.rollback()  # a dry run writes nothing, whatever its checks may have flushed
        return _import_result(report)


@blp.route("/imports")
class Imports(MethodView):
    @blp.arguments(ImportUploadSchema, location="files")
    @blp.response(201, ImportResultSchema)
    @blp.errors(403)
    def post(self, files: dict):
        """Import a register file in one transaction: every row or none (422 lists the rows' problems)"""
        upload = files["file"]
        report = imports.run_import(api_user(), upload.filename or "", _read(upload))
        return _import_result(report)


def _read(upload: Any) -> bytes:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 8 * 1024 * 1024
    return upload.read(limit + 1)
