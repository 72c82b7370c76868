"""One page of a SQL select for flask-smorest's @blp.paginate(), with the total counted in SQL."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .extensions import db


def paginate_select(stmt: sa.Select, pagination_parameters: Any) -> list:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    pagination_parameters.item_count = total
    page, size = pagination_parameters.page, pagination_parameters.page_size
    return list(db.session.scalars(stmt.limit(size).offset((page - 1) * size)))
