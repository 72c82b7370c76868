"""Demo accounts: an admin, a provincial officer and inspector, a consultant, and handed-over owners."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..config import ConfigError
from ..extensions import db
from ..models_base import utcnow
from ..registry.models import Producer, Region
from .models import Handover, Membership, MembershipRole, Role, User
from .services import claim_state, claim_url, claim_secret, hash_password, issue_handover

DEV_DEMO_PASSWORD = "ocop-demo-2026"
DEMO_DOMAIN = "demo.ocop.example"  # .example is reserved (RFC 2606): these addresses receive no mail
CONSULTANT_PRODUCERS = 8

STAFF: list[tuple[str, Role, str, str]] = [
    ("admin", Role.ADMIN, "Quản trị hệ thống (demo)", "OCOP Trace"),
    ("canbo.tinh", Role.OFFICER, "Nguyễn Thị Cán Bộ (demo)", "Văn phòng Điều phối Nông thôn mới tỉnh Quảng Ngãi"),
    ("kiemtra.tinh", Role.INSPECTOR, "Trần Văn Kiểm Tra (demo)", "Chi cục Quản lý thị trường tỉnh Quảng Ngãi"),
    ("tuvan", Role.CONSULTANT, "Lê Minh Tư Vấn (demo)", "Công ty Tư vấn OCOP Miền Trung (demo)"),
]


def demo_password() -> str:
    """DEMO_PASSWORD from the environment; the built-in one only in development and tests."""
    password = os.environ.get("DEMO_PASSWORD")
    if password:
        return password
    if current_app.config.get("APP_ENV") in ("development", "test"):
        return DEV_DEMO_PASSWORD
    raise ConfigError("Set DEMO_PASSWORD to load demo accounts outside development and tests.")


def _email(name: str) -> str:
    return f"{name}@{DEMO_DOMAIN}"


def _demo_producers() -> list[Producer]:
    from ..demo import DEMO_PRODUCTS, demo_tax_code

    codes = [demo_tax_code(i) for i in range(1, len(DEMO_PRODUCTS) + 1)]
    found = {p.tax_code: p for p in db.session.scalars(sa.select(Producer).where(Producer.tax_code.in_(codes)))}
    return [found[c] for c in codes if c in found]


def load_demo_accounts() -> dict[str, int]:
    """Create what is missing (matched on e-mail and membership); existing rows are left alone."""
    from ..demo import PROVINCE, load_regions

    created = {"users": 0, "memberships": 0, "handovers": 0}
    password_hash: list[str] = []

    def get_user(name: str, role: Role, full_name: str, organisation: str | None) -> User:
        user = db.session.scalar(sa.select(User).where(User.email == _email(name)))
        if user is None:
            if not password_hash:  # one Argon2 hash for every demo account keeps loading quick
                password_hash.append(hash_password(demo_password()))
            user = User(email=_email(name), full_name=full_name, role=role, organisation=organisation,
                        password_hash=password_hash[0])
            db.session.add(user)
            db.session.flush()
            created["users"] += 1
        return user

    province = db.session.scalar(sa.select(Region).where(Region.code == PROVINCE[0]))
    if province is None:
        load_regions()
        province = db.session.scalar(sa.select(Region).where(Region.code == PROVINCE[0]))
    people = {name: get_user(name, role, full_name, org) for name, role, full_name, org in STAFF}
    for name in ("canbo.tinh", "kiemtra.tinh"):
        if province not in people[name].regions:
            people[name].regions.append(province)
    consultant = people["tuvan"]

    def ensure_membership(user: User, producer: Producer, role: MembershipRole) -> None:
        exists = db.session.scalar(sa.select(Membership.id).where(
            Membership.user_id == user.id, Membership.producer_id == producer.id, Membership.role == role))
        if exists is None:
            db.session.add(Membership(user_id=user.id, producer_id=producer.id, role=role))
            created["memberships"] += 1

    producers = _demo_producers()
    for index, producer in enumerate(producers, start=1):
        if index <= CONSULTANT_PRODUCERS:
            ensure_membership(consultant, producer, MembershipRole.CONSULTANT)
            continue
        owner = get_user(f"chuthe{index:02d}", Role.PRODUCER, producer.representative or f"Chủ thể {index}",
                         producer.name)
        ensure_membership(owner, producer, MembershipRole.OWNER)
        has_record = db.session.scalar(sa.select(Handover.id).where(Handover.producer_id == producer.id))
        if has_record is None:
            # The handover that made this owner, as if the consultant had done it 30 days ago.
            when = utcnow().replace(microsecond=0) - timedelta(days=30)
            db.session.add(Handover(producer_id=producer.id, issued_by_id=consultant.id,
                                    claim_hash=secrets.token_hex(32), representative_name=owner.full_name,
                                    created_at=when - timedelta(days=2), expires_at=when + timedelta(days=12),
                                    redeemed_at=when, redeemed_by_id=owner.id))
            created["handovers"] += 1
    db.session.flush()
    # One claim waiting to be redeemed, so the officers' list shows every state.
    if producers and db.session.scalar(
            sa.select(Handover.id).where(Handover.producer_id == producers[0].id)) is None:
        issue_handover(consultant, producers[0], days=14, representative_name=producers[0].representative)
        created["handovers"] += 1
    return created


def demo_logins() -> list[str]:
    """Human-readable lines: who can sign in with what, and any open demo claim link."""
    password = os.environ.get("DEMO_PASSWORD") and "(DEMO_PASSWORD)" or DEV_DEMO_PASSWORD
    users = db.session.scalars(sa.select(User).where(User.email.like(f"%@{DEMO_DOMAIN}")).order_by(User.id))
    lines = [f"{u.role.value:<10} {u.email:<36} {password}  {u.full_name}" for u in users]
    for handover in db.session.scalars(sa.select(Handover).order_by(Handover.id)):
        if claim_state(handover).value == "open" and handover.producer.is_demo:
            lines.append(f"claim      {handover.producer.name}: {claim_url(claim_secret(handover))}")
    return lines
