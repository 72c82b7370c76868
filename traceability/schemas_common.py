"""Schema pieces shared by every API: ids that fit the database's 32-bit keys, uploaded files,
and the base of the schemas that describe answers."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from werkzeug.datastructures import FileStorage

MAX_ID = 2**31 - 1


def Id(**kwargs) -> fields.Int:  # noqa: N802  (reads like a field class)
    """An object id: a positive 32-bit integer, so no driver ever sees an out-of-range key."""
    return fields.Int(strict=kwargs.pop("strict", False),
                      validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class FileUpload(Upload):
    """A file part of a multipart form. A text part under the file's name (a form field sent
    without a file name) is refused, not handed to the view as a string."""

    default_error_messages = {"invalid": _l("Tệp không hợp lệ.")}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise self.make_error("invalid")
        return value


class JsonBool(fields.Bool):
    """A boolean in a JSON body: true or false. marshmallow's Bool also takes 0, 1, "yes",
    "on"..., which a form needs but a JSON client never means."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class AnswerSchema(Schema):
    """The base of a schema that describes an answer. An answer carries every field of its
    schema (null where the field allows it), so the OpenAPI document marks every field required."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = True
