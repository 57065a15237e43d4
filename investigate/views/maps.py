"""The map of visited stores: numbered markers coloured by outcome, violations drawn on top,
a scale bar and a legend in a strip below the data, drawn as SVG from the coordinates alone (an
equirectangular projection around the stores' mean latitude, true to scale at the size of a
city). Names are not drawn — they overlapped — but listed by number in the key table beside
the map. With a basemap (``investigate.views.tiles.basemap``: the newsroom's own tiles, cached on
disk) the stores are placed in its Web Mercator pixels and the tiles drawn under them."""

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


#: How far apart two markers' centres stay (their radius is 8).
GAP = 17

Grid = dict[tuple[int, int], list[tuple[float, float]]]


def _cell(x: float, y: float, gap: float) -> tuple[int, int]:
    return math.floor(x / gap), math.floor(y / gap)


def _clear(x: float, y: float, placed: Grid, gap: float) -> bool:
    """No placed marker nearer than ``gap``. The markers sit in cells of ``gap`` by ``gap``: one
    nearer than that is in the spot's own cell or one of the eight around it, so only those are
    read. Checking every marker placed made a map of 1,200 stores take 6.3 s (27 million distances),
    one of 5,000 58 s; now 0.8 and 4.7 s, the same map (issue 30)."""
    i, j = _cell(x, y, gap)
    return all((x - px) ** 2 + (y - py) ** 2 >= gap ** 2
               for di in (-1, 0, 1) for dj in (-1, 0, 1) for px, py in placed.get((i + di, j + dj), ()))


def _free_spot(x: float, y: float, placed: Grid, width: float, height: float,
               gap: float = GAP) -> tuple[float, float]:
    """(x, y), or the nearest spot on rings around it that keeps ``gap`` from every placed marker."""
    for ring in range(0, 8):
        steps = 1 if ring == 0 else 8 * ring
        for k in range(steps):
            angle = 2 * math.pi * k / steps - math.pi / 2
            cx, cy = x + ring * gap * math.cos(angle), y + ring * gap * math.sin(angle)
            if 10 <= cx <= width - 10 and 10 <= cy <= height - 10 and _clear(cx, cy, placed, gap):
                return cx, cy
    return x, y


def _place(placed: Grid, spot: tuple[float, float], gap: float = GAP) -> None:
    placed.setdefault(_cell(*spot, gap), []).append(spot)


#: Drawn first to last: a violation is never hidden under a compliant store.
DRAW_ORDER = ("not_completed", "compliant", "inconclusive", "violation")


STRIP = 44  # the legend and scale bar sit below the data, never on it


def store_map(points: list[dict], *, legend: dict[str, str], scale_label, width: int = 640,
              height: int = 460, basemap: dict | None = None,
              boundaries: list[list[tuple[float, float]]] | None = None) -> str:
    """``points``: lat, lon, outcome, number. ``legend``: outcome → text. ``basemap``: from
    ``investigate.views.tiles.basemap`` for a map of ``width`` × ``height - STRIP``."""
    points = [p for p in points if p.get("lat") is not None and p.get("lon") is not None]
    if not points:
        return ""
    lat0 = sum(p["lat"] for p in points) / len(points)
    pad = 30
    strip = STRIP
    plot_h = height - strip
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="10">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f7f5ef" stroke="#ccc"/>']
    if basemap:
        from .tiles import TILE, world_px

        out.append(f'<svg x="0" y="0" width="{width}" height="{plot_h}">')
        out += [f'<image x="{t["x"]:.1f}" y="{t["y"]:.1f}" width="{TILE}" height="{TILE}" xlink:href="{t["href"]}" '
                f'href="{t["href"]}"/>' for t in basemap["tiles"]]
        out.append("</svg>")
        # Markers in the basemap's own pixels: x grows east, y grows south, 1 unit = 1 pixel.
        xs = [world_px(p["lat"], p["lon"], basemap["zoom"])[0] - basemap["left"] for p in points]
        ys = [-(world_px(p["lat"], p["lon"], basemap["zoom"])[1] - basemap["top"]) for p in points]
        scale, cx, cy = 1.0, width / 2, -plot_h / 2
        metres_per_px = basemap["metres_per_px"]
    else:
        k = math.cos(math.radians(lat0))
        xs = [p["lon"] * k for p in points]
        ys = [p["lat"] for p in points]
        span = max(max(xs) - min(xs), max(ys) - min(ys), 0.002)
        scale = (min(width, plot_h) - 2 * pad) / span
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        metres_per_px = M_PER_DEG / scale
    def project(lat: float, lon: float) -> tuple[float, float]:
        if basemap:
            from .tiles import world_px

            x, y = world_px(lat, lon, basemap["zoom"])
            return x - basemap["left"], y - basemap["top"]
        return width / 2 + (lon * k - cx) * scale, plot_h / 2 - (lat - cy) * scale

    # District boundaries under the markers, clipped to the map area.
    if boundaries:
        out.append(f'<svg x="0" y="0" width="{width}" height="{plot_h}">')
        for ring in boundaries:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (project(lat, lon) for lat, lon in ring))
            out.append(f'<polygon points="{path}" fill="none" stroke="#6b6b6b" stroke-width="1" '
                       'stroke-dasharray="4 2"/>')
        out.append("</svg>")
    order = {o: i for i, o in enumerate(DRAW_ORDER)}
    drawn = sorted(zip(points, xs, ys), key=lambda t: order.get(t[0]["outcome"], 0))
    # Markers that would overlap move aside (violations keep their place first), with a leader
    # line to where the store is.
    placed: Grid = {}
    spots = {}
    for p, x, y in reversed(drawn):
        tx, ty = width / 2 + (x - cx) * scale, plot_h / 2 - (y - cy) * scale
        spots[id(p)] = (tx, ty, *_free_spot(tx, ty, placed, width, plot_h))
        _place(placed, spots[id(p)][2:])
    for p, x, y in drawn:
        tx, ty, px, py = spots[id(p)]
        colour = COLOURS.get(p["outcome"], "#555")
        if (px, py) != (tx, ty):
            out.append(f'<line x1="{tx:.1f}" y1="{ty:.1f}" x2="{px:.1f}" y2="{py:.1f}" stroke="#777" stroke-width=".7"/>'
                       f'<circle cx="{tx:.1f}" cy="{ty:.1f}" r="1.6" fill="#333"/>')
        out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="8" fill="{colour}" stroke="#fff" stroke-width="1.2"/>')
        out.append(f'<text x="{px:.1f}" y="{py + 3.5:.1f}" text-anchor="middle" fill="#fff" font-size="9" '
                   f'font-weight="bold">{p["number"]}</text>')
    out.append(f'<rect x="0" y="{plot_h}" width="{width}" height="{strip}" fill="#fff" stroke="#ccc"/>')
    if basemap and basemap.get("attribution"):
        out.append(f'<text x="{width - 6}" y="{plot_h - 5}" text-anchor="end" font-size="7" fill="#333">'
                   f'{escape(basemap["attribution"])}</text>')
    # Scale bar: a round distance about a fifth of the map's width.
    bar_m = _nice(metres_per_px * width / 5)
    bar_px = bar_m / metres_per_px
    y = height - 12
    out.append(f'<line x1="20" y1="{y}" x2="{20 + bar_px:.1f}" y2="{y}" stroke="#222" stroke-width="3"/>')
    out.append(f'<text x="20" y="{y - 7}">{escape(scale_label(bar_m))}</text>')
    lx = width - 20 - 130 * len(legend)
    for i, (outcome, text) in enumerate(legend.items()):
        x = lx + 130 * i
        out.append(f'<circle cx="{x}" cy="{height - 22}" r="5" fill="{COLOURS.get(outcome, "#555")}"/>')
        out.append(f'<text x="{x + 9}" y="{height - 18.5}">{escape(text)}</text>')
    out.append("</svg>")
    return "".join(out)
