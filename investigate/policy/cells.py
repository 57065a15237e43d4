"""Disclosure control for public tables and charts: no group small enough to single someone out.

A group of three tests in a small town can name the clerk, or — with the tester's known
route — the tester. Public figures therefore merge every group below a threshold (default 5
completed tests: a closed shop's attempt shows no clerk and rests no rate, so it makes no
group safe) into one "other groups" row. If that row would itself be below the threshold, the
next smallest groups are folded in until it is not; so no suppressed group can be recovered
by subtracting the shown groups from the total. When even the whole table is below the
threshold, every figure is withheld. The PDF and the public database say that they did this.
"""

from __future__ import annotations

from ..numbers.stats import rate

DEFAULT_MIN_CELL = 5
OTHER = "(other groups)"
_SUMMED = ("visits", "completed", "violations", "compliant", "inconclusive", "not_completed")


def min_cell(ws, case: dict | None = None) -> int:
    """The threshold for a case: the case's own, else the workspace's [publish] min_cell, else 5."""
    if case and case.get("min_cell"):
        return int(case["min_cell"])
    return int(ws.setting("publish", "min_cell", DEFAULT_MIN_CELL))


def protect_groups(rows: list[dict], *, threshold: int = DEFAULT_MIN_CELL,
                   size_key: str = "completed") -> dict:
    """Rows as ``stats.case_rates`` gives them → rows safe to publish, and what was done.

    Returns ``{"rows", "merged" (group names folded into OTHER), "withheld" (True when the
    total is below the threshold), "threshold"}``."""
    if threshold <= 1 or not rows:
        return {"rows": list(rows), "merged": [], "withheld": False, "threshold": threshold}
    total = sum(r[size_key] for r in rows)
    if total < threshold:
        withheld = [{"group": OTHER, size_key: None, "rate": None, "ci_low": None, "ci_high": None,
                     "withheld": True}]
        return {"rows": withheld, "merged": [r["group"] for r in rows], "withheld": True,
                "threshold": threshold}
    ordered = sorted(rows, key=lambda r: (r[size_key], str(r["group"])))
    small = [r for r in ordered if r[size_key] < threshold]
    if not small:
        return {"rows": list(rows), "merged": [], "withheld": False, "threshold": threshold}
    folded = list(small)
    rest = [r for r in ordered if r[size_key] >= threshold]
    while sum(r[size_key] for r in folded) < threshold or len(folded) < 2:
        if not rest:
            break
        folded.append(rest.pop(0))
    other = {k: sum(r.get(k) or 0 for r in folded) for k in _SUMMED}
    confidence = folded[0].get("confidence", 0.95)
    other.update(rate(other["violations"], other["compliant"], confidence))
    other.update(group=OTHER, merged_groups=len(folded))
    kept = [r for r in rows if r not in folded]
    return {"rows": kept + [other], "merged": [r["group"] for r in folded], "withheld": False,
            "threshold": threshold}
