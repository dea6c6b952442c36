"""Bar charts as SVG, drawn on the server: the desk's report page needs no JavaScript.

`bar_chart(title, categories, series)` draws grouped vertical bars: one group per category (a
stage), one bar per series (a cohort; the median and the 90th percentile), with a value axis, the
value above each bar, and a legend. Every text is escaped here (a label is data: a stage id, a
period, an employer id), and the drawing uses presentation attributes only, no `style`: the
desk's Content-Security-Policy allows no inline styles. A missing value (None) draws no bar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 36, 72
PALETTE = ("#17324d", "#4f86b8", "#9cc3e6", "#c9703b", "#e3b48f", "#6b8e23", "#8a1c1c", "#66707a")


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | int | None]


def bar_chart(title: str, categories: list[str], series: list[Series], *, unit: str = "") -> Markup:
    """The chart as an inline `<svg>` element, safe to put into a page as it is."""
    top = max((v for s in series for v in s.values if v is not None), default=0)
    scale_max = _nice(top)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-label="{_e(title)}">',
        f"<title>{_e(title)}</title>",
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="600" fill="#1d232a">{_e(title)}</text>',
    ]
    for step in range(5):  # the value axis: five lines from 0 to the rounded maximum
        value = scale_max * step / 4
        y = TOP + plot_h - plot_h * step / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
                     f'fill="#66707a">{_number(value)}</text>')
    if unit:
        parts.append(f'<text x="8" y="{TOP - 8}" font-size="11" fill="#66707a">{_e(unit)}</text>')
    group_w = plot_w / max(len(categories), 1)
    bar_w = max(min((group_w * 0.8) / max(len(series), 1), 40), 2)
    for index, category in enumerate(categories):
        x0 = LEFT + group_w * index + (group_w - bar_w * len(series)) / 2
        for number, s in enumerate(series):
            value = s.values[index] if index < len(s.values) else None
            if value is None:
                continue
            height = plot_h * value / scale_max if scale_max else 0
            x, y = x0 + bar_w * number, TOP + plot_h - height
            colour = PALETTE[number % len(PALETTE)]
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" '
                         f'height="{height:.1f}" fill="{colour}"><title>{_e(s.name)}, {_e(category)}: '
                         f"{_number(value)}</title></rect>")
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle" '
                         f'fill="#1d232a">{_number(value)}</text>')
        cx = LEFT + group_w * (index + 0.5)
        below = TOP + plot_h + 14
        parts.append(f'<text x="{cx:.1f}" y="{below}" font-size="11" text-anchor="end" fill="#1d232a" '
                     f'transform="rotate(-30 {cx:.1f} {below})">{_e(category)}</text>')
    for number, s in enumerate(series):  # the legend, below the stage names
        x = LEFT + number * 130
        y = HEIGHT - 12
        colour = PALETTE[number % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}" font-size="11" fill="#1d232a">{_e(s.name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice(top: float) -> float:
    """A round maximum for the value axis, at or above the largest value: four steps of 1, 2, 2.5
    or 5 x 10^n (a count of 3 gets 0-1-2-3-4, not 0-1.25-2.5)."""
    if top <= 4:  # whole steps at least: the values are counts and days
        return 4
    power = 10 ** math.floor(math.log10(top / 4))
    for factor in (1, 2, 2.5, 5, 10):
        if top <= 4 * factor * power:
            return 4 * factor * power
    return 40 * power  # pragma: no cover - the loop ends at 10


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _e(text: str) -> str:
    return escape(str(text), quote=True)
