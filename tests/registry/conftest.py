"""Fixtures for the set-up pages: a province's region tree across the 2025 reform, uploads in a
temporary folder, and a counter of the rows a refused form must not write."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from tests.factories import make_region
from traceability.extensions import db
from traceability.registry.models import Region, RegionLevel

REFORM = date(2025, 7, 1)


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(upload_folder: str) -> None:
    """Product photos go to this test's own folder (tests/conftest.py)."""


@dataclass
class Area:
    province: Region
    district: Region   # dissolved by the reform
    old_commune: Region  # under the district, merged away by the reform
    new_commune: Region  # in force since the reform
    other_province: Region
    other_commune: Region


@pytest.fixture()
def area() -> Area:
    province = make_region(name="Tỉnh Quảng Ngãi", level=RegionLevel.PROVINCE)
    district = make_region(name="Huyện Lý Sơn", level=RegionLevel.DISTRICT, parent_id=province.id,
                           valid_from=date(2020, 1, 1), valid_to=date(2025, 6, 30))
    old = make_region(name="Xã An Hải", parent_id=district.id, valid_from=date(2020, 1, 1),
                      valid_to=date(2025, 6, 30))
    new = make_region(name="Đặc khu Lý Sơn", parent_id=province.id, valid_from=REFORM)
    other_province = make_region(name="Tỉnh Gia Lai", level=RegionLevel.PROVINCE)
    other = make_region(name="Xã Ia Grai", parent_id=other_province.id, valid_from=REFORM)
    db.session.commit()
    return Area(province, district, old, new, other_province, other)


@pytest.fixture()
def rows() -> Callable[[], tuple[int, ...]]:
    """How many producers, products, memberships and audit entries there are."""
    from traceability.accounts.models import AuditEntry, Membership
    from traceability.registry.models import Producer, Product

    def count() -> tuple[int, ...]:
        db.session.expire_all()
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                     for model in (Producer, Product, Membership, AuditEntry))

    return count
