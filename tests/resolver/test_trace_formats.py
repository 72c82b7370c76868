"""The trace page writes quantities and times the reader's way: `12,5 kg` and Vietnam time in
Vietnamese, `12.5 kg` in English, never a Decimal in exponent form."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from tests.factories import scan
from traceability.batches.services import append_event
from traceability.extensions import db

# 20:30 UTC on 30 November is 03:30 on 1 December in Vietnam (UTC+7).
LATE_EVENING_UTC = datetime(2026, 11, 30, 20, 30, tzinfo=timezone.utc)


def _record(shelf, quantity: Decimal) -> None:
    append_event(shelf.batch, {"kind": "shipping", "occurred_at": LATE_EVENING_UTC,
                               "place": "Cảng Sa Kỳ", "quantity": quantity, "unit": "kg"})
    db.session.commit()


def test_a_vietnamese_page_shows_decimal_commas_and_vietnam_time(client, shelf):
    _record(shelf, Decimal("12.50"))
    html = scan(client, shelf.lot_path).get_data(as_text=True)
    assert "12,5 kg" in html and "12.5" not in html
    assert ">03:30 01/12/2026</time>" in html and "30/11/2026" not in html
    assert 'datetime="2026-11-30T20:30:00+00:00"' in html  # the machine form stays ISO-8601


def test_an_english_page_shows_english_numbers_in_vietnam_time(client, shelf):
    _record(shelf, Decimal("12.50"))
    html = scan(client, shelf.lot_path + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "12.5 kg" in html and "12,5" not in html
    assert "1 Dec 2026, 03:30" in html


def test_a_decimal_in_exponent_form_shows_its_digits(client, shelf):
    _record(shelf, Decimal("2.4E+2"))
    html = scan(client, shelf.lot_path).get_data(as_text=True)
    assert "240 kg" in html and "E+" not in html


def test_a_unit_page_shows_its_first_scan_in_vietnam_time(client, shelf, monkeypatch):
    from traceability.resolver import trace

    monkeypatch.setattr(trace, "utcnow", lambda: LATE_EVENING_UTC)
    scan(client, shelf.unit_path(7))
    html = scan(client, shelf.unit_path(7)).get_data(as_text=True)
    assert "lần đầu lúc 03:30 01/12/2026" in html
