"""Staff invitations: the owner invites by e-mail, the invitee accepts with a one-time link.

Nobody is attached to a producer without consent, and the owner cannot use the form to
learn whether an address belongs to an official, another producer or nobody: every
invitation is answered the same way. Only the invitee, after proving who they are (signing
in with that account's password, or creating the account for a new address), becomes staff.
Only a hash of the link's secret is stored; it is shown once, to be passed on.
"""
from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..errors import Conflict, Gone, NotFound, field_error
from ..extensions import db
from ..models_base import utcnow
from ..registry.models import Producer
from ..services_common import audit
from .models import Membership, MembershipRole, Role, StaffInvitation, User
from .permissions import Action, require
from . import services

INVITATION_DAYS = 14


class InvitationState(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


def state_of(invitation: StaffInvitation) -> InvitationState:
    if invitation.accepted_at is not None:
        return InvitationState.ACCEPTED
    if invitation.cancelled_at is not None:
        return InvitationState.CANCELLED
    if invitation.expires_at <= utcnow():
        return InvitationState.EXPIRED
    return InvitationState.OPEN


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invitation_url(secret: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/invite/{secret}"


def invite_staff(owner: User, producer: Producer, data: dict[str, Any]) -> tuple[StaffInvitation, str]:
    """An open invitation for `data["email"]` and its secret (shown once). The same answer
    whatever the address: nothing about its account is looked up here."""
    require(owner, Action.MANAGE_STAFF, producer)
    email = services.normalize_email(data.get("email"))
    if email is None:
        raise field_error("email", _("Vui lòng nhập email."))
    now = utcnow()
    for open_one in db.session.scalars(sa.select(StaffInvitation).where(
            StaffInvitation.producer_id == producer.id, StaffInvitation.email == email,
            StaffInvitation.accepted_at.is_(None), StaffInvitation.cancelled_at.is_(None))):
        open_one.cancelled_at = now  # a new link replaces the old one
    secret = secrets.token_urlsafe(24)
    invitation = StaffInvitation(producer_id=producer.id, invited_by_id=owner.id, email=email,
                                 full_name=(data.get("full_name") or None),
                                 secret_hash=_digest(secret), created_at=now,
                                 expires_at=now + timedelta(days=INVITATION_DAYS))
    db.session.add(invitation)
    db.session.flush()
    audit(owner, "staff.invite", invitation, producer_id=producer.id)
    return invitation, secret


def invitations_of(owner: User, producer: Producer) -> list[StaffInvitation]:
    require(owner, Action.MANAGE_STAFF, producer)
    return list(db.session.scalars(sa.select(StaffInvitation).where(
        StaffInvitation.producer_id == producer.id, StaffInvitation.accepted_at.is_(None),
        StaffInvitation.cancelled_at.is_(None), StaffInvitation.expires_at > utcnow())
        .order_by(StaffInvitation.id.desc())))


def cancel_invitation(owner: User, producer: Producer, invitation_id: int) -> StaffInvitation:
    require(owner, Action.MANAGE_STAFF, producer)
    invitation = db.session.get(StaffInvitation, invitation_id)
    if invitation is None or invitation.producer_id != producer.id:
        raise NotFound(_("Không tìm thấy lời mời này."))
    if state_of(invitation) == InvitationState.OPEN:
        invitation.cancelled_at = utcnow()
        audit(owner, "staff.invite_cancel", invitation, producer_id=producer.id)
    db.session.flush()
    return invitation


def open_invitation(secret: str) -> StaffInvitation:
    invitation = db.session.scalar(sa.select(StaffInvitation).where(
        StaffInvitation.secret_hash == _digest(secret or "")))
    if invitation is None:
        raise NotFound(_("Liên kết mời không đúng."))
    state = state_of(invitation)
    if state != InvitationState.OPEN:
        raise Gone(_gone_message(state), {"invitation": [state.value]})
    return invitation


def _gone_message(state: InvitationState) -> str:
    return {InvitationState.ACCEPTED: _("Lời mời này đã được dùng."),
            InvitationState.CANCELLED: _("Lời mời này đã bị hủy. Hãy xin chủ tài khoản một liên kết mới."),
            InvitationState.EXPIRED: _("Lời mời này đã hết hạn. Hãy xin chủ tài khoản một liên kết mới.")}[state]


def accept_invitation(secret: str, data: dict[str, Any]) -> User:
    """The invitee accepts: with the password of the invited address's account, or by
    creating that account. One time only, even under concurrent requests."""
    invitation = open_invitation(secret)
    # The same checks, in the same order, whether the address has an account or not: the
    # link's holder learns nothing from the answers that the owner could not learn anyway.
    full_name = (data.get("full_name") or invitation.full_name or "").strip()
    if not full_name:
        raise field_error("full_name", _("Vui lòng nhập họ và tên."))
    services.check_password_rules(data.get("password") or "", data.get("password_confirm") or "")
    user = db.session.scalar(sa.select(User).where(User.email == invitation.email))
    if user is None:
        user = services._new_user(email=invitation.email, phone=None, full_name=full_name,
                                  password=data["password"], role=Role.PRODUCER)
    else:
        user = services.authenticate(invitation.email, data["password"])
        if user.role != Role.PRODUCER:
            raise field_error("email", _("Tài khoản này là tài khoản cán bộ hoặc đơn vị tư vấn, "
                                         "không thể làm nhân viên của chủ thể."), Conflict)
    now = utcnow()
    accepted = db.session.execute(
        sa.update(StaffInvitation).where(
            StaffInvitation.id == invitation.id, StaffInvitation.accepted_at.is_(None),
            StaffInvitation.cancelled_at.is_(None), StaffInvitation.expires_at > now)
        .values(accepted_at=now, accepted_by_id=user.id).execution_options(synchronize_session=False))
    if accepted.rowcount != 1:
        db.session.refresh(invitation)
        raise Gone(_gone_message(state_of(invitation)), {"invitation": [state_of(invitation).value]})
    member = db.session.scalar(sa.select(Membership).where(
        Membership.user_id == user.id, Membership.producer_id == invitation.producer_id,
        Membership.ended_at.is_(None)))
    if member is None:
        member = Membership(user_id=user.id, producer_id=invitation.producer_id,
                            role=MembershipRole.STAFF)
        db.session.add(member)
    db.session.flush()
    audit(user, "staff.join", member, producer_id=invitation.producer_id,
                   invitation_id=invitation.id)
    return user
