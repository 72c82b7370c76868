"""Marshmallow schemas for batches, diary events, attachments, chain checks and EPCIS."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..clock import VIETNAM
from ..schemas_common import AnswerSchema, FileUpload
from .epcis import lot_link, public_path
from .models import EventKind

_REQUIRED = {"required": _l("Trường này là bắt buộc."), "null": _l("Trường này không được để trống.")}
_STR = {"invalid": _l("Phải là chuỗi ký tự."), **_REQUIRED}
_INT = {"invalid": _l("Phải là số nguyên."), **_REQUIRED}
_NUM = {"invalid": _l("Phải là một số."), "special": _l("Phải là một số."), **_REQUIRED}
_DATE = {"invalid": _l("Ngày không hợp lệ (dạng YYYY-MM-DD)."), **_REQUIRED}
_TIME = {"invalid": _l("Thời gian không hợp lệ (dạng ISO 8601, ví dụ 2026-03-01T08:30:00+07:00)."),
         **_REQUIRED}


def _length(n: int) -> validate.Length:
    return validate.Length(max=n, error=_l("Tối đa {max} ký tự."))


# Quantities are stored as NUMERIC(12, 3): below a billion, to the thousandth.
MAX_QUANTITY = Decimal("999999999.999")


def Quantity() -> fields.Decimal:  # noqa: N802  (reads like a field class)
    """A positive quantity that the database column can hold (1e30 is a 422, not a 500)."""
    return fields.Decimal(load_default=None, allow_none=True, places=3, error_messages=_NUM,
                          validate=validate.Range(min=0, max=MAX_QUANTITY, min_inclusive=False,
                                                  error=_l("Số lượng phải lớn hơn 0 và nhỏ hơn một tỷ.")))


class BatchCreateSchema(Schema):
    lot = fields.Str(required=True, validate=validate.Length(min=1, max=20,
                     error=_l("Số lô gồm từ {min} đến {max} ký tự.")), error_messages=_STR,
                     metadata={"description": "Lot number (GS1 AI 10): 1-20 characters of set 82"})
    production_date = fields.Date(load_default=None, allow_none=True, error_messages=_DATE)
    expiry_date = fields.Date(load_default=None, allow_none=True, error_messages=_DATE)
    quantity = Quantity()
    unit = fields.Str(load_default=None, allow_none=True, validate=_length(20), error_messages=_STR)

    @validates_schema
    def expiry_after_production(self, data: dict[str, Any], **kwargs: Any) -> None:
        production, expiry = data.get("production_date"), data.get("expiry_date")
        if production and expiry and expiry < production:
            raise ValidationError(str(_l("Hạn sử dụng phải sau ngày sản xuất.")), "expiry_date")


class BatchSchema(AnswerSchema):
    id = fields.Int(dump_only=True)
    product_id = fields.Int(dump_only=True)
    lot = fields.Str(dump_only=True)
    production_date = fields.Date(allow_none=True, dump_only=True)
    expiry_date = fields.Date(allow_none=True, dump_only=True)
    quantity = fields.Decimal(as_string=True, allow_none=True, dump_only=True)
    unit = fields.Str(allow_none=True, dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    epcis_url = fields.Method("get_epcis_url", dump_only=True, metadata={
        "type": "string", "format": "uri",
        "description": "Public EPCIS 2.0 JSON-LD document: what the trace page shows, at the "
                       "lot's Digital Link path under /epcis (the whole diary is at "
                       "/api/v1/batches/{batch_id}/epcis)"})

    def get_epcis_url(self, batch: Any) -> str:
        return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + public_path(lot_link(batch))


class EventCreateSchema(Schema):
    """One production step; the kind-specific fields are accepted only for their kind."""

    kind = fields.Enum(EventKind, by_value=True, required=True,
                       error_messages={**_REQUIRED,
                                       "unknown": _l("Loại bước phải là một trong: {choices}.")},
                       metadata={"description": "planting, input, harvest, processing, packing, "
                                                "lab_test, storage, shipping, receiving, other"})
    occurred_at = fields.AwareDateTime(default_timezone=VIETNAM, load_default=None, allow_none=True,
                                       error_messages=_TIME,
                                       metadata={"description": "When it happened; default now. "
                                                                "Without an offset, +07:00."})
    place = fields.Str(load_default=None, allow_none=True, validate=_length(200), error_messages=_STR)
    latitude = fields.Decimal(load_default=None, allow_none=True, error_messages=_NUM,
                              validate=validate.Range(min=-90, max=90,
                                                      error=_l("Vĩ độ phải từ {min} đến {max}.")))
    longitude = fields.Decimal(load_default=None, allow_none=True, error_messages=_NUM,
                               validate=validate.Range(min=-180, max=180,
                                                       error=_l("Kinh độ phải từ {min} đến {max}.")))
    quantity = Quantity()
    unit = fields.Str(load_default=None, allow_none=True, validate=_length(20), error_messages=_STR)
    notes = fields.Str(load_default=None, allow_none=True, validate=_length(5000), error_messages=_STR)
    input_name = fields.Str(load_default=None, allow_none=True, validate=_length(120),
                            error_messages=_STR,
                            metadata={"description": "input: fertiliser or pesticide name"})
    dose = fields.Str(load_default=None, allow_none=True, validate=_length(60), error_messages=_STR,
                      metadata={"description": "input: dose, e.g. '2 l/ha'"})
    pre_harvest_interval_days = fields.Int(
        load_default=None, allow_none=True, strict=True, error_messages=_INT,
        validate=validate.Range(min=0, max=3650, error=_l("Phải từ {min} đến {max} ngày.")),
        metadata={"description": "input: pre-harvest interval (days)"})
    laboratory = fields.Str(load_default=None, allow_none=True, validate=_length(200),
                            error_messages=_STR, metadata={"description": "lab_test: laboratory"})
    result = fields.Str(load_default=None, allow_none=True, validate=_length(500), error_messages=_STR,
                        metadata={"description": "lab_test: result"})
    counterparty = fields.Str(load_default=None, allow_none=True, validate=_length(200),
                              error_messages=_STR,
                              metadata={"description": "shipping/receiving: the other party"})
    corrects_id = fields.Int(load_default=None, allow_none=True, strict=True, error_messages=_INT,
                             metadata={"description": "The id of the step of this batch that "
                                                      "this one corrects"})


class AttachmentSchema(AnswerSchema):
    id = fields.Int(dump_only=True)
    event_id = fields.Int(dump_only=True)
    content_type = fields.Str(dump_only=True)
    size_bytes = fields.Int(dump_only=True)
    sha256 = fields.Str(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    url = fields.Method("get_url", dump_only=True, metadata={"type": "string", "format": "uri"})

    def get_url(self, attachment: Any) -> str:
        return url_for("batches.media", name=attachment.path, _external=True)


class EventSchema(AnswerSchema):
    id = fields.Int(dump_only=True)
    batch_id = fields.Int(dump_only=True)
    seq = fields.Int(dump_only=True)
    kind = fields.Enum(EventKind, by_value=True, dump_only=True)
    occurred_at = fields.DateTime(dump_only=True)
    recorded_at = fields.DateTime(dump_only=True)
    place = fields.Str(allow_none=True, dump_only=True)
    latitude = fields.Decimal(as_string=True, allow_none=True, dump_only=True)
    longitude = fields.Decimal(as_string=True, allow_none=True, dump_only=True)
    quantity = fields.Decimal(as_string=True, allow_none=True, dump_only=True)
    unit = fields.Str(allow_none=True, dump_only=True)
    notes = fields.Str(allow_none=True, dump_only=True)
    details = fields.Dict(dump_only=True)
    author_id = fields.Int(allow_none=True, dump_only=True)
    corrects_id = fields.Int(allow_none=True, dump_only=True)
    prev_hash = fields.Str(dump_only=True)
    hash = fields.Str(dump_only=True)
    attachments = fields.List(fields.Nested(AttachmentSchema), dump_only=True)


class AttachmentUploadSchema(Schema):
    """A multipart form: the file and whether to keep a photo's GPS position."""

    file = FileUpload(required=True, error_messages={"required": _l("Chưa chọn tệp."),
                                                     "invalid": _l("Tệp không hợp lệ.")},
                      metadata={"description": "A photo (JPEG, PNG, WebP) or a PDF document"})
    keep_location = fields.Bool(load_default=False,
                                error_messages={"invalid": _l("Phải là true hoặc false.")},
                                metadata={"description": "Keep the photo's GPS position "
                                                         "(removed by default)"})


class BrokenLinkSchema(AnswerSchema):
    seq = fields.Int()
    id = fields.Int()


class ChainSchema(AnswerSchema):
    batch_id = fields.Int()
    intact = fields.Bool()
    first_broken = fields.Nested(BrokenLinkSchema, allow_none=True)
    events = fields.Int(metadata={"description": "Number of diary events"})
