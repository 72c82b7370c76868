"""Demo label runs, demo samples with a forged serial, and the `flask labels` commands."""
from __future__ import annotations

import csv
import json

import pypdfium2 as pdfium
import sqlalchemy as sa

from tests.factories import make_batch, make_product
from traceability.batches.models import Batch
from traceability.codes.demo import DEMO_RUN_COUNT, load_demo_label_runs
from traceability.codes.keys import get_signer
from traceability.codes.models import LabelLevel, LabelRun
from traceability.demo import load_demo
from traceability.gs1 import make_gtin13, parse_path

HOST = "https://trace.example.vn"


def _runs(db) -> list[tuple[int, str, int, int]]:
    return [tuple(row) for row in db.session.execute(
        sa.select(LabelRun.batch_id, LabelRun.level, LabelRun.first_index, LabelRun.count)
        .order_by(LabelRun.batch_id))]


def test_every_demo_batch_gets_one_unit_run_of_100_and_reloading_adds_none(db):
    load_demo()
    db.session.commit()
    runs = _runs(db)
    batch_ids = set(db.session.scalars(sa.select(Batch.id)))
    assert {r[0] for r in runs} == batch_ids and len(runs) == len(batch_ids) == 15
    assert all(r[1:] == (LabelLevel.UNIT, 1, DEMO_RUN_COUNT) for r in runs)
    load_demo()
    assert load_demo_label_runs() == 0
    db.session.commit()
    assert _runs(db) == runs


def test_demo_runs_skip_batches_that_are_not_demo_data(db, producer):
    make_batch(make_product(producer))
    assert load_demo_label_runs() == 0


def _verifies(url: str, db) -> bool:
    link = parse_path(url.removeprefix(HOST))
    batch = db.session.scalars(sa.select(Batch).where(Batch.lot == link.lot)).one()
    run = db.session.scalars(sa.select(LabelRun).where(LabelRun.batch_id == batch.id,
                                                       LabelRun.level == LabelLevel.UNIT)).one()
    return get_signer().verify(run.subject, batch.lot, link.serial, run.key_version)


def test_demo_samples_add_a_forged_serial_that_does_not_verify(app, db):
    load_demo()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo-samples"])
    assert result.exit_code == 0, result.output
    cases = {row["case"]: row["url"] for row in map(json.loads, result.output.splitlines())}
    assert {"valid", "expiring", "expired", "revoked", "forged"} <= set(cases)
    for case in ("valid", "expiring", "expired", "revoked"):
        assert "/21/" in cases[case] and _verifies(cases[case], db), case
    valid, forged = cases["valid"], cases["forged"]
    assert forged != valid and forged.rsplit("/", 1)[0] == valid.rsplit("/", 1)[0]
    assert len(forged) == len(valid)
    assert not _verifies(forged, db)


def test_cli_issues_a_run_and_prints_it_to_pdf_and_csv(app, db, producer, tmp_path):
    product = make_product(producer, gtin=make_gtin13("8934567", 9), name_vi="Mạch nha Thi Phổ")
    batch = make_batch(product, lot="MN-01")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["labels", "issue", str(batch.id), "--count", "30"])
    assert result.exit_code == 0, result.output
    run = db.session.scalars(sa.select(LabelRun)).one()
    assert (run.count, run.level, run.issued_by_id) == (30, LabelLevel.UNIT, None)
    assert f"{HOST}/01/{product.gtin}/10/MN-01/21/1" in result.output

    pdf = tmp_path / "tem.pdf"
    result = runner.invoke(args=["labels", "print", str(run.id), "--preset", "a4-4x10",
                                 "--output", str(pdf)])
    assert result.exit_code == 0, result.output
    assert "30 labels written" in result.output
    document = pdfium.PdfDocument(str(pdf))
    try:
        assert len(document) == 1
    finally:
        document.close()

    table = tmp_path / "tem.csv"
    result = runner.invoke(args=["labels", "print", str(run.id), "-o", str(table)])
    assert result.exit_code == 0, result.output
    with table.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 30 and rows[0]["product_name"] == "Mạch nha Thi Phổ"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tem.csv", "tem.pdf"]


def test_cli_refuses_bad_input_with_a_message(app, db, producer, tmp_path):
    batch = make_batch(make_product(producer))
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["labels", "issue", str(batch.id), "--level", "lot",
                                 "--count", "4"])
    assert result.exit_code != 0 and "số lượng phải là 1" in result.output
    result = runner.invoke(args=["labels", "issue", "999999"])
    assert result.exit_code != 0 and "999999" in result.output
    result = runner.invoke(args=["labels", "print", "999999", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and "999999" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LabelRun)) == 0
    assert list(tmp_path.iterdir()) == []
