"""The trace path's pinned read connection: a broken one costs one slower page, never an
error, and the next scan reads through a fresh connection."""
from __future__ import annotations

import sqlalchemy as sa

from tests.resolver.conftest import scan
from traceability.extensions import db
from traceability.resolver.infra import trace_infra
from traceability.resolver.models import Scan


def _page(client, path: str) -> str:
    response = scan(client, path, headers={"Accept-Language": "vi"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_dead_connection_falls_back_and_is_replaced(app, client, shelf):
    assert "Đã quét 1 lần" in _page(client, shelf.unit_path(2))
    pinned = trace_infra(app).pinned
    dead = pinned.raw
    dead.driver_connection.close()  # as if the server had gone away

    # The trace lane's read fails: the broken connection is dropped, not returned to the
    # pool, and the request goes on to Flask, whose route reads through a fresh one.
    assert "Đã quét 2 lần" in _page(client, shelf.unit_path(2))
    assert pinned.raw is not None and pinned.raw is not dead and not dead.is_valid

    assert "Đã quét 3 lần" in _page(client, shelf.unit_path(2))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Scan.id))) == 3


def test_a_lost_prepared_statement_is_prepared_again(app, client, shelf):
    """PostgreSQL reads through a server-side prepared statement; SQLite through its own
    statement cache. Either way, forgetting it server-side must not break the page."""
    _page(client, shelf.unit_path(3))
    pinned = trace_infra(app).pinned
    if db.engine.dialect.name == "postgresql":
        pinned.raw.driver_connection.pgconn.exec_(b"DEALLOCATE ALL")
    assert "Đã quét 2 lần" in _page(client, shelf.unit_path(3))
    assert "Đã quét 3 lần" in _page(client, shelf.unit_path(3))


def test_the_head_query_never_reads_the_whole_scans_table(app, client, shelf):
    """The trace read is a prepared statement with one generic plan per connection. Made
    while the scans table was empty and analyzed, that plan once read the whole table on
    every scan ever after; the connection now rules sequential scans out."""
    import pytest

    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan cache; SQLite plans each statement on its own")
    db.session.execute(sa.text("ANALYZE scans"))  # empty: the worst case for a cached plan
    db.session.commit()
    _page(client, shelf.unit_path(4))  # prepares the head query on the pinned connection
    cursor = trace_infra(app).pinned.raw.cursor()
    cursor.execute(f"EXPLAIN EXECUTE ocop_trace_head_gtin('{shelf.batch.lot}', 4, NULL, "
                   f"'{shelf.product.gtin}')")
    plan = "\n".join(row[0] for row in cursor.fetchall())
    cursor.close()
    assert "ix_scans_batch_serial" in plan and "Seq Scan" not in plan, plan
