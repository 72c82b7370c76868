"""Marshmallow schemas for certificates' life cycle, inspections, notices, reports and imports."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..registry.models import IssuingLevel
from ..registry.status import VALIDITY_MONTHS
from ..resolver.models import ReportStatus
from ..schemas_common import MAX_ID, AnswerSchema, FileUpload, JsonBool
from .models import InspectionOutcome, NoticeStatus
from .services import FOLLOW_UP_BUCKETS

# Lists: marshmallow wraps only plain str messages in one, and the error contract gives
# every field a list.
_REQUIRED = {"required": [_l("Trường này là bắt buộc.")]}


class NoticeErrorStr(fields.Str):
    """A notice's last error, stored as a Vietnamese msgid, in the reader's language."""

    def _serialize(self, value, attr, obj, **kwargs):  # type: ignore[no-untyped-def]
        from .mail import error_text

        return error_text(value)


class CertificateDataSchema(Schema):
    """A certificate as decided: stars, score, issuer, decision, dates."""

    stars = fields.Int(required=True, strict=True, error_messages=_REQUIRED,
                       validate=validate.Range(min=3, max=5, error=_l("Số sao phải từ 3 đến 5.")))
    score = fields.Decimal(allow_none=True, places=2, validate=validate.Range(
        min=0, max=100, error=_l("Điểm phải từ 0 đến 100.")))
    issuing_level = fields.Enum(IssuingLevel, by_value=True, required=True, error_messages=_REQUIRED)
    issuing_authority = fields.Str(required=True, validate=validate.Length(min=3, max=200),
                                   error_messages=_REQUIRED)
    decision_number = fields.Str(required=True, validate=validate.Length(min=1, max=60),
                                 error_messages=_REQUIRED)
    issued_on = fields.Date(required=True, error_messages=_REQUIRED)
    expires_on = fields.Date(allow_none=True,
                             metadata={"description": f"Defaults to {VALIDITY_MONTHS} months after issue"})


class CertificateCreateSchema(CertificateDataSchema):
    product_id = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID),
                            error_messages=_REQUIRED)


class RevocationSchema(Schema):
    decision_number = fields.Str(required=True, validate=validate.Length(min=1, max=60),
                                 error_messages=_REQUIRED)
    revoked_on = fields.Date(required=True, error_messages=_REQUIRED)
    reason = fields.Str(required=True, error_messages=_REQUIRED, validate=validate.Length(
        min=5, max=2000, error=_l("Lý do thu hồi dài từ 5 đến 2000 ký tự.")))


class FollowUpQuerySchema(Schema):
    bucket = fields.Str(required=True, validate=validate.OneOf(FOLLOW_UP_BUCKETS),
                        metadata={"description": "expiring_90, expiring_30, lapsed or revoked"})
    region_id = fields.Int(validate=validate.Range(min=1, max=MAX_ID))


class ChecklistSchema(Schema):
    class Meta:
        ordered = True

    certificate_valid = JsonBool(allow_none=True)
    stars_match = JsonBool(allow_none=True)
    labels_resolve = JsonBool(allow_none=True)
    diary_current = JsonBool(allow_none=True)
    product_matches = JsonBool(allow_none=True)


class InspectionCreateSchema(Schema):
    producer_id = fields.Int(strict=True, validate=validate.Range(min=1, max=MAX_ID))
    product_id = fields.Int(strict=True, validate=validate.Range(min=1, max=MAX_ID))
    inspected_on = fields.Date(required=True, error_messages=_REQUIRED)
    place = fields.Str(validate=validate.Length(max=200))
    checklist = fields.Nested(ChecklistSchema, load_default=dict)
    findings = fields.Str(validate=validate.Length(max=5000))
    outcome = fields.Enum(InspectionOutcome, by_value=True, required=True, error_messages=_REQUIRED)
    propose_revocation = JsonBool(load_default=False)

    @validates_schema
    def _subject(self, data: dict, **_kw) -> None:
        if not data.get("producer_id") and not data.get("product_id"):
            raise ValidationError(str(_l("Hãy chọn chủ thể hoặc sản phẩm được kiểm tra.")),
                                  "producer_id")


class InspectionSchema(AnswerSchema):
    id = fields.Int()
    inspector_id = fields.Int()
    producer_id = fields.Int()
    product_id = fields.Int(allow_none=True)
    certificate_id = fields.Int(allow_none=True)
    inspected_on = fields.Date()
    place = fields.Str(allow_none=True)
    checklist = fields.Dict(keys=fields.Str(), values=fields.Bool(allow_none=True))
    findings = fields.Str(allow_none=True)
    outcome = fields.Enum(InspectionOutcome, by_value=True)
    propose_revocation = fields.Bool()
    proposal_handled_at = fields.DateTime(allow_none=True)
    photos = fields.List(fields.Str())
    created_at = fields.DateTime()


class InspectionQuerySchema(Schema):
    mine = fields.Bool(load_default=False)
    producer_id = fields.Int(validate=validate.Range(min=1, max=MAX_ID))


class PhotoUploadSchema(Schema):
    photo = FileUpload(required=True, error_messages=_REQUIRED)


class NoticeSchema(AnswerSchema):
    id = fields.Int()
    certificate_id = fields.Int()
    kind = fields.Str()
    due_on = fields.Date()
    recipient = fields.Str(allow_none=True)
    status = fields.Enum(NoticeStatus, by_value=True)
    attempts = fields.Int()
    last_error = NoticeErrorStr(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)


class NoticeQuerySchema(Schema):
    status = fields.Enum(NoticeStatus, by_value=True)


class SendResultSchema(AnswerSchema):
    created = fields.Int()
    sent = fields.Int()
    failed = fields.Int()
    retrying = fields.Int()
    skipped = fields.Int()


class ScanSummarySchema(AnswerSchema):
    count = fields.Int()
    networks = fields.Int()
    first_at = fields.DateTime(allow_none=True)
    last_at = fields.DateTime(allow_none=True)


class CounterfeitReportSchema(AnswerSchema):
    id = fields.Int(attribute="report.id")
    created_at = fields.DateTime(attribute="report.created_at")
    code = fields.Str(attribute="report.code")
    product_id = fields.Int(attribute="report.product_id", allow_none=True)
    # A report on an unknown product has no product: the name is null, not left out.
    product_name = fields.Str(attribute="product.name_vi", allow_none=True, dump_default=None)
    verdict = fields.Str(attribute="report.verdict.value")
    place_of_purchase = fields.Str(attribute="report.place_of_purchase", allow_none=True)
    message = fields.Str(attribute="report.message", allow_none=True)
    status = fields.Str(attribute="report.status.value")
    scans = fields.Nested(ScanSummarySchema)


class CounterfeitQuerySchema(Schema):
    status = fields.Enum(ReportStatus, by_value=True)


class CounterfeitStatusSchema(Schema):
    status = fields.Enum(ReportStatus, by_value=True, required=True, error_messages=_REQUIRED)


class DashboardQuerySchema(Schema):
    region_id = fields.Int(validate=validate.Range(min=1, max=MAX_ID))


class PeriodicQuerySchema(Schema):
    start = fields.Date(required=True, error_messages=_REQUIRED)
    end = fields.Date(required=True, error_messages=_REQUIRED)
    region_id = fields.Int(validate=validate.Range(min=1, max=MAX_ID))
    format = fields.Str(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv", "json"]))
    section = fields.Str(validate=validate.Length(min=1, max=40),
                         metadata={"description": "CSV: one section; without it a ZIP of all sections"})


class ImportUploadSchema(Schema):
    file = FileUpload(required=True, error_messages=_REQUIRED)


class ImportRowSchema(AnswerSchema):
    number = fields.Int()
    action = fields.Str()
    errors = fields.List(fields.Str())
    values = fields.Dict()


class ImportResultSchema(AnswerSchema):
    ok = fields.Bool()
    counts = fields.Dict(keys=fields.Str(), values=fields.Int())
    created = fields.Dict(keys=fields.Str(), values=fields.Int())
    file_errors = fields.List(fields.Str())
    rows = fields.List(fields.Nested(ImportRowSchema))


class TemplateQuerySchema(Schema):
    format = fields.Str(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))


class AreaRowSchema(AnswerSchema):
    area = fields.Str()
    group = fields.Str()
    group_label = fields.Str()
    s3 = fields.Int()
    s4 = fields.Int()
    s5 = fields.Int()
    none = fields.Int(metadata={"description": "Products without a valid certificate"})
    total = fields.Int()


class MonthScansSchema(AnswerSchema):
    month = fields.Str(metadata={"description": "YYYY-MM, Vietnam time"})
    scans = fields.Int()


class CopyFlagSchema(AnswerSchema):
    product_id = fields.Int()
    batch_id = fields.Int(allow_none=True)
    serial_index = fields.Int()
    code = fields.Str()
    scans = fields.Int()
    networks = fields.Int()


class CommuneTargetSchema(AnswerSchema):
    commune = fields.Str()
    four_star = fields.Int()
    met = fields.Bool()


class FourStarTargetSchema(AnswerSchema):
    per_commune = fields.Int()
    communes = fields.Int()
    communes_met = fields.Int()
    rows = fields.List(fields.Nested(CommuneTargetSchema))


_COUNTS = {"keys": fields.Str(), "values": fields.Int()}


class DashboardSchema(AnswerSchema):
    today = fields.Date()
    products = fields.Int()
    by_stars = fields.Dict(**_COUNTS,
                           metadata={"description": "Products by stars; 0 = no valid certificate"})
    by_area = fields.List(fields.Nested(AreaRowSchema))
    certificates = fields.Dict(**_COUNTS,
                               metadata={"description": "Certificates in each follow-up list"})
    handover = fields.Dict(**_COUNTS, metadata={"description": "Producers by handover state"})
    products_without_label_run = fields.List(fields.Int())
    label_runs_shorter_than_certificate = fields.List(fields.Int())
    scans_by_month = fields.List(fields.Nested(MonthScansSchema))
    counterfeit_reports = fields.Dict(**_COUNTS, metadata={"description": "Reports by status"})
    copy_flags = fields.List(fields.Nested(CopyFlagSchema))
    four_star_target = fields.Nested(FourStarTargetSchema)


class ReportColumnSchema(AnswerSchema):
    heading = fields.Str()
    kind = fields.Str(metadata={"enum": ["text", "int", "date", "decimal", "percent"]})


class ReportSectionSchema(AnswerSchema):
    key = fields.Str()
    title = fields.Str()
    columns = fields.List(fields.Nested(ReportColumnSchema))
    rows = fields.List(fields.List(fields.Raw(allow_none=True)),
                       metadata={"description": "One list per row, a value per column"})


class PeriodicReportSchema(AnswerSchema):
    start = fields.Date()
    end = fields.Date()
    region = fields.Str()
    sections = fields.List(fields.Nested(ReportSectionSchema))
