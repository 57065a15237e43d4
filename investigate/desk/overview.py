"""The editors' desk at deadline: every case with what keeps it from publication, and what
still needs doing — visits without review, reply windows open, promises overdue or due this
week, businesses not asked — for the editors' Datasette home page and its "to do" pages.

The home page is what an editor opens first, so it reads only counts and first pages: each
case's figures from the visit tallies (``policy.counting``), each list counted by one query
and read one page at a time. The full checklist, which walks every finding and names every
business, is on each case's own page.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..cases import cases as case_module
from ..cases.asking import unasked_ids, unasked_names
from ..cases.promises import count_promises, list_promises
from ..cases.replies import count_replies, list_replies
from ..cases.review import PENDING, review_queue, review_versions
from ..policy.counting import WORKING, case_rates, review_counts
from ..store.workspace import Workspace

#: Rows of each list on the home page; a "to do" page shows ``PAGE`` at a time.
HOME_ROWS = 10
PAGE = 50
#: What still needs doing, in the order the home page shows it: key → heading.
LISTS = {
    "review": "Visits waiting for review",
    "replies": "Reply windows open",
    "overdue": "Promises overdue",
    "due": "Promises due this week",
    "unasked": "Businesses with findings not asked for comment",
}


def desk(ws: Workspace, *, now: datetime | None = None, rows: int = HOME_ROWS) -> dict:
    """``cases`` (slug, title, status, visits, violations, review counts, open replies) and
    ``lists``: for each of ``LISTS`` but ``unasked`` (which needs a case's naming: its page
    is per case), its count and first ``rows``."""
    now = now or ws.now()
    out = []
    for case in case_module.list_cases(ws, counted=False):
        # Visits and violations by the one definition (the policy's working scope), from the
        # tallies; stores tested and completion, which walk the frame, are on the case page.
        overall = case_rates(ws, case, scope=WORKING)
        review = review_counts(ws, case)
        out.append({"slug": case["slug"], "id": case["id"], "title": case["title"], "status": case["status"],
                    "visits": overall[0]["visits"] if overall else 0,
                    "violations": overall[0]["violations"] if overall else 0,
                    "waiting": review["received"] + review["has_issues"], "review": review,
                    "open_replies": count_replies(ws, case=case, open_only=True)})
    return {"cases": out, "lists": {key: todo(ws, key, now=now, per_page=rows)
                                    for key in LISTS if key != "unasked"}}


def todo(ws: Workspace, what: str, *, now: datetime | None = None, page: int = 1, per_page: int = PAGE,
         case: dict | None = None) -> dict:
    """One page of one list of ``LISTS``: ``title``, ``count``, ``rows`` (each with ``when``,
    ``label``, ``case``, ``detail`` and the ``table``/``row_id`` it opens), ``page``, ``pages``."""
    now = now or ws.now()
    page = max(1, int(page))
    offset = (page - 1) * per_page
    if what == "review":
        count = _waiting(ws, case)
        found = list(review_queue(ws, case=case, flags=False, limit=per_page, offset=offset))
        versions = review_versions(ws, [v["id"] for v in found])
        rows = [{"when": v["visited_at"], "label": v["store_name"], "case": v["case_slug"], "table": "visits",
                 "row_id": v["id"], "detail": f"{v['review_state']} · {v['outcome']}".replace("_", " ")
                 + (f": {v['last_comment']}" if v["last_comment"] else ""), "version": versions.get(v["id"], 0)}
                for v in found]
    elif what == "replies":
        count = count_replies(ws, case=case, open_only=True)
        rows = [{"when": r["deadline"], "label": r["store_name"], "case": r["case_slug"], "table": "stores",
                 "row_id": r["store_id"], "detail": f"{(datetime.fromisoformat(r['deadline']) - now).days} day(s) left"}
                for r in list_replies(ws, case=case, open_only=True, limit=per_page, offset=offset)]
    elif what in ("overdue", "due"):
        window = {"overdue": True} if what == "overdue" else {"due_before": now + timedelta(days=7)}
        count = count_promises(ws, case=case, now=now, **window)
        rows = [{"when": p["due_at"], "label": p["store_name"], "case": p["case_slug"], "table": "visits",
                 "row_id": p["visit_id"], "detail": p["what"]}
                for p in list_promises(ws, case=case, now=now, limit=per_page, offset=offset, **window)]
    elif what == "unasked":
        cases = [case] if case else [c for c in case_module.list_cases(ws, counted=False) if c["status"] != "published"]
        every = [(c, name) for c in cases for name in unasked_names(ws, c, unasked_ids(ws, c))]
        count = len(every)
        rows = [{"when": None, "label": name, "case": c["slug"], "table": "cases", "row_id": c["id"],
                 "detail": "ask from the case page"} for c, name in every[offset:offset + per_page]]
    else:
        raise KeyError(what)
    return {"what": what, "title": LISTS[what], "count": count, "rows": rows, "page": page,
            "pages": max(1, -(-count // per_page)), "per_page": per_page}


def _waiting(ws: Workspace, case: dict | None) -> int:
    """Visits of every kind waiting for review, from the case tallies (a few rows a case)."""
    marks = ",".join("?" for _ in PENDING)
    sql = f"select coalesce(sum(visits), 0) from case_tallies where review_state in ({marks})"
    params = list(PENDING)
    if case:
        sql += " and case_id = ?"
        params.append(case["id"])
    return ws.db.execute(sql, params).fetchone()[0]
