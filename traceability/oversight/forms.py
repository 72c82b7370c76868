"""Web forms for officers and inspectors; messages in Vietnamese."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..text import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..registry.status import VALIDITY_MONTHS
from .services import CHECKLIST, LEVEL_LABELS, OUTCOME_LABELS

REQUIRED = _l("Trường này là bắt buộc.")


def choices(pairs: list[tuple[str, object]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[arg-type]
DATE_ERROR = _l("Ngày không hợp lệ.")


class CertificateForm(FlaskForm):
    stars = SelectField(_l("Hạng sao"), choices=choices([("3", "3 ★"), ("4", "4 ★"), ("5", "5 ★")]),
                        validators=[InputRequired(REQUIRED)])
    score = DecimalField(_l("Điểm đánh giá (0–100)"), places=2, validators=[
        Optional(), NumberRange(0, 100, _l("Điểm phải từ 0 đến 100."))])
    issuing_level = SelectField(_l("Cấp ban hành"), choices=choices(list(LEVEL_LABELS.items())),
                                default="province", validators=[InputRequired(REQUIRED)])
    issuing_authority = StringField(_l("Cơ quan cấp"), validators=[
        DataRequired(REQUIRED), Length(3, 200)])
    decision_number = StringField(_l("Số quyết định"), validators=[DataRequired(REQUIRED), Length(1, 60)])
    issued_on = DateField(_l("Ngày cấp"), validators=[InputRequired(REQUIRED)])
    expires_on = DateField(_l("Ngày hết hạn (bỏ trống: %(n)s tháng sau ngày cấp)", n=VALIDITY_MONTHS), validators=[Optional()])

    def data_dict(self) -> dict:
        return {"stars": int(self.stars.data), "score": self.score.data,
                "issuing_level": self.issuing_level.data, "issuing_authority": self.issuing_authority.data.strip(),
                "decision_number": self.decision_number.data.strip(), "issued_on": self.issued_on.data,
                "expires_on": self.expires_on.data}


class RevocationForm(FlaskForm):
    decision_number = StringField(_l("Số quyết định thu hồi"), validators=[DataRequired(REQUIRED), Length(1, 60)])
    revoked_on = DateField(_l("Ngày thu hồi"), validators=[InputRequired(REQUIRED)])
    reason = TextAreaField(_l("Lý do thu hồi"), validators=[
        DataRequired(REQUIRED), Length(5, 2000, _l("Lý do thu hồi dài từ 5 đến 2000 ký tự."))])


TRI_STATE = choices([("yes", _l("Đạt")), ("no", _l("Không đạt")), ("", _l("Không kiểm tra"))])


class InspectionForm(FlaskForm):
    producer_id = HiddenField()
    product_id = HiddenField()
    code = HiddenField()
    inspected_on = DateField(_l("Ngày kiểm tra"), validators=[InputRequired(REQUIRED)])
    place = StringField(_l("Địa điểm"), validators=[Optional(), Length(max=200)])
    certificate_valid = RadioField(CHECKLIST["certificate_valid"], choices=TRI_STATE, default="")
    stars_match = RadioField(CHECKLIST["stars_match"], choices=TRI_STATE, default="")
    labels_resolve = RadioField(CHECKLIST["labels_resolve"], choices=TRI_STATE, default="")
    diary_current = RadioField(CHECKLIST["diary_current"], choices=TRI_STATE, default="")
    product_matches = RadioField(CHECKLIST["product_matches"], choices=TRI_STATE, default="")
    findings = TextAreaField(_l("Nội dung phát hiện"), validators=[Optional(), Length(max=5000)])
    outcome = RadioField(_l("Kết luận"), choices=choices(list(OUTCOME_LABELS.items())),
                         validators=[InputRequired(_l("Hãy chọn kết luận."))])
    propose_revocation = RadioField(_l("Đề nghị thu hồi giấy chứng nhận"),
                                    choices=choices([("no", _l("Không")), ("yes", _l("Có (chỉ khi vi phạm)"))]),
                                    default="no")
    photos = MultipleFileField(_l("Ảnh (JPEG/PNG, tùy chọn)"))

    def data_dict(self) -> dict:
        answers = {key: {"yes": True, "no": False}.get(getattr(self, key).data or "")
                   for key in CHECKLIST}
        return {"producer_id": _int(self.producer_id.data), "product_id": _int(self.product_id.data),
                "inspected_on": self.inspected_on.data, "place": (self.place.data or "").strip(),
                "checklist": answers, "findings": (self.findings.data or "").strip(),
                "outcome": self.outcome.data, "propose_revocation": self.propose_revocation.data == "yes"}


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


class ReportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that only reads

    start = DateField(_l("Từ ngày"), validators=[InputRequired(REQUIRED)])
    end = DateField(_l("Đến ngày"), validators=[InputRequired(REQUIRED)])
    region_id = SelectField(_l("Địa bàn"), choices=[], validators=[Optional()])
    history = BooleanField(_l("Hiện cả đơn vị hành chính cũ (trước sắp xếp năm 2025)"))
    format = SelectField(_l("Định dạng"), choices=choices([
        ("xlsx", "Excel (.xlsx)"), ("csv", "CSV (.zip)"), ("html", _l("Xem trên trang"))]),
        default="xlsx")


class ImportForm(FlaskForm):
    file = FileField(_l("Tệp danh sách (.xlsx hoặc .csv)"), validators=[
        FileRequired(_l("Hãy chọn tệp.")), FileAllowed(["xlsx", "csv"], _l("Chỉ nhận tệp .xlsx hoặc .csv."))])


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    filename = HiddenField(validators=[DataRequired()])


class ActionForm(FlaskForm):
    """A button that posts (retry, dismiss, status): only the CSRF token."""


class LabelCodeForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that only reads

    code = StringField(_l("Mã trên tem"), validators=[DataRequired(_l("Hãy nhập mã."))])


class LabelPhotoForm(FlaskForm):
    photo = FileField(_l("Ảnh tem (mã QR hoặc mã vạch)"),
                      validators=[FileRequired(_l("Hãy chụp hoặc chọn ảnh tem."))])


class ReportStatusForm(FlaskForm):
    status = SelectField(_l("Trạng thái"), choices=choices([
        ("open", _l("Mới")), ("investigating", _l("Đang xác minh")), ("closed", _l("Đã xử lý"))]))


class RegionFilterForm(FlaskForm):
    class Meta:
        csrf = False

    region_id = IntegerField(validators=[Optional()])
