"""What every domain's services share: fetching an object by id, savepoints, the audit log."""
from __future__ import annotations

import enum
import json
import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import SessionTransaction

from .accounts.models import AuditEntry, User
from .errors import NotFound
from .extensions import db


def get_or_404(model: type, object_id: int, name: str) -> Any:
    """The object, or a NotFound naming it; `name` is already translated (`_("sản phẩm")`)."""
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound(_("Không tìm thấy %(name)s #%(id)s.", name=name, id=object_id))
    return obj


def savepoint() -> SessionTransaction:
    """A SAVEPOINT inside the session's transaction, on every database.

    pysqlite opens its transaction lazily, at the first write: a SAVEPOINT issued before
    that starts a transaction of its own, and releasing the savepoint would commit it.
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if not driver.in_transaction:
            driver.execute("BEGIN")
    return db.session.begin_nested()


class ObjectType(enum.StrEnum):
    """The audit log's names for what was acted on: the model's class name in snake case."""

    USER = "user"
    API_TOKEN = "api_token"
    MEMBERSHIP = "membership"
    HANDOVER = "handover"
    STAFF_INVITATION = "staff_invitation"
    PRODUCER = "producer"
    PRODUCT = "product"
    CERTIFICATE = "certificate"
    LABEL_RUN = "label_run"
    INSPECTION = "inspection"


def object_type(obj: Any) -> ObjectType:
    """The vocabulary's name for `obj`; a model missing from ObjectType is a ValueError."""
    return ObjectType(re.sub(r"(?<!^)(?=[A-Z])", "_", type(obj).__name__).lower())


def audit(actor: User | None, action: str, obj: Any, producer_id: int | None = None,
          **details: Any) -> AuditEntry:
    """Record who (None: the system) did what to which object; the producer is the object's
    own unless given."""
    if producer_id is None:
        producer_id = obj.id if object_type(obj) == ObjectType.PRODUCER else getattr(obj, "producer_id", None)
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None, action=action,
        object_type=object_type(obj).value, object_id=getattr(obj, "id", None), producer_id=producer_id,
        # Dates and decimals become strings so any caller's details fit the JSON column.
        details=json.loads(json.dumps(details, default=str, ensure_ascii=False)),
    )
    db.session.add(entry)
    db.session.flush()
    return entry
