"""Where each role lands after sign-in, and the links of the navigation bar on every staff page.

One table decides both, so a task added to a role's bar is reachable from its home in one
click (tests/accounts/test_role_homes.py follows the links)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

from .models import Role, User


@dataclass(frozen=True)
class NavLink:
    endpoint: str
    label: Any
    # Other pages that belong to this link's task (they mark it as the current one).
    also: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return url_for(self.endpoint)


_SETUP_PAGES = ("setup.producer", "setup.new_producer", "setup.edit_producer", "setup.new_product",
                "setup.product", "setup.edit_product")

_PRODUCER = (
    NavLink("batches.dashboard", _l("Trang chủ")),
    NavLink("batches.product_list", _l("Sản phẩm"), ("batches.product_detail", "batches.new_batch")),
    NavLink("batches.batch_list", _l("Lô hàng"),
            ("batches.batch_detail", "batches.record_step", "batches.correct_step", "batches.labels",
             "batches.print_job")),
)

# A consultant's work is setting producers up: its home is the list of those producers.
_CONSULTANT = (
    NavLink("setup.producer_list", _l("Chủ thể của tôi"), _SETUP_PAGES),
    NavLink("batches.dashboard", _l("Nhật ký")),
    *_PRODUCER[1:],
)

_OFFICER = (
    NavLink("oversight.dashboard", _l("Tổng quan")),
    NavLink("setup.producer_list", _l("Chủ thể"), _SETUP_PAGES),
    NavLink("oversight.follow_up", _l("Giấy chứng nhận"), ("oversight.re_evaluate", "oversight.revoke")),
    NavLink("oversight.products", _l("Sản phẩm"), ("oversight.product", "oversight.producer")),
    NavLink("oversight.notices", _l("Thông báo")),
    NavLink("accounts.officer_handovers", _l("Bàn giao")),
    NavLink("oversight.report_form", _l("Báo cáo")),
    NavLink("oversight.import_upload", _l("Nhập danh sách")),
    NavLink("oversight.proposals", _l("Đề nghị thu hồi")),
    NavLink("oversight.inspector_home", _l("Kiểm tra"),
            ("oversight.verify_label", "oversight.new_inspection", "oversight.inspection")),
)

_INSPECTOR = (
    NavLink("oversight.inspector_home", _l("Trang chủ")),
    NavLink("oversight.verify_label", _l("Kiểm tra tem")),
    NavLink("oversight.inspector_products", _l("Sản phẩm"),
            ("oversight.new_inspection", "oversight.inspection")),
)

NAVIGATION: dict[Role, tuple[NavLink, ...]] = {
    Role.PRODUCER: _PRODUCER,
    Role.CONSULTANT: _CONSULTANT,
    Role.OFFICER: _OFFICER,
    Role.ADMIN: _OFFICER,
    Role.INSPECTOR: _INSPECTOR,
}


def nav_links(user: User) -> tuple[NavLink, ...]:
    return NAVIGATION[user.role]


def home_url(user: User) -> str:
    """The page a user lands on after signing in: the first link of its role's bar."""
    return nav_links(user)[0].url
