"""What people read for the register's enums: producer kinds and OCOP product groups."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from .models import ProducerKind

# Keyed by the enum, which is a str: a kind's value finds its label too.
PRODUCER_KIND_LABELS: dict[ProducerKind, Any] = {
    ProducerKind.COOPERATIVE: _l("Hợp tác xã"),
    ProducerKind.COOPERATIVE_GROUP: _l("Tổ hợp tác"),
    ProducerKind.COMPANY: _l("Doanh nghiệp"),
    ProducerKind.HOUSEHOLD: _l("Hộ kinh doanh"),
}

GROUP_LABELS: dict[str, Any] = {
    "food": _l("Thực phẩm"),
    "drinks": _l("Đồ uống"),
    "herbal": _l("Thảo dược"),
    "handicrafts": _l("Thủ công mỹ nghệ"),
    "plants_animals": _l("Sinh vật cảnh"),
    "tourism": _l("Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch"),
}
