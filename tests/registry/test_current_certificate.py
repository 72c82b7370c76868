"""The current certificate and a region's validity: each Python rule and its SQL twin agree."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from tests.factories import make_certificate, make_product, make_region
from traceability.extensions import db as _db
from traceability.registry.models import Product, Region, RegionLevel
from traceability.registry.services import (
    current_certificate,
    current_certificate_id,
    region_in_force,
    region_in_force_condition,
)


def _sql_current(product: Product) -> int | None:
    return _db.session.scalar(sa.select(current_certificate_id(Product.id)).where(Product.id == product.id))


def test_the_sql_twin_picks_the_certificate_the_python_rule_picks(db):
    bare = make_product()
    single = make_product()
    make_certificate(single, issued_on=date(2024, 1, 10))
    renewed = make_product()                     # lapsed, then a new one registered
    make_certificate(renewed, issued_on=date(2020, 1, 10))
    make_certificate(renewed, issued_on=date(2024, 3, 1))
    re_evaluated = make_product()                # the newer one supersedes the older
    old = make_certificate(re_evaluated, issued_on=date(2024, 5, 1))
    new = make_certificate(re_evaluated, issued_on=date(2023, 5, 1))  # issued earlier, yet current
    old.superseded_by_id = new.id
    same_day = make_product()                    # two on one day: the later row wins
    make_certificate(same_day, issued_on=date(2024, 6, 1))
    make_certificate(same_day, issued_on=date(2024, 6, 1))
    _db.session.flush()
    for product in (bare, single, renewed, re_evaluated, same_day):
        _db.session.refresh(product)
        expected = current_certificate(product)
        assert _sql_current(product) == (expected.id if expected else None), product.name_vi
    assert _sql_current(re_evaluated) == new.id and _sql_current(bare) is None


def test_a_region_is_in_force_from_its_first_to_its_last_day_in_python_and_sql(db):
    district = make_region(level=RegionLevel.DISTRICT, valid_from=date(2020, 1, 1), valid_to=date(2025, 6, 30))
    open_ended = make_region(valid_from=date(2025, 7, 1))
    undated = make_region()
    for day in (date(2019, 12, 31), date(2020, 1, 1), date(2025, 6, 30), date(2025, 7, 1), date(2030, 1, 1)):
        in_sql = set(_db.session.scalars(sa.select(Region.id).where(region_in_force_condition(day))))
        for region in (district, open_ended, undated):
            assert (region.id in in_sql) == region_in_force(region, day), (region.name, day)
    assert region_in_force(district, date(2025, 6, 30)) and not region_in_force(district, date(2025, 7, 1))
    assert region_in_force(open_ended, date(2025, 7, 1)) and not region_in_force(open_ended, date(2025, 6, 30))
    assert region_in_force(undated, date(1900, 1, 1) + timedelta(days=1))
