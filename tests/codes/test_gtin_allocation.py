"""GTIN allocation: lowest free item reference, never twice, refusals with named fields."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from stdnum import ean

from tests.factories import make_producer, make_product, make_region, make_user
from traceability.accounts.models import AuditEntry, User
from traceability.codes.services import allocate_gtin
from traceability.errors import Conflict, Forbidden, InvalidState, ValidationFailed
from traceability.gs1 import make_gtin13
from traceability.registry.models import Product

PREFIX = "8934567"


def test_first_allocation_takes_item_reference_zero_and_is_a_valid_ean(producer, owner):
    product = make_product(producer)
    allocate_gtin(owner, product)
    assert product.gtin == "0" + make_gtin13(PREFIX, 0)
    assert product.gtin == "0893456700000" + ean.calc_check_digit("893456700000")
    assert ean.validate(product.gtin) == product.gtin
    assert ean.is_valid(product.gtin[1:])


def test_allocation_fills_the_lowest_gap_first(producer, owner):
    for item in (0, 1, 3):
        make_product(producer, gtin=make_gtin13(PREFIX, item))
    first, second = make_product(producer), make_product(producer)
    allocate_gtin(owner, first)
    allocate_gtin(owner, second)
    assert first.gtin == "0" + make_gtin13(PREFIX, 2)
    assert second.gtin == "0" + make_gtin13(PREFIX, 4)


def test_many_allocations_are_distinct_and_accepted_by_stdnum(producer, owner):
    products = [make_product(producer) for _ in range(30)]
    for product in products:
        allocate_gtin(owner, product)
    gtins = [p.gtin for p in products]
    assert len(set(gtins)) == 30
    for gtin in gtins:
        assert ean.validate(gtin) == gtin and len(gtin) == 14


def test_allocation_is_audited(db, producer, owner):
    product = make_product(producer)
    allocate_gtin(owner, product)
    audit = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "gtin.allocate")).one()
    assert (audit.actor_id, audit.object_id) == (owner.id, product.id)
    assert audit.producer_id == producer.id
    assert audit.details == {"gtin": product.gtin}


def test_producer_without_prefix_is_refused_naming_the_prefix(db):
    producer = make_producer()  # no gs1_company_prefix
    owner = make_user("producer", producer=producer)
    product = make_product(producer)
    with pytest.raises(ValidationFailed) as caught:
        allocate_gtin(owner, product)
    assert list(caught.value.errors) == ["gs1_company_prefix"]
    assert "GS1 Việt Nam" in caught.value.message
    assert product.gtin is None


def test_exhausted_ten_digit_prefix_is_refused(db):
    prefix = "8931234567"  # 10 digits: item references 0..99 only
    producer = make_producer(gs1_company_prefix=prefix)
    owner = make_user("producer", producer=producer)
    db.session.add_all([Product(producer=producer, group="food", name_vi=f"SP {i}",
                                trace_code=f"FULL{i:04d}", gtin="0" + make_gtin13(prefix, i))
                        for i in range(100)])
    db.session.flush()
    extra = make_product(producer)
    with pytest.raises(InvalidState) as caught:
        allocate_gtin(owner, extra)
    assert "gs1_company_prefix" in caught.value.errors
    assert "đã dùng hết 100 mã" in caught.value.message
    assert extra.gtin is None


def test_ten_digit_prefix_hands_out_its_last_reference(db):
    prefix = "8931234567"
    producer = make_producer(gs1_company_prefix=prefix)
    owner = make_user("producer", producer=producer)
    db.session.add_all([Product(producer=producer, group="food", name_vi=f"SP {i}",
                                trace_code=f"LAST{i:04d}", gtin="0" + make_gtin13(prefix, i))
                        for i in range(99)])
    db.session.flush()
    last = make_product(producer)
    allocate_gtin(owner, last)
    assert last.gtin == "0" + make_gtin13(prefix, 99)


def test_product_that_already_has_a_gtin_is_a_conflict(producer, owner):
    product = make_product(producer, gtin=make_gtin13(PREFIX, 7))
    with pytest.raises(Conflict) as caught:
        allocate_gtin(owner, product)
    assert list(caught.value.errors) == ["gtin"]
    assert product.gtin == "0" + make_gtin13(PREFIX, 7)


def test_foreign_consultant_may_not_allocate(producer):
    other = make_producer(gs1_company_prefix="8937654")
    consultant = make_user("consultant", producer=other)
    product = make_product(producer)
    with pytest.raises(Forbidden):
        allocate_gtin(consultant, product)
    assert product.gtin is None


def test_assigned_consultant_may_allocate(producer):
    consultant = make_user("consultant", producer=producer)
    product = make_product(producer)
    allocate_gtin(consultant, product)
    assert product.gtin is not None


def test_gtins_of_another_producer_with_an_overlapping_prefix_are_skipped(db):
    # Prefixes never overlap in GS1's register, but a typo in ours must not yield a duplicate.
    short = make_producer(gs1_company_prefix="8939999")
    longer = make_producer(gs1_company_prefix="89399990")
    make_product(longer, gtin=make_gtin13("89399990", 0))  # == item 0 of the 7-digit prefix
    owner = make_user("producer", producer=short)
    product = make_product(short)
    allocate_gtin(owner, product)
    assert product.gtin == "0" + make_gtin13("8939999", 1)


def _allocate_in_thread(app, user_id: int, product_id: int, start: threading.Barrier,
                        results: dict, key: object) -> None:
    from traceability.extensions import db

    with app.app_context():
        try:
            user = db.session.get(User, user_id)
            product = db.session.get(Product, product_id)
            start.wait(timeout=10)
            allocate_gtin(user, product)
            db.session.commit()
            results[key] = product.gtin
        except Exception as exc:  # noqa: BLE001  (reported to the main thread)
            db.session.rollback()
            results[key] = exc


def _run_threads(app, jobs: list[tuple[int, int]]) -> dict:
    results: dict = {}
    start = threading.Barrier(len(jobs))
    threads = [threading.Thread(target=_allocate_in_thread,
                                args=(app, user_id, product_id, start, results, n))
               for n, (user_id, product_id) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def on_postgresql(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks and concurrent writers need PostgreSQL; SQLite serialises "
                    "writers, so this race cannot happen there")


def test_concurrent_allocations_never_duplicate_on_postgresql(app, db, on_postgresql):
    producer = make_producer(gs1_company_prefix="8935555")
    make_product(producer, gtin=make_gtin13("8935555", 1))
    owner = make_user("producer", producer=producer)
    products = [make_product(producer) for _ in range(8)]
    db.session.commit()
    results = _run_threads(app, [(owner.id, p.id) for p in products])
    assert all(isinstance(v, str) for v in results.values()), results
    db.session.expire_all()
    stored = [db.session.get(Product, p.id).gtin for p in products]
    assert len(set(stored)) == 8 and None not in stored
    expected = {"0" + make_gtin13("8935555", i) for i in (0, 2, 3, 4, 5, 6, 7, 8)}
    assert set(stored) == expected


def test_concurrent_requests_for_one_product_give_it_one_gtin_on_postgresql(app, db,
                                                                            on_postgresql):
    producer = make_producer(gs1_company_prefix="8936666")
    owner = make_user("producer", producer=producer)
    product = make_product(producer)
    db.session.commit()
    results = _run_threads(app, [(owner.id, product.id)] * 6)
    gtins = [v for v in results.values() if isinstance(v, str)]
    errors = [v for v in results.values() if not isinstance(v, str)]
    assert gtins == ["0" + make_gtin13("8936666", 0)]
    assert len(errors) == 5 and all(isinstance(e, Conflict) for e in errors)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Product)
                              .where(Product.gtin.is_not(None)))
    assert count == 1


def test_region_officer_may_allocate_before_handover(db):
    region = make_region()
    producer = make_producer(region, gs1_company_prefix="8937777")
    officer = make_user("officer", regions=[region])
    product = make_product(producer)
    allocate_gtin(officer, product)
    assert product.gtin == "0" + make_gtin13("8937777", 0)
