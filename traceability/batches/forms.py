"""Producer UI forms (Flask-WTF, CSRF-protected), with Vietnamese labels and messages."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from ..text import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from .. import formats
from ..clock import VIETNAM
from ..idempotency import KeyField
from .models import EventKind

KIND_LABELS: dict[EventKind, Any] = {
    EventKind.PLANTING: _l("Gieo trồng"),
    EventKind.INPUT: _l("Bón phân, phun thuốc"),
    EventKind.HARVEST: _l("Thu hoạch"),
    EventKind.PROCESSING: _l("Sơ chế, chế biến"),
    EventKind.PACKING: _l("Đóng gói"),
    EventKind.LAB_TEST: _l("Kiểm nghiệm"),
    EventKind.STORAGE: _l("Bảo quản, lưu kho"),
    EventKind.SHIPPING: _l("Xuất hàng, vận chuyển"),
    EventKind.RECEIVING: _l("Nhận hàng"),
    EventKind.OTHER: _l("Việc khác"),
}

LOCAL_TIME_FORMAT = "%Y-%m-%dT%H:%M"


class _ParsedField(StringField):
    """A text input parsed by `parse`; a bad value gets a Vietnamese message, not wtforms' English."""

    message: Any = _l("Giá trị không hợp lệ.")

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = (valuelist[0] if valuelist else "").strip()
        self.raw_data = valuelist
        if not raw:
            self.data = None
            return
        try:
            self.data = self.parse(raw)
        except (ValueError, InvalidOperation):
            self.data = None
            raise ValueError(str(self.message)) from None

    def parse(self, raw: str) -> Any:
        return raw

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.format(self.data) if self.data is not None else ""

    def format(self, value: Any) -> str:
        return str(value)


class NumberField(_ParsedField):
    message = _l("Phải là một số (ví dụ 12,5).")

    def parse(self, raw: str) -> Decimal:
        # Vietnamese writes 12,5 for 12.5; thousands separators are not expected in a form.
        number = Decimal(raw.replace(" ", "").replace(",", "."))
        if not number.is_finite():
            raise ValueError(raw)
        return number

    def format(self, value: Any) -> str:
        return formats.decimal(value, formats.current_locale(), group=False)


class WholeNumberField(_ParsedField):
    message = _l("Phải là số nguyên.")

    def parse(self, raw: str) -> int:
        return int(raw)


class LocalDateTimeField(_ParsedField):
    """A datetime-local input, read as Vietnam time."""

    message = _l("Thời gian không hợp lệ.")

    def parse(self, raw: str) -> datetime:
        for fmt in (LOCAL_TIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                return datetime.strptime(raw, fmt).replace(tzinfo=VIETNAM)
            except ValueError:
                continue
        raise ValueError(raw)

    def format(self, value: Any) -> str:
        return value.astimezone(VIETNAM).strftime(LOCAL_TIME_FORMAT)


class DateInputField(_ParsedField):
    message = _l("Ngày không hợp lệ.")

    def parse(self, raw: str) -> date:
        return date.fromisoformat(raw)

    def format(self, value: Any) -> str:
        return value.isoformat()


class BatchForm(FlaskForm):
    lot = StringField(_l("Số lô"), validators=[
        InputRequired(_l("Vui lòng nhập số lô.")),
        Length(max=20, message=_l("Số lô tối đa %(max)d ký tự."))])
    production_date = DateInputField(_l("Ngày sản xuất"))
    expiry_date = DateInputField(_l("Hạn sử dụng"))
    quantity = NumberField(_l("Số lượng"))
    unit = StringField(_l("Đơn vị tính"), validators=[
        Optional(), Length(max=20, message=_l("Tối đa %(max)d ký tự."))])

    def data_for_service(self) -> dict[str, Any]:
        return {"lot": self.lot.data.strip(), "production_date": self.production_date.data,
                "expiry_date": self.expiry_date.data, "quantity": self.quantity.data,
                "unit": (self.unit.data or "").strip() or None}


class EventForm(FlaskForm):
    kind = RadioField(_l("Loại bước"),
                      choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
                      validate_choice=False,  # AnyOf says it in Vietnamese
                      validators=[InputRequired(_l("Vui lòng chọn loại bước.")),
                                  AnyOf([k.value for k in EventKind],
                                        message=_l("Loại bước không hợp lệ."))])
    occurred_at = LocalDateTimeField(_l("Thời gian"))
    place = StringField(_l("Địa điểm"), validators=[
        Optional(), Length(max=200, message=_l("Tối đa %(max)d ký tự."))])
    latitude = NumberField(_l("Vĩ độ"))
    longitude = NumberField(_l("Kinh độ"))
    quantity = NumberField(_l("Số lượng"))
    unit = StringField(_l("Đơn vị tính"), validators=[
        Optional(), Length(max=20, message=_l("Tối đa %(max)d ký tự."))])
    notes = TextAreaField(_l("Ghi chú"), validators=[
        Optional(), Length(max=5000, message=_l("Tối đa %(max)d ký tự."))])
    input_name = StringField(_l("Tên phân bón, thuốc"), validators=[
        Optional(), Length(max=120, message=_l("Tối đa %(max)d ký tự."))])
    dose = StringField(_l("Liều lượng"), validators=[
        Optional(), Length(max=60, message=_l("Tối đa %(max)d ký tự."))])
    pre_harvest_interval_days = WholeNumberField(_l("Thời gian cách ly (ngày)"))
    laboratory = StringField(_l("Phòng kiểm nghiệm"), validators=[
        Optional(), Length(max=200, message=_l("Tối đa %(max)d ký tự."))])
    result = StringField(_l("Kết quả"), validators=[
        Optional(), Length(max=500, message=_l("Tối đa %(max)d ký tự."))])
    counterparty = StringField(_l("Bên giao hoặc nhận"), validators=[
        Optional(), Length(max=200, message=_l("Tối đa %(max)d ký tự."))])
    attachment = FileField(_l("Ảnh hoặc tài liệu PDF"))
    keep_location = BooleanField(_l("Giữ vị trí GPS của ảnh (công khai: ai mở ảnh trên trang truy xuất cũng thấy vị trí)"))
    # A double submit of one rendered form records one step (see idempotency.py).
    idempotency_key = KeyField()

    def data_for_service(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name).data for name in (
            "kind", "occurred_at", "latitude", "longitude", "quantity", "pre_harvest_interval_days")}
        for name in ("place", "unit", "notes", "input_name", "dose", "laboratory", "result",
                     "counterparty"):
            data[name] = (getattr(self, name).data or "").strip() or None
        return data


class LabelRunForm(FlaskForm):
    level = RadioField(_l("Loại tem"),
                       choices=[SelectChoice("lot", _l("Tem theo lô (một mã cho cả lô)")),
                                SelectChoice("unit", _l("Tem từng sản phẩm (mã riêng, chống giả)"))],
                       default="unit", validate_choice=False,
                       validators=[InputRequired(_l("Vui lòng chọn loại tem.")),
                                   AnyOf(["lot", "unit"], message=_l("Loại tem không hợp lệ."))])
    count = WholeNumberField(_l("Số tem"), default=1)
