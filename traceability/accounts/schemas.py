"""Marshmallow schemas for users, API tokens, staff, handovers and the claim."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..schemas_common import AnswerSchema, Id
from .invitations import InvitationState
from .invitations import state_of as invitation_state
from .models import MembershipRole, Role
from .services import (
    CLAIM_DAYS_DEFAULT,
    CLAIM_DAYS_MAX,
    MAX_PASSWORD_LENGTH,
    ClaimState,
    HandoverStatus,
    claim_state,
    token_state,
)

_password = dict(required=True, load_only=True, validate=validate.Length(max=MAX_PASSWORD_LENGTH))


class UserSchema(AnswerSchema):
    id = fields.Int(dump_only=True)
    email = fields.Str()
    full_name = fields.Str()
    phone = fields.Str(allow_none=True)
    role = fields.Enum(Role, by_value=True)
    organisation = fields.Str(allow_none=True)
    is_active = fields.Bool()
    region_codes = fields.Method("get_region_codes",
                                 metadata={"type": "array", "items": {"type": "string"}})

    def get_region_codes(self, user) -> list[str]:
        return sorted(r.code for r in user.regions)


class UserCreateSchema(Schema):
    email = fields.Str(required=True, validate=validate.Length(min=3, max=254))
    full_name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    role = fields.Enum(Role, by_value=True, required=True)
    password = fields.Str(**_password)
    phone = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=20))
    organisation = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=200))
    region_codes = fields.List(fields.Str(validate=validate.Length(min=1, max=20)), load_default=list,
                               validate=validate.Length(max=50))


class TokenSchema(AnswerSchema):
    id = fields.Int()
    name = fields.Str()
    prefix = fields.Str(metadata={"description": "The first characters of the token, for recognising it"})
    producer_id = fields.Int(allow_none=True)
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    state = fields.Function(lambda token: token_state(token),
                            metadata={"type": "string", "enum": ["active", "expired", "revoked"]})


class NewTokenSchema(TokenSchema):
    token = fields.Str(metadata={"description": "The secret; shown only in this response"})


class TokenCreateSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=80))
    expires_in_days = fields.Int(load_default=None, allow_none=True, strict=True,
                                 validate=validate.Range(min=1, max=3650))
    producer_id = Id(load_default=None, allow_none=True, strict=True)


class MemberSchema(AnswerSchema):
    id = fields.Int()
    user_id = fields.Int()
    role = fields.Function(lambda m: m.role.value,
                           metadata={"type": "string", "enum": [r.value for r in MembershipRole]})
    full_name = fields.Function(lambda m: m.user.full_name, metadata={"type": "string"})
    email = fields.Function(lambda m: m.user.email, metadata={"type": "string"})
    created_at = fields.DateTime()


class StaffCreateSchema(Schema):
    email = fields.Str(required=True, validate=validate.Length(min=3, max=254))
    full_name = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=120),
                           metadata={"description": "Suggested name, for an address without an account"})


class StaffInvitationSchema(AnswerSchema):
    id = fields.Int(required=True)
    producer_id = fields.Int(required=True)
    email = fields.Str(required=True)
    full_name = fields.Str(allow_none=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    state = fields.Function(lambda i: invitation_state(i).value, required=True,
                            metadata={"type": "string", "enum": [s.value for s in InvitationState]})


class StaffInvitationCreatedSchema(StaffInvitationSchema):
    invite_url = fields.Str(required=True, metadata={
        "description": "The one-time link to pass on to the invitee; shown only in this answer"})


class HandoverSchema(AnswerSchema):
    id = fields.Int()
    producer_id = fields.Int()
    issued_by_id = fields.Int()
    representative_name = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    redeemed_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    state = fields.Function(lambda h: claim_state(h).value,
                            metadata={"type": "string", "enum": [s.value for s in ClaimState]})


class IssuedHandoverSchema(HandoverSchema):
    claim_url = fields.Str(metadata={"description": "The one-time claim link printed on the record"})


class HandoverCreateSchema(Schema):
    days = fields.Int(load_default=CLAIM_DAYS_DEFAULT, strict=True,
                      validate=validate.Range(min=1, max=CLAIM_DAYS_MAX))
    representative_name = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=120))


class ClaimInfoSchema(AnswerSchema):
    producer_name = fields.Str()
    representative_name = fields.Str(allow_none=True)
    expires_at = fields.DateTime()


class ClaimRedeemSchema(Schema):
    full_name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    email = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=20))
    password = fields.Str(**_password)
    password_confirm = fields.Str(**_password)


class HandoverStatusQuerySchema(Schema):
    state = fields.Enum(HandoverStatus, by_value=True)


class HandoverStatusSchema(AnswerSchema):
    producer_id = fields.Int()
    producer_name = fields.Str()
    region_id = fields.Int()
    state = fields.Function(lambda row: row.state.value,
                            metadata={"type": "string", "enum": [s.value for s in HandoverStatus]})
    pending_since = fields.DateTime(allow_none=True)
    pending_days = fields.Int(allow_none=True)
    claim_expires_at = fields.DateTime(allow_none=True)
    handed_over_at = fields.DateTime(allow_none=True)
