"""Rules for accounts: passwords, sign-in, API tokens, staff and the handover claim."""
from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import Conflict, Forbidden, Gone, InvalidState, NotFound, ValidationFailed, field_error
from ..extensions import db
from ..models_base import utcnow
from ..registry.models import Producer, Product, Region
from ..services_common import audit, get_or_404
from .auth import token_digest
from .models import ApiToken, Handover, Membership, MembershipRole, Role, User
from .permissions import Action, refuse_limited_token, region_scope, require, require_role

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
TOKEN_PREFIX = "ocop_"
CLAIM_DAYS_DEFAULT = 14
CLAIM_DAYS_MAX = 90
# Users who signed up with a phone only still need a unique e-mail column value; the
# reserved .invalid domain (RFC 2606) guarantees it can never receive mail.
PHONE_ONLY_DOMAIN = "sdt.invalid"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?\d{9,15}$")

# Argon2id with the library's RFC 9106 defaults; a change of parameters here makes
# check_needs_rehash() true and the next sign-in upgrades the stored hash.
_hasher = PasswordHasher()


# ------------------------------------------------------------------ users, passwords

def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str, confirm: str | None = None, field: str = "password") -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise field_error(field, _("Mật khẩu phải có ít nhất %(n)d ký tự.", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise field_error(field, _("Mật khẩu quá dài (tối đa %(n)d ký tự).", n=MAX_PASSWORD_LENGTH))
    if confirm is not None and confirm != password:
        raise field_error("password_confirm", _("Hai mật khẩu nhập không khớp nhau."))


def normalize_email(value: str | None, field: str = "email") -> str | None:
    value = (value or "").strip().lower()
    if not value:
        return None
    if len(value) > 254 or not _EMAIL.match(value):
        raise field_error(field, _("Địa chỉ email không hợp lệ."))
    return value


def normalize_phone(value: str | None, field: str = "phone") -> str | None:
    value = re.sub(r"[\s.\-()]", "", value or "")
    if not value:
        return None
    if not _PHONE.match(value):
        raise field_error(field, _("Số điện thoại không hợp lệ: 9 đến 15 chữ số."))
    return value


def canonical_login(login: str | None) -> str:
    """A login as stored: e-mails in lower case, phones without spaces, dots or dashes."""
    login = (login or "").strip()
    if "@" in login:
        return login.lower()
    return re.sub(r"[\s.\-()]", "", login)


def find_user_by_login(login: str) -> User | None:
    """A user by e-mail, or by phone for representatives who signed up without e-mail."""
    login = canonical_login(login)
    if not login:
        return None
    if "@" in login:
        return db.session.scalar(sa.select(User).where(User.email == login))
    return db.session.scalars(sa.select(User).where(User.phone == login).order_by(User.id)).first()


def authenticate(login: str, password: str) -> User:
    """The user whose credentials these are; one vague message for any mismatch."""
    user = find_user_by_login(login)
    wrong = ValidationFailed(_("Email/số điện thoại hoặc mật khẩu không đúng."))
    if user is None or not user.password_hash:
        # Spend the same time as a real check so response times do not reveal accounts.
        try:
            _hasher.verify(_dummy_hash(), password or "x")
        except VerificationError:
            pass
        raise wrong
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise wrong from None
    if not user.is_active:
        raise Forbidden(_("Tài khoản này đã bị khóa. Vui lòng liên hệ quản trị viên."))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(_hasher.hash(secrets.token_hex(8)))
    return _DUMMY[0]


def _ensure_email_free(email: str) -> None:
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise field_error("email", _("Email này đã có tài khoản."), Conflict)


def _ensure_phone_free(phone: str) -> None:
    if db.session.scalar(sa.select(User.id).where(User.phone == phone)) is not None:
        raise field_error("phone", _("Số điện thoại này đã có tài khoản."), Conflict)


def _new_user(*, email: str | None, phone: str | None, full_name: str, password: str,
              role: Role, organisation: str | None = None) -> User:
    full_name = (full_name or "").strip()
    if not full_name:
        raise field_error("full_name", _("Vui lòng nhập họ và tên."))
    if len(full_name) > 120:
        raise field_error("full_name", _("Họ và tên quá dài (tối đa 120 ký tự)."))
    if email is None and phone is None:
        raise field_error("email", _("Vui lòng nhập email hoặc số điện thoại."))
    if email is not None:
        _ensure_email_free(email)
    if phone is not None:
        _ensure_phone_free(phone)
    if email is None:
        email = f"{phone.lstrip('+')}@{PHONE_ONLY_DOMAIN}"  # type: ignore[union-attr]
        _ensure_email_free(email)
    user = User(email=email, phone=phone, full_name=full_name, role=role,
                password_hash=hash_password(password), organisation=organisation)
    db.session.add(user)
    db.session.flush()
    return user


def create_user(actor: User | None, data: dict[str, Any]) -> User:
    """An admin creates an account; officers and inspectors get their regions (by code)."""
    if actor is not None:
        require_role(actor, [Role.ADMIN])
        refuse_limited_token(actor)
    role = Role(data["role"])
    email = normalize_email(data.get("email"))
    if email is None:
        raise field_error("email", _("Vui lòng nhập email."))
    password = data.get("password") or ""
    check_password_rules(password)
    regions: list[Region] = []
    for code in data.get("region_codes") or []:
        region = db.session.scalar(sa.select(Region).where(Region.code == code))
        if region is None:
            raise field_error("region_codes", _("Không tìm thấy địa bàn mã %(code)s.", code=code))
        regions.append(region)
    if role in (Role.OFFICER, Role.INSPECTOR) and not regions:
        raise field_error("region_codes", _("Cán bộ và kiểm tra viên cần ít nhất một địa bàn phụ trách."))
    user = _new_user(email=email, phone=normalize_phone(data.get("phone")),
                     full_name=data.get("full_name", ""), password=password, role=role,
                     organisation=data.get("organisation"))
    user.regions = regions
    db.session.flush()
    audit(actor, "user.create", user, role=role.value, regions=[r.code for r in regions])
    return user


# ---------------------------------------------------------------------- API tokens

def create_token(user: User, name: str, expires_in_days: int | None = None,
                 producer: Producer | None = None) -> tuple[ApiToken, str]:
    """A new personal token; the secret is returned once and only its SHA-256 is kept."""
    refuse_limited_token(user)
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise field_error("name", _("Tên mã truy cập phải có từ 1 đến 80 ký tự."))
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise field_error("expires_in_days", _("Thời hạn phải từ 1 đến 3650 ngày."))
    if producer is not None:
        require(user, Action.VIEW, producer)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken(
        user_id=user.id, producer_id=producer.id if producer else None, name=name,
        prefix=secret[:12], token_hash=token_digest(secret),
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None)
    db.session.add(token)
    db.session.flush()
    audit(user, "token.create", token, producer_id=token.producer_id, name=name)
    return token, secret


def list_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(user: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    # Someone else's token is "not found", so ids cannot be probed.
    if token is None or (token.user_id != user.id and user.role != Role.ADMIN):
        raise NotFound(_("Không tìm thấy mã truy cập #%(id)d.", id=token_id))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit(user, "token.revoke", token, producer_id=token.producer_id)
    db.session.flush()
    return token


def token_state(token: ApiToken, now: datetime | None = None) -> str:
    now = now or utcnow()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


# ----------------------------------------------------------------------- producers

def get_producer(producer_id: int) -> Producer:
    return get_or_404(Producer, producer_id, _("chủ thể"))


def producers_of(user: User) -> list[Producer]:
    """The producers a user works for through an active membership, by name."""
    return list(db.session.scalars(
        sa.select(Producer).join(Membership, Membership.producer_id == Producer.id)
        .where(Membership.user_id == user.id, Membership.ended_at.is_(None))
        .order_by(Producer.name)))


def members_of(user: User, producer: Producer) -> list[Membership]:
    require(user, Action.VIEW, producer)
    return list(db.session.scalars(
        sa.select(Membership).where(Membership.producer_id == producer.id,
                                    Membership.ended_at.is_(None)).order_by(Membership.id)))


# --------------------------------------------------------------------------- staff

def remove_staff(owner: User, producer: Producer, user_id: int) -> Membership:
    require(owner, Action.MANAGE_STAFF, producer)
    membership = db.session.scalar(sa.select(Membership).where(
        Membership.user_id == user_id, Membership.producer_id == producer.id,
        Membership.role == MembershipRole.STAFF, Membership.ended_at.is_(None)))
    if membership is None:
        raise NotFound(_("Không tìm thấy nhân viên này trong chủ thể."))
    membership.ended_at = utcnow()
    _revoke_tokens([user_id], producer.id)
    audit(owner, "staff.remove", membership, producer_id=producer.id, user_id=user_id)
    db.session.flush()
    return membership


def _revoke_tokens(user_ids: list[int], producer_id: int) -> int:
    if not user_ids:
        return 0
    result = db.session.execute(
        sa.update(ApiToken).where(ApiToken.user_id.in_(user_ids), ApiToken.producer_id == producer_id,
                                  ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


# ------------------------------------------------------------------------ handover

class ClaimState(enum.StrEnum):
    OPEN = "open"
    REDEEMED = "redeemed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


def claim_state(handover: Handover, now: datetime | None = None) -> ClaimState:
    if handover.redeemed_at is not None:
        return ClaimState.REDEEMED
    if handover.cancelled_at is not None:
        return ClaimState.CANCELLED
    if handover.expires_at <= (now or utcnow()):
        return ClaimState.EXPIRED
    return ClaimState.OPEN


def open_claim_condition(now: datetime) -> sa.ColumnElement[bool]:
    """SQL twin of claim_state(handover, now) == ClaimState.OPEN."""
    return sa.and_(Handover.redeemed_at.is_(None), Handover.cancelled_at.is_(None), Handover.expires_at > now)


def claim_secret(handover: Handover) -> str:
    """The claim secret, re-derived from the server key so the record can be printed again.

    The database keeps only its SHA-256; without SECRET_KEY a copy of the database cannot
    produce a working claim link.
    """
    key = current_app.config["SECRET_KEY"].encode()
    message = f"ocop-handover-claim:{handover.id}:{handover.producer_id}:{int(handover.created_at.timestamp())}"
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def claim_url(secret: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/claim/{secret}"


def open_claim(producer_id: int) -> Handover | None:
    return db.session.scalars(sa.select(Handover).where(
        Handover.producer_id == producer_id, open_claim_condition(utcnow()))
        .order_by(Handover.id.desc())).first()


def handovers_of(user: User, producer: Producer) -> list[Handover]:
    require(user, Action.VIEW, producer)
    return list(db.session.scalars(sa.select(Handover).where(Handover.producer_id == producer.id)
                                   .order_by(Handover.id.desc())))


def issue_handover(user: User, producer: Producer, days: int = CLAIM_DAYS_DEFAULT,
                   representative_name: str | None = None) -> tuple[Handover, str]:
    """Issue a one-time claim for the producer's account; an open claim is cancelled first."""
    from .permissions import is_handed_over

    require(user, Action.HANDOVER, producer)
    if not isinstance(days, int) or not 1 <= days <= CLAIM_DAYS_MAX:
        raise field_error("days", _("Thời hạn nhận bàn giao phải từ 1 đến %(n)d ngày.", n=CLAIM_DAYS_MAX))
    if is_handed_over(producer.id):
        raise InvalidState(_("Chủ thể này đã nhận bàn giao tài khoản."))
    representative_name = (representative_name or "").strip() or producer.representative
    if representative_name and len(representative_name) > 120:
        raise field_error("representative_name", _("Tên người đại diện quá dài (tối đa 120 ký tự)."))
    now = utcnow().replace(microsecond=0)
    previous = open_claim(producer.id)
    if previous is not None:
        previous.cancelled_at = now
        audit(user, "handover.cancel", previous, reason="reissued")
    handover = Handover(producer_id=producer.id, issued_by_id=user.id,
                        # A random placeholder until the id exists; the secret depends on it.
                        claim_hash=secrets.token_hex(32), representative_name=representative_name,
                        created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(handover)
    db.session.flush()
    secret = claim_secret(handover)
    handover.claim_hash = token_digest(secret)
    audit(user, "handover.issue", handover, days=days, reissue_of=previous.id if previous else None)
    db.session.flush()
    return handover, secret


def get_handover(user: User, handover_id: int, producer: Producer | None = None) -> Handover:
    handover = db.session.get(Handover, handover_id)
    if handover is None or (producer is not None and handover.producer_id != producer.id):
        raise NotFound(_("Không tìm thấy đợt bàn giao #%(id)d.", id=handover_id))
    require(user, Action.VIEW, handover.producer)
    return handover


def cancel_handover(user: User, handover: Handover) -> Handover:
    require(user, Action.HANDOVER, handover.producer)
    state = claim_state(handover)
    if state != ClaimState.OPEN:
        raise InvalidState(_gone_message(state))
    handover.cancelled_at = utcnow()
    audit(user, "handover.cancel", handover, reason="cancelled")
    db.session.flush()
    return handover


def _gone_message(state: ClaimState) -> str:
    return {
        ClaimState.REDEEMED: _("Mã nhận bàn giao này đã được sử dụng. Tài khoản đã được bàn giao."),
        ClaimState.CANCELLED: _("Mã nhận bàn giao này đã bị hủy. Vui lòng liên hệ đơn vị tư vấn "
                                "hoặc cán bộ OCOP để nhận mã mới."),
        ClaimState.EXPIRED: _("Mã nhận bàn giao này đã hết hạn. Vui lòng liên hệ đơn vị tư vấn "
                              "hoặc cán bộ OCOP để nhận mã mới."),
    }.get(state, _("Mã nhận bàn giao không còn hiệu lực."))


def find_claim(secret: str) -> Handover:
    """The handover a claim secret belongs to, whatever its state, or NotFound."""
    handover = None
    if isinstance(secret, str) and 10 <= len(secret) <= 100:
        handover = db.session.scalar(sa.select(Handover).where(Handover.claim_hash == token_digest(secret)))
    if handover is None:
        raise NotFound(_("Mã nhận bàn giao không đúng. Vui lòng kiểm tra lại đường dẫn trên biên bản."))
    return handover


def open_claim_for(secret: str) -> Handover:
    """The handover of a still usable claim; 410 with the reason otherwise."""
    handover = find_claim(secret)
    state = claim_state(handover)
    if state != ClaimState.OPEN:
        raise Gone(_gone_message(state), {"claim": [state.value]})
    return handover


def redeem_claim(secret: str, data: dict[str, Any]) -> User:
    """The representative claims the account: becomes the owner, the issuer's access ends."""
    handover = open_claim_for(secret)
    email = normalize_email(data.get("email"))
    phone = normalize_phone(data.get("phone"))
    check_password_rules(data.get("password") or "", data.get("password_confirm") or "")
    now = utcnow()
    # The conditional update is the one-time guarantee: of two simultaneous redemptions
    # only one matches a row that is still open.
    claimed = db.session.execute(
        sa.update(Handover).where(Handover.id == handover.id, open_claim_condition(now))
        .values(redeemed_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.refresh(handover)
        raise Gone(_gone_message(claim_state(handover)), {"claim": [claim_state(handover).value]})
    owner = _new_user(email=email, phone=phone, full_name=data.get("full_name") or "",
                      password=data["password"], role=Role.PRODUCER)
    db.session.refresh(handover)
    handover.redeemed_by_id = owner.id
    producer_id = handover.producer_id
    db.session.add(Membership(user_id=owner.id, producer_id=producer_id, role=MembershipRole.OWNER))
    consultants = list(db.session.scalars(sa.select(Membership).where(
        Membership.producer_id == producer_id, Membership.role == MembershipRole.CONSULTANT,
        Membership.ended_at.is_(None))))
    for membership in consultants:
        membership.ended_at = now
    losing = sorted({m.user_id for m in consultants} | {handover.issued_by_id})
    revoked = _revoke_tokens(losing, producer_id)
    audit(owner, "handover.redeem", handover, ended_memberships=[m.id for m in consultants],
          revoked_tokens=revoked, issued_by_id=handover.issued_by_id)
    db.session.flush()
    return owner


# ------------------------------------------------------------------ officer status

class HandoverStatus(enum.StrEnum):
    HANDED_OVER = "handed_over"
    PENDING = "pending"
    NOT_STARTED = "not_started"


HANDOVER_STATUS_LABELS: dict[HandoverStatus, Any] = {
    HandoverStatus.HANDED_OVER: _l("Đã bàn giao"),
    HandoverStatus.PENDING: _l("Đang chờ nhận bàn giao"),
    HandoverStatus.NOT_STARTED: _l("Chưa bàn giao"),
}


@dataclass(frozen=True)
class ProducerHandoverRow:
    producer_id: int
    producer_name: str
    region_id: int
    state: HandoverStatus
    pending_since: datetime | None
    pending_days: int | None
    claim_expires_at: datetime | None
    handed_over_at: datetime | None


@dataclass(frozen=True)
class _HandoverColumns:
    """SQL expressions correlated to Producer: the one computation of a handover status."""

    state: sa.ColumnElement[str]
    pending_since: sa.ColumnElement[datetime]
    claim_expires_at: sa.ColumnElement[datetime]
    handed_over_at: sa.ColumnElement[datetime]


def _handover_columns(now: datetime) -> _HandoverColumns:
    """Handed over: an owner membership; pending: an open claim; not started: neither."""
    handed_over_at = (sa.select(sa.func.min(Membership.created_at))
                      .where(Membership.producer_id == Producer.id, Membership.role == MembershipRole.OWNER,
                             Membership.ended_at.is_(None))
                      .correlate(Producer).scalar_subquery())
    open_claims = sa.and_(Handover.producer_id == Producer.id, open_claim_condition(now))
    pending_since = (sa.select(sa.func.min(Handover.created_at)).where(open_claims)
                     .correlate(Producer).scalar_subquery())
    claim_expires_at = (sa.select(sa.func.max(Handover.expires_at)).where(open_claims)
                        .correlate(Producer).scalar_subquery())
    state = sa.case(
        (handed_over_at.is_not(None), HandoverStatus.HANDED_OVER.value),
        (pending_since.is_not(None), HandoverStatus.PENDING.value),
        else_=HandoverStatus.NOT_STARTED.value)
    return _HandoverColumns(state, pending_since, claim_expires_at, handed_over_at)


def handover_status_query(user: User, state: HandoverStatus | None = None) -> sa.Select:
    """Producers in the caller's regions with their handover state, for paginated lists."""
    require_role(user, [Role.ADMIN, Role.OFFICER])
    columns = _handover_columns(utcnow())
    stmt = sa.select(Producer.id, Producer.name, Producer.region_id, columns.state.label("state"),
                     columns.pending_since.label("pending_since"),
                     columns.claim_expires_at.label("claim_expires_at"),
                     columns.handed_over_at.label("handed_over_at")).order_by(Producer.name, Producer.id)
    if user.role == Role.OFFICER:
        stmt = stmt.where(Producer.region_id.in_(region_scope(user)))
    token_producer = getattr(user, "token_producer_id", None)
    if token_producer is not None:
        stmt = stmt.where(Producer.id == token_producer)
    if state is not None:
        stmt = stmt.where(columns.state == state.value)
    return stmt


def handover_statuses(producer_ids: list[int]) -> dict[int, HandoverStatus]:
    """Each producer's handover status, for reports whose scope the caller has checked."""
    state = _handover_columns(utcnow()).state
    rows = db.session.execute(sa.select(Producer.id, state).where(Producer.id.in_(producer_ids)))
    return {producer_id: HandoverStatus(value) for producer_id, value in rows}


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def handover_status_rows(rows: list[sa.Row]) -> list[ProducerHandoverRow]:
    now = utcnow()
    result = []
    for row in rows:
        since = _aware(row.pending_since) if row.state == HandoverStatus.PENDING.value else None
        result.append(ProducerHandoverRow(
            producer_id=row.id, producer_name=row.name, region_id=row.region_id,
            state=HandoverStatus(row.state), pending_since=since,
            pending_days=(now - since).days if since else None,
            claim_expires_at=_aware(row.claim_expires_at) if since else None,
            handed_over_at=_aware(row.handed_over_at)))
    return result


# -------------------------------------------------------------- the handover record

def handover_record(handover: Handover):  # -> render.handover_pdf.HandoverRecord
    """Everything the printed record shows, gathered from the database."""
    from ..batches.models import Batch
    from ..codes.models import LabelRun
    from ..gs1 import DigitalLink, build_uri
    from ..registry.status import VALIDITY_MONTHS, add_months
    from ..clock import local_today
    from ..render.handover_pdf import HandoverRecord, RecordProduct

    base = current_app.config["PUBLIC_BASE_URL"]
    producer = handover.producer
    default_validity = add_months(local_today(), VALIDITY_MONTHS)
    guaranteed = dict(db.session.execute(
        sa.select(Batch.product_id, sa.func.max(LabelRun.guaranteed_until))
        .join(LabelRun, LabelRun.batch_id == Batch.id)
        .join(Product, Product.id == Batch.product_id)
        .where(Product.producer_id == producer.id).group_by(Batch.product_id)).all())
    products = []
    for product in producer.products:
        if product.gtin:
            url = build_uri(base, DigitalLink(gtin=product.gtin))
        else:
            url = build_uri(base, DigitalLink(gtin=None, trace_code=product.trace_code))
        products.append(RecordProduct(name=product.name_vi, gtin=product.gtin,
                                      trace_code=product.trace_code, trace_url=url,
                                      valid_until=guaranteed.get(product.id) or default_validity))
    secret = claim_secret(handover)
    issuer = handover.issued_by
    return HandoverRecord(
        number=f"BG-{handover.id:06d}", made_on=handover.created_at,
        producer_name=producer.name, producer_address=producer.address,
        producer_tax_code=producer.tax_code, representative_name=handover.representative_name,
        issuer_name=issuer.full_name, issuer_organisation=issuer.organisation,
        issuer_role=issuer.role.value, products=products, claim_url=claim_url(secret),
        claim_expires_at=handover.expires_at, default_validity_months=VALIDITY_MONTHS)


def handover_record_pdf(user: User, handover: Handover) -> bytes:
    """The printable record of an open claim; only those who may hand over get it."""
    from ..render.handover_pdf import render_handover_pdf

    require(user, Action.HANDOVER, handover.producer)
    state = claim_state(handover)
    if state != ClaimState.OPEN:
        raise Gone(_gone_message(state), {"claim": [state.value]})
    return render_handover_pdf(handover_record(handover))
