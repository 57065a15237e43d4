"""The rate chart: one bar per group with its 95 % interval as a whisker, as inline SVG (drawn
as vectors by WeasyPrint, sharp at any zoom)."""

from __future__ import annotations

from xml.sax.saxutils import escape


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
        lo, hi = label_w + plot_w * r["ci_low"], label_w + plot_w * r["ci_high"]
        mid = y + bar_height / 2
        out.append(f'<line x1="{lo:.1f}" y1="{mid:.1f}" x2="{hi:.1f}" y2="{mid:.1f}" stroke="#222" stroke-width="1.2"/>')
        for x in (lo, hi):
            out.append(f'<line x1="{x:.1f}" y1="{mid - 5:.1f}" x2="{x:.1f}" y2="{mid + 5:.1f}" stroke="#222" stroke-width="1.2"/>')
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


def score_chart(groups: list[dict], dimensions: list[tuple[str, str]], *, num, width: int = 640,
                bar_height: int = 14) -> str:
    """Mean score per dimension and group on a 0–100 scale, whiskers for the 95 % interval.

    ``groups``: ``{"label", "dimensions": {dim: {mean, ci_low, ci_high, n}}}``;
    ``dimensions``: (key, label in the report's language). ``num`` formats a number."""
    rows = []
    for key, label in dimensions:
        block = [(g["label"], g["dimensions"].get(key)) for g in groups]
        block = [(name, d) for name, d in block if d and d.get("mean") is not None]
        if block:
            rows.append((label, block))
    if not rows:
        return ""
    label_w, right = 210, 50
    plot_w = width - label_w - right
    height = 24 + sum(18 + bar_height * len(b) for _, b in rows) + 26
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="10">']
    for tick in (0, 25, 50, 75, 100):
        x = label_w + plot_w * tick / 100
        out.append(f'<line x1="{x:.1f}" y1="16" x2="{x:.1f}" y2="{height - 22}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="#555">{escape(num(tick))}</text>')
    y = 20
    for label, block in rows:
        out.append(f'<text x="4" y="{y + 11}" font-weight="bold">{escape(label)}</text>')
        y += 18
        for name, d in block:
            name = name if len(name) <= 30 else name[:29] + "…"
            out.append(f'<text x="{label_w - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end">'
                       f'{escape(name)} (n={d["n"]})</text>')
            out.append(f'<rect x="{label_w}" y="{y + 2}" width="{plot_w * d["mean"] / 100:.1f}" '
                       f'height="{bar_height - 4}" fill="#2e6f9e" fill-opacity="0.75"/>')
            if d.get("ci_low") is not None and d.get("ci_high") is not None:
                lo, hi = label_w + plot_w * d["ci_low"] / 100, label_w + plot_w * d["ci_high"] / 100
                mid = y + bar_height / 2
                out.append(f'<line x1="{lo:.1f}" y1="{mid:.1f}" x2="{hi:.1f}" y2="{mid:.1f}" stroke="#222"/>')
                for x in (lo, hi):
                    out.append(f'<line x1="{x:.1f}" y1="{mid - 4:.1f}" x2="{x:.1f}" y2="{mid + 4:.1f}" stroke="#222"/>')
            out.append(f'<text x="{label_w + plot_w + 6}" y="{y + bar_height * 0.7:.1f}">{escape(num(round(d["mean"])))}</text>')
            y += bar_height
    out.append("</svg>")
    return "".join(out)
