"""The day against the person's usual day, drawn as a small inline SVG (a few kB, no script, no image
request: light on a phone, and allowed by the pages' CSP since it is markup, not a fetched image).

The same reading as the family's digest chart (alerts/digest.py): bars are the sensor events seen in
each hour, the line the usual day; hours run in the person day's order (from ``day_start_hour`` to the
same hour next morning, so a 03:00 trip is drawn after its evening); while the usual day is still being
learned the chart says so rather than leaving the line out. Only attributes, no ``style``: the CSP
forbids inline styles.

>>> svg = day_svg({"date": "2026-01-05", "day_start_hour": 4, "hourly": [0] * 7 + [5] + [0] * 16,
...                "usual_hourly": [0.0] * 24}, "Monday so far")
>>> "still learning" in svg and svg.count("<rect class=\\"bar\\"") == 1
True
"""

from __future__ import annotations

from html import escape
from typing import Any

W, H = 360, 190
LEFT, RIGHT, TOP, BOTTOM = 34, 352, 46, 160
TODAY, USUAL, INK, GRID, MUTED = "#2e6eb4", "#d9822b", "#282828", "#e1e1e1", "#6e6e6e"


def _label(h: int) -> str:
    return {0: "midnight", 12: "noon"}.get(h, f"{h % 12 or 12}{'am' if h < 12 else 'pm'}")


def day_svg(day: dict[str, Any], bars_label: str, *, mark_hour: int | None = None) -> str:
    """``day`` as :func:`hub.days.clean` returns it; ``bars_label`` names the bars ("Monday",
    "Today so far"); ``mark_hour`` (a clock hour) draws a marker where the alert was raised."""
    dsh = int(day.get("day_start_hour", 4))
    order = [(dsh + i) % 24 for i in range(24)]
    today = [day["hourly"][h] for h in order]
    usual = [float(day["usual_hourly"][h]) for h in order]
    learning = not any(usual)
    peak = max([*today, *usual, 1])
    slot = (RIGHT - LEFT) / 24

    def y(v: float) -> float:
        return BOTTOM - (BOTTOM - TOP) * v / peak

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="100%" role="img" '
             f'aria-label="{escape(bars_label)}: sensor events each hour against a usual day" class="daychart">',
             f'<rect x="4" y="6" width="12" height="12" fill="{TODAY}"/>',
             f'<text x="20" y="16" font-size="12" fill="{INK}">{escape(bars_label)}</text>']
    lx = 20 + 7 * len(bars_label) + 16
    if learning:
        parts.append(f'<text x="{lx:.0f}" y="16" font-size="12" fill="{USUAL}">Usual day: still learning</text>')
    else:
        parts.append(f'<line x1="{lx:.0f}" y1="12" x2="{lx + 20:.0f}" y2="12" stroke="{USUAL}" stroke-width="3"/>'
                     f'<text x="{lx + 25:.0f}" y="16" font-size="12" fill="{INK}">A usual day</text>')
    parts.append(f'<text x="4" y="36" font-size="11" fill="{MUTED}">sensor events each hour</text>')
    for frac in (0.5, 1.0):
        gy = y(peak * frac)
        parts.append(f'<line x1="{LEFT}" y1="{gy:.1f}" x2="{RIGHT}" y2="{gy:.1f}" stroke="{GRID}"/>'
                     f'<text x="{LEFT - 4}" y="{gy + 4:.1f}" font-size="11" fill="{MUTED}" '
                     f'text-anchor="end">{peak * frac:.0f}</text>')
    for i, v in enumerate(today):
        if v > 0:
            parts.append(f'<rect class="bar" x="{LEFT + i * slot + 1.5:.1f}" y="{y(v):.1f}" width="{slot - 3:.1f}" '
                         f'height="{BOTTOM - y(v):.1f}" fill="{TODAY}"><title>{_label(order[i])}: {v} events'
                         f'</title></rect>')
    if not learning:
        pts = " ".join(f"{LEFT + (i + 0.5) * slot:.1f},{y(v):.1f}" for i, v in enumerate(usual))
        parts.append(f'<polyline class="usual" points="{pts}" fill="none" stroke="{USUAL}" stroke-width="2.5"/>')
    if mark_hour is not None:
        mx = LEFT + (order.index(mark_hour % 24) + 0.5) * slot
        parts.append(f'<line x1="{mx:.1f}" y1="{TOP - 6}" x2="{mx:.1f}" y2="{BOTTOM}" stroke="#b42828" '
                     f'stroke-dasharray="3 2"/><text x="{mx:.1f}" y="{TOP - 9}" font-size="11" fill="#b42828" '
                     f'text-anchor="middle">alert</text>')
    parts.append(f'<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="{INK}" stroke-width="1.5"/>')
    for i, h in enumerate(order):
        if i % 6 == 0:  # every six hours: room for "midnight" at 360 px wide
            x = LEFT + i * slot
            parts.append(f'<line x1="{x:.1f}" y1="{BOTTOM}" x2="{x:.1f}" y2="{BOTTOM + 4}" stroke="{INK}"/>'
                         f'<text x="{x:.1f}" y="{BOTTOM + 17}" font-size="11" fill="{INK}" '
                         f'text-anchor="{"middle" if i else "start"}">{_label(h)}</text>')
    if day.get("blind"):
        parts.append(f'<text x="{RIGHT}" y="36" font-size="11" fill="#aa2828" text-anchor="end">'
                     'some sensors offline</text>')
    parts.append("</svg>")
    return "".join(parts)
