"""Which visits count: the first question every output asks.

Two scopes, and no output chooses its own:

- ``PUBLIC``: approved undercover visits. Every public figure, table and list.
- ``WORKING``: every undercover visit that is not rejected. The editors' figures while the
  review is going on; each figure says how many of its visits are still provisional.

Rejected visits are in neither scope.
"""

from __future__ import annotations

from ..numbers import stats
from ..store.workspace import Workspace
from ..vocabulary import REVIEW_STATES

PUBLIC = "public"
WORKING = "working"
SCOPES = (PUBLIC, WORKING)


def _check(scope: str) -> bool:
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    return scope == PUBLIC


def visit_condition(scope: str, *, kind: str | None = "undercover") -> tuple[str, list]:
    """The SQL condition over ``visits v`` for the visits that count in ``scope``."""
    return stats.visit_filter(kind=kind, approved_only=_check(scope))


def visit_sql(scope: str) -> str:
    """The same condition with its values written in, for SQL stored as text (Datasette's
    canned queries)."""
    cond, params = visit_condition(scope)
    for value in params:
        cond = cond.replace("?", "'" + str(value).replace("'", "''") + "'", 1)
    return cond


def case_rates(ws: Workspace, case: dict, *, scope: str, by: str | None = None, confidence: float = 0.95,
               kind: str | None = "undercover") -> list[dict]:
    """``stats.case_rates`` over the visits of ``scope``."""
    return stats.case_rates(ws, case, by=by, confidence=confidence, kind=kind, approved_only=_check(scope))


def approved_only(scope: str) -> bool:
    """For the numbers modules, which take the scope as a plain flag."""
    return _check(scope)


def review_counts(ws: Workspace, case: dict) -> dict:
    """Undercover visits of the case per review state, from the visit tallies."""
    counts = {s: 0 for s in REVIEW_STATES}
    for row in ws.db.query("select review_state as s, sum(visits) as n from visit_tallies "
                           "where case_id = ? and kind = 'undercover' group by s", [case["id"]]):
        counts[row["s"]] = row["n"]
    return counts
