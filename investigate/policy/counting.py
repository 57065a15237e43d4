"""Which visits count: the first question every output asks.

Two scopes, and no output chooses its own:

- ``PUBLIC``: approved undercover visits. Every public figure, table and list.
- ``WORKING``: every undercover visit that is not rejected or voided. The editors' figures while the
  review is going on; each figure says how many of its visits are still provisional.

Rejected and voided visits are in neither scope (``stats.counted_state_sql`` is the one
spelling of that).

``case_counts`` is the one function every surface reads a case's counts from — ``case
list``, ``case show``, ``stats``, ``fieldwork``, the checklist, the editors' home and case
page, the report and the public database — so a figure has one definition everywhere:

- *visits*: undercover visits in the scope; *violations*: those whose outcome is a violation,
  with a service case's overdue promises counted as broken (``stats.case_rates``, the promise
  clock); the *rate* is violations / (violations + compliant).
- *stores tested*: stores with at least one completed test; *completion*: stores tested /
  target stores (the drawn sample, else the frame, plus any other store attempted).
- *sold at least once*: stores with a violation in any round / stores with a violation or a
  compliant test.
"""

from __future__ import annotations

from ..numbers import fieldwork, stats
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


def case_counts(ws: Workspace, case: dict, *, scope: str, confidence: float = 0.95) -> dict:
    """The counts and headline figures of ``case`` in ``scope``, by the one definition each
    (this module's docstring): what every surface prints about a case as a whole."""
    public = _check(scope)
    rows = stats.case_rates(ws, case, confidence=confidence, approved_only=public)
    overall = rows[0] if rows else {"visits": 0, "inconclusive": 0, "not_completed": 0, "provisional": 0,
                                    **stats.rate(0, 0, confidence)}
    counted = fieldwork.standings(ws, case, approved_only=public)  # one pass for both figures
    comp = fieldwork.completion(ws, case, counted=counted)
    whole = comp[0] if comp else {"targets": 0, "attempted": 0, "completed": 0, "completion_rate": None}
    once = fieldwork.sold_at_least_once(ws, case, counted=counted)
    return {"scope": scope, **{k: overall[k] for k in (
                "visits", "violations", "compliant", "inconclusive", "not_completed", "provisional", "eligible",
                "rate", "ci_low", "ci_high", "confidence")},
            "target_stores": whole["targets"], "stores_attempted": whole["attempted"],
            "stores_tested": whole["completed"], "completion_rate": whole["completion_rate"],
            "sold_at_least_once": once["violations"], "stores_judged": once["eligible"],
            "sold_at_least_once_rate": once["rate"]}


def approved_only(scope: str) -> bool:
    """For the numbers modules, which take the scope as a plain flag."""
    return _check(scope)


def review_counts(ws: Workspace, case: dict) -> dict:
    """Undercover visits of the case per review state, from the case tallies (the visit tallies
    summed without the store: a few rows a case, where the visit tallies hold some 67,000 rows
    for a million visits — 31 ms of each home page load at 1M)."""
    counts = {s: 0 for s in REVIEW_STATES}
    for row in ws.db.query("select review_state as s, sum(visits) as n from case_tallies "
                           "where case_id = ? and kind = 'undercover' group by s", [case["id"]]):
        counts[row["s"]] = row["n"]
    return counts
