"""Label runs: one row per run, serial ranges, validity guarantee, URLs and lazy labels."""
from __future__ import annotations

import tracemalloc
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from itertools import islice

import pytest
import sqlalchemy as sa

from tests.factories import make_batch, make_certificate, make_producer, make_product, make_user
from traceability.accounts.models import AuditEntry
from traceability.clock import local_today
from traceability.codes.keys import get_signer
from traceability.codes.models import LabelLevel, LabelRun
from traceability.codes.services import (
    allocate_gtin,
    create_label_run,
    guaranteed_until,
    issue_label_run,
    iter_run_labels,
    label_url,
    run_label_url,
)
from traceability.errors import Forbidden, ValidationFailed
from traceability.gs1 import make_gtin13, parse_path
from traceability.registry.status import add_months

HOST = "https://trace.example.vn"


@pytest.fixture
def gtin_product(producer):
    return make_product(producer, gtin=make_gtin13("8934567", 42))


def _run_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(LabelRun))


def test_a_10000_unit_run_is_one_row(db, gtin_product, owner):
    batch = make_batch(gtin_product)
    run = create_label_run(owner, batch, level=LabelLevel.UNIT, count=10_000)
    assert _run_count(db) == 1
    assert (run.first_index, run.last_index, run.count) == (1, 10_000, 10_000)
    assert run.key_version == get_signer().current_version == 2
    assert run.subject == gtin_product.gtin


def test_unit_runs_of_a_batch_continue_the_serial_indexes(gtin_product, owner):
    batch, other = make_batch(gtin_product), make_batch(gtin_product)
    first = create_label_run(owner, batch, level=LabelLevel.UNIT, count=50)
    create_label_run(owner, batch, level=LabelLevel.LOT)
    create_label_run(owner, other, level=LabelLevel.UNIT, count=7)
    second = create_label_run(owner, batch, level=LabelLevel.UNIT, count=20)
    assert (first.first_index, first.last_index) == (1, 50)
    assert (second.first_index, second.last_index) == (51, 70)


def test_lot_run_has_one_label_and_no_key(gtin_product, owner):
    run = create_label_run(owner, make_batch(gtin_product), level=LabelLevel.LOT)
    assert (run.count, run.first_index, run.key_version) == (1, 1, None)
    labels = list(iter_run_labels(run))
    assert len(labels) == 1 and labels[0].serial is None
    assert labels[0].url == f"{HOST}/01/{gtin_product.gtin}/10/{run.batch.lot}"


def test_lot_run_with_a_count_is_refused_naming_count(gtin_product, owner):
    with pytest.raises(ValidationFailed) as caught:
        create_label_run(owner, make_batch(gtin_product), level=LabelLevel.LOT, count=5)
    assert list(caught.value.errors) == ["count"]


@pytest.mark.parametrize("count", [0, -3, 1_000_001])
def test_count_out_of_range_is_refused(db, gtin_product, owner, count):
    with pytest.raises(ValidationFailed) as caught:
        create_label_run(owner, make_batch(gtin_product), level=LabelLevel.UNIT, count=count)
    assert list(caught.value.errors) == ["count"]
    assert _run_count(db) == 0


def test_foreign_consultant_may_not_issue_a_run(db, gtin_product):
    consultant = make_user("consultant", producer=make_producer())
    with pytest.raises(Forbidden):
        create_label_run(consultant, make_batch(gtin_product), level=LabelLevel.UNIT, count=3)
    assert _run_count(db) == 0


def test_run_is_audited(db, gtin_product, owner):
    run = create_label_run(owner, make_batch(gtin_product), level=LabelLevel.UNIT, count=12)
    entry = db.session.scalars(sa.select(AuditEntry)
                               .where(AuditEntry.action == "label_run.create")).one()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (owner.id, "label_run", run.id)
    assert entry.details["count"] == 12


def test_guarantee_is_36_months_without_a_certificate(gtin_product):
    today = local_today()
    assert guaranteed_until(gtin_product, today) == add_months(today, 36)


def test_guarantee_is_36_months_when_the_certificate_ends_sooner(gtin_product, owner):
    make_certificate(gtin_product, issued_on=date.today() - timedelta(days=400))
    run = create_label_run(owner, make_batch(gtin_product), level=LabelLevel.UNIT, count=1)
    assert run.guaranteed_until == add_months(local_today(), 36)


def test_guarantee_reaches_a_later_certificate_expiry(gtin_product, owner):
    cert = make_certificate(gtin_product, issued_on=date.today(),
                            expires_on=add_months(date.today(), 40))
    run = create_label_run(owner, make_batch(gtin_product), level=LabelLevel.UNIT, count=1)
    assert run.guaranteed_until == cert.expires_on > add_months(local_today(), 36)


def test_unit_label_urls_are_digital_links_that_biip_accepts(gtin_product, owner,
                                                             assert_digital_link):
    run = create_label_run(owner, make_batch(gtin_product, lot="LS/2026-01"),
                           level=LabelLevel.UNIT, count=25)
    labels = list(iter_run_labels(run))
    assert len(labels) == 25
    for label in labels:
        assert label.url.startswith(f"{HOST}/01/{gtin_product.gtin}/10/LS%2F2026-01/21/")
        assert_digital_link(label.url, gtin_product.gtin)
        assert label.url == label_url(run, run.batch, label.serial)


def test_every_serial_verifies_and_stays_in_its_run(gtin_product, owner):
    batch = make_batch(gtin_product)
    create_label_run(owner, batch, level=LabelLevel.UNIT, count=10)
    run = create_label_run(owner, batch, level=LabelLevel.UNIT, count=10)
    signer = get_signer()
    indexes = []
    for label in iter_run_labels(run):
        link = parse_path(label.url.removeprefix(HOST))
        assert link.serial == label.serial
        assert signer.verify(run.subject, batch.lot, label.serial, run.key_version)
        indexes.append(signer.split(label.serial)[0])
    assert indexes == list(range(11, 21))
    assert run_label_url(run, 11) == next(iter(iter_run_labels(run))).url


def test_product_without_gtin_gets_trace_code_urls_that_survive_a_gtin(producer, owner):
    product = make_product(producer)
    batch = make_batch(product)
    run = create_label_run(owner, batch, level=LabelLevel.UNIT, count=3)
    assert run.subject == product.trace_code
    before = [label.url for label in iter_run_labels(run)]
    assert before[0].startswith(f"{HOST}/t/{product.trace_code}/10/{batch.lot}/21/1")
    assert label_url(product) == f"{HOST}/t/{product.trace_code}"

    allocate_gtin(owner, product)
    # The printed run keeps its /t/ URLs and serials; new runs and the product use the GTIN.
    assert [label.url for label in iter_run_labels(run)] == before
    assert get_signer().verify(product.trace_code, batch.lot, before[0].rsplit("/", 1)[1],
                               run.key_version)
    later = create_label_run(owner, batch, level=LabelLevel.UNIT, count=1)
    assert later.subject == product.gtin and later.first_index == 4
    assert label_url(product) == f"{HOST}/01/{product.gtin}"


def test_stars_print_only_while_the_certificate_allows(producer, owner):
    valid, expired, bare = (make_product(producer, gtin=make_gtin13("8934567", i))
                            for i in (1, 2, 3))
    make_certificate(valid, stars=5, score=95, issued_on=date.today() - timedelta(days=30))
    make_certificate(expired, stars=4, issued_on=date.today() - timedelta(days=1200))

    def stars(product):
        run = create_label_run(owner, make_batch(product), level=LabelLevel.UNIT, count=2)
        return {label.stars for label in iter_run_labels(run)}

    assert stars(valid) == {5}
    assert stars(expired) == {None}
    assert stars(bare) == {None}


def test_revoked_certificate_prints_no_stars(gtin_product, owner):
    cert = make_certificate(gtin_product, issued_on=date.today() - timedelta(days=100))
    cert.revoked_on = date.today() - timedelta(days=1)
    run = create_label_run(owner, make_batch(gtin_product), level=LabelLevel.LOT)
    assert next(iter(iter_run_labels(run))).stars is None


def test_labels_of_a_100000_run_are_made_lazily_in_bounded_memory(gtin_product):
    run = issue_label_run(make_batch(gtin_product), level=LabelLevel.UNIT, count=100_000)
    labels = iter_run_labels(run)
    assert isinstance(labels, Iterator) and not isinstance(labels, Sequence)
    tracemalloc.start()
    try:
        # tracemalloc slows Python down a lot: measure a tenth of the run.
        for label in islice(labels, 10_000):
            pass
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert label.serial.startswith("10000") and len(label.serial) == 11
    assert peak < 500_000  # 10,000 kept labels would take several megabytes
    rest = sum(1 for _ in labels)
    assert rest == 90_000


def test_an_all_digit_trace_code_that_looks_like_a_gtin_stays_a_trace_code(producer, owner):
    from traceability.gs1 import check_digit, is_valid_gtin

    code = "2345678" + check_digit("2345678")
    assert is_valid_gtin(code)
    product = make_product(producer, trace_code=code)
    run = create_label_run(owner, make_batch(product, lot="L1"), level=LabelLevel.LOT)
    assert label_url(run) == f"{HOST}/t/{code}/10/L1"
