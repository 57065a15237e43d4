"""The rate chart: one bar per group with its 95 % interval as a whisker, as inline SVG (drawn
as vectors by WeasyPrint, sharp at any zoom)."""

from __future__ import annotations

from xml.sax.saxutils import escape


def whisker(lo: float, hi: float, mid: float, *, cap: float, stroke: str = "") -> list[str]:
    """An interval from ``lo`` to ``hi`` at height ``mid``, with end caps ``cap`` high each way."""
    return [f'<line x1="{lo:.1f}" y1="{mid:.1f}" x2="{hi:.1f}" y2="{mid:.1f}" stroke="#222"{stroke}/>',
            *(f'<line x1="{x:.1f}" y1="{mid - cap:.1f}" x2="{x:.1f}" y2="{mid + cap:.1f}" stroke="#222"{stroke}/>'
              for x in (lo, hi))]


def rate_chart(rows: list[dict], *, pct, overall: dict | None = None, overall_label: str = "all",
               width: int = 640, bar_height: int = 22) -> str:
    """``rows``: group, rate, ci_low, ci_high, eligible, in the order to draw. ``pct(share, n)``
    formats a share (whole percent when n < 100); ``overall`` is drawn as a dashed line."""
    rows = [r for r in rows if r.get("rate") is not None]
    if not rows:
        return ""
    label_w, right = 210, 70
    plot_w = width - label_w - right
    height = 30 + bar_height * len(rows) + 28
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="11">']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + plot_w * tick
        out.append(f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{height - 22}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="#555">{escape(pct(tick, 0))}</text>')
    for i, r in enumerate(rows):
        y = 24 + i * bar_height
        label = str(r["group"])
        label = label if len(label) <= 30 else label[:29] + "…"
        out.append(f'<text x="{label_w - 8}" y="{y + bar_height * 0.62:.1f}" text-anchor="end">'
                   f'{escape(label)} (n={r["eligible"]})</text>')
        w = plot_w * r["rate"]
        out.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{bar_height - 8}" fill="#c0392b" '
                   f'fill-opacity="0.75"/>')
        out += whisker(label_w + plot_w * r["ci_low"], label_w + plot_w * r["ci_high"], y + bar_height / 2,
                       cap=5, stroke=' stroke-width="1.2"')
        out.append(f'<text x="{label_w + plot_w + 6}" y="{y + bar_height * 0.62:.1f}">'
                   f'{escape(pct(r["rate"], r["eligible"]))}</text>')
    if overall is not None and overall.get("rate") is not None:
        x = label_w + plot_w * overall["rate"]
        out.append(f'<line x1="{x:.1f}" y1="16" x2="{x:.1f}" y2="{height - 22}" stroke="#1d1d1d" '
                   f'stroke-width="1" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{x + 3:.1f}" y="13" fill="#1d1d1d" font-size="10">'
                   f'{escape(overall_label)}: {escape(pct(overall["rate"], overall["eligible"]))}</text>')
    out.append("</svg>")
    return "".join(out)


# -- small multiples: one panel per dimension, one per channel's response times ----------------

PANEL_W = 312  # two panels side by side across the page's 640 px
#: Units a time axis is read in: its size in minutes, the longest axis read in it, the steps
#: its ticks may take.
TIME_UNITS = (("minute", 1, 120, (1, 2, 5, 10, 15, 30)), ("hour", 60, 72 * 60, (1, 2, 3, 6, 12, 24)),
              ("day", 1440, None, (1, 2, 5, 7, 14, 30, 60, 90)))


def _svg_open(width: int, height: int, size: int = 10) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="{size}">')


def dimension_panel(title: str, bars: list[dict], *, num, width: int = PANEL_W, bar_height: int = 15,
                    highlight: bool = False) -> str:
    """One dimension as a small chart: a bar per company (``bars``: label, mean, ci_low, ci_high,
    in the ranking's order) on the same 0–100 scale as its neighbours, whiskers for the 95 %
    interval, the mean written at the bar's end. Companies without a figure are left out."""
    bars = [b for b in bars if b.get("mean") is not None]
    if not bars:
        return ""
    label_w, right, top = 118, 26, 20
    plot_w = width - label_w - right
    height = top + bar_height * len(bars) + 16
    colour = "#1f3b57" if highlight else "#2e6f9e"
    out = [_svg_open(width, height, 9),
           f'<text x="0" y="11" font-size="10.5" font-weight="bold">{escape(title)}</text>']
    for tick in (0, 50, 100):
        x = label_w + plot_w * tick / 100
        out.append(f'<line x1="{x:.1f}" y1="{top - 3}" x2="{x:.1f}" y2="{height - 13}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{height - 3}" text-anchor="middle" fill="#777" font-size="8">'
                   f'{escape(num(tick))}</text>')
    for i, b in enumerate(bars):
        y = top + i * bar_height
        name = b["label"] if len(b["label"]) <= 21 else b["label"][:20] + "…"
        out.append(f'<text x="{label_w - 5}" y="{y + bar_height * 0.68:.1f}" text-anchor="end">{escape(name)}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 2.5}" width="{plot_w * b["mean"] / 100:.1f}" '
                   f'height="{bar_height - 5}" fill="{colour}" fill-opacity="0.8"/>')
        if b.get("ci_low") is not None and b.get("ci_high") is not None:
            out += whisker(label_w + plot_w * b["ci_low"] / 100, label_w + plot_w * b["ci_high"] / 100,
                           y + bar_height / 2, cap=3.5)
        out.append(f'<text x="{label_w + plot_w + 4}" y="{y + bar_height * 0.68:.1f}" font-weight="bold">'
                   f'{escape(num(round(b["mean"])))}</text>')
    out.append("</svg>")
    return "".join(out)


def time_axis(longest: float) -> tuple[str, int, float, float]:
    """The unit, its size in minutes, the tick step and the axis end (in that unit) for times
    up to ``longest`` minutes: minutes up to two hours, hours up to three days, then days, and
    at most five ticks."""
    unit, size, _, steps = next(u for u in TIME_UNITS if u[2] is None or longest <= u[2])
    value = max(longest / size, 1e-9)
    step = next((s for s in steps if value / s <= 5), steps[-1])
    return unit, size, step, step * -(-value // step)


def response_panel(title: str, curve: dict, *, median: float | None, pct, num, unit_names: dict[str, str],
                   median_label: str, open_label: str, width: int = PANEL_W, height: int = 150) -> str:
    """One channel's Kaplan–Meier curve as a small chart: the share of contacts still waiting
    for a response (100 % at the start) over the time since the contact, a step down at each
    response; a contact still open is a tick on the curve where it was last seen (censored),
    those past the axis an arrow at its end, counted in ``open_label`` (``%(n)s``).
    The median, where the curve reaches half, is marked with a dashed drop line.

    ``curve`` is ``numbers.stats.km_curve``'s; ``unit_names`` the time units' names
    (``minute``, ``hour``, ``day``) in the report's language."""
    steps, censored = curve["steps"], curve["censored"]
    responded = [t for t, _ in steps[1:]]
    # The axis ends a little after the last response (or the last open contact, when that is
    # not far beyond): an e-mail still open after six weeks must not squash three days of answers.
    everything = responded + [t for t, _ in censored]
    longest = max(everything) if everything else 1.0
    if responded and longest > 1.5 * max(responded):
        longest = 1.1 * max(responded)
    unit, size, step, end = time_axis(longest)
    x_max = end * size
    left, right, top, bottom = 34, 10, 20, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    x = lambda t: left + plot_w * min(t, x_max) / x_max  # noqa: E731
    y = lambda s: top + plot_h * (1 - s)  # noqa: E731
    out = [_svg_open(width, height, 9), f'<text x="0" y="11" font-size="10.5" font-weight="bold">{escape(title)}</text>']
    for share in (0, 0.5, 1):
        out.append(f'<line x1="{left}" y1="{y(share):.1f}" x2="{left + plot_w}" y2="{y(share):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 4}" y="{y(share) + 3:.1f}" text-anchor="end" fill="#777" font-size="8">'
                   f'{escape(pct(share, 0))}</text>')
    n_ticks = int(round(end / step))
    for k in range(n_ticks + 1):
        tx = left + plot_w * k / n_ticks
        out.append(f'<line x1="{tx:.1f}" y1="{top + plot_h}" x2="{tx:.1f}" y2="{top + plot_h + 3}" stroke="#777"/>')
        out.append(f'<text x="{tx:.1f}" y="{top + plot_h + 12}" text-anchor="middle" fill="#777" font-size="8">'
                   f'{escape(num(k * step))}</text>')
    out.append(f'<text x="{left + plot_w}" y="{height - 2}" text-anchor="end" fill="#555" font-size="8">'
               f'{escape(unit_names[unit])}</text>')
    # The curve: level until each response, then down; on to the last contact seen.
    last_seen = min(max(everything, default=0.0), x_max)
    # A point or a tick where the one before already is (a tenth of a point apart) draws nothing:
    # it is left out. A channel of 25,000 tests drew 2,500 open contacts' ticks on 316 places.
    points = [f"{x(0):.1f},{y(1):.1f}"]

    def to(point: str) -> None:
        if point != points[-1]:
            points.append(point)

    level = 1.0
    for t, s in steps[1:]:
        if t > x_max:
            break
        to(f"{x(t):.1f},{y(level):.1f}")
        to(f"{x(t):.1f},{y(s):.1f}")
        level = s
    to(f"{x(last_seen):.1f},{y(level):.1f}")
    out.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#2e6f9e" stroke-width="1.8"/>')
    beyond = 0
    ticks = set()
    for t, s in censored:
        if t > x_max:
            beyond += 1
            continue
        tick = (f'<line x1="{x(t):.1f}" y1="{y(s) - 4:.1f}" x2="{x(t):.1f}" y2="{y(s) + 4:.1f}" '
                f'stroke="#c0392b" stroke-width="1.4"/>')
        if tick not in ticks:
            ticks.add(tick)
            out.append(tick)
    if beyond:
        ay = y(level)
        out.append(f'<path d="M{left + plot_w - 5},{ay - 4:.1f} L{left + plot_w + 1},{ay:.1f} '
                   f'L{left + plot_w - 5},{ay + 4:.1f} Z" fill="#c0392b"/>')
        # Counted in the panel's title line: beside the curve it would cross a step.
        out.append(f'<text x="{left + plot_w}" y="11" text-anchor="end" fill="#c0392b" font-size="8.5">'
                   f'{escape(open_label % {"n": beyond})} ▸</text>')
    if median is not None and median <= x_max:
        mx = x(median)
        out.append(f'<polyline points="{left},{y(0.5):.1f} {mx:.1f},{y(0.5):.1f} {mx:.1f},{top + plot_h}" '
                   f'fill="none" stroke="#1d1d1d" stroke-dasharray="3 2"/>')
        # Above the half line after the median and below it before, the curve never runs: the
        # label goes up right where it fits (DejaVu is about 0.6 em a character), else down left.
        fits_right = mx + 3 + 0.6 * 8.5 * len(median_label) <= left + plot_w
        anchor, tx, ty = ("start", mx + 3, y(0.5) - 4) if fits_right else ("end", mx - 3, y(0.5) + 11)
        out.append(f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" font-size="8.5">'
                   f'{escape(median_label)}</text>')
    out.append("</svg>")
    return "".join(out)
