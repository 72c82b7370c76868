"""Who is calling: session users for the web UI, bearer tokens for the API."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa
from flask import Request

from ..extensions import db, login_manager
from ..models_base import utcnow
from .models import ApiToken, User


LAST_USED_GRANULARITY = timedelta(minutes=1)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.is_active:
        return None
    user.token_producer_id = None  # a session is never limited to one producer
    return user


@login_manager.request_loader
def load_user_from_token(request: Request) -> User | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = db.session.scalar(sa.select(ApiToken).where(
        ApiToken.token_hash == token_digest(header[7:].strip())))
    now = utcnow()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        # Committed on its own, now: a read-only request (most API calls) never commits, and
        # its session would throw the stamp away. A minute's precision spares a write per call.
        token.last_used_at = now
        db.session.commit()
    # A token limited to one producer limits the request: permissions.allowed_actions reads it.
    token.user.token_producer_id = token.producer_id
    return token.user


def api_user() -> User:
    """The caller of an API endpoint, or 401.

    State-changing API calls must carry a Bearer token: the API is exempt from CSRF, so a
    session cookie alone is accepted only for safe (GET/HEAD) requests, such as the
    producer UI's download links.
    """
    from flask import abort, request
    from flask_babel import gettext as _
    from flask_login import current_user

    if not current_user.is_authenticated:
        if request.headers.get("Authorization", "").startswith("Bearer "):
            abort(401, description=_("Mã truy cập (token) không hợp lệ, đã hết hạn hoặc đã bị thu hồi, "
                                     "ví dụ sau khi bàn giao tài khoản. Hãy đăng nhập và tạo mã mới."))
        abort(401)
    if request.method not in ("GET", "HEAD", "OPTIONS") and not request.headers.get(
            "Authorization", "").startswith("Bearer "):
        abort(401)
    return current_user._get_current_object()  # type: ignore[no-any-return]
