"""The OpenAPI document: the error contract, the error answers of every operation, the bearer
token, the pagination header, and uploads sent as multipart forms.

flask-smorest documents what the decorators say. What follows from an operation's shape is
added here once for all operations (`ErrorAnswers`):

- 503 (the database is unreachable; with Retry-After) on every operation;
- 401 on every operation that needs a signed-in caller (the document's default security;
  public operations say `@blp.doc(security=[])`);
- 404 on every operation with an id in its path;
- 413 (body beyond MAX_CONTENT_LENGTH) on every operation with a request body, and 400 (not
  JSON at all) on every operation with a JSON body;
- 422 comes from flask-smorest on every operation with arguments.

The rest (403, 409, 410, 429, a 422 raised by a rule) each operation names with
`@blp.errors(...)`.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from http import HTTPStatus
from typing import Any

import flask_smorest
from apispec import BasePlugin
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields, validate

from .errors import ErrorSchema

BEARER = "bearerAuth"
# The schemas of a download's body: a file (PDF, PNG, ZIP, XLSX) or text (CSV, SVG).
BINARY = {"type": "string", "format": "binary"}
TEXT = {"type": "string"}


class PaginationMetadataSchema(Schema):
    """What flask-smorest's pagination writes, as JSON, into the X-Pagination header."""

    total = fields.Int(required=True, validate=validate.Range(min=0),
                       metadata={"description": "Total number of items"})
    total_pages = fields.Int(required=True, validate=validate.Range(min=0),
                             metadata={"description": "Total number of pages"})
    first_page = fields.Int(metadata={"description": "First page (when there are items)"})
    last_page = fields.Int(metadata={"description": "Last page (when there are items)"})
    page = fields.Int(metadata={"description": "This page (when it is not past the last)"})
    previous_page = fields.Int(metadata={"description": "Previous page, if any"})
    next_page = fields.Int(metadata={"description": "Next page, if any"})


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _decimal_properties(self: Any, field: fields.Field, ret: dict, **kwargs: Any) -> dict:
    """A Decimal field as it is sent. With `as_string` (answers keep every digit) it is a
    string in the "decimal" format. Otherwise it takes a number or a decimal string ("12.5",
    kept exact), and its Range bounds, which apispec writes as Decimals or strings, become
    the numbers OpenAPI requires."""
    if not isinstance(field, fields.Decimal):
        return {}
    types = ret.get("type") or []
    nullable = ["null"] if "null" in (types if isinstance(types, list) else [types]) else []
    if field.as_string:
        for bound in _BOUNDS:
            ret.pop(bound, None)
        return {"type": ["string", *nullable] if nullable else "string", "format": "decimal"}
    bounds = {key: float(value) for key, value in ret.items()
              if key in _BOUNDS and isinstance(value, (Decimal, str))}
    return {"type": ["number", "string", *nullable], **bounds}


def _response_name(status: int) -> str:
    """The name flask-smorest registers the error response of a status under."""
    return HTTPStatus(status).name


class ErrorAnswers(BasePlugin):
    """Adds to every operation the error answers that follow from its shape (module docstring)."""

    def init_spec(self, spec: Any) -> None:
        super().init_spec(spec)
        self.spec = spec

    def operation_helper(self, path: str | None = None, operations: dict | None = None,
                         **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            statuses = [503]
            if path and "{" in path:
                statuses.append(404)
            if operation.get("security", self.spec.options.get("security")):
                statuses.append(401)
            body = operation.get("requestBody")
            if body:
                statuses.append(413)
                if "application/json" in body.get("content", {}):
                    statuses.append(400)
            responses = operation.setdefault("responses", {})
            documented = {str(int(code)) for code in responses}
            for status in statuses:
                if str(status) not in documented:
                    responses[status] = _response_name(status)


class Api(flask_smorest.Api):
    """flask-smorest's Api with this service's error contract and no catch-all `default`
    answer: every operation lists the statuses it can answer with."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _init_spec(self, *, extra_plugins: Any = None, **options: Any) -> None:
        options.setdefault("security", [{BEARER: []}])
        super()._init_spec(extra_plugins=[*(extra_plugins or ()), ErrorAnswers()], **options)
        self.ma_plugin.converter.add_attribute_function(_decimal_properties)
        self.spec.components.security_scheme(BEARER, {
            "type": "http", "scheme": "bearer",
            "description": "A personal API token (`ocop_…`), created at POST /api/v1/tokens or "
                           "in the web interface. GET requests also accept the signed-in web "
                           "session, for download links."})

    def _register_responses(self) -> None:
        super()._register_responses()
        unavailable = {
            "description": "The database is unreachable (a restart); nothing was written. "
                           "Try again after Retry-After seconds.",
            "schema": self.ERROR_SCHEMA,
            "headers": {"Retry-After": {"required": True, "description": "Seconds to wait",
                                        "schema": {"type": "integer", "minimum": 0}}},
        }
        prepare_response(unavailable, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
        self.spec.components.response(_response_name(503), unavailable, lazy=True)

    def _register_pagination_header(self) -> None:
        # flask-smorest documents the header as an object, but sends it as a JSON string.
        self.spec.components.schema("PaginationMetadata", schema=PaginationMetadataSchema)
        self.spec.components.header("PAGINATION", {
            "description": "Pagination metadata, as a JSON object", "required": True,
            "schema": {"type": "string", "contentMediaType": "application/json",
                       "contentSchema": {"$ref": "#/components/schemas/PaginationMetadata"}},
        }, lazy=True)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, with a multipart location and a short way to document the
    error answers an operation's rules can give."""

    # A file sent with its options in one multipart form (text.TextParser reads the location).
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "form_and_files": "multipart/form-data",
    }

    def errors(self, *statuses: int, descriptions: dict[int, str] | None = None
               ) -> Callable[[Callable], Callable]:
        """Document that the operation can answer with each of `statuses`, in the error
        contract; `descriptions` says when, for the statuses that need it."""
        descriptions = descriptions or {}

        def decorator(func: Callable) -> Callable:
            for status in (*statuses, *descriptions):
                if status in descriptions:
                    func = self.alt_response(status, schema=ErrorSchema,
                                             description=descriptions[status])(func)
                else:
                    func = self.alt_response(status, response=_response_name(status))(func)
            return func

        return decorator
