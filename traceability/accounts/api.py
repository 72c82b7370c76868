"""Accounts API: the caller, users, personal tokens, staff, handovers and the claim."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response
from flask.views import MethodView
from flask_babel import gettext as _

from ..extensions import db, limiter
from ..openapi import BINARY, Blueprint
from .auth import api_user
from .schemas import (
    ClaimInfoSchema,
    ClaimRedeemSchema,
    HandoverCreateSchema,
    HandoverSchema,
    HandoverStatusQuerySchema,
    HandoverStatusSchema,
    IssuedHandoverSchema,
    MemberSchema,
    NewTokenSchema,
    StaffCreateSchema,
    StaffInvitationCreatedSchema,
    StaffInvitationSchema,
    TokenCreateSchema,
    TokenSchema,
    UserCreateSchema,
    UserSchema,
)
from . import invitations, services

blp = Blueprint("accounts_api", __name__, url_prefix="/api/v1",
                description="Accounts: users, personal API tokens, staff, handover of producer accounts.")

CLAIM_LIMIT = "10/minute;30/hour"


@blp.route("/users/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        """The signed-in user"""
        return api_user()


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.errors(403, 409)
    def post(self, data: dict):
        """Create a user (admin)"""
        user = services.create_user(api_user(), data)
        return user


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.response(200, TokenSchema(many=True))
    def get(self):
        """List my API tokens"""
        return services.list_tokens(api_user())

    @blp.arguments(TokenCreateSchema)
    @blp.response(201, NewTokenSchema)
    @blp.errors(403, 404)
    def post(self, data: dict):
        """Create an API token (the secret is shown once)"""
        user = api_user()
        producer = services.get_producer(data["producer_id"]) if data.get("producer_id") else None
        token, secret = services.create_token(user, data["name"], data.get("expires_in_days"), producer)
        return _with(token, token=secret)


@blp.route("/tokens/<int:token_id>")
class TokenById(MethodView):
    @blp.response(200, TokenSchema)
    def delete(self, token_id: int):
        """Revoke an API token"""
        token = services.revoke_token(api_user(), token_id)
        return token


@blp.route("/producers/<int:producer_id>/members")
class Members(MethodView):
    @blp.response(200, MemberSchema(many=True))
    @blp.errors(403)
    def get(self, producer_id: int):
        """List the people who work on a producer's account"""
        return services.members_of(api_user(), services.get_producer(producer_id))


@blp.route("/producers/<int:producer_id>/staff")
class Staff(MethodView):
    @blp.arguments(StaffCreateSchema)
    @blp.response(201, StaffInvitationCreatedSchema)
    @blp.errors(403)
    def post(self, data: dict, producer_id: int):
        """Invite a staff member (owner)

        The answer is the same whatever the address: the person joins only after opening
        `invite_url` and signing in with that address's account, or creating it."""
        invitation, secret = invitations.invite_staff(api_user(), services.get_producer(producer_id), data)
        invitation.invite_url = invitations.invitation_url(secret)
        return invitation


@blp.route("/producers/<int:producer_id>/staff/invitations")
class StaffInvitations(MethodView):
    @blp.response(200, StaffInvitationSchema(many=True))
    @blp.errors(403)
    def get(self, producer_id: int):
        """List a producer's open staff invitations (owner)"""
        return invitations.invitations_of(api_user(), services.get_producer(producer_id))


@blp.route("/producers/<int:producer_id>/staff/invitations/<int:invitation_id>")
class StaffInvitationItem(MethodView):
    @blp.response(200, StaffInvitationSchema)
    @blp.errors(403)
    def delete(self, producer_id: int, invitation_id: int):
        """Cancel a staff invitation (owner)"""
        invitation = invitations.cancel_invitation(api_user(), services.get_producer(producer_id),
                                                   invitation_id)
        return invitation


@blp.route("/producers/<int:producer_id>/staff/<int:user_id>")
class StaffMember(MethodView):
    @blp.response(200, MemberSchema)
    @blp.errors(403)
    def delete(self, producer_id: int, user_id: int):
        """Remove a staff member (owner)"""
        membership = services.remove_staff(api_user(), services.get_producer(producer_id), user_id)
        return membership


@blp.route("/producers/<int:producer_id>/handovers")
class ProducerHandovers(MethodView):
    @blp.response(200, HandoverSchema(many=True))
    @blp.errors(403)
    def get(self, producer_id: int):
        """List a producer's handover claims"""
        return services.handovers_of(api_user(), services.get_producer(producer_id))

    @blp.arguments(HandoverCreateSchema)
    @blp.response(201, IssuedHandoverSchema)
    @blp.errors(403, 409)
    def post(self, data: dict, producer_id: int):
        """Issue a handover claim (cancels an open one)"""
        handover, secret = services.issue_handover(api_user(), services.get_producer(producer_id),
                                                   data["days"], data.get("representative_name"))
        return _with(handover, claim_url=services.claim_url(secret))


@blp.route("/handovers/status")
class HandoverStatusList(MethodView):
    @blp.arguments(HandoverStatusQuerySchema, location="query")
    @blp.response(200, HandoverStatusSchema(many=True))
    @blp.errors(403)
    @blp.paginate()
    def get(self, args: dict, pagination_parameters):
        """Which producers are handed over, pending or not started (officers)"""
        stmt = services.handover_status_query(api_user(), args.get("state"))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
        pagination_parameters.item_count = total
        page, size = pagination_parameters.page, pagination_parameters.page_size
        rows = db.session.execute(stmt.limit(size).offset((page - 1) * size)).all()
        return services.handover_status_rows(rows)


@blp.route("/handovers/<int:handover_id>")
class HandoverById(MethodView):
    @blp.response(200, HandoverSchema)
    @blp.errors(403)
    def get(self, handover_id: int):
        """Get one handover claim"""
        return services.get_handover(api_user(), handover_id)


@blp.route("/handovers/<int:handover_id>/cancel")
class HandoverCancel(MethodView):
    @blp.response(200, HandoverSchema)
    @blp.errors(403, 409)
    def post(self, handover_id: int):
        """Cancel an open handover claim"""
        user = api_user()
        handover = services.cancel_handover(user, services.get_handover(user, handover_id))
        return handover


@blp.route("/handovers/<int:handover_id>/record.pdf")
class HandoverRecord(MethodView):
    @blp.response(200, BINARY, content_type="application/pdf",
                  description="The printable handover record (biên bản bàn giao) with the claim QR")
    @blp.errors(403, 410)
    def get(self, handover_id: int):
        """Download the handover record PDF"""
        user = api_user()
        pdf = services.handover_record_pdf(user, services.get_handover(user, handover_id))
        return pdf_response(pdf, handover_id)


def _claim_limit_message() -> str:
    # Flask-Limiter's own description ("10 per 1 minute") is English and would be the JSON message.
    return _("Bạn thao tác quá nhanh. Vui lòng thử lại sau ít phút.")


@blp.route("/claims/<secret>")
class Claim(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ClaimInfoSchema)
    @blp.errors(410)
    def get(self, secret: str):
        """Check a claim before redeeming it (410 when used, cancelled or expired)"""
        handover = services.open_claim_for(secret)
        return {"producer_name": handover.producer.name, "representative_name": handover.representative_name,
                "expires_at": handover.expires_at}

    @limiter.shared_limit(CLAIM_LIMIT, scope="claim", error_message=_claim_limit_message)
    @blp.doc(security=[])
    @blp.arguments(ClaimRedeemSchema)
    @blp.response(201, UserSchema)
    @blp.errors(409, 410, 429)
    def post(self, data: dict, secret: str):
        """Redeem a claim: become the producer's owner with your own credentials"""
        owner = services.redeem_claim(secret, data)
        return owner


def pdf_response(pdf: bytes, handover_id: int) -> Response:
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="bien-ban-ban-giao-{handover_id}.pdf"',
        "Cache-Control": "no-store"})


def _with(obj: Any, **extra: Any) -> Any:
    """The model with values that exist only in this response (never stored) for the schema."""
    for key, value in extra.items():
        setattr(obj, key, value)
    return obj
