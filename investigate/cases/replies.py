"""The right of reply: a business is told of the findings, given a deadline, and its answer is
printed verbatim. A store is not named in public output before its reply window has closed
(it answered, or its deadline passed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..errors import InvalidInput
from ..ids import resolve
from ..workspace import Workspace

CHANNELS = ("email", "letter", "phone", "in_person", "web_form")


def request_reply(ws: Workspace, case: dict, store: dict, *, channel: str = "email",
                  requested_at: str | None = None, deadline: str | None = None,
                  notes: str | None = None) -> dict:
    """Record that the business was asked for comment; the deadline defaults to the case's
    reply window (``reply_days``) from the request."""
    if channel not in CHANNELS:
        raise InvalidInput(f"channel {channel!r} is not one of {', '.join(CHANNELS)}")
    asked = ws.parse_time(requested_at, what="request date")
    due = ws.parse_time(deadline, what="deadline", past_only=False) if deadline else asked + timedelta(days=case["reply_days"] or 14)
    if deadline and len(deadline) == 10:  # a bare date means the end of that day
        due = due.replace(hour=23, minute=59, second=59)
    if due <= asked:
        raise InvalidInput("the deadline must be after the request")
    return ws.insert("replies", {
        "case_id": case["id"], "store_id": store["id"], "requested_at": asked.isoformat(),
        "channel": channel, "deadline": due.isoformat(), "answered_at": None, "answer": None,
        "notes": notes, "created_at": ws.now().isoformat(),
    })


def record_reply(ws: Workspace, reply: dict, *, answer: str, answered_at: str | None = None) -> dict:
    """The business's answer, verbatim. An empty answer is refused: "declined to comment" is
    an answer and should be written as one."""
    if not answer or not answer.strip():
        raise InvalidInput("the answer is empty (write 'declined to comment' if they did)")
    when = ws.parse_time(answered_at, what="answer date")
    return ws.update("replies", reply["id"], {"answer": answer, "answered_at": when.isoformat()},
                     action="reply")


def get_reply(ws: Workspace, ref: str) -> dict:
    return resolve(ws, "replies", ref)


def list_replies(ws: Workspace, *, case: dict | None = None, open_only: bool = False) -> list[dict]:
    where, params = [], []
    if case:
        where.append("r.case_id = ?")
        params.append(case["id"])
    if open_only:
        where.append("r.answered_at is null and julianday(r.deadline) > julianday(?)")
        params.append(ws.now().isoformat())
    return list(ws.db.query(
        "select r.*, s.name as store_name, c.slug as case_slug from replies r "
        "join stores s on s.id = r.store_id join cases c on c.id = r.case_id"
        + (" where " + " and ".join(where) if where else "") + " order by r.deadline", params))


def _closed(row: dict, on: datetime) -> bool:
    # Compared as datetimes, not strings: offsets differ across daylight saving time.
    return bool(row["answered_at"]) or datetime.fromisoformat(row["deadline"]) <= on


def reply_window_closed(ws: Workspace, case: dict, store: dict, *, on: datetime | None = None) -> bool:
    """May the store be named in public? Only when it was asked, and it answered or its
    deadline has passed. A store never asked is never named."""
    return store["id"] in nameable_store_ids(ws, case, on=on)


def nameable_store_ids(ws: Workspace, case: dict, *, on: datetime | None = None) -> set[str]:
    """Every store of a case whose reply window has closed: the one rule for naming, asked by
    the public PDF and the public database alike."""
    on = on or ws.now()
    return {r["store_id"] for r in ws.db.query(
        "select store_id, deadline, answered_at from replies where case_id = ?", [case["id"]])
        if _closed(r, on)}
