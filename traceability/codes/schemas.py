"""Marshmallow schemas for GTIN allocation, label runs and label downloads."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from ..schemas_common import AnswerSchema

from ..render import EC_LEVELS, PRESETS
from .models import LabelLevel, PrintFormat, PrintJobState
from .print_jobs import error_text
from .services import DEFAULT_PRESET, MAX_RUN_COUNT, label_url, run_label_url


class ProductCodesSchema(AnswerSchema):
    """A product's identifiers after a GTIN allocation."""

    id = fields.Int(dump_only=True)
    producer_id = fields.Int(dump_only=True)
    name_vi = fields.Str(dump_only=True)
    gtin = fields.Str(allow_none=True, dump_only=True,
                      metadata={"description": "GTIN-14 (0 + GTIN-13 for an EAN-13 product)"})
    gtin13 = fields.Method("get_gtin13", allow_none=True,
                           metadata={"type": "string",
                                     "description": "The 13 digits printed under the EAN-13"})
    trace_code = fields.Str(dump_only=True)
    url = fields.Method("get_url", metadata={"type": "string", "format": "uri",
                                             "description": "Product-level Digital Link URI"})

    def get_gtin13(self, product: Any) -> str | None:
        return product.gtin[1:] if product.gtin and product.gtin[0] == "0" else None

    def get_url(self, product: Any) -> str:
        return label_url(product)


class LabelRunCreateSchema(Schema):
    level = fields.Enum(LabelLevel, by_value=True, required=True,
                        # Lists: marshmallow wraps only plain str messages in one, and the
                        # error contract gives every field a list.
                        error_messages={"required": [_l("Chọn mức tem: lot hoặc unit.")],
                                        "unknown": [_l("Mức tem phải là lot hoặc unit.")]},
                        metadata={"description": "lot: one code for the whole lot; unit: one "
                                                 "verifiable serial per unit"})
    count = fields.Int(load_default=1, strict=True,
                       validate=validate.Range(min=1, max=MAX_RUN_COUNT,
                                               error=_l("Số tem phải từ {min} đến {max}.")),
                       error_messages={"invalid": [_l("Số tem phải là số nguyên.")]},
                       metadata={"description": "Number of unit labels (1 for a lot run)"})


class LabelRunSchema(AnswerSchema):
    id = fields.Int(dump_only=True)
    batch_id = fields.Int(dump_only=True)
    product_id = fields.Function(lambda run: run.batch.product_id, dump_only=True,
                                 metadata={"type": "integer"})
    lot = fields.Function(lambda run: run.batch.lot, dump_only=True, metadata={"type": "string"})
    level = fields.Enum(LabelLevel, by_value=True, dump_only=True)
    subject = fields.Str(dump_only=True,
                         metadata={"description": "GTIN-14, or the trace code for a product "
                                                  "that had no GTIN when the run was issued"})
    first_index = fields.Int(dump_only=True)
    last_index = fields.Int(dump_only=True)
    count = fields.Int(dump_only=True)
    key_version = fields.Int(allow_none=True, dump_only=True)
    issued_at = fields.DateTime(dump_only=True)
    guaranteed_until = fields.Date(dump_only=True,
                                   metadata={"description": "The codes resolve at least until"})
    issued_by_id = fields.Int(allow_none=True, dump_only=True)
    first_url = fields.Method("get_first_url",
                              metadata={"type": "string", "format": "uri",
                                        "description": "The URL of the run's first label"})

    def get_first_url(self, run: Any) -> str:
        return run_label_url(run, run.first_index)


def _ec_level(value: str) -> bool:
    if value.upper() not in EC_LEVELS:
        raise ValidationError(str(_l("Mức sửa lỗi của mã QR phải là M hoặc Q.")))
    return True


class _EcMixin(Schema):
    ec = fields.Str(load_default="M", validate=_ec_level,
                    metadata={"description": "QR error correction: M (default) or Q",
                              "enum": sorted({*EC_LEVELS, *map(str.lower, EC_LEVELS)})})


class PdfQuerySchema(_EcMixin):
    preset = fields.Str(
        load_default=DEFAULT_PRESET,
        validate=validate.OneOf(sorted(PRESETS), error=_l("Khổ tem phải là một trong: {choices}.")),
        metadata={"description": "Label stock: " + ", ".join(
            f"{name} ({p.description})" for name, p in PRESETS.items())})


class EcQuerySchema(_EcMixin):
    pass


class QrQuerySchema(_EcMixin):
    scale = fields.Int(load_default=None,
                       validate=validate.Range(min=1, max=40,
                                               error=_l("Phải từ {min} đến {max}.")),
                       metadata={"description": "Pixels (PNG) or units (SVG) per module"})


class PrintJobCreateSchema(PdfQuerySchema):
    format = fields.Enum(PrintFormat, by_value=True, load_default=PrintFormat.PDF,
                         error_messages={"unknown": [_l("Định dạng phải là pdf, csv hoặc zip.")]},
                         metadata={"description": "pdf (label sheets in `preset`), csv (one row "
                                                  "per label) or zip (one QR SVG per label)"})


class PrintJobProgressSchema(Schema):
    done = fields.Int(dump_only=True, metadata={"description": "Labels written so far"})
    total = fields.Int(dump_only=True, metadata={"description": "Labels in the run"})


class PrintJobSchema(Schema):
    id = fields.Int(dump_only=True)
    label_run_id = fields.Int(dump_only=True)
    format = fields.Enum(PrintFormat, by_value=True, dump_only=True)
    preset = fields.Str(allow_none=True, dump_only=True,
                        metadata={"description": "Label stock (PDF only)"})
    ec = fields.Str(allow_none=True, dump_only=True,
                    metadata={"description": "QR error correction (PDF and ZIP only)"})
    state = fields.Enum(PrintJobState, by_value=True, dump_only=True, metadata={
        "description": "queued → running → done (download until expires_at, then expired) or "
                       "failed (see error)"})
    progress = fields.Nested(PrintJobProgressSchema, dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    started_at = fields.DateTime(allow_none=True, dump_only=True)
    finished_at = fields.DateTime(allow_none=True, dump_only=True)
    expires_at = fields.DateTime(allow_none=True, dump_only=True,
                                 metadata={"description": "When the finished file is deleted"})
    file_size = fields.Int(allow_none=True, dump_only=True, metadata={"description": "Bytes"})
    error = fields.Function(lambda job: error_text(job), allow_none=True, dump_only=True,
                            metadata={"type": "string", "description": "Why the job failed"})
    url = fields.Function(lambda job: url_for("codes.PrintJobById", job_id=job.id),
                          dump_only=True, metadata={"type": "string", "description": "This job"})
    download_url = fields.Function(
        lambda job: url_for("codes.PrintJobFile", job_id=job.id)
        if job.state is PrintJobState.DONE else None,
        allow_none=True, dump_only=True,
        metadata={"type": "string",
                  "description": "The finished file, once the state is done"})
