"""Users, roles, producer memberships, API tokens, handovers and the audit log."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models_base import TZDateTime, enum_column, utcnow
from ..registry.models import Producer, Region


class Role(enum.StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"
    CONSULTANT = "consultant"
    INSPECTOR = "inspector"
    PRODUCER = "producer"


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[Optional[str]] = mapped_column(sa.String(20))
    password_hash: Mapped[Optional[str]] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    organisation: Mapped[Optional[str]] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", foreign_keys="Membership.user_id")
    regions: Mapped[list[Region]] = relationship(secondary="user_regions")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


user_regions = sa.Table(
    "user_regions",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("region_id", sa.ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True),
)


class MembershipRole(enum.StrEnum):
    OWNER = "owner"
    STAFF = "staff"
    CONSULTANT = "consultant"


class Membership(db.Model):
    """A user's access to one producer; consultants' memberships end at handover."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    producer_id: Mapped[int] = mapped_column(sa.ForeignKey("producers.id"), index=True)
    role: Mapped[MembershipRole] = mapped_column(enum_column(MembershipRole, "membership_role"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    ended_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    producer: Mapped[Producer] = relationship()

    def __repr__(self) -> str:
        return f"<Membership user={self.user_id} producer={self.producer_id} {self.role}>"


class ApiToken(db.Model):
    """A personal API token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # A token limited to one producer is revoked with the user's access at handover.
    producer_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("producers.id"))
    name: Mapped[str] = mapped_column(sa.String(80))
    prefix: Mapped[str] = mapped_column(sa.String(12))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    expires_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix}… user={self.user_id}>"


class Handover(db.Model):
    """A one-time claim that makes a producer's representative the owner of its account."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_id: Mapped[int] = mapped_column(sa.ForeignKey("producers.id"), index=True)
    issued_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    claim_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    representative_name: Mapped[Optional[str]] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
    redeemed_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    redeemed_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)

    producer: Mapped[Producer] = relationship()
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    redeemed_by: Mapped[Optional[User]] = relationship(foreign_keys=[redeemed_by_id])

    def __repr__(self) -> str:
        return f"<Handover {self.id} producer={self.producer_id}>"


class AuditEntry(db.Model):
    """Who did what to which object, and when; written by services, never edited."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(60))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[Optional[int]]
    producer_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("producers.id"), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action} {self.object_type}:{self.object_id}>"


class StaffInvitation(db.Model):
    """An owner's invitation to join its producer as staff, accepted by the invitee.

    Nobody becomes staff without consent: the owner names an e-mail and gets a one-time link
    to pass on; the person who opens it signs in (or, for a new address, creates the
    account) and only then becomes a member. The owner learns nothing about the address:
    every invitation looks the same whether the e-mail has an account or not."""

    __tablename__ = "staff_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_id: Mapped[int] = mapped_column(sa.ForeignKey("producers.id"), index=True)
    invited_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    email: Mapped[str] = mapped_column(sa.String(254))
    full_name: Mapped[Optional[str]] = mapped_column(sa.String(120))
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
    accepted_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    accepted_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)

    producer: Mapped[Producer] = relationship()

    def __repr__(self) -> str:
        return f"<StaffInvitation {self.id} producer={self.producer_id}>"
