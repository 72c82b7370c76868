"""Web forms for sign-in, tokens, staff, the handover and the claim (CSRF on every one)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..text import FlaskForm
from wtforms import HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .services import CLAIM_DAYS_DEFAULT, CLAIM_DAYS_MAX, MAX_PASSWORD_LENGTH

_required = _l("Vui lòng điền mục này.")


class LoginForm(FlaskForm):
    login = StringField(_l("Email hoặc số điện thoại"), validators=[DataRequired(_required), Length(max=254)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(_required),
                                                        Length(max=MAX_PASSWORD_LENGTH)])
    next = HiddenField()


class ConfirmForm(FlaskForm):
    """A button that changes something (sign out, revoke, cancel, remove): CSRF only."""


class TokenForm(FlaskForm):
    name = StringField(_l("Tên gợi nhớ"), validators=[DataRequired(_required), Length(max=80)])
    expires_in_days = IntegerField(
        _l("Hết hạn sau (ngày, để trống nếu không hết hạn)"),
        validators=[Optional(), NumberRange(1, 3650, _l("Thời hạn phải từ 1 đến 3650 ngày."))])
    producer_id = SelectField(_l("Chỉ dùng cho chủ thể"), coerce=int, default=0)


class StaffForm(FlaskForm):
    email = StringField(_l("Email của nhân viên"), validators=[DataRequired(_required), Length(max=254)])
    full_name = StringField(_l("Họ và tên"), validators=[Optional(), Length(max=120)])


class InvitationForm(FlaskForm):
    full_name = StringField(_l("Họ và tên"), validators=[Optional(), Length(max=120)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(_required), Length(max=MAX_PASSWORD_LENGTH)])
    password_confirm = PasswordField(_l("Nhập lại mật khẩu"),
                                     validators=[DataRequired(_required), Length(max=MAX_PASSWORD_LENGTH)])


class HandoverForm(FlaskForm):
    representative_name = StringField(_l("Người đại diện nhận bàn giao"), validators=[Optional(), Length(max=120)])
    days = IntegerField(_l("Mã nhận bàn giao có hiệu lực (ngày)"), default=CLAIM_DAYS_DEFAULT,
                        validators=[InputRequired(_required),
                                    NumberRange(1, CLAIM_DAYS_MAX, _l("Thời hạn phải từ 1 đến %(max)s ngày."))])


class ClaimForm(FlaskForm):
    full_name = StringField(_l("Họ và tên"), validators=[DataRequired(_required), Length(max=120)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Số điện thoại"), validators=[Optional(), Length(max=20)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(_required), Length(max=MAX_PASSWORD_LENGTH)])
    password_confirm = PasswordField(_l("Nhập lại mật khẩu"),
                                     validators=[DataRequired(_required), Length(max=MAX_PASSWORD_LENGTH)])
