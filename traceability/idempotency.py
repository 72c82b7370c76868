"""Idempotency keys: a write sent again with the key of an earlier one is answered with that
earlier response instead of being done twice.

A client that loses the answer to a write (a dropped connection, a proxy's timeout, a 503
while the database restarts) cannot know whether it was stored; in an append-only diary a
blind retry makes a duplicate step. With a key (the API's `Idempotency-Key` header, the
producer form's hidden field), the first request claims the key for its caller in the same
transaction as its write, and the response it answers with is stored beside the claim when
the request commits (web.py). A retry with the same key and the same content gets the
stored status and body; the same key with other content is refused, naming the key. Two
requests racing with one key meet on the unique index (PostgreSQL) or the write lock
(SQLite): the second waits for the first to commit, then gets its response. Only successful
responses are kept: a refused or failed request rolls its claim back with everything else.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from flask import Request, Response, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import HiddenField

from .errors import Conflict, DomainError, ValidationFailed, field_error
from .extensions import db
from .models_base import TZDateTime, utcnow

if TYPE_CHECKING:
    from .accounts.models import User

HEADER = "Idempotency-Key"
# A UUID, a ULID or any other token of visible ASCII (Stripe's rule: up to 255 characters).
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY = re.compile(KEY_PATTERN)
# Not part of the content: the form's CSRF token and the key itself.
UNHASHED_FIELDS = frozenset({"csrf_token", "idempotency_key"})
_CLAIM = "idempotency_claim"
KEY_MESSAGE = _l("Idempotency-Key gồm từ 1 đến 255 ký tự ASCII in được, không có khoảng trắng.")


class IdempotencyKey(db.Model):
    """A caller's key, the request that first came with it, and the response it was given."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(sa.String(255))
    method: Mapped[str] = mapped_column(sa.String(10))
    path: Mapped[str] = mapped_column(sa.String(500))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    # Empty only inside the transaction that claims the key: it is filled before the commit.
    status: Mapped[Optional[int]]
    content_type: Mapped[Optional[str]] = mapped_column(sa.String(100))
    location: Mapped[Optional[str]] = mapped_column(sa.String(1000))
    body: Mapped[Optional[str]] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    def __repr__(self) -> str:
        return f"<IdempotencyKey {self.id} user={self.user_id} {self.method} {self.path}>"


class IdempotencyKeyHeader(Schema):
    """The optional header, as the API documents and checks it."""

    key = fields.Str(data_key=HEADER,
                     validate=[validate.Length(min=1, max=255, error=KEY_MESSAGE),
                               validate.Regexp(KEY_PATTERN, error=KEY_MESSAGE)],
                     metadata={"description": (
                         "Any unique value (a UUID) that the client keeps for this one write. "
                         "Sent again with the same content, the write is not repeated: the "
                         "first response is answered again (with `Idempotent-Replayed: true`). "
                         "The same key with other content is a 422 naming this header.")})


class KeyField(HiddenField):
    """A form's hidden key: a new one each time the form is rendered, so one rendered form
    is one write however often it is submitted."""

    def _value(self) -> str:
        return new_key()


def new_key() -> str:
    return secrets.token_urlsafe(24)


def fingerprint(req: Request) -> str:
    """What a request asks for, whatever its encoding: the parsed JSON body, or the form's
    fields and the content of its files (a retried upload has a new multipart boundary)."""
    digest = hashlib.sha256()

    def part(*items: str | bytes) -> None:
        for item in items:
            digest.update(item.encode() if isinstance(item, str) else item)
            digest.update(b"\0")

    part("query", json.dumps(sorted(req.args.items(multi=True))))
    if req.is_json:
        body = req.get_json(silent=True)
        if body is None:
            part("raw", req.get_data())
        else:
            part("json", json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
        return digest.hexdigest()
    for name, value in sorted(req.form.items(multi=True)):
        if name not in UNHASHED_FIELDS:
            part("form", name, value)
    for name, upload in sorted(req.files.items(multi=True), key=lambda item: item[0]):
        content = hashlib.file_digest(upload.stream, "sha256").hexdigest()  # type: ignore[arg-type]
        upload.stream.seek(0)
        part("file", name, content)
    return digest.hexdigest()


def _find(user_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.user_id == user_id,
                                                             IdempotencyKey.key == key))


def claim(user: User, key: str | None, field: str | None = HEADER) -> Response | None:
    """Claim `key` for this request: None when the request should go on and do its write;
    the stored response when the same request came first with this key.

    The same key with another request is a 422 naming `field` (the header), or with no
    field (a form) a refusal for the whole form. Without a key, nothing is claimed.
    """
    if key is None:
        return None
    if not _KEY.match(key):
        raise _refusal(field, str(KEY_MESSAGE))
    user_id = user.id
    asked = fingerprint(request)
    found = _find(user_id, key)
    if found is None:
        record = IdempotencyKey(user_id=user_id, key=key, method=request.method,
                                path=request.path, fingerprint=asked)
        db.session.add(record)
        try:
            db.session.flush()
        except IntegrityError:
            # Claimed meanwhile by a request that has committed since (this flush waited
            # for it): nothing of this request is written yet, so all of it can go.
            db.session.rollback()
            found = _find(user_id, key)
        else:
            setattr(g, _CLAIM, record)
            return None
    if found is None or found.status is None:
        raise Conflict(_("Một yêu cầu khác với cùng khóa này đang được xử lý. Vui lòng thử lại "
                         "sau ít giây."))
    if (found.method, found.path, found.fingerprint) != (request.method, request.path, asked):
        if field is None:
            raise ValidationFailed(_("Biểu mẫu này đã được gửi trước đó với nội dung khác. Nội "
                                     "dung mới chưa được lưu: hãy kiểm tra rồi gửi lại."))
        raise _refusal(field, _("%(header)s này đã được dùng cho một yêu cầu khác; mỗi thao tác "
                                "mới cần một khóa mới.", header=HEADER))
    return _replay(found)


def _refusal(field: str | None, message: str) -> DomainError:
    return field_error(field, message) if field else ValidationFailed(message)


def _replay(found: IdempotencyKey) -> Response:
    response = Response(found.body or "", status=found.status, content_type=found.content_type)
    if found.location:
        response.headers["Location"] = found.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def remember(response: Response) -> None:
    """Keep a successful response beside the key its request claimed, before the commit."""
    record: IdempotencyKey | None = g.pop(_CLAIM, None)
    if record is None:
        return
    record.status = response.status_code
    record.content_type = response.content_type
    record.location = response.headers.get("Location")
    record.body = response.get_data(as_text=True)


def forget() -> None:
    """The request failed: its claim is rolled back with the rest."""
    g.pop(_CLAIM, None)
