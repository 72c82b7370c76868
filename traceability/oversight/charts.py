"""Small server-rendered SVG charts (no JavaScript); every chart has a table beside it.

The charts are drawn for a phone: a 320-unit wide viewBox scaled to the card's width (about
290 px at 360 px), so 13-unit text stays near 12 px. Long labels go on their own line above
the bar instead of beside it, so bars keep the whole width."""
from __future__ import annotations

from xml.sax.saxutils import escape

from markupsafe import Markup

from ..formats import current_locale, number

PALETTE = ("#14532d", "#ca8a04", "#0b5394", "#b91c1c", "#6b7280")
WIDTH = 320
FONT = 13
SIDE_LABEL_CHARS = 8   # labels up to this long sit left of their bar (months, "5★")
SIDE_LABEL_W = 70
VALUE_W = 40           # room right of the longest bar for its number


def _open(title: str, height: int) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
            f'aria-label="{escape(title)}" width="100%" style="max-width:{WIDTH * 1.5:.0f}px;display:block" '
            f'font-size="{FONT}" font-family="system-ui,sans-serif">',
            f"<title>{escape(title)}</title>"]


def _layout(labels: list[str]) -> tuple[bool, int, int]:
    """(labels beside the bars?, x where bars start, height of one row)."""
    beside = all(len(label) <= SIDE_LABEL_CHARS for label in labels)
    return beside, (SIDE_LABEL_W if beside else 0), (24 if beside else 40)


def _label(label: str, beside: bool, y: int) -> str:
    if beside:
        return (f'<text x="{SIDE_LABEL_W - 6}" y="{y + 16}" text-anchor="end">'
                f"{escape(label)}</text>")
    return f'<text x="0" y="{y + 14}">{escape(_short(label))}</text>'


def bar_chart(items: list[tuple[str, int]], title: str, color: str = PALETTE[0]) -> Markup:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    beside, left, row = _layout([label for label, _v in items])
    height = row * max(len(items), 1) + 6
    top = max([v for _l, v in items] + [1])
    parts = _open(title, height)
    for i, (label, value) in enumerate(items):
        y = 3 + i * row
        bar_y = y + 4 if beside else y + 19
        bar = round((WIDTH - left - VALUE_W) * value / top)
        parts.append(_label(label, beside, y))
        if bar:
            parts.append(f'<rect x="{left}" y="{bar_y}" width="{bar}" height="16" fill="{color}"/>')
        parts.append(f'<text x="{left + bar + 4}" y="{bar_y + 13}">{number(value, current_locale())}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bar_chart(categories: list[str], series: list[tuple[str, list[int]]], title: str) -> Markup:
    """One horizontal bar per category, split into the series (e.g. 3★/4★/5★/none), with a
    legend that wraps onto as many lines as it needs."""
    legend: list[tuple[int, int, int, str]] = []   # (series index, x, line, name)
    x = line = 0
    for s, (name, _values) in enumerate(series):
        width = 22 + int(FONT * 0.62 * len(name))
        if x and x + width > WIDTH:
            x, line = 0, line + 1
        legend.append((s, x, line, name))
        x += width + 10
    legend_h = 20 * (line + 1) + 4
    beside, left, row = _layout(categories)
    height = legend_h + row * max(len(categories), 1) + 6
    totals = [sum(values[i] for _n, values in series) for i in range(len(categories))]
    top = max(totals + [1])
    parts = _open(title, height)
    for s, lx, ln, name in legend:
        y = 4 + 20 * ln
        parts.append(f'<rect x="{lx}" y="{y}" width="13" height="13" fill="{PALETTE[s % len(PALETTE)]}"/>'
                     f'<text x="{lx + 18}" y="{y + 12}">{escape(name)}</text>')
    for i, category in enumerate(categories):
        y = legend_h + i * row
        bar_y = y + 4 if beside else y + 19
        parts.append(_label(category, beside, y))
        offset = left
        for s, (_name, values) in enumerate(series):
            w = round((WIDTH - left - VALUE_W) * values[i] / top)
            if w:
                parts.append(f'<rect x="{offset}" y="{bar_y}" width="{w}" height="16" '
                             f'fill="{PALETTE[s % len(PALETTE)]}"/>')
            offset += w
        parts.append(f'<text x="{offset + 4}" y="{bar_y + 13}">{number(totals[i], current_locale())}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(label: str, limit: int = 44) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
