"""Rates with confidence intervals: the one place where the project's numbers are computed.

The CLI's ``stats``, the Datasette canned queries and the PDF report all ask this module, so
the same visit set always gives the same figure. Definitions:

- A *violation rate* is violations / (violations + compliant) over completed undercover
  visits. Inconclusive visits and attempts that could not be made are counted apart and never
  as compliant (Synar practice).
- Intervals are Wilson score intervals (better than the normal approximation for small n and
  rates near 0 or 1; Brown, Cai & DasGupta 2001).
"""

from __future__ import annotations

import math
from statistics import NormalDist

from .workspace import Workspace


def z_for(confidence: float = 0.95, *, two_sided: bool = True) -> float:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    tail = (1 - confidence) / 2 if two_sided else 1 - confidence
    return NormalDist().inv_cdf(1 - tail)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion; (None, None) when n is 0."""
    if n <= 0:
        return None, None
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} outside 0..{n}")
    z = z_for(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(violations: int, compliant: int, confidence: float = 0.95) -> dict:
    """A rate and its interval as a plain dict: what every consumer prints."""
    n = violations + compliant
    lo, hi = wilson_interval(violations, n, confidence)
    return {
        "eligible": n,
        "violations": violations,
        "compliant": compliant,
        "rate": violations / n if n else None,
        "ci_low": lo,
        "ci_high": hi,
        "confidence": confidence,
    }


#: Groupings ``case_rates`` knows, as SQL expressions over ``visits v`` joined to ``stores s``.
GROUPINGS = {
    None: "'all'",
    "chain": "coalesce(s.chain, '(independent)')",
    "district": "coalesce(s.district, '(unknown)')",
    "city": "coalesce(s.city, '(unknown)')",
    "round": "v.round",
}


def visit_filter(*, kind: str | None = "undercover", approved_only: bool = False) -> tuple[str, list]:
    """The SQL condition that decides which visits count; shared with every consumer."""
    where, params = [], []
    if kind:
        where.append("v.kind = ?")
        params.append(kind)
    if approved_only:
        where.append("v.review_state = 'approved'")
    return (" and ".join(where) or "1"), params


def case_rates(ws: Workspace, case: dict, *, by: str | None = None, confidence: float = 0.95,
               kind: str | None = "undercover", approved_only: bool = False) -> list[dict]:
    """Per group: visits, violations, compliant, inconclusive, not completed, the rate and its
    interval. ``by=None`` gives one row for the whole case."""
    if by not in GROUPINGS:
        raise ValueError(f"cannot group by {by!r} (known: {', '.join(k for k in GROUPINGS if k)})")
    cond, params = visit_filter(kind=kind, approved_only=approved_only)
    sql = f"""
        select {GROUPINGS[by]} as grp,
          count(*) as visits,
          sum(v.outcome = 'violation') as violations,
          sum(v.outcome = 'compliant') as compliant,
          sum(v.outcome = 'inconclusive') as inconclusive,
          sum(v.outcome = 'not_completed') as not_completed
        from visits v join stores s on s.id = v.store_id
        where v.case_id = ? and {cond}
        group by grp order by grp
    """
    out = []
    for row in ws.db.query(sql, [case["id"], *params]):
        r = rate(row["violations"] or 0, row["compliant"] or 0, confidence)
        out.append({
            "group": row["grp"],
            "visits": row["visits"],
            "inconclusive": row["inconclusive"] or 0,
            "not_completed": row["not_completed"] or 0,
            **r,
        })
    return out
