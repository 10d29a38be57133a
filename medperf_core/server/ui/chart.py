"""The benchmark page's chart, drawn on the server as SVG: each model's primary metric per site, pooled marked.

One row per model (in rank order); a dot per site's figure (its title names the dataset when the viewer may see it);
a dark bar at the pooled figure with its value written beside it. No script and nothing fetched: the page works
offline and the figures are the leaderboard's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import attrs

WIDTH = 760
LEFT = 220  # room for model names
RIGHT = 90  # room for the pooled value
ROW = 34
TOP = 28
BOTTOM = 36


@attrs.frozen(kw_only=True)
class ChartRow:
    label: str
    points: list[tuple[str, float]]  # (site label, figure)
    pooled: float | None


def _domain(values: Sequence[float]) -> tuple[float, float]:
    """[0, 1] when every figure lies in it (most metrics are rates); else the figures' range, padded."""
    if not values or all(0.0 <= v <= 1.0 for v in values):
        return 0.0, 1.0
    low, high = min(values), max(values)
    if low == high:
        return low - 1.0, high + 1.0
    pad = (high - low) * 0.05
    return low - pad, high + pad


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    step = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= step)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def render(metric: str, rows: Sequence[ChartRow]) -> str:
    """The SVG (an inline `<svg>` element) of the given rows; an empty string when there is nothing to draw."""
    values = [v for r in rows for _, v in r.points] + [r.pooled for r in rows if r.pooled is not None]
    if not values:
        return ""
    low, high = _domain(values)
    height = TOP + ROW * len(rows) + BOTTOM
    plot = WIDTH - LEFT - RIGHT

    def x(value: float) -> float:
        return LEFT + (value - low) / (high - low) * plot

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" aria-label="{escape(metric)} per site and pooled, per model">',
        f'<text x="{LEFT}" y="16" class="chart-title">{escape(metric)}: each site (dots) and pooled (bar)</text>',
    ]
    axis_y = TOP + ROW * len(rows)
    for tick in _ticks(low, high):
        tx = x(tick)
        parts.append(f'<line x1="{tx:.1f}" y1="{TOP}" x2="{tx:.1f}" y2="{axis_y}" class="grid"/>')
        parts.append(f'<text x="{tx:.1f}" y="{axis_y + 16}" class="tick" text-anchor="middle">{_fmt(tick)}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}" class="axis"/>')
    for i, row in enumerate(rows):
        cy = TOP + ROW * i + ROW / 2
        parts.append(f'<g class="chart-row" data-model="{escape(row.label)}">')
        parts.append(
            f'<text x="{LEFT - 10}" y="{cy + 4:.1f}" class="label" text-anchor="end">{escape(row.label)}</text>'
        )
        parts.append(f'<line x1="{LEFT}" y1="{cy:.1f}" x2="{WIDTH - RIGHT}" y2="{cy:.1f}" class="lane"/>')
        for site, value in row.points:
            parts.append(
                f'<circle cx="{x(value):.1f}" cy="{cy:.1f}" r="5" class="site">'
                f"<title>{escape(site)}: {_fmt(value)}</title></circle>"
            )
        if row.pooled is not None:
            px = x(row.pooled)
            parts.append(
                f'<rect x="{px - 2:.1f}" y="{cy - 11:.1f}" width="4" height="22" class="pooled">'
                f"<title>pooled: {_fmt(row.pooled)}</title></rect>"
            )
            parts.append(f'<text x="{WIDTH - RIGHT + 8}" y="{cy + 4:.1f}" class="value">{_fmt(row.pooled)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)
