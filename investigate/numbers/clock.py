"""The promise clock: what a promise is at a moment, without anyone marking it.

One rule every figure and list shares: a promise whose due time passed with nothing marked is
overdue, and counts as broken from that moment — in the violation rate (``stats.case_rates``),
the promise shares, the commitment score, the findings (``cases.promises.clock_findings``) and
a story's timeline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from ..clock import TICK


def promise_state(promise: dict, now: datetime) -> str:
    """The promise clock: what a promise is at ``now``, without anyone marking it.

    kept (on time), late (kept after its due time: it stays late), broken (marked so),
    overdue (due time passed, nothing marked: counts as broken from that moment), pending
    (not yet due). Times are compared as datetimes: offsets differ across daylight saving."""
    due = datetime.fromisoformat(promise["due_at"])
    if promise["kept"] == 1:
        kept_at = promise.get("kept_at")
        return "late" if kept_at and datetime.fromisoformat(kept_at) > due else "kept"
    if promise["kept"] == 0:
        return "broken"
    return "overdue" if due < now else "pending"


def promise_turns_at(promise: dict) -> datetime | None:
    """The moment the clock alone moves ``promise`` from pending to overdue (the first instant
    after its due time), or None when a mark has settled it: before that moment
    ``promise_state`` says pending, from it on overdue."""
    if promise["kept"] is not None:
        return None
    return datetime.fromisoformat(promise["due_at"]) + TICK


def case_promises(execute, case_id: str, now: datetime) -> tuple[dict[str, list[str]], list[datetime]]:
    """(visit id → the states of its promises at ``now`` (``promise_state``), for every visit of
    the case that holds one: what a test's score reads of them; the moments the clock alone
    moves one of them (``promise_turns_at``)). One read of the case's promises, by ``execute`` (a
    workspace's, or the plain connection of the editors' Datasette), so that the scorecard and
    the editors' canned one see the same states in the same order. (Built per test in SQL, as a
    JSON array for the canned query to parse again, they were a sixth of that query: 0.28 of
    1.62 s at 100,000 tests.)"""
    states: dict[str, list[str]] = {}
    turns: list[datetime] = []
    for visit_id, due_at, kept, kept_at in execute(
            "select p.visit_id, p.due_at, p.kept, p.kept_at from promises p cross join visits v on v.id = p.visit_id "
            "where v.case_id = ?", [case_id]):
        promise = {"due_at": due_at, "kept": kept, "kept_at": kept_at}
        states.setdefault(visit_id, []).append(promise_state(promise, now))
        if kept is None:
            turns.append(promise_turns_at(promise))
    return states, turns


def span_around(moments: Iterable[datetime], on: datetime) -> tuple[datetime | None, datetime | None]:
    """(the last of ``moments`` at or before ``on``, the first after it), None where there is
    none: the span around ``on`` in which no turning point lies."""
    since = until = None
    for moment in moments:
        if moment <= on:
            since = moment if since is None or moment > since else since
        elif until is None or moment < until:
            until = moment
    return since, until
