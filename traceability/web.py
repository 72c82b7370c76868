"""What the HTML views and the API endpoints share: the sign-in and role guard, a service's
refusal shown on a form, and one commit per request."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, request
from flask_babel import gettext as _
from flask_login import current_user

from . import idempotency
from .errors import DomainError, Forbidden
from .extensions import db

if TYPE_CHECKING:
    from .accounts.models import Role

# Requests that change nothing; their session is discarded with the request.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def signed_in(*roles: Role, refusal: Any = None) -> Callable:
    """Guard a page: anonymous visitors are sent to the sign-in page (and come back after);
    when `roles` are given, a signed-in user of another role gets 403 with `refusal`."""
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if allowed and current_user.role not in allowed:
                raise Forbidden(str(refusal or _("Tài khoản của bạn không được phép xem trang này.")))
            return view(*args, **kwargs)
        return wrapper
    return decorator


def form_error(form: Any, exc: DomainError) -> None:
    """Show a service's refusal on the form it came from: messages naming one of the form's
    fields go under that field, the others on top of the form, and when no field is named the
    error's own message goes on top. The refused work is rolled back first, so that the page
    shown again contains nothing of it."""
    db.session.rollback()
    placed = False
    leftover: list[str] = []
    for name, messages in (exc.errors or {}).items():
        texts = [str(m) for m in (messages if isinstance(messages, list) else [messages])]
        field = form._fields.get(name)
        if field is None:
            leftover.extend(texts)
        else:
            field.errors = list(field.errors or []) + texts
            placed = True
    form.form_errors.extend(leftover if placed else [exc.message])


def _commit_or_roll_back(response: Response) -> Response:
    """One commit per request: a state-changing request that answers with success commits
    everything its handler did, once, after its response is built: the answer needs no reload
    of what was written, which a database going away right after the commit would fail. An
    error answer (a refused form, a domain error, a 500 from an unexpected exception) rolls
    all of it back. Safe methods write nothing here: their session is discarded with the
    request. The few commits made earlier on purpose (a redeemed handover claim, the
    expiry-notice job, the scan log) say why where they are made."""
    if request.method in SAFE_METHODS:
        return response
    if response.status_code >= 400:
        idempotency.forget()
        db.session.rollback()
        return response
    try:
        # The response is complete here, so a request that claimed an idempotency key keeps
        # it in the same transaction; nothing below reads the database again.
        idempotency.remember(response)
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 -- answered by the app's error handlers, or a 500
        db.session.rollback()
        # What the commit's flush refuses (a value beyond a column's range) gets the answer
        # it would have had from the handler; anything without a handler is re-raised.
        return current_app.make_response(current_app.handle_user_exception(exc))
    return response


def init_app(app: Flask) -> None:
    app.after_request(_commit_or_roll_back)
