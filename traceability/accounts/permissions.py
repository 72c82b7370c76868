"""Object-level permissions: who may do what to which producer. Every service asks here."""
from __future__ import annotations

import enum
from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import gettext as _

from ..errors import Forbidden
from ..extensions import db
from ..registry.models import Producer, Region
from .models import Membership, MembershipRole, Role, User, user_regions


class Action(enum.StrEnum):
    VIEW = "view"                  # read everything about the producer, incl. private data
    EDIT = "edit"                  # products, batches, diary, label runs
    MANAGE_STAFF = "manage_staff"  # add or remove the producer's staff
    HANDOVER = "handover"          # issue, cancel and reissue the claim
    CERTIFY = "certify"            # register, re-evaluate and revoke certificates
    INSPECT = "inspect"            # record inspections


def region_scope(user: User) -> set[int]:
    """The ids of the user's regions and of every unit below them."""
    roots = sa.select(user_regions.c.region_id).where(user_regions.c.user_id == user.id)
    tree = sa.select(Region.id).where(Region.id.in_(roots)).cte("scope", recursive=True)
    tree = tree.union_all(sa.select(Region.id).where(Region.parent_id == tree.c.id))
    return set(db.session.scalars(sa.select(tree.c.id)))


def active_membership(user: User, producer_id: int) -> Membership | None:
    return db.session.scalar(sa.select(Membership).where(
        Membership.user_id == user.id, Membership.producer_id == producer_id,
        Membership.ended_at.is_(None)))


def is_handed_over(producer_id: int) -> bool:
    return db.session.scalar(sa.select(sa.func.count(Membership.id)).where(
        Membership.producer_id == producer_id, Membership.role == MembershipRole.OWNER,
        Membership.ended_at.is_(None))) > 0


def token_producer_id(user: User) -> int | None:
    """The producer the caller's API token is limited to, if it came with such a token."""
    return getattr(user, "token_producer_id", None)


def allowed_actions(user: User | None, producer: Producer) -> set[Action]:
    if user is None or not getattr(user, "is_active", False) or not user.is_authenticated:
        return set()
    limited_to = token_producer_id(user)
    if limited_to is not None and limited_to != producer.id:
        return set()
    if user.role == Role.ADMIN:
        return set(Action)
    if user.role in (Role.OFFICER, Role.INSPECTOR):
        if producer.region_id not in region_scope(user):
            return set()
        if user.role == Role.INSPECTOR:
            return {Action.VIEW, Action.INSPECT}
        actions = {Action.VIEW, Action.CERTIFY, Action.HANDOVER}
        # An officer may set a producer up like a consultant, until the handover.
        if not is_handed_over(producer.id):
            actions.add(Action.EDIT)
        return actions
    membership = active_membership(user, producer.id)
    if membership is None:
        return set()
    if membership.role == MembershipRole.CONSULTANT:
        return {Action.VIEW, Action.EDIT, Action.HANDOVER}
    if membership.role == MembershipRole.OWNER:
        return {Action.VIEW, Action.EDIT, Action.MANAGE_STAFF}
    return {Action.VIEW, Action.EDIT}


def can(user: User | None, action: Action, producer: Producer) -> bool:
    return action in allowed_actions(user, producer)


def require(user: User | None, action: Action, producer: Producer) -> None:
    """Raise Forbidden unless the user may do `action` to this producer."""
    if not can(user, action, producer):
        raise Forbidden(_("Bạn không có quyền thực hiện thao tác này với chủ thể OCOP này."))


def require_role(user: User | None, roles: Iterable[Role]) -> None:
    if user is None or not user.is_authenticated or user.role not in set(roles):
        raise Forbidden(_("Tài khoản của bạn không có vai trò phù hợp cho thao tác này."))


def refuse_limited_token(user: User) -> None:
    """Actions beyond one producer (new accounts, tokens, producers) need the caller's full rights."""
    if token_producer_id(user) is not None:
        raise Forbidden(_("Mã truy cập chỉ dùng cho một chủ thể không được phép thực hiện thao tác này."))


def visible_producer_ids(user: User) -> sa.Select | None:
    """A subquery of the producer ids the user may VIEW; None means all (admin)."""
    limited_to = token_producer_id(user)
    if user.role == Role.ADMIN:
        visible = None
    else:
        visible = _visible(user)
    if limited_to is None:
        return visible
    stmt = sa.select(Producer.id).where(Producer.id == limited_to)
    return stmt if visible is None else stmt.where(Producer.id.in_(visible))


def _visible(user: User) -> sa.Select:
    if user.role in (Role.OFFICER, Role.INSPECTOR):
        return sa.select(Producer.id).where(Producer.region_id.in_(region_scope(user)))
    return sa.select(Membership.producer_id).where(
        Membership.user_id == user.id, Membership.ended_at.is_(None))
