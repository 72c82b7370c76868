"""Set-up forms for producers and products (Flask-WTF, CSRF), with Vietnamese labels and messages.

The forms check what a field can hold; the rules (tax code, GS1 prefix, GLN, uniqueness, who may
do what) are the services', whose refusals appear under the same fields."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from marshmallow import ValidationError
from marshmallow import validate as mm_validate
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional
from wtforms.validators import ValidationError as FormValidationError

from ..batches.forms import WholeNumberField
from ..text import FlaskForm
from .labels import GROUP_LABELS, PRODUCER_KIND_LABELS
from .models import ProducerKind, ProductGroup

REQUIRED = _l("Vui lòng điền mục này.")
TOO_LONG = _l("Tối đa %(max)d ký tự.")


def _text(label: Any, max_length: int, *, required: bool = False, min_length: int = -1,
          **kwargs: Any) -> StringField:
    first = InputRequired(REQUIRED) if required else Optional()
    length = Length(min=min_length, max=max_length,
                    message=_l("Từ %(min)d đến %(max)d ký tự.") if min_length > 0 else TOO_LONG)
    return StringField(label, validators=[first, length], **kwargs)


def _region_id(value: Any) -> int | None:
    """The chosen region's id; anything else is None, which the service refuses in Vietnamese."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _email(form: Any, field: Any) -> None:
    """The API's idea of an e-mail address (marshmallow's), so both doors accept the same."""
    if field.data:
        try:
            mm_validate.Email()(field.data.strip())
        except ValidationError:
            raise FormValidationError(str(_l("Địa chỉ email không hợp lệ."))) from None


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


class ProducerForm(FlaskForm):
    kind = SelectField(_l("Loại hình chủ thể"),
                       choices=[SelectChoice(k.value, PRODUCER_KIND_LABELS[k]) for k in ProducerKind],
                       validate_choice=False,  # AnyOf says it in Vietnamese
                       validators=[InputRequired(REQUIRED),
                                   AnyOf([k.value for k in ProducerKind],
                                         message=_l("Loại hình chủ thể không hợp lệ."))])
    name = _text(_l("Tên chủ thể"), 200, required=True, min_length=2)
    tax_code = _text(_l("Mã số thuế"), 20)
    address = _text(_l("Địa chỉ"), 300, required=True, min_length=3)
    region_id = SelectField(_l("Địa bàn (xã, phường)"), coerce=_region_id, validate_choice=False,
                            validators=[InputRequired(_l("Vui lòng chọn địa bàn."))])
    representative = _text(_l("Người đại diện"), 120)
    phone = _text(_l("Số điện thoại"), 20)
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254, message=TOO_LONG), _email])
    gs1_company_prefix = _text(_l("Mã doanh nghiệp GS1 (nếu có)"), 10)
    gln = _text(_l("Mã địa điểm toàn cầu GLN (nếu có)"), 13)

    FIELDS = ("kind", "name", "tax_code", "address", "region_id", "representative", "phone",
              "email", "gs1_company_prefix", "gln")

    def data_for_service(self) -> dict[str, Any]:
        """Every field the form shows, stripped; blank is None (a blank code is no code)."""
        data = {name: _blank_to_none(self._fields[name].data) for name in self.FIELDS
                if name in self._fields}
        data["kind"] = ProducerKind(data["kind"])
        return data

    def fill(self, producer: Any) -> None:
        for name in self.FIELDS:
            if name in self._fields:
                value = getattr(producer, name)
                self._fields[name].data = value.value if name == "kind" else value


class ProductForm(FlaskForm):
    group = SelectField(_l("Nhóm sản phẩm OCOP"),
                        choices=[SelectChoice(g.value, GROUP_LABELS[g.value]) for g in ProductGroup],
                        validate_choice=False,
                        validators=[InputRequired(REQUIRED),
                                    AnyOf([g.value for g in ProductGroup],
                                          message=_l("Nhóm sản phẩm không hợp lệ."))])
    name_vi = _text(_l("Tên sản phẩm (tiếng Việt)"), 200, required=True, min_length=2)
    name_en = _text(_l("Tên sản phẩm (tiếng Anh)"), 200)
    description_vi = TextAreaField(_l("Mô tả (tiếng Việt)"), validators=[
        Optional(), Length(max=5000, message=TOO_LONG)])
    description_en = TextAreaField(_l("Mô tả (tiếng Anh)"), validators=[
        Optional(), Length(max=5000, message=TOO_LONG)])
    image = FileField(_l("Ảnh sản phẩm (JPEG, PNG hoặc WebP)"))
    standards = _text(_l("Tiêu chuẩn áp dụng"), 300)
    shelf_life_days = WholeNumberField(_l("Hạn sử dụng (số ngày)"), validators=[
        Optional(), NumberRange(min=1, max=36500, message=_l("Phải từ %(min)s đến %(max)s ngày."))])
    gtin = _text(_l("GTIN đã có (nếu sản phẩm đã được GS1 cấp mã)"), 14)

    FIELDS = ("group", "name_vi", "name_en", "description_vi", "description_en", "standards",
              "shelf_life_days", "gtin")

    def data_for_service(self) -> dict[str, Any]:
        data = {name: _blank_to_none(self._fields[name].data) for name in self.FIELDS}
        data["group"] = ProductGroup(data["group"])
        return data

    def fill(self, product: Any) -> None:
        for name in self.FIELDS:
            value = getattr(product, name)
            self._fields[name].data = value.value if name == "group" else value
        if product.gtin:
            from ..gs1 import gtin13_display

            self.gtin.data = gtin13_display(product.gtin) or product.gtin
