"""Charts as inline SVG, drawn on the server: no script, nothing fetched by the browser.

Every text node is escaped; colours are presentation attributes (not ``style``), so the page's
Content-Security-Policy can forbid inline styles on elements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from app.ops.queries import CategoryCount, Latency

WIDTH = 560
LABEL_WIDTH = 190
VALUE_WIDTH = 90
ROW_HEIGHT = 28
BAR_HEIGHT = 18
PAD = 8
P50_COLOUR = "#2b6cb0"
P90_COLOUR = "#c05621"
EXCEPTION_COLOUR = "#9b2c2c"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    colour: str


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def bar_chart(title: str, bars: Sequence[Bar], *, chart_id: str, empty: str = "no data") -> Markup:
    """A horizontal bar chart; bars share one linear scale starting at zero."""
    height = PAD * 2 + max(1, len(bars)) * ROW_HEIGHT
    area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = max((b.value for b in bars), default=0.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<line x1="{LABEL_WIDTH}" y1="{PAD // 2}" x2="{LABEL_WIDTH}" y2="{height - PAD // 2}" '
        'stroke="#718096" stroke-width="1"/>',
    ]
    if not bars:
        parts.append(
            f'<text x="{LABEL_WIDTH + 8}" y="{PAD + ROW_HEIGHT / 2 + 4:.0f}" fill="#4a5568" '
            f'font-size="13">{escape(empty)}</text>'
        )
    for i, bar in enumerate(bars):
        y = PAD + i * ROW_HEIGHT
        width = 0.0 if top <= 0 else max(1.0, area * bar.value / top) if bar.value > 0 else 0.0
        text_y = y + ROW_HEIGHT / 2 + 4
        parts.append(
            f'<g class="bar" data-label="{escape(bar.label)}" data-value="{bar.value:.3f}">'
            f'<text x="{LABEL_WIDTH - 8}" y="{text_y:.0f}" text-anchor="end" fill="#1a202c" '
            f'font-size="13">{escape(bar.label)}</text>'
            f'<rect x="{LABEL_WIDTH + 1}" y="{y + (ROW_HEIGHT - BAR_HEIGHT) / 2:.0f}" '
            f'width="{width:.1f}" height="{BAR_HEIGHT}" fill="{escape(bar.colour)}">'
            f"<title>{escape(bar.label)}: {escape(bar.text)}</title></rect>"
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{text_y:.0f}" fill="#1a202c" '
            f'font-size="13">{escape(bar.text)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def latency_chart(latency: Latency, *, chart_id: str) -> Markup:
    """p50 and p90 of one latency, as two bars on one scale."""
    if not latency.samples:
        return bar_chart(latency.name, [], chart_id=chart_id, empty="no samples in 24 h")
    bars = [
        Bar("p50", latency.p50 or 0.0, format_seconds(latency.p50), P50_COLOUR),
        Bar("p90", latency.p90 or 0.0, format_seconds(latency.p90), P90_COLOUR),
    ]
    return bar_chart(f"{latency.name} (n={latency.samples})", bars, chart_id=chart_id)


def exceptions_chart(categories: Sequence[CategoryCount], *, chart_id: str) -> Markup:
    bars = [Bar(c.category, float(c.count), str(c.count), EXCEPTION_COLOUR) for c in categories]
    return bar_chart(
        "Tracking exceptions by category, last 24 h",
        bars,
        chart_id=chart_id,
        empty="no exceptions in 24 h",
    )
