"""Typed text as the service keeps it: Unicode NFC, no control characters.

Vietnamese can be typed precomposed ("ễ" as one code point) or decomposed ("ê" + tilde +
dot below), depending on the keyboard (Telex/VNI input methods, macOS, copy from a PDF).
Stored as typed, the same name in two forms is two names: a search for one misses the
other. Every text input is therefore normalised to NFC where it enters: the API's argument
parser and the HTML forms' base class, both below. Control characters (NUL, vertical tab
…) have no place in a name or a note: PostgreSQL refuses NUL, SQLite stores it, and an XLSX
cell cannot hold most of them, so they are refused with a message naming the field.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from marshmallow import ValidationError
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict
from wtforms import StringField

# C0 controls except tab, line feed and carriage return; DEL; C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_MESSAGE = _l("Không được chứa ký tự điều khiển (ký tự ẩn, không in được).")


def normalize(value: str) -> str:
    """The NFC form of a text (cheap when it is already NFC, as almost every input is)."""
    return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)


def has_control_characters(value: str) -> bool:
    return CONTROL_CHARACTERS.search(value) is not None


def _clean(value: Any, path: str, errors: dict[str, list[str]]) -> Any:
    """`value` with every string normalised; control characters noted under their field."""
    if isinstance(value, str):
        if has_control_characters(value):
            errors.setdefault(path or "_schema", []).append(str(CONTROL_MESSAGE))
        return normalize(value)
    if isinstance(value, dict):
        return {key: _clean(item, f"{path}.{key}" if path else str(key), errors)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item, f"{path}.{index}" if path else str(index), errors)
                for index, item in enumerate(value)]
    return value


TEXT_LOCATIONS = frozenset({"json", "form", "query", "querystring", "json_or_form",
                            "form_and_files"})


class TextParser(FlaskParser):
    """flask-smorest's argument parser, with every string in the body, the form and the query
    string normalised to NFC and control characters refused (422 naming the field).

    It also reads `form_and_files`: a multipart form's fields and files together, for a file
    sent with its options (documented as multipart/form-data by openapi.Blueprint)."""

    __location_map__ = {**FlaskParser.__location_map__, "form_and_files": "load_form_and_files"}

    def load_form_and_files(self, req: Any, schema: Any) -> Any:
        data = MultiDict(req.form)
        data.update(req.files)
        return self._makeproxy(data, schema)

    def _load_location_data(self, *, schema: Any, req: Any, location: str) -> Any:
        data = super()._load_location_data(schema=schema, req=req, location=location)
        if location not in TEXT_LOCATIONS:
            return data
        errors: dict[str, list[str]] = {}
        if isinstance(data, MultiDictProxy):
            cleaned = MultiDict([(key, _clean(value, key, errors))
                                 for key, value in data.data.items(multi=True)])
            data = MultiDictProxy(cleaned, schema)
        elif isinstance(data, (dict, list)):
            data = _clean(data, "", errors)
        if errors:
            raise ValidationError(errors)
        return data


class FlaskForm(_FlaskForm):
    """Flask-WTF's form, whose text fields keep NFC text and refuse control characters."""

    class Meta(_FlaskForm.Meta):
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            if issubclass(unbound_field.field_class, StringField):
                filters = tuple(unbound_field.kwargs.get("filters", ()))
                options["filters"] = (*filters, _normalize_filter)
            return super().bind_field(form, unbound_field, options)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field, StringField) and isinstance(field.data, str) \
                    and has_control_characters(field.data):
                field.errors = [*field.errors, str(CONTROL_MESSAGE)]
                valid = False
        return valid


def _normalize_filter(value: Any) -> Any:
    return normalize(value) if isinstance(value, str) else value
