"""Marshmallow schemas for regions, producers, products and certificates."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, missing, validate

from ..clock import local_today
from ..schemas_common import AnswerSchema, Id
from .models import CertificateStatus, IssuingLevel, ProducerKind, ProductGroup, RegionLevel


class RegionSchema(AnswerSchema):
    id = fields.Int(dump_only=True)
    code = fields.Str()
    name = fields.Str()
    level = fields.Enum(RegionLevel, by_value=True)
    parent_id = fields.Int(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)


class RegionQuerySchema(Schema):
    level = fields.Enum(RegionLevel, by_value=True)
    parent_id = Id()
    on = fields.Date(metadata={"description": "Only units valid on this date"})


class ProducerSchema(AnswerSchema):
    id = fields.Int(dump_only=True)
    name = fields.Str()
    kind = fields.Enum(ProducerKind, by_value=True)
    tax_code = fields.Str(allow_none=True)
    address = fields.Str()
    region_id = fields.Int()
    representative = fields.Str(allow_none=True)
    gs1_company_prefix = fields.Str(allow_none=True)
    gln = fields.Str(allow_none=True)
    is_demo = fields.Bool()


class ProducerQuerySchema(Schema):
    region_id = Id()
    kind = fields.Enum(ProducerKind, by_value=True)
    q = fields.Str(validate=validate.Length(min=1, max=100), metadata={"description": "Name contains"})


class CertificateSchema(AnswerSchema):
    id = fields.Int(dump_only=True)
    product_id = fields.Int()
    stars = fields.Int()
    score = fields.Decimal(as_string=True, allow_none=True)
    issuing_level = fields.Enum(IssuingLevel, by_value=True)
    issuing_authority = fields.Str()
    decision_number = fields.Str()
    issued_on = fields.Date()
    expires_on = fields.Date()
    revoked_on = fields.Date(allow_none=True)
    revocation_decision = fields.Str(allow_none=True)
    revocation_reason = fields.Str(allow_none=True)
    superseded_by_id = fields.Int(allow_none=True)
    status = fields.Method("get_status",
                           metadata={"type": "string",
                                     "enum": [s.value for s in CertificateStatus]})

    def get_status(self, cert) -> str:
        return cert.status_on(local_today()).value


class CertificateQuerySchema(Schema):
    product_id = Id()
    stars = fields.Int(validate=validate.Range(min=3, max=5))
    status = fields.Enum(CertificateStatus, by_value=True)


class ProductSchema(AnswerSchema):
    id = fields.Int(dump_only=True)
    producer_id = fields.Int()
    group = fields.Enum(ProductGroup, by_value=True)
    name_vi = fields.Str()
    name_en = fields.Str(allow_none=True)
    description_vi = fields.Str(allow_none=True)
    description_en = fields.Str(allow_none=True)
    gtin = fields.Str(allow_none=True)
    trace_code = fields.Str()
    standards = fields.Str(allow_none=True)
    shelf_life_days = fields.Int(allow_none=True)


class ProductQuerySchema(Schema):
    producer_id = Id()
    group = fields.Enum(ProductGroup, by_value=True)
    region_id = Id()


# Write schemas: consultants, officers and owners set a producer up (registry.services checks who).

class ProducerCreateSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=2, max=200))
    kind = fields.Enum(ProducerKind, by_value=True, required=True)
    tax_code = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=14))
    address = fields.Str(required=True, validate=validate.Length(min=3, max=300))
    region_id = Id(required=True, strict=True)
    representative = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=120))
    phone = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=20))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    gs1_company_prefix = fields.Str(load_default=None, allow_none=True,
                                    validate=validate.Regexp(r"^893\d{4,7}$", error=_l(
                                        "Mã doanh nghiệp GS1 Việt Nam gồm 893 và 4 đến 7 chữ số.")))
    gln = fields.Str(load_default=None, allow_none=True,
                     validate=validate.Regexp(r"^\d{13}$", error=_l("GLN gồm 13 chữ số.")))


class ProducerUpdateSchema(ProducerCreateSchema):
    """Only the fields sent are changed; a producer's region is the officers' business."""

    class Meta:
        exclude = ("region_id",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, partial=True, **kwargs)
        for field in self.fields.values():
            field.load_default = missing


class ProductCreateSchema(Schema):
    group = fields.Enum(ProductGroup, by_value=True, required=True)
    name_vi = fields.Str(required=True, validate=validate.Length(min=2, max=200))
    name_en = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=200))
    description_vi = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    description_en = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    gtin = fields.Str(load_default=None, allow_none=True, validate=validate.Length(min=8, max=14))
    standards = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=300))
    shelf_life_days = fields.Int(load_default=None, allow_none=True, strict=True,
                                 validate=validate.Range(min=1, max=36500))


class ProductUpdateSchema(ProductCreateSchema):
    """Only the fields sent are changed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, partial=True, **kwargs)
        for field in self.fields.values():
            field.load_default = missing
