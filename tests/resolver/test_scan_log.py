"""The scan log's write-behind buffer: batched, counted before it is written, never lost on
a failed write or a normal shutdown."""
from __future__ import annotations

import os
import sqlite3
import time
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from tests.resolver.conftest import scan
from traceability.extensions import db
from traceability.resolver import scanlog
from traceability.resolver.infra import trace_infra
from traceability.resolver.models import Scan, ScanVerdict
from traceability.resolver.scanlog import ScanLog


def _scans() -> list[Scan]:
    db.session.rollback()  # a fresh snapshot: the rows were written on another connection
    return list(db.session.scalars(sa.select(Scan).order_by(Scan.id)))


def _page(client, path: str, addr: str = "10.0.0.1") -> str:
    response = scan(client, path, headers={"Accept-Language": "vi"}, environ_base={"REMOTE_ADDR": addr})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    response.close()  # what the WSGI server does once the body is sent
    return html


@pytest.fixture()
def batched(app, monkeypatch):
    """Production behaviour: rows wait for the writer (an hour here, so the test decides)."""
    monkeypatch.setitem(app.config, "SCAN_LOG_FLUSH_SECONDS", 3600)
    trace_infra(app).reset()
    yield
    trace_infra(app).close()


def test_unwritten_scans_are_counted_and_written_in_one_batch(app, client, shelf, batched):
    assert "Đã quét 1 lần" in _page(client, shelf.unit_path(3))
    assert "Đã quét 2 lần" in _page(client, shelf.unit_path(3))
    _page(client, shelf.lot_path)
    assert _scans() == []  # nothing written yet: the page counted the buffered scans

    assert trace_infra(app).scan_log.flush() == 3
    scans = _scans()
    assert [(s.serial_index, s.verdict) for s in scans] == [
        (3, ScanVerdict.GENUINE), (3, ScanVerdict.GENUINE), (None, ScanVerdict.LOT)]
    assert all(s.batch_id == shelf.batch.id and s.product_id == shelf.product.id for s in scans)
    assert "Đã quét 3 lần" in _page(client, shelf.unit_path(3))  # written + this one


def test_buffered_scans_from_other_networks_raise_the_copy_flag(app, client, shelf, batched, monkeypatch):
    monkeypatch.setitem(app.config, "SCAN_COPY_MAX_NETWORKS", 2)
    _page(client, shelf.unit_path(4), "10.1.0.1")
    _page(client, shelf.unit_path(4), "10.2.0.1")
    html = _page(client, shelf.unit_path(4), "10.3.0.1")
    assert "có thể đã bị sao chép" in html and _scans() == []


def test_the_writer_thread_flushes_on_its_own(app, client, shelf, monkeypatch):
    monkeypatch.setitem(app.config, "SCAN_LOG_FLUSH_SECONDS", 0.05)
    trace_infra(app).reset()
    _page(client, shelf.unit_path(5))
    deadline = time.monotonic() + 10
    while not _scans() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [s.serial_index for s in _scans()] == [5]


def _row(code: str) -> dict:
    return {"at": datetime.now(timezone.utc), "code": code, "product_id": None, "batch_id": None, "serial_index": None,
            "verdict": "unknown", "network_hash": None, "language": "vi", "device": "android"}


@pytest.fixture()
def fresh_file(tmp_path):
    """A database file with no tables yet: every write fails until the schema is made."""
    return f"sqlite:///{tmp_path}/scans.sqlite3"


def _make_schema(url: str) -> None:
    engine = sa.create_engine(url)
    db.metadata.create_all(engine)
    engine.dispose()


def _codes(url: str) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        codes = list(connection.scalars(sa.text("SELECT code FROM scans ORDER BY id")))
    engine.dispose()
    return codes


def test_a_failed_write_keeps_the_rows_in_order(fresh_file):
    log = ScanLog(fresh_file, 3600)
    log.add(_row("/01/a"))
    log.add(_row("/01/b"))
    with pytest.raises(sqlite3.OperationalError):
        log.flush()
    log.add(_row("/01/c"))
    _make_schema(fresh_file)
    assert log.flush() == 3
    assert _codes(fresh_file) == ["/01/a", "/01/b", "/01/c"]
    log.close()


def test_closing_writes_what_is_left(fresh_file):
    _make_schema(fresh_file)
    log = ScanLog(fresh_file, 3600)
    log.add(_row("/01/x"))
    log.close()
    assert _codes(fresh_file) == ["/01/x"]


def test_an_outage_keeps_only_the_newest_rows(fresh_file, monkeypatch, caplog):
    monkeypatch.setattr(scanlog, "MAX_PENDING", 3)
    log = ScanLog(fresh_file, 3600)
    for code in "abcde":
        log.add(_row(f"/01/{code}"))
    assert "dropped the 1 oldest" in caplog.text
    _make_schema(fresh_file)
    log.close()
    assert _codes(fresh_file) == ["/01/c", "/01/d", "/01/e"]


def test_without_an_interval_each_scan_is_written_at_once(fresh_file):
    _make_schema(fresh_file)
    log = ScanLog(fresh_file, 0)
    log.add(_row("/01/now"))
    assert _codes(fresh_file) == ["/01/now"]
    log.close()


def test_a_forked_worker_starts_with_an_empty_log(fresh_file):
    """The log is made at start-up: a worker forked after that (gunicorn --preload) neither
    counts nor writes the parent's unwritten scans."""
    _make_schema(fresh_file)
    log = ScanLog(fresh_file, 3600)
    log.add({**_row("/01/parent"), "verdict": "genuine", "serial_index": 1})
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's answer is checked below)
        clean = log.pending_for(None, 1).count == 0 and log.flush() == 0
        os.write(write_end, b"y" if clean else b"n")
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read_end, 1) == b"y"
    assert log.pending_for(None, 1).count == 1  # the parent's own
    log.close()
    assert _codes(fresh_file) == ["/01/parent"]


def test_a_refused_row_is_dropped_and_the_rest_written(app, shelf, caplog):
    """A scan whose batch was deleted before the write must not block the buffer forever
    (COPY on PostgreSQL, multi-row INSERT on SQLite: one bad row fails the whole batch)."""
    log = ScanLog(db.engine.url, 3600)
    good = {**_row("/01/good"), "product_id": shelf.product.id, "batch_id": shelf.batch.id}
    log.add(good)
    log.add({**_row("/01/orphan"), "batch_id": shelf.batch.id + 1000})
    log.add(_row("/01/unknown"))
    assert log.flush() == 3
    assert [s.code for s in _scans()] == ["/01/good", "/01/unknown"]
    assert "/01/orphan" in caplog.text
    log.close()


def test_a_dropped_connection_costs_one_failed_write(app, shelf):
    """The write path has no pre-ping: a connection the server dropped fails one write,
    which keeps its rows, and the next write goes through a new connection."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite connections are files: nothing can drop them")
    log = ScanLog(db.engine.url, 3600)
    log.add(_row("/01/first"))
    assert log.flush() == 1
    db.session.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE application_name = :name AND datname = current_database()"),
                       {"name": scanlog.APPLICATION_NAME})
    db.session.commit()
    log.add(_row("/01/second"))
    with pytest.raises(db.engine.dialect.loaded_dbapi.OperationalError):
        log.flush()
    assert log.flush() == 1
    assert [s.code for s in _scans()] == ["/01/first", "/01/second"]
    log.close()


def test_a_request_writes_the_due_batch_after_its_response(app, client, shelf, batched, monkeypatch):
    """On a busy worker the writes are made by requests, after their response has been
    sent, not by a thread competing with them for the GIL."""
    monkeypatch.setattr(ScanLog, "_start", lambda self: None)  # no writer thread at all
    _page(client, shelf.unit_path(8))
    _page(client, shelf.unit_path(8))
    assert _scans() == []  # not due yet
    trace_infra(app).scan_log._due_at = time.monotonic() - 0.001
    html = _page(client, shelf.unit_path(8))
    assert "Đã quét 3 lần" in html
    assert [s.serial_index for s in _scans()] == [8, 8, 8]  # this scan too, once sent
    assert not trace_infra(app).scan_log.due()
