"""What counts as a change to a case's records: for the legal sign-off and for versions.

A sign-off records the audit position it signed; the checklist counts the audited writes to the
case's records after it (``changes_since``), so a sign-off that predates a change is void. A
public file's version says what it contains (``content_key``): the last change to the case's
records and the businesses that may be named. Status changes, publications, sign-offs and the
"first published in" note of a correction are not changes to what was signed or published.
"""

from __future__ import annotations

import hashlib
import json

from ..store.workspace import Workspace


def _change_clauses(case: dict) -> tuple[str, dict]:
    """Audit entries that change what a case's outputs say: the case itself (status changes
    aside), its visits and what hangs off them, its frame, replies, samples and corrections.
    Publications and sign-offs are not changes to what was signed."""
    by_visit = "(select id from {t} where visit_id in (select id from visits where case_id = :c))"
    owned = {
        "visits": "(select id from visits where case_id = :c)",
        "findings": by_visit.format(t="findings"), "evidence": by_visit.format(t="evidence"),
        "promises": by_visit.format(t="promises"), "reviews": by_visit.format(t="reviews"),
        "replies": "(select id from replies where case_id = :c)",
        "reply_items": "(select id from reply_items where reply_id in (select id from replies where case_id = :c))",
        "case_stores": "(select id from case_stores where case_id = :c)",
        "samples": "(select id from samples where case_id = :c)",
        # A story's own records (issue 23): its timeline, documents, what was put to the company.
        "stories": "(select id from stories where case_id = :c)",
        "story_events": "(select id from story_events where case_id = :c)",
        "story_documents": "(select id from story_documents where case_id = :c)",
        "story_reply_items": "(select id from story_reply_items where reply_id in "
                             "(select id from replies where case_id = :c))",
    }
    clauses = ["(a.table_name = 'cases' and a.row_id = :c and a.action != 'status')",
               # A new correction changes what is printed; noting the version it first appeared
               # in (an update made by publishing) does not.
               "(a.table_name = 'corrections' and a.action = 'insert' and a.row_id in "
               "(select id from corrections where case_id = :c))"]
    clauses += [f"(a.table_name = '{t}' and a.row_id in {sub})" for t, sub in owned.items()]
    # Rows deleted since are no longer found by the sub-selects; their entries keep the old row.
    clauses.append("(a.action = 'delete' and json_extract(a.data, '$.old.case_id') = :c)")
    clauses.append("(a.action = 'delete' and json_extract(a.data, '$.old.visit_id') in "
                   "(select id from visits where case_id = :c))")
    return " or ".join(clauses), {"c": case["id"]}


def changes_since(ws: Workspace, case: dict, seq: int) -> int:
    """How many audited writes to the case's records came after audit entry ``seq``."""
    where, params = _change_clauses(case)
    return ws.db.execute(f"select count(*) from audit_log a where a.seq > :s and ({where})",
                         {**params, "s": seq}).fetchone()[0]


def content_key(ws: Workspace, case: dict, *, named: set | frozenset = frozenset(),
                clock: set | frozenset = frozenset()) -> str:
    """What a public file of the case says, whatever its language: the last change to the
    case's records, the businesses that may be named (which changes as reply windows close,
    without any write) and what the promise clock says (``clock``: the promises overdue now,
    which fall due without any write either). Editions with the same key share one version
    number: the tobacco, service and story reports alike."""
    where, params = _change_clauses(case)
    last = ws.db.execute(f"select max(seq) from audit_log a where {where}", params).fetchone()[0] or 0
    return hashlib.sha256(json.dumps([last, sorted(named), sorted(clock)]).encode()).hexdigest()


def audit_head(ws: Workspace) -> int:
    """The newest audit entry's number: what a sign-off signed."""
    return ws.db.execute("select coalesce(max(seq), 0) from audit_log").fetchone()[0]
