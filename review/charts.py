"""Line charts as inline SVG, drawn on the server: no chart library, no script.

The returned markup is built from numbers and escaped names only, so templates may mark it safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from markupsafe import Markup

_PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#4b5563")


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[date, float]]


def line_chart(series: list[Series], *, title: str, days: tuple[date, date], y_max: float | None = None,
               percent: bool = False, width: int = 600, height: int = 240) -> Markup:
    """One line per series over the days from days[0] to days[1]; y from 0 to y_max (or the largest value)."""
    left, right, top, bottom = 48, 150, 24, 28
    if not any(s.points for s in series):
        return Markup(f'<p class="empty">{escape(title)}: no calls in this period.</p>')
    top_value = y_max if y_max is not None else max(v for s in series for _, v in s.points) or 1.0
    span = max((days[-1] - days[0]).days, 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(day: date) -> float:
        return left + plot_w * (day - days[0]).days / span

    def y(value: float) -> float:
        return top + plot_h * (1 - value / top_value)

    label = (lambda v: f"{v * 100:.0f}%") if percent else (lambda v: f"{v:g}")
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="{left}" y="14" class="chart-title">{escape(title)}</text>',
    ]
    for fraction in (0, 0.5, 1):
        value = top_value * fraction
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" class="axis">{label(value)}</text>')
    for day in days:
        parts.append(f'<text x="{x(day):.1f}" y="{height - 8}" text-anchor="middle" class="axis">{day.isoformat()}</text>')
    for index, s in enumerate(series):
        colour = _PALETTE[index % len(_PALETTE)]
        coords = " ".join(f"{x(day):.1f},{y(value):.1f}" for day, value in sorted(s.points))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>')
        for day, value in s.points:
            parts.append(
                f'<circle cx="{x(day):.1f}" cy="{y(value):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(s.name)} {day.isoformat()}: {label(value)}</title></circle>"
            )
        legend_y = top + 16 * index
        parts.append(f'<rect x="{width - right + 12}" y="{legend_y}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{width - right + 28}" y="{legend_y + 9}" class="legend">{escape(s.name[:20])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
