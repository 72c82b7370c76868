"""Numbers, dates and times for people: the Vietnamese way (120,5; 1.234; Vietnam time) and the
English way, never a Decimal in exponent form; and the Vietnamese CSV convention."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from flask_babel import refresh

from traceability import formats
from traceability.render.cells import csv_value, vietnamese_csv

# 20:30 UTC on 30 November is 03:30 on 1 December in Vietnam (UTC+7).
LATE_EVENING_UTC = datetime(2026, 11, 30, 20, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("value, vi, en", [
    (Decimal("12.50"), "12,5", "12.5"),
    (Decimal("2.4E+2"), "240", "240"),
    (Decimal("5E+2"), "500", "500"),
    (Decimal("240.000"), "240", "240"),
    (Decimal("1234.5"), "1.234,5", "1,234.5"),
    (Decimal("-1234567.125"), "-1.234.567,125", "-1,234,567.125"),
    (Decimal("0.000123"), "0,000123", "0.000123"),
    (Decimal("-0.00"), "0", "0"),
    (0.1, "0,1", "0.1"),
    (1234, "1.234", "1,234"),
    (None, "", ""),
])
def test_decimals_read_the_vietnamese_or_the_english_way(value, vi, en):
    assert formats.decimal(value, "vi") == vi
    assert formats.decimal(value, "en") == en


def test_counts_are_grouped_by_thousands_and_form_values_are_not():
    assert formats.number(1234, "vi") == "1.234" and formats.number(1234567, "en") == "1,234,567"
    assert formats.number(999, "vi") == "999" and formats.number(0, "vi") == "0"
    assert formats.decimal(Decimal("1234.50"), "vi", group=False) == "1234,5"


def test_an_instant_is_shown_in_vietnam_time():
    assert formats.datetime(LATE_EVENING_UTC, "vi") == "03:30 01/12/2026"
    assert formats.datetime(LATE_EVENING_UTC, "en") == "1 Dec 2026, 03:30"
    assert formats.date(LATE_EVENING_UTC, "vi") == "01/12/2026"  # the day in Vietnam
    # SQLite's aggregates give naive datetimes: they are UTC.
    assert formats.datetime(LATE_EVENING_UTC.replace(tzinfo=None), "vi") == "03:30 01/12/2026"


def test_days_and_months():
    assert formats.date(date(2026, 3, 5), "vi") == "05/03/2026"
    assert formats.date(date(2026, 3, 5), "en") == "5 Mar 2026"
    assert formats.month("2026-03", "vi") == "03/2026"
    assert formats.month("2026-03", "en") == "Mar 2026"
    assert formats.date(None) == "" and formats.datetime(None) == ""


def test_the_jinja_filters_follow_the_request_language(app):
    template = app.jinja_env.from_string(
        "{{ q|decimal }}|{{ n|number }}|{{ d|date }}|{{ t|datetime }}|{{ m|month }}")
    values = {"q": Decimal("12.50"), "n": 1234, "d": date(2026, 3, 5), "t": LATE_EVENING_UTC,
              "m": "2026-03"}
    with app.test_request_context("/?lang=vi"):
        refresh()  # the tests share one app context, where Flask-Babel keeps the locale
        assert template.render(values) == "12,5|1.234|05/03/2026|03:30 01/12/2026|03/2026"
    with app.test_request_context("/?lang=en"):
        refresh()
        assert template.render(values) == "12.5|1,234|5 Mar 2026|1 Dec 2026, 03:30|Mar 2026"


def test_csv_fields_follow_the_vietnamese_convention():
    assert csv_value(Decimal("92.50")) == "92,5"
    assert csv_value(Decimal("2.4E+3")) == "2400"  # no thousands separator in a CSV
    assert csv_value(date(2026, 3, 5)) == "05/03/2026"
    assert csv_value(LATE_EVENING_UTC) == "01/12/2026 03:30"
    assert csv_value(None) == "" and csv_value(7) == "7"
    assert csv_value("=1+2") == "'=1+2"  # still inert
    body = vietnamese_csv(["Tên", "Điểm"], [["Tỏi; đen", Decimal("75.5")]])
    assert body.startswith("\ufeff".encode())
    assert body.decode("utf-8-sig") == 'Tên;Điểm\r\n"Tỏi; đen";75,5\r\n'
