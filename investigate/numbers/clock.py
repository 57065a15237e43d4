"""The promise clock: what a promise is at a moment, without anyone marking it.

One rule every figure and list shares: a promise whose due time passed with nothing marked is
overdue, and counts as broken from that moment — in the violation rate (``stats.case_rates``),
the promise shares, the commitment score, the findings (``cases.promises.clock_findings``) and
a story's timeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

#: The clock's resolution: a promise due at 10:00:00 is overdue from 10:00:00.000001.
TICK = timedelta(microseconds=1)

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
