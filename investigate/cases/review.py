"""Review before it counts: an editor approves a visit before it enters a public figure.

States follow ODK Central: received → has issues → approved / rejected. Every change is an
audited update of ``visits.review_state`` plus a row in ``reviews`` (who, when, why), so the
editors can browse the history and the audit chain proves it.
"""

from __future__ import annotations

import json
from typing import Iterator

from ..errors import InvalidInput
from ..ids import short
from ..store.lookup import resolve
from ..store.tables import by_time, every_row
from ..store.workspace import Workspace
from ..vocabulary import REVIEW_STATES, VOIDED
from .evidence import visit_evidence_flags
from .visits import refuse_voided

ACTIONS = {"approve": "approved", "reject": "rejected", "issue": "has_issues"}
PENDING = ("received", "has_issues")


def get_visit_for_review(ws: Workspace, ref: str, *, case: dict | None = None) -> dict:
    """Resolve a visit, within one case when given: a prefix that only matches a visit of
    another case is an error, never a review of the wrong case's visit."""
    if case is None:
        return resolve(ws, "visits", ref)
    return resolve(ws, "visits", ref, where="case_id = ?", params=[case["id"]])


def _decision(action: str, comment: str | None) -> tuple[str, str | None]:
    """The state an action sets, and its comment: rejecting or flagging needs one (the
    reporter must know what to fix)."""
    if action not in ACTIONS:
        raise InvalidInput(f"review action {action!r} is not one of {', '.join(ACTIONS)}")
    comment = (comment or "").strip() or None
    if ACTIONS[action] != "approved" and not comment:
        raise InvalidInput(f"'{action}' needs a --comment saying why")
    return ACTIONS[action], comment


def review_visit(ws: Workspace, visit: dict, action: str, *, comment: str | None = None,
                 reviewer: str | None = None) -> dict:
    """Set a visit's review state. Rejecting or flagging needs a comment (the reporter must
    know what to fix); a state the visit already has is refused, not silently repeated."""
    state, comment = _decision(action, comment)
    refuse_voided(visit, "reviewed")
    current = visit.get("review_state") or "received"
    if current == state:
        raise InvalidInput(f"visit {short(visit['id'])} is already {state}")
    with ws.transaction():
        updated = ws.update("visits", visit["id"], {"review_state": state},
                            reason=comment or f"review: {state}", action="review")
        ws.insert("reviews", {"visit_id": visit["id"], "state": state, "comment": comment,
                              "reviewer": reviewer or ws.actor, "at": ws.now().isoformat()})
    return updated


def review_visits(ws: Workspace, visit_ids: list[str], action: str, *, comment: str | None = None,
                  reviewer: str | None = None, on_batch=None) -> dict:
    """One decision for many visits at once (an editor approving a day's checked work), in one
    transaction: each visit's new state is audited by its row hash, one event keeps the
    decision and its comment, and each visit gets its row in ``reviews``. Visits that already
    have the state are counted, not changed, so a bulk run can be repeated."""
    state, comment = _decision(action, comment)
    ids = list(dict.fromkeys(visit_ids))
    # One query, the ids as one JSON array (not a query per 500 ids).
    for row in ws.db.query("select id, review_state from visits where review_state = ? and id in "
                           "(select value from json_each(?)) limit 1", [VOIDED, json.dumps(ids)]):
        refuse_voided(row, "reviewed")
    with ws.transaction():
        changed = ws.update_many("visits", ids, {"review_state": state}, reason=comment or f"review: {state}",
                                 action="review", on_batch=on_batch)
        at, by = ws.now().isoformat(), reviewer or ws.actor
        ws.insert_many("reviews", ({"visit_id": vid, "state": state, "comment": comment, "reviewer": by, "at": at}
                                   for vid in changed), action="review")
    return {"action": action, "state": state, "changed": len(changed), "unchanged": len(ids) - len(changed)}


def waiting_ids(ws: Workspace, case: dict) -> list[str]:
    """The ids of a case's visits still waiting for a first decision ('received', or no state
    from before review states): what ``review --case C --all-received`` decides. Read from the
    (case, review state) index alone: the queue's names, comments and flags are not needed."""
    return [vid for (vid,) in ws.db.execute(
        "select id from visits where case_id = ? and review_state = 'received' union all "
        "select id from visits where case_id = ? and review_state is null", [case["id"], case["id"]])]


def review_queue(ws: Workspace, *, case: dict | None = None, states=PENDING, flags: bool = True,
                 limit: int | None = None, offset: int = 0) -> Iterator[dict]:
    """Visits waiting for an editor, oldest first: a generator, as ``--all`` of a big case is
    every visit. Only visits with evidence are looked at for evidence flags (``flags=False``
    looks at none: a bulk decision needs only the ids). ``limit``/``offset`` give one page."""
    marks = ",".join("?" for _ in states)
    # An IN list, not coalesce(), so that the review_state indexes find the few waiting visits;
    # then sorted ("+" keeps the time index from being walked through a million reviewed
    # ones). Rows from before review states have none and are 'received': asked for only
    # where there are such rows, as the OR would keep (case_id, review_state) from seeking.
    # Every state wanted (--all): no condition; a page walks the time index, the whole is
    # sorted (``store.tables.by_time``).
    legacy = "received" in states and ws.db.execute(
        "select 1 from visits where review_state is null limit 1").fetchone()
    wanted = f"v.review_state in ({marks})" + (" or v.review_state is null" if legacy else "")
    # likelihood(): few visits wait, whatever ANALYZE's average says (two states, half the
    # table each), so that the planner seeks the index rather than scanning every visit.
    where, params = ([f"likelihood(({wanted}), 0.01)"], list(states)) if set(REVIEW_STATES) - set(states) else ([], [])
    order = f"{by_time('v.visited_at', whole=bool(where) or limit is None)}, v.rowid"
    if case:
        where.append("v.case_id = ?")
        params.append(case["id"])
    condition = " where " + " and ".join(where) if where else ""
    source = every_row("visits", "v", whole=not where and limit is None)
    if limit is not None:
        # One page: its ids first, from visits alone, then their stores and cases (joined
        # first, the planner walked every visit through the stores for ten rows).
        source = (f"(select v.id from visits v{condition} order by {order} limit {int(limit)} offset {int(offset)}) "
                  "page cross join visits v on v.id = page.id")
        condition = ""
    for row in ws.db.query(
            "select v.id, v.visited_at, v.store_id, coalesce(v.review_state, 'received') as review_state, "
            "v.outcome, v.attempt, s.name as store_name, c.slug as case_slug, "
            "(select r.comment from reviews r where r.visit_id = v.id order by r.at desc limit 1) as last_comment, "
            f"exists(select 1 from evidence e where e.visit_id = v.id) as has_evidence from {source} "
            f"join stores s on s.id = v.store_id join cases c on c.id = v.case_id{condition} order by {order}", params):
        # Evidence that may not belong to the visit (another day, another place, another visit).
        row["flags"] = visit_evidence_flags(ws, row) if row.pop("has_evidence") and flags else []
        yield row


def review_versions(ws: Workspace, visit_ids: list[str]) -> dict[str, int]:
    """Each visit's version as a page shows it: the number of the last audit entry that
    changed its row. A form carries it back, so that a decision on a visit changed since the
    page was loaded is refused (``changed_since``), not made on what the editor did not see."""
    out = {}
    for start in range(0, len(visit_ids), 500):
        batch = visit_ids[start:start + 500]
        out.update(ws.db.execute(
            "select row_id, max(seq) from audit_log where table_name = 'visits' and row_id in "
            f"({','.join('?' for _ in batch)}) group by row_id", batch).fetchall())
    return out


def changed_since(ws: Workspace, seen: dict[str, int]) -> list[str]:
    """For each visit changed after the version ``seen`` (visit id → version), one sentence
    saying what changed, by whom and when, and what its state is now."""
    out = []
    for visit_id, version in seen.items():
        entries = list(ws.db.query(
            "select seq, at, actor, action, data from audit_log where table_name = 'visits' and row_id = ? "
            "and seq > ? order by seq", [visit_id, version]))
        if not entries:
            continue
        row = ws.get("visits", visit_id)
        changes = []
        for e in entries:
            fields = sorted(json.loads(e["data"]).get("new", {})) if e["data"] else []
            what = "review" if e["action"] == "review" else e["action"]
            changes.append(f"{what}{' of ' + ', '.join(fields) if fields and what != 'review' else ''} "
                           f"by {e['actor']} at {e['at'][:16].replace('T', ' ')} UTC")
        out.append(f"visit {short(visit_id)} changed since the page was loaded ({'; '.join(changes)}); "
                   f"it is now {row.get('review_state') or 'received'}")
    return out
