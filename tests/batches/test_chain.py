"""Tampering with a stored diary event is caught by the chain check: command and API."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.factories import make_token
from traceability.batches.cli import register_diary_cli  # noqa: F401  (the command under test)
from traceability.batches.services import append_event, verify_chain
from traceability.extensions import db
from traceability.models_base import utcnow


def _diary(batch, author_id=None):
    start = utcnow() - timedelta(days=10)
    events = [append_event(batch, {"kind": kind, "occurred_at": start + timedelta(days=i),
                                   "quantity": 100 if kind == "harvest" else None,
                                   "unit": "kg" if kind == "harvest" else None,
                                   "latitude": 15.381234, "longitude": 109.12},
                           author_id=author_id)
              for i, kind in enumerate(["planting", "input", "harvest", "packing"])]
    db.session.commit()
    return events


def _tamper(sql: str, **params) -> None:
    db.session.execute(sa.text(sql), params)
    db.session.commit()
    db.session.expire_all()


def test_untouched_chain_verifies_after_a_round_trip_through_the_database(farm):
    _diary(farm.batch, farm.owner.id)
    db.session.expire_all()
    assert verify_chain(farm.batch.id) is None


def test_sql_update_of_an_event_is_named_by_the_command(app, farm):
    events = _diary(farm.batch)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["diary", "verify", str(farm.batch.id)])
    assert ok.exit_code == 0, ok.output
    assert "OK, 4 events" in ok.output

    _tamper("UPDATE diary_events SET quantity = 90 WHERE id = :id", id=events[2].id)
    broken = runner.invoke(args=["diary", "verify", str(farm.batch.id)])
    assert broken.exit_code == 1
    assert f"BROKEN at seq 3 (event id {events[2].id})" in broken.output


def test_verify_all_reports_each_batch(app, farm, other_farm):
    _diary(farm.batch)
    events = _diary(other_farm.batch)
    _tamper("UPDATE diary_events SET notes = 'sửa lén' WHERE id = :id", id=events[0].id)
    result = app.test_cli_runner().invoke(args=["diary", "verify", "--all"])
    assert result.exit_code == 1
    assert f"batch {farm.batch.id} (lot TOI-01): OK" in result.output
    assert f"batch {other_farm.batch.id} (lot MN-01): BROKEN at seq 1" in result.output


def test_verify_needs_a_batch_or_all(app):
    result = app.test_cli_runner().invoke(args=["diary", "verify"])
    assert result.exit_code == 2


def test_recomputed_hash_is_caught_at_the_next_link(client, farm):
    from traceability.batches.models import DiaryEvent
    from traceability.batches.services import event_digest

    events = _diary(farm.batch)
    _tamper("UPDATE diary_events SET notes = 'giả' WHERE id = :id", id=events[1].id)
    forged = db.session.get(DiaryEvent, events[1].id)
    _tamper("UPDATE diary_events SET hash = :h WHERE id = :id", h=event_digest(forged), id=forged.id)
    broken = verify_chain(farm.batch.id)
    assert broken is not None and broken.seq == 3


def test_chain_api_names_the_first_broken_link(client, farm):
    events = _diary(farm.batch)
    headers = {"Authorization": f"Bearer {make_token(farm.staff)}"}
    db.session.commit()
    body = client.get(f"/api/v1/batches/{farm.batch.id}/chain", headers=headers).get_json()
    assert body == {"batch_id": farm.batch.id, "intact": True, "first_broken": None, "events": 4}

    _tamper("UPDATE diary_events SET occurred_at = :t WHERE id = :id",
            t=utcnow() - timedelta(days=30), id=events[1].id)
    body = client.get(f"/api/v1/batches/{farm.batch.id}/chain", headers=headers).get_json()
    assert body["intact"] is False
    assert body["first_broken"] == {"seq": 2, "id": events[1].id}
    assert body["events"] == 4


def test_deleted_event_breaks_the_chain(client, farm):
    events = _diary(farm.batch)
    _tamper("DELETE FROM diary_events WHERE id = :id", id=events[1].id)
    broken = verify_chain(farm.batch.id)
    assert broken is not None and broken.id == events[2].id


def test_chain_api_of_a_foreign_batch_is_refused(client, farm, other_farm):
    headers = {"Authorization": f"Bearer {make_token(farm.staff)}"}
    db.session.commit()
    response = client.get(f"/api/v1/batches/{other_farm.batch.id}/chain", headers=headers)
    assert response.status_code in (403, 404)
    assert response.get_json()["code"] in ("forbidden", "not_found")
