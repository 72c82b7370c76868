"""How numbers, dates and times read for people: pages, PDFs and spreadsheet exports.

Vietnamese (the default): `1.234` for a count, `120,5` for a decimal, `30/11/2026`, and
`14:05 30/11/2026` in Vietnam time. English: `1,234`, `120.5`, `30 Nov 2026`,
`30 Nov 2026, 14:05`, also in Vietnam time (where the products are made and scanned).
A Decimal never shows in exponent form (`Decimal("2.4E+2")` reads `240`) nor with trailing
zeros (`12.50` reads `12,5`).

The functions take the language and need no Flask; `init_app` registers them as the Jinja
filters `number`, `decimal`, `date`, `datetime` and `month`, which read the request's language.
Machine formats (the API's JSON, EPCIS, CSV dates read back by imports) are not made here:
they stay ISO-8601 with their offsets.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .clock import VIETNAM

DEFAULT_LOCALE = "vi"
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=16)
def _symbols(locale: str) -> tuple[str, str]:
    """(decimal mark, thousands separator) of a language, as CLDR (Babel) has them."""
    from babel import Locale, UnknownLocaleError

    try:
        parsed = Locale.parse(locale or DEFAULT_LOCALE)
    except (UnknownLocaleError, ValueError):
        parsed = Locale.parse(DEFAULT_LOCALE)
    symbols = parsed.number_symbols.get("latn", {})
    return symbols.get("decimal", ","), symbols.get("group", ".")


def _grouped(digits: str, separator: str) -> str:
    """'1234567' -> '1.234.567' (digits only, no sign)."""
    head = len(digits) % 3 or 3
    return separator.join([digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)])


def plain_decimal(value: Any) -> str:
    """A number's exact digits with a point, never in exponent form and without trailing
    zeros: Decimal("2.4E+2") -> "240", Decimal("12.50") -> "12.5", 0.1 -> "0.1"."""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif not isinstance(value, Decimal):
        value = Decimal(value)
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def decimal(value: Any, locale: str = DEFAULT_LOCALE, *, group: bool = True) -> str:
    """A quantity, score or measure: `1.234,5` in Vietnamese, `1,234.5` in English. Without
    `group`, no thousands separator (what a form field gives back to be parsed again)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    mark, separator = _symbols(locale)
    text = plain_decimal(value)
    sign = "-" if text.startswith("-") else ""
    whole, _point, fraction = text.lstrip("-").partition(".")
    if group:
        whole = _grouped(whole, separator)
    return sign + whole + (mark + fraction if fraction else "")


def number(value: Any, locale: str = DEFAULT_LOCALE) -> str:
    """A count in running text: `1.234` in Vietnamese, `1,234` in English."""
    return decimal(value, locale)


def month(value: str | dt.date, locale: str = DEFAULT_LOCALE) -> str:
    """A month (a date, or "2026-11" as reports key them): `11/2026` in Vietnamese,
    `Nov 2026` in English."""
    if isinstance(value, str):
        year, _dash, number_ = value.partition("-")
        value = dt.date(int(year), int(number_), 1)
    if _english(locale):
        return f"{_EN_MONTHS[value.month - 1]} {value.year}"
    return f"{value.month:02d}/{value.year}"


def to_vietnam(value: dt.datetime) -> dt.datetime:
    """An instant in Vietnam time; a naive one (SQLite's aggregates) is UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(VIETNAM)


def date(value: dt.date | dt.datetime | None, locale: str = DEFAULT_LOCALE) -> str:
    """A day: `30/11/2026` in Vietnamese, `30 Nov 2026` in English. An instant's day is its
    day in Vietnam."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = to_vietnam(value)
    if _english(locale):
        return f"{value.day} {_EN_MONTHS[value.month - 1]} {value.year}"
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def datetime(value: dt.datetime | None, locale: str = DEFAULT_LOCALE) -> str:
    """An instant in Vietnam time: `14:05 30/11/2026` in Vietnamese, `30 Nov 2026, 14:05`
    in English."""
    if value is None:
        return ""
    local = to_vietnam(value)
    if _english(locale):
        return f"{date(local, locale)}, {local:%H:%M}"
    return f"{local:%H:%M} {date(local, locale)}"


def _english(locale: str) -> bool:
    return (locale or "").startswith("en")


def current_locale() -> str:
    """The language of the request (or the default outside one)."""
    from flask_babel import get_locale

    return str(get_locale() or DEFAULT_LOCALE)


def init_app(app: Any) -> None:
    """The Jinja filters: `{{ batch.quantity|decimal }}`, `{{ count|number }}`,
    `{{ cert.expires_on|date }}`, `{{ event.occurred_at|datetime }}`."""
    app.add_template_filter(lambda value: number(value, current_locale()), "number")
    app.add_template_filter(lambda value: decimal(value, current_locale()), "decimal")
    app.add_template_filter(lambda value: date(value, current_locale()), "date")
    app.add_template_filter(lambda value: datetime(value, current_locale()), "datetime")
    app.add_template_filter(lambda value: month(value, current_locale()), "month")
