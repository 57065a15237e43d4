"""When a case's answers change without a write: the clock's turning points.

Two things move on their own. A reply request's window closes at its deadline
(``coverage.window_closes_at``), and the naming with it; an unmarked promise falls overdue
(``numbers.clock.promise_turns_at``), and the rates, the promise shares and the commitment
score with it. Between two such moments, with the records unchanged (``Workspace.state``),
the checklist, the naming and every figure of the case are what they were. ``steady_span``
gives that span, so that a reader that keeps answers (the editors' Datasette, which would
otherwise name twenty thousand stores on every load of a case page) knows until when they hold.
"""

from __future__ import annotations

from datetime import datetime

from ..numbers.clock import promise_turns_at, span_around
from ..store.workspace import Workspace
from .coverage import window_closes_at


def turning_points(ws: Workspace, case: dict) -> list[datetime]:
    """Every moment at which the clock alone changes an answer about ``case``."""
    moments = [window_closes_at(r) for r in ws.db.query(
        "select deadline, answered_at from replies where case_id = ?", [case["id"]])]
    # CROSS JOIN: from the open promises (few) to their visits, not every visit of the case.
    moments += [promise_turns_at(p) for p in ws.db.query(
        "select p.due_at, p.kept from promises p cross join visits v on v.id = p.visit_id "
        "where p.kept is null and v.case_id = ?", [case["id"]])]
    return [m for m in moments if m is not None]


def steady_span(ws: Workspace, case: dict, on: datetime) -> tuple[datetime | None, datetime | None]:
    """(since, until): the answers about ``case`` at ``on`` hold at every moment ``t`` with
    ``since <= t < until`` (None: unbounded), as long as the workspace's state is the same."""
    return span_around(turning_points(ws, case), on)


def holds_at(span: tuple[datetime | None, datetime | None], t: datetime) -> bool:
    since, until = span
    return (since is None or since <= t) and (until is None or t < until)
