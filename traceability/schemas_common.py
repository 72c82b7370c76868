"""Schema fields shared by every API: ids that fit the database's 32-bit keys."""
from __future__ import annotations

from marshmallow import fields, validate

MAX_ID = 2**31 - 1


def Id(**kwargs) -> fields.Int:  # noqa: N802  (reads like a field class)
    """An object id: a positive 32-bit integer, so no driver ever sees an out-of-range key."""
    return fields.Int(strict=kwargs.pop("strict", False),
                      validate=validate.Range(min=1, max=MAX_ID), **kwargs)
