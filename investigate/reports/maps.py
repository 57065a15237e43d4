"""The map of visited stores: points coloured by outcome and a scale bar, drawn as SVG from
the coordinates alone (an equirectangular projection around the stores' mean latitude, true
to scale at the size of a city). No basemap: nothing is fetched."""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

COLOURS = {"violation": "#c0392b", "compliant": "#27ae60", "inconclusive": "#f39c12", "not_completed": "#95a5a6"}
M_PER_DEG = 111_320.0


def _nice(metres: float) -> float:
    for step in (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000):
        if step >= metres:
            return step
    return 100_000


def store_map(points: list[dict], *, legend: dict[str, str], scale_label, width: int = 640,
              height: int = 420) -> str:
    """``points``: lat, lon, outcome, label (label may be ''). ``legend``: outcome → text."""
    points = [p for p in points if p.get("lat") is not None and p.get("lon") is not None]
    if not points:
        return ""
    lat0 = sum(p["lat"] for p in points) / len(points)
    k = math.cos(math.radians(lat0))
    xs = [p["lon"] * k for p in points]
    ys = [p["lat"] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 0.002)
    pad = 30
    scale = (min(width, height - 40) - 2 * pad) / span
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           'font-family="DejaVu Sans, sans-serif" font-size="10">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f7f5ef" stroke="#ccc"/>']
    for p, x, y in sorted(zip(points, xs, ys), key=lambda t: t[0]["outcome"] == "violation"):
        px = width / 2 + (x - cx) * scale
        py = (height - 40) / 2 - (y - cy) * scale + 10
        colour = COLOURS.get(p["outcome"], "#555")
        out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5" fill="{colour}" stroke="#fff" stroke-width="1"/>')
        if p.get("label"):
            out.append(f'<text x="{px + 7:.1f}" y="{py + 3:.1f}" fill="#333">{escape(p["label"])}</text>')
    # Scale bar: a round distance about a fifth of the map's width.
    metres_per_px = M_PER_DEG / scale
    bar_m = _nice(metres_per_px * width / 5)
    bar_px = bar_m / metres_per_px
    y = height - 18
    out.append(f'<line x1="20" y1="{y}" x2="{20 + bar_px:.1f}" y2="{y}" stroke="#222" stroke-width="3"/>')
    out.append(f'<text x="20" y="{y - 6}">{escape(scale_label(bar_m))}</text>')
    lx = width - 150
    for i, (outcome, text) in enumerate(legend.items()):
        ly = height - 20 - 14 * (len(legend) - 1 - i)
        out.append(f'<circle cx="{lx}" cy="{ly - 3}" r="4.5" fill="{COLOURS.get(outcome, "#555")}"/>')
        out.append(f'<text x="{lx + 9}" y="{ly}">{escape(text)}</text>')
    out.append("</svg>")
    return "".join(out)
