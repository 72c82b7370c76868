"""Domain errors and the one error contract: JSON under /api/, Vietnamese HTML pages elsewhere."""
from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy.exc import DataError, InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException, InternalServerError


class DomainError(Exception):
    """A rule of the domain was broken; services raise these, never HTTP errors."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidState(DomainError):
    status = 409
    code = "invalid_state"


class Gone(DomainError):
    """The thing existed but can no longer be used (a redeemed, cancelled or expired claim)."""

    status = 410
    code = "gone"


class Unavailable(DomainError):
    """The work cannot be done right now (the host is busy); the same request may be sent again."""

    status = 503
    code = "service_unavailable"


def field_error(field: str, message: str, cls: type[DomainError] = ValidationFailed) -> DomainError:
    """A validation error naming one field, in the contract's `errors` shape."""
    return cls(message, {field: [message]})


# What a program asks for when it wants data rather than a page (the resolver's linksets too).
JSON_TYPES = ("application/json", "application/linkset+json")


def prefers_json(accept: MIMEAccept, default: bool = False) -> bool:
    """Whether an answer, an error's included, goes out as JSON rather than as an HTML page
    (RFC 9110, 12.5.1): JSON when the client rates a JSON type above HTML, HTML when it rates
    HTML above JSON, and `default` when it rates them alike. Browsers rate HTML highest (their
    `*/*;q=0.8` also covers JSON, but lower); curl's `*/*`, or no Accept at all, rates every
    type alike and leaves the choice to the resource: a page's is HTML."""
    html = accept["text/html"]
    json = max(accept[media] for media in JSON_TYPES)
    return json > html if json != html else default


def wants_json(req: Request) -> bool:
    if req.path.startswith(("/api/", "/epcis/")):  # machine-readable documents only
        return True
    return prefers_json(req.accept_mimetypes)


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests",
    500: "internal_error", 503: "service_unavailable",
}
# Seconds a client is asked to wait when the database is unreachable (a restart takes well
# under one; the pool reconnects by itself on the next checkout).
RETRY_AFTER_SECONDS = 2


def _page_texts(status: int) -> tuple[str, str]:
    texts = {
        400: (_("Yêu cầu không hợp lệ"), _("Địa chỉ hoặc dữ liệu gửi lên không đúng định dạng.")),
        401: (_("Cần đăng nhập"), _("Vui lòng đăng nhập để tiếp tục.")),
        403: (_("Không có quyền truy cập"), _("Tài khoản của bạn không được phép xem trang này.")),
        404: (_("Không tìm thấy trang"), _("Trang bạn tìm không tồn tại hoặc đã được chuyển đi.")),
        405: (_("Phương thức không được hỗ trợ"), _("Trang này không nhận loại yêu cầu đó.")),
        413: (_("Tệp quá lớn"), _("Tệp gửi lên vượt quá dung lượng cho phép.")),
        429: (_("Quá nhiều yêu cầu"), _("Bạn thao tác quá nhanh. Vui lòng thử lại sau ít phút.")),
        503: (_("Tạm thời gián đoạn"), _("Hệ thống đang bận hoặc đang khởi động lại. Vui lòng thử lại sau giây lát.")),
        500: (_("Lỗi hệ thống"), _("Đã có lỗi xảy ra. Chúng tôi đã ghi nhận và sẽ khắc phục.")),
    }
    return texts.get(status, (_("Lỗi"), _("Yêu cầu không thực hiện được.")))


class ErrorSchema(Schema):
    """The error contract as the OpenAPI document shows it; error_response() writes it."""

    code = fields.Str(required=True, metadata={
        "description": "What went wrong, for programs: not_found, forbidden, validation_failed, "
                       "conflict, invalid_state, gone, unauthorized, too_many_requests, "
                       "service_unavailable, ..."})
    status = fields.Int(required=True, validate=validate.Range(min=400, max=599),
                        metadata={"description": "The HTTP status of the answer"})
    message = fields.Str(required=True, metadata={
        "description": "For people, in the caller's language (Vietnamese unless asked otherwise)"})
    errors = fields.Dict(keys=fields.Str(), values=fields.List(fields.Str()), required=True,
                         metadata={"description": "Messages by field; a nested field is named by "
                                                  "its path, e.g. `checklist.stars_match`"})


def field_messages(messages: dict, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's messages for a schema, flattened into the contract's `errors`: a list of
    messages per field, a nested field (a Nested schema, a list item) named by its dotted path."""
    flat: dict[str, list[str]] = {}
    for field, found in messages.items():
        name = f"{prefix}{field}"
        if isinstance(found, dict):
            flat.update(field_messages(found, f"{name}."))
        elif isinstance(found, (list, tuple)):
            flat.setdefault(name, []).extend(str(message) for message in found)
        else:
            # A lazily translated message set in error_messages is not a str, so marshmallow
            # leaves it unwrapped.
            flat.setdefault(name, []).append(str(found))
    return flat


def error_response(status: int, code: str, message: str, errors: dict | None = None) -> Response:
    if wants_json(request):
        body = {"code": code, "status": status, "message": message, "errors": errors or {}}
        return make_response(jsonify(body), status)
    title, default_text = _page_texts(status)
    html = render_template("errors/error.html", status=status, title=title,
                           message=message or default_text, errors=errors or {})
    return make_response(html, status)


def _http_message(exc: HTTPException) -> str:
    return _page_texts(exc.code or 500)[1]


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        from .extensions import db

        db.session.rollback()
        response = error_response(exc.status, exc.code, exc.message, exc.errors)
        if exc.status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        status = exc.code or 500
        errors: dict = {}
        # webargs/flask-smorest put schema messages in exc.data["messages"], keyed by location.
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if isinstance(messages, dict):
            for location_errors in messages.values():
                if isinstance(location_errors, dict):
                    errors.update(field_messages(location_errors))
        message = _http_message(exc)
        if errors:
            message = _("Dữ liệu không hợp lệ: %(fields)s.", fields=", ".join(sorted(map(str, errors))))
        elif status not in (404, 405, 500) and exc.description \
                and exc.description != type(exc).description and wants_json(request):
            # Only a description the code set itself: Werkzeug's defaults are English.
            message = exc.description
        response = error_response(status, _HTTP_CODES.get(status, "error"), message, errors)
        original = exc.get_response().headers
        for name in ("Retry-After", "Allow", "WWW-Authenticate"):
            if name in original:
                response.headers[name] = original[name]
        return response

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def handle_out_of_range(exc: Exception):
        """A value the schemas let through but the database cannot hold (an integer beyond
        the column's range): the caller's input is wrong, so a 422, never a 500."""
        from .extensions import db

        db.session.rollback()
        return error_response(422, "validation_failed",
                              _("Một giá trị vượt quá giới hạn mà hệ thống lưu được."))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def handle_database_unavailable(exc: Exception):
        """The database went away (a restart, a failover, a locked SQLite file): nothing was
        committed, and the client may simply try again. The broken connection is already
        invalidated, so the pool makes a new one for the next request."""
        from .extensions import db

        try:
            db.session.rollback()
        except SQLAlchemyError:
            db.session.close()
        response = error_response(503, "service_unavailable", _page_texts(503)[1])
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(InternalServerError)
    def handle_500(exc: InternalServerError):
        from .extensions import db

        db.session.rollback()
        return error_response(500, "internal_error", _page_texts(500)[1])
