"""Which findings a closed reply request covers, as a property: the naming rule checks only the
findings the audit log says changed since a request made here (``coverage._written_since_asked``),
and that must give what hashing every finding of the case gives, over random histories built
through the public API — requests, answers, findings reworded, added and deleted, visits amended,
reviewed, moved to another store, new visits, requests as an old workspace or a merge left them.

CI runs 40 histories; INVESTIGATE_SOAK_EXAMPLES raises it for a soak run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings, strategies as st

from investigate.cases import cases, findings, replies, stores, testers, visits
from investigate.cases.review import review_visit
from investigate.errors import InvalidInput
from investigate.policy import coverage
from investigate.store.workspace import init_workspace

EXAMPLES = int(os.environ.get("INVESTIGATE_SOAK_EXAMPLES", "40"))

SOLD = {"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True}
REFUSED = {"product": "cigarettes", "sale": False, "id_check": "scanned", "id_carried": True}

store_no = st.integers(0, 3)
step_st = st.one_of(
    st.tuples(st.just("ask"), store_no),
    st.tuples(st.just("answer"), store_no),
    st.tuples(st.just("reword"), store_no),
    st.tuples(st.just("add_finding"), store_no),
    st.tuples(st.just("delete_finding"), store_no),
    st.tuples(st.just("review"), store_no, st.sampled_from(["approve", "reject", "issue"])),
    st.tuples(st.just("amend_time"), store_no),
    st.tuples(st.just("move_visit"), store_no, store_no),
    st.tuples(st.just("visit"), store_no, st.sampled_from([SOLD, REFUSED])),
    # A request as a workspace from before requests kept their items left it (no items), and one
    # merged from a colleague's bundle: its items hash the findings as they stood over there.
    st.tuples(st.just("old_request"), store_no),
    st.tuples(st.just("merged_request"), store_no, st.booleans()),
)
history_st = st.fixed_dictionaries({
    "visits": st.lists(st.tuples(store_no, st.sampled_from([SOLD, SOLD, REFUSED])), min_size=1, max_size=8),
    "steps": st.lists(step_st, max_size=14),
})


def closed_requests(ws, case, on: datetime) -> dict[str, str]:
    return {r["id"]: r["store_id"] for r in ws.db.query("select * from replies where case_id = ?", [case["id"]])
            if coverage.window_closed(r, on)}


def both_ways(ws, case, on: datetime) -> tuple:
    closed = closed_requests(ws, case, on)
    to_check = coverage._written_since_asked(ws, closed)
    return (coverage._uncovered_of(ws, case, closed, None),
            coverage._uncovered_of(ws, case, closed, to_check), to_check)


def store_findings(ws, shop) -> list[dict]:
    return list(ws.db.query("select f.* from findings f join visits v on v.id = f.visit_id where v.store_id = ? "
                            "order by f.id", [shop["id"]]))


def store_visit(ws, shop) -> dict | None:
    return next(iter(ws.db.query("select * from visits where store_id = ? and review_state != 'voided' "
                                 "order by visited_at, id limit 1", [shop["id"]])), None)


def request_row(ws, case, shop) -> dict:
    now = ws.now().isoformat()
    return {"case_id": case["id"], "store_id": shop["id"], "requested_at": now, "channel": "email",
            "deadline": (ws.now() + timedelta(days=1)).isoformat(), "created_at": now}


def run_step(ws, case, tester, shops, step, now: str) -> None:
    kind, shop = step[0], shops[step[1]] if len(step) > 1 and isinstance(step[1], int) else None
    visit = store_visit(ws, shop) if shop else None
    found = store_findings(ws, shop) if shop else []
    if kind == "ask":
        replies.request_reply(ws, case, shop, requested_at=ws.now().isoformat(), deadline=None)
    elif kind == "answer":
        latest = replies.latest_request(ws, case, shop)
        if latest and not latest["answered_at"]:
            replies.record_reply(ws, latest, answer="We comply with the law.")
    elif kind == "reword" and found:
        ws.update("findings", found[0]["id"], {"title": found[0]["title"] + " (reworded)"}, reason="reworded")
    elif kind == "add_finding" and visit:
        findings.add_finding(ws, visit, title="Shelf of lighters by the till", severity="low")
    elif kind == "delete_finding" and found:
        ws.delete("findings", found[-1]["id"], reason="entered twice")
    elif kind == "review" and visit:
        review_visit(ws, visit, step[2], comment=None if step[2] == "approve" else "a second look")
    elif kind == "amend_time" and visit:
        visits.amend_visit(ws, visit, reason="the receipt's time",
                           visited_at=(datetime.fromisoformat(visit["visited_at"]) - timedelta(minutes=7)).isoformat())
    elif kind == "move_visit" and visit:
        visits.amend_visit(ws, visit, reason="the shop next door", store_id=shops[step[2]]["id"])
    elif kind == "visit":
        visits.record_visit(ws, case=case, store=shop, tester=tester, answers=step[2],
                            visited_at=ws.now() - timedelta(hours=1))
    elif kind == "old_request":
        ws.insert("replies", request_row(ws, case, shop))
    elif kind == "merged_request":
        row = ws.insert("replies", request_row(ws, case, shop), action="merge")
        items = [{"reply_id": row["id"], "visit_id": f["visit_id"], "finding_id": f["id"], "created_at": now,
                  "covered_hash": coverage.covered_hash(
                      store_id=shop["id"], visit_id=f["visit_id"],
                      visited_at=ws.get("visits", f["visit_id"])["visited_at"],
                      finding={**f, "title": f["title"] if step[2] else "As it read over there"})}
                 for f in found]
        if items:
            ws.insert_many("reply_items", items, action="merge")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(history=history_st)
# A visit's time or store changed after the request: its findings are not rewritten, and the
# request no longer covers them.
@example(history={"visits": [(0, SOLD)], "steps": [("ask", 0), ("amend_time", 0)]})
@example(history={"visits": [(0, SOLD), (1, SOLD)], "steps": [("ask", 0), ("ask", 1), ("move_visit", 0, 1)]})
# A finding reworded between two stores' requests: written after the first, before the second.
@example(history={"visits": [(0, SOLD), (1, SOLD)], "steps": [("ask", 0), ("reword", 0), ("ask", 1)]})
def test_the_findings_the_log_says_unchanged_are_the_ones_hashing_finds_covered(history):
    tmp = Path(tempfile.mkdtemp(prefix="inv-cover-"))
    try:
        ws = init_workspace(tmp / "ws", newsroom="Cover Newsroom", timezone_name="Europe/Berlin")
        case = cases.create_case(ws, slug="cover", title="Coverage", protocol="tobacco-minors",
                                 jurisdiction="Berlin, DE", legal_basis="JuSchG § 10", description="Shops.",
                                 reply_days=2)
        tester = testers.add_tester(ws, code="TC-1", birth_month="2010-03", consent=True, consent_date="2026-01-10")
        shops = [stores.add_store(ws, name=f"Laden {i}", address=f"Weg {i}", district="Mitte") for i in range(4)]
        stores.add_to_frame(ws, case, shops)
        start = ws.now() - timedelta(days=60)
        for n, (i, answers) in enumerate(history["visits"]):
            visits.record_visit(ws, case=case, store=shops[i], tester=tester, answers=answers,
                                visited_at=start + timedelta(hours=n))
        for step in history["steps"]:
            try:
                run_step(ws, case, tester, shops, step, ws.now().isoformat())
            except InvalidInput:
                pass
            for on in (ws.now(), ws.now() + timedelta(days=3)):
                everything, changed_only, to_check = both_ways(ws, case, on)
                assert changed_only == everything, (step, on)
        # The shortcut is taken: with a closed request made here, not every finding is hashed again.
        if ws.db.execute("select count(*) from audit_log where table_name = 'replies' and action = ?",
                         [coverage.REQUEST_ACTION]).fetchone()[0]:
            assert both_ways(ws, case, ws.now() + timedelta(days=3))[2] is not None
        ws.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
