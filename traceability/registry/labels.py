"""What people read for the register's enums: producer kinds and OCOP product groups."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

KIND_LABELS: dict[str, Any] = {
    "cooperative": _l("Hợp tác xã"),
    "cooperative_group": _l("Tổ hợp tác"),
    "company": _l("Doanh nghiệp"),
    "household": _l("Hộ sản xuất, kinh doanh"),
}

GROUP_LABELS: dict[str, Any] = {
    "food": _l("Thực phẩm"),
    "drinks": _l("Đồ uống"),
    "herbal": _l("Thảo dược"),
    "handicrafts": _l("Thủ công mỹ nghệ"),
    "plants_animals": _l("Sinh vật cảnh"),
    "tourism": _l("Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch"),
}
