"""Small server-rendered SVG charts (no JavaScript); every chart has a table beside it."""
from __future__ import annotations

from xml.sax.saxutils import escape

from markupsafe import Markup

from ..formats import current_locale, number

PALETTE = ("#14532d", "#ca8a04", "#0b5394", "#b91c1c", "#6b7280")


def bar_chart(items: list[tuple[str, int]], title: str, color: str = PALETTE[0]) -> Markup:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    row, label_w, width = 26, 150, 420
    height = row * max(len(items), 1) + 10
    top = max([v for _l, v in items] + [1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" width="100%" style="max-width:{width}px">',
             f"<title>{escape(title)}</title>"]
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        bar = int((width - label_w - 50) * value / top)
        parts.append(f'<text x="{label_w - 6}" y="{y + 16}" font-size="12" text-anchor="end">'
                     f"{escape(_short(label))}</text>")
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar}" height="{row - 8}" fill="{color}"/>')
        parts.append(f'<text x="{label_w + bar + 4}" y="{y + 16}" font-size="12">'
                     f"{number(value, current_locale())}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bar_chart(categories: list[str], series: list[tuple[str, list[int]]], title: str) -> Markup:
    """One horizontal bar per category, split into the series (e.g. 3★/4★/5★/none), with a legend."""
    row, label_w, width = 26, 150, 420
    legend_h = 22
    height = legend_h + row * max(len(categories), 1) + 10
    totals = [sum(values[i] for _n, values in series) for i in range(len(categories))]
    top = max(totals + [1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" width="100%" style="max-width:{width}px">',
             f"<title>{escape(title)}</title>"]
    x = 0
    for s, (name, _values) in enumerate(series):
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{PALETTE[s % len(PALETTE)]}"/>'
                     f'<text x="{x + 16}" y="15" font-size="12">{escape(name)}</text>')
        x += 24 + 8 * len(name)
    for i, category in enumerate(categories):
        y = legend_h + i * row
        parts.append(f'<text x="{label_w - 6}" y="{y + 16}" font-size="12" text-anchor="end">'
                     f"{escape(_short(category))}</text>")
        offset = label_w
        for s, (_name, values) in enumerate(series):
            w = int((width - label_w - 40) * values[i] / top)
            if w:
                parts.append(f'<rect x="{offset}" y="{y + 3}" width="{w}" height="{row - 8}" '
                             f'fill="{PALETTE[s % len(PALETTE)]}"/>')
            offset += w
        parts.append(f'<text x="{offset + 4}" y="{y + 16}" font-size="12">'
                     f"{number(totals[i], current_locale())}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
