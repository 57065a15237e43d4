"""Where a case's stores stand — completion and "sold at least once" — as a property: over random
cases built through the public API, ``fieldwork.standings`` (one SQL pass over the visit tallies,
the targets and the last attempts) says what a plain walk over the visits says.

The oracle here reads the visits table row by row and applies the definitions as
``policy.counting`` words them: a target store (the drawn sample, else the frame) or a store
visited beyond them is *completed* with a completed test, else it stands under its last
attempt's reason, else ``not_attempted``; *sold at least once* is a store with a violation among
the stores with a violation or a compliant test. Rejected and voided visits never count; the
public scope counts approved visits only. CI runs 12 examples; INVESTIGATE_SOAK_EXAMPLES raises it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from investigate.cases import cases, samples, stores, testers, visits
from investigate.cases.review import review_visit
from investigate.numbers import fieldwork
from investigate.policy import counting
from investigate.store.workspace import init_workspace
from investigate.vocabulary import ATTEMPT_STATUSES

EXAMPLES = int(os.environ.get("INVESTIGATE_SOAK_EXAMPLES", "12"))

SOLD = {"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True}
REFUSED = {"product": "cigarettes", "sale": False, "id_check": "scanned", "id_carried": True}

visit_st = st.fixed_dictionaries({
    "day": st.integers(0, 9),
    "attempt": st.sampled_from(["completed", "completed", *ATTEMPT_STATUSES[1:4]]),
    "sold": st.booleans(),
    "round": st.sampled_from([1, 1, 2]),
    "review": st.sampled_from([None, "approve", "approve", "reject", "issue", "void"]),
})
store_st = st.fixed_dictionaries({
    "in_frame": st.booleans(),
    "district": st.sampled_from(["North", "South"]),
    "visits": st.lists(visit_st, max_size=3),
})
case_st = st.fixed_dictionaries({
    "stores": st.lists(store_st, min_size=1, max_size=6),
    "sample": st.booleans(),
})


def build(ws, plan) -> dict:
    case = cases.create_case(ws, slug="standing", title="Standing", protocol="tobacco-minors")
    tester = testers.add_tester(ws, code="T-01", birth_month="2010-03", consent=True, consent_date="2026-01-10")
    shops = [stores.add_store(ws, name=f"Shop {i}", district=s["district"]) for i, s in enumerate(plan["stores"])]
    framed = [shop for shop, s in zip(shops, plan["stores"]) if s["in_frame"]]
    if framed:
        stores.add_to_frame(ws, case, framed, stratum_column="district")
        if plan["sample"]:
            samples.draw_sample(ws, case, n=max(1, len(framed) // 2), seed=3)
    start = ws.now() - timedelta(days=20)
    for shop, s in zip(shops, plan["stores"]):
        for i, v in enumerate(s["visits"]):
            recorded = visits.record_visit(
                ws, case=case, store=shop, tester=tester, answers=SOLD if v["sold"] else REFUSED,
                visited_at=start + timedelta(days=v["day"], minutes=i), attempt=v["attempt"], round=v["round"])
            visit = recorded["visit"]
            if v["review"] == "void":
                visits.void_visit(ws, visit, reason="recorded twice")
            elif v["review"]:
                review_visit(ws, visit, v["review"], comment=None if v["review"] == "approve" else "check")
    return case


def expected(ws, case, *, public: bool, round: int | None = None) -> tuple[Counter, int, int]:
    """(stratum, standing) → stores, and the stores sold at least once and judged, from the visits."""
    rows = ws.db.execute("select id from samples where case_id = ? order by rowid desc limit 1",
                         [case["id"]]).fetchone() if "samples" in ws.db.table_names() else None
    drawn = dict(ws.db.execute("select store_id, stratum from sample_stores where sample_id = ?", [rows[0]])) \
        if rows else {}
    targets = drawn or dict(ws.db.execute("select store_id, stratum from case_stores where case_id = ?",
                                          [case["id"]]))
    counted = [v for v in ws.db.query("select * from visits where case_id = ? and kind = 'undercover' "
                                      "order by visited_at", [case["id"]])
               if ((v["review_state"] == "approved") if public
                   else (v["review_state"] or "received") not in ("rejected", "voided"))]
    sold, judged = {}, set()
    for v in counted:
        if v["outcome"] in ("violation", "compliant"):
            judged.add(v["store_id"])
            sold[v["store_id"]] = sold.get(v["store_id"], False) or v["outcome"] == "violation"
    if round is not None:
        counted = [v for v in counted if (v["round"] or 1) == round]
    standing: dict[str, str] = {}
    for v in counted:  # in time order: the last attempt is the last one seen
        attempt = v["attempt"] or "completed"
        if standing.get(v["store_id"]) != "completed":
            standing[v["store_id"]] = attempt
    by = Counter((targets.get(store_id), standing.get(store_id, "not_attempted"))
                 for store_id in set(targets) | set(standing))
    return by, sum(sold.values()), len(judged)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=case_st)
def test_completion_and_sold_at_least_once_say_what_the_visits_say(plan):
    tmp = Path(tempfile.mkdtemp(prefix="inv-standing-"))
    try:
        ws = init_workspace(tmp / "ws", newsroom="Standing Desk", timezone_name="Europe/Berlin")
        case = build(ws, plan)
        for public in (False, True):
            for round in (None, 1, 2):
                counted = fieldwork.standings(ws, case, round=round, approved_only=public)
                want, sold, judged = expected(ws, case, public=public, round=round)
                assert Counter({(stratum, standing): n for stratum, standing, n, _, _ in counted}) == want
                if round is None:
                    assert (sum(r[3] for r in counted), sum(r[4] for r in counted)) == (sold, judged)
            # The figures every surface prints come from these counts.
            figures = counting.case_counts(ws, case, scope=counting.PUBLIC if public else counting.WORKING)
            stand, sold, judged = expected(ws, case, public=public)
            assert figures["target_stores"] == sum(stand.values())
            assert figures["stores_tested"] == sum(n for (_, s), n in stand.items() if s == "completed")
            assert figures["stores_attempted"] == sum(n for (_, s), n in stand.items() if s != "not_attempted")
            assert (figures["sold_at_least_once"], figures["stores_judged"]) == (sold, judged)
        ws.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
