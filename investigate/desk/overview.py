"""The editors' desk at deadline: every case with its status and what blocks publication,
open reply windows, overdue promises and the visits waiting for review — one call, plain data,
for the editors' Datasette home page (and anything else that wants it)."""

from __future__ import annotations

from datetime import datetime

from ..cases import cases as case_module
from ..cases.promises import list_promises
from ..cases.replies import list_replies
from ..cases.review import review_queue
from ..policy import gate
from ..store.workspace import Workspace


def desk(ws: Workspace, *, now: datetime | None = None) -> dict:
    """``cases`` (slug, title, status, visits, blockers: the checklist's open items),
    ``open_replies`` (deadline ahead, no answer), ``overdue_promises`` and ``review_queue``."""
    now = now or ws.now()
    rows = []
    for case in case_module.list_cases(ws):
        blockers = [] if case["status"] == "published" else gate.open_items(ws, case)
        rows.append({"slug": case["slug"], "id": case["id"], "title": case["title"], "status": case["status"],
                     "visits": case["visits"], "violations": case["violations"],
                     "blockers": [{"item": b["key"], "detail": b["detail"]} for b in blockers]})
    return {
        "cases": rows,
        "open_replies": [{"case": r["case_slug"], "store": r["store_name"], "store_id": r["store_id"],
                          "deadline": r["deadline"], "days_left": (datetime.fromisoformat(r["deadline"]) - now).days}
                         for r in list_replies(ws, open_only=True)],
        "overdue_promises": [{"case": p["case_slug"], "store": p["store_name"], "what": p["what"], "due": p["due_at"],
                              "visit_id": p["visit_id"]} for p in list_promises(ws, overdue=True, now=now)],
        "review_queue": [{"case": v["case_slug"], "store": v["store_name"], "visit_id": v["id"],
                          "visited": v["visited_at"], "state": v["review_state"] or "received",
                          "comment": v["last_comment"]} for v in review_queue(ws)],
    }
