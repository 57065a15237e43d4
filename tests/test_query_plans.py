"""The queries behind the commands a reporter runs on a big case read indexes, not tables.

Each test records the SQL a command really runs (sqlite3's trace callback) and asks SQLite for
its plan. Workspaces have no ANALYZE statistics, at 4 visits as at a million, so the plans
here are the plans a million-visit case gets (bench/commands_bench.py times them there).
"""

from __future__ import annotations

import pytest

from investigate.cases.review import review_queue
from investigate.vocabulary import REVIEW_STATES
from investigate.cases.visits import list_visits
from investigate.policy.gate import checklist
from investigate.numbers.fieldwork import completion, rounds_summary

from conftest import statements


def plans(ws, seen: list[str], table: str) -> list[str]:
    """The plan of every SELECT that reads ``table``, one string per statement. Traced SQL has
    its parameters filled in, so it can be explained as it stands."""
    out = []
    for sql in seen:
        if not sql.lstrip().lower().startswith(("select", "with")) or f"from {table}" not in sql.lower():
            continue
        out.append(" | ".join(r[3] for r in ws.db.execute("explain query plan " + sql)))
    return out


def full_scans(plan: str, table: str, alias: str) -> list[str]:
    """Steps that read every row of the table itself (an index scan is not one)."""
    return [step for step in plan.split(" | ")
            if step.strip() in (f"SCAN {table}", f"SCAN {alias}")]


@pytest.mark.parametrize("filters", [{}, {"case": True}])
def test_paged_lists_read_an_index_in_order(workspace, tobacco_case, filters):
    case = tobacco_case["case"] if filters.get("case") else None
    with statements(workspace) as seen:
        rows = list(list_visits(workspace, case=case, limit=20))
    assert rows  # the query ran and returned the visits
    (plan,) = plans(workspace, seen, "visits")
    assert "TEMP B-TREE" not in plan, plan  # no sort of every visit before the limit
    assert not full_scans(plan, "visits", "v"), plan
    assert "idx_visits_case_id_visited_at" in plan if case else "idx_visits_visited_at" in plan


@pytest.mark.parametrize("filters", [{}, {"case": True}])
def test_the_review_queue_seeks_waiting_visits_by_their_state(workspace, tobacco_case, filters):
    case = tobacco_case["case"] if filters.get("case") else None
    with statements(workspace) as seen:
        waiting = list(review_queue(workspace, case=case))
    assert waiting  # the fixture's visits are all waiting
    # The queue's own query (its visits are "v"), not the check for rows without a state.
    (plan,) = [p for p in plans(workspace, seen, "visits") if any(s.split(" ")[1:2] == ["v"] for s in p.split(" | "))]
    assert not full_scans(plan, "visits", "v"), plan
    wanted = ("idx_visits_case_id_review_state (case_id=? AND review_state=?)" if case
              else "idx_visits_review_state (review_state=?)")
    assert f"SEARCH v USING INDEX {wanted}" in plan, plan


def test_completion_and_rounds_read_the_tallies_not_the_visits(workspace, tobacco_case):
    """Issue 30: completion, the rounds and the rate per round are counted from the tallies (a
    few rows per store, or per case), seeking the case's rows by the tallies' key; the visits themselves
    are read only for a store never completed (its last attempt's reason), by its own index
    entries."""
    case = tobacco_case["case"]
    with statements(workspace) as seen:
        completion(workspace, case)
        rounds_summary(workspace, case)
    # Where the stores stand (completion, and "sold at least once" for the rounds: counted once);
    # outcomes per store and round; and the rate per round from the case's own tallies, without
    # the stores.
    tallied = plans(workspace, seen, "visit_tallies") + plans(workspace, seen, "case_tallies")
    assert len(tallied) == 3, tallied
    assert all("SEARCH v USING PRIMARY KEY (case_id=?" in p for p in tallied), tallied
    assert_reads_visits_by_store_only(workspace, seen)
    visit = tobacco_case["visits"][0]
    workspace.update("visits", visit["id"], {"attempt": "closed", "outcome": "not_completed"}, reason="closed")
    with statements(workspace) as seen:
        rows = completion(workspace, case)
    assert rows[0]["reasons"] == {"closed": 1}
    assert_reads_visits_by_store_only(workspace, seen)


def assert_reads_visits_by_store_only(ws, seen: list[str]) -> None:
    """Every step that reads the visits seeks one store's entries in the covering rates index, for
    the stores the tallies list as never completed (none: no visit read)."""
    for plan in plans(ws, seen, "visits"):
        steps = plan.split(" | ")
        reads = [s for s in steps if s.startswith(("SEARCH v", "SCAN v"))]
        assert reads == ["SEARCH v USING PRIMARY KEY (case_id=? AND kind=?)",
                         "SEARCH v USING COVERING INDEX idx_visits_rates (case_id=? AND kind=? AND store_id=?)"], plan
        assert "MATERIALIZE last" in steps and "SCAN per_store" in steps, plan


def test_the_checklist_never_scans_the_visits_or_findings_tables(workspace, tobacco_case):
    with statements(workspace) as seen:
        checklist(workspace, tobacco_case["case"])
    for table, alias in (("visits", "v"), ("findings", "f")):
        for plan in plans(workspace, seen, table):
            assert not full_scans(plan, table, alias), plan
            assert not full_scans(plan, table, "w"), plan
    # The findings written by hand come from their own partial index, each looking its visit up:
    # not every visit of the case probing for findings (a million probes at a million visits).
    (manual,) = [p for p in plans(workspace, seen, "findings") if "idx_findings_manual" in p]
    assert manual == "SCAN f USING INDEX idx_findings_manual | SEARCH v USING INDEX sqlite_autoindex_visits_1 (id=?)"


def test_the_editors_desk_reads_tallies_and_indexes_never_every_visit(workspace, tobacco_case):
    """The home page an editor opens first (issue 30): every case's figures from the tallies,
    each list's first page sought through an index, at 4 visits as at a million."""
    from investigate.desk.overview import desk, todo

    with statements(workspace) as seen:
        home = desk(workspace)
        todo(workspace, "review", page=2, per_page=2)
    assert home["lists"]["review"]["count"] == 4 and len(home["lists"]["review"]["rows"]) == 4
    read = plans(workspace, seen, "visits")
    assert read and not [p for p in read if full_scans(p, "visits", "v")], read
    # A page of the queue joins its stores to its own rows, not every store to every visit.
    assert not [p for p in read if full_scans(p, "stores", "s")], read
    assert any("idx_visits_review_state (review_state=?)" in p for p in read), read


def test_the_visit_list_pages_count_and_facet_by_state_from_the_visits_indexes(workspace, tobacco_case):
    """The editors' visit_list view names each visit's case and store by a lookup SQLite leaves
    out when nothing reads it: its count and its outcome and review-state facets (which
    Datasette runs on every load of the page) read an index of visits, never a join."""
    inner = ("select visit, case_slug, store, chain, district, visited_at, kind, outcome, review_state, tester, "
             "round, answers, findings from visit_list")
    for sql in ("select count(*) from visit_list",
                *(f"select {col} as value, count(*) as count from ({inner}) where {col} is not null group by {col}"
                  for col in ("outcome", "review_state"))):
        plan = " | ".join(r[3] for r in workspace.db.execute("explain query plan " + sql))
        assert "COVERING INDEX" in plan and not any(t in plan for t in ("stores", "cases", " s ", " c ")), plan
    # The same rows as a join of the tables names them.
    joined = workspace.db.execute(
        "select v.id, c.slug, s.name, coalesce(s.chain, '(independent)'), s.district, t.code from visits v "
        "join cases c on c.id = v.case_id join stores s on s.id = v.store_id left join testers t on t.id = v.tester_id "
        "order by v.id").fetchall()
    listed = workspace.db.execute("select visit, case_slug, store, chain, district, tester from visit_list "
                                  "order by visit").fetchall()
    assert listed == joined and len(listed) == len(tobacco_case["visits"])


def test_the_store_map_counts_from_the_tallies_what_the_visits_themselves_give(workspace, tobacco_case):
    """The editors' store map (a canned query every map load runs) reads the visit tallies, and
    gives each store the visits, violations and worst outcome its own visits give."""
    from investigate.cases.review import review_visit
    from investigate.publish.metadata import OUTCOMES, STORE_MAP, _WORKING

    visits = tobacco_case["visits"]
    review_visit(workspace, visits[0], "reject", comment="blurred receipt")  # out of the working scope
    review_visit(workspace, visits[1], "approve")
    for i, store in enumerate(tobacco_case["stores"]):
        workspace.update("stores", store["id"], {"lat": 52.5 + i / 100, "lon": 13.4}, reason="placed")
    worst = "case " + " ".join(f"when sum(v.outcome = '{o}') > 0 then '{o}'" for o in OUTCOMES) + \
        " else 'not_completed' end"
    by_visits = f"""
        select s.id as store_id, s.name, s.chain, s.address, s.lat, s.lon, count(*) as visits,
          sum(v.outcome = 'violation') as violations, {worst} as outcome
        from visits v join stores s on s.id = v.store_id
        where v.case_id = (select id from cases where slug = :case) and {_WORKING}
          and s.lat is not null and s.lon is not null
        group by s.id order by violations desc, s.name"""
    params = {"case": tobacco_case["case"]["slug"]}
    mapped = workspace.db.execute(STORE_MAP, params).fetchall()
    assert mapped == workspace.db.execute(by_visits, params).fetchall() and mapped
    plan = " | ".join(r[3] for r in workspace.db.execute("explain query plan " + STORE_MAP, params))
    assert "visit_tallies" in plan or "SEARCH v USING PRIMARY KEY" in plan, plan
    assert not full_scans(plan, "visits", "v") and "idx_visits" not in plan, plan


def test_the_protocols_a_case_used_are_sought_in_an_index_not_read_from_every_visit(workspace, tobacco_case):
    """Which protocols a case's visits used (the checklist's texts, a service case's reports):
    each protocol of the table found by a seek, then whether the case holds a visit of it by
    another, never every visit of the case (0.17 s at a million)."""
    from investigate.cases import cases, visits
    from investigate.store.usage import case_protocols

    ws, tobacco = workspace, tobacco_case["case"]
    alcohol = cases.create_case(ws, slug="alcohol", title="Alcohol", protocol="alcohol-minors")
    empty = cases.create_case(ws, slug="empty", title="Empty", protocol="alcohol-minors")
    shop, tester = tobacco_case["stores"][0], tobacco_case["tester"]
    beer = {"product": "beer", "sale": False, "id_check": "scanned", "id_carried": True}
    visits.record_visit(ws, case=alcohol, store=shop, tester=tester, answers=beer)
    visits.record_visit(ws, case=tobacco, store=shop, tester=tester, answers=beer, protocol="alcohol-minors")
    with statements(ws) as seen:
        used = {c["slug"]: case_protocols(ws.db, c["id"]) for c in (tobacco, alcohol, empty)}
    assert used == {"tobacco-nk": ["alcohol-minors", "tobacco-minors"], "alcohol": ["alcohol-minors"], "empty": []}
    for plan in plans(ws, seen, "visits"):
        reads = [s for s in plan.split(" | ") if " visits" in s or " v " in s or s.endswith(" v")]
        assert reads and all("idx_visits_protocol_case" in s and s.startswith("SEARCH") for s in reads), plan


@pytest.mark.parametrize("filters", [{}, {"case": True}])
def test_a_whole_list_is_read_in_the_tables_order_and_sorted_into_the_pages_order(workspace, tobacco_case, filters):
    """Issue 30: walking the time index finds each next visit wherever it was written, a page
    apart when visits were not written in time order (merged bundles, an old file imported
    late): a million such visits listed in 5.9 s of CPU through the index, 3.5 s read in the
    table's order and sorted. Visits written here out of time order come out as a page gives
    them, ties included. Every visit (no case) is read from the table itself: walking the rates
    index to reach each one read a page per visit (980,000 for a million)."""
    from datetime import timedelta

    from investigate.cases import visits

    case = tobacco_case["case"]
    store, tester = tobacco_case["stores"][0], tobacco_case["tester"]
    first = min(v["visited_at"] for v in tobacco_case["visits"])
    for hours in (-30, -5, -30, 3):  # earlier than the fixture's, and two at one time
        visits.record_visit(workspace, case=case, store=store, tester=tester,
                            answers={"product": "cigarettes", "sale": False, "id_check": "scanned", "id_carried": True},
                            visited_at=visits.parse_visit_time(workspace, first) + timedelta(hours=hours))
    of_case = case if filters.get("case") else None
    with statements(workspace) as seen:
        whole = [r["id"] for r in list_visits(workspace, case=of_case)]
        queue = [r["id"] for r in review_queue(workspace, case=of_case, states=REVIEW_STATES)]
    (listed,) = [" | ".join(r[3] for r in workspace.db.execute("explain query plan " + sql))
                 for sql in seen if "as store_address" in sql]
    (queued,) = [" | ".join(r[3] for r in workspace.db.execute("explain query plan " + sql))
                 for sql in seen if "as last_comment" in sql]
    assert "USE TEMP B-TREE FOR ORDER BY" in listed and "idx_visits_case_id_visited_at" not in listed, listed
    assert "USE TEMP B-TREE FOR ORDER BY" in queued and "visited_at" not in queued, queued
    if of_case is None:  # every visit: the table in its own order, not looked up from an index's
        assert "SCAN v |" in listed + " |" and "SCAN v |" in queued + " |", (listed, queued)
    paged = [r["id"] for r in list_visits(workspace, case=of_case, limit=1000)]
    assert whole == paged == queue and len(whole) == 8
    assert whole != [r[0] for r in workspace.db.execute("select id from visits order by rowid")]


def test_one_stores_visits_are_sought_by_their_store_not_found_by_walking_the_cases_time(workspace, tobacco_case):
    """A reply request reads one store's visits and findings in the case, and `visit list --case
    C --store S --limit 20` a page of them. Ordered by time, SQLite walked the case's time index
    and looked every visit of the case up to find the store's few: 115 ms a query at 100,000
    visits, and a `reply request --all` of 20,000 businesses ran for more than ten minutes.
    They are sought through an index on their store, and sorted."""
    from investigate.cases.replies import request_reply

    ws, case = workspace, tobacco_case["case"]
    store = tobacco_case["stores"][0]
    with statements(ws) as seen:
        reply = request_reply(ws, case, store)
        page = list(list_visits(ws, case=case, store=store, limit=20))
    assert page and all(v["store_id"] == store["id"] for v in page)
    assert ws.db.execute("select count(*) from reply_items where reply_id = ?", [reply["id"]]).fetchone()[0] > 0
    read = plans(ws, seen, "visits") + plans(ws, seen, "findings")
    assert len(read) >= 3, read  # the request's visits and findings, and the page
    for plan in read:
        assert "idx_visits_case_id_visited_at" not in plan and not full_scans(plan, "visits", "v"), plan
        assert "idx_visits_rates (case_id=? AND kind=? AND store_id=?)" in plan \
            or "idx_visits_store_id (store_id=?)" in plan, plan


def test_the_export_seeks_what_hangs_off_a_case_s_visits_through_them(workspace, tobacco_case, tmp_path):
    """Issue 30: findings, evidence and promises are exported by joining the case's visits to
    them through their index of visits: the workspace's other visits are never read, and
    the visits are not first gathered into a list of ids that is then probed one by one (1.2 s
    of CPU for a million visits' 200,000 findings, 0.9 joined)."""
    from investigate.formats.export import export_case

    with statements(workspace) as seen:
        export_case(workspace, tobacco_case["case"], "csv", tmp_path / "out")
    for table, index in (("findings", "idx_findings_visit_id"), ("evidence", "idx_evidence_visit_id_sha256"),
                         ("promises", "idx_promises_visit_id")):
        [plan] = plans(workspace, seen, table)
        assert f"SEARCH t USING INDEX {index} (visit_id=?)" in plan and "LIST SUBQUERY" not in plan, plan
        assert "SEARCH v USING INDEX idx_visits_case_id" in plan and not full_scans(plan, table, "t"), plan


def test_a_bundle_lists_its_cases_visits_once_and_looks_into_that_list(workspace, tobacco_case, tmp_path):
    """Issue 30: a bundle asks of each table hanging off the visits (findings, evidence,
    promises, reviews), of their audit entries and of its bar's count which rows belong to its
    cases' visits. Asked as ``visit_id in (select id from visits …)``, SQLite listed every visit
    id of the case again for each question: 0.6 s of CPU a time at a million visits, for tables
    holding no row too. The ids are gathered once into an indexed table, which each question
    looks into as it stands."""
    from investigate.desk import bundles

    steps = []
    with statements(workspace) as seen:
        bundles.write_bundle(workspace, [tobacco_case["case"]], tmp_path / "b.zip",
                             progress=steps.append, total=steps.append)
    assert len([sql for sql in seen if "select id from visits where case_id" in sql]) == 1
    bundles._gather_visits(workspace, [tobacco_case["case"]])  # dropped once written: made again to explain
    for table in ("findings", "evidence", "promises", "reviews"):
        asked = [" | ".join(r[3] for r in workspace.db.execute("explain query plan " + sql)) for sql in seen
                 if f"from [{table}] t where" in sql or f"count(*) from {table} where" in sql]
        assert len(asked) == (2 if table == "findings" else 1), table  # its rows; the bar counts findings
        for plan in asked:
            assert "LIST SUBQUERY" not in plan and "bundle_visits_1 FOR IN-OPERATOR" in plan, plan
    # The audit entries carried: one union of every table's, the visits' and the four through
    # the same list.
    [union] = [sql for sql in seen if "insert or ignore into temp.bundle_seqs" in sql]
    workspace.db.execute("create temp table bundle_seqs (seq integer primary key)")
    plan = " | ".join(r[3] for r in workspace.db.execute("explain query plan " + union))
    assert plan.count("bundle_visits_1 FOR IN-OPERATOR") == 5, plan


def test_the_changes_after_a_sign_off_look_each_entrys_row_up_by_its_id(workspace, tobacco_case):
    """Which audit entries change a case (the sign-off's count, a public file's version): each
    entry's row is looked up by its id. A list of every visit of the case, built for each
    question, took 0.9 s at a million visits to count the last thousand entries."""
    from investigate.cases.editorial import sign_off
    from investigate.policy.changes import changes_since, content_key

    ws, case = workspace, tobacco_case["case"]
    signed = sign_off(ws, case, role="legal counsel", signed_by="Dr. Recht")
    ws.update("visits", tobacco_case["visits"][0]["id"], {"notes": "receipt kept"}, reason="a note")
    with statements(ws) as seen:
        assert changes_since(ws, case, signed["audit_seq"]) == 1
        content_key(ws, case)
    asked = [p for p in plans(ws, seen, "audit_log") if "visits" in p]
    assert len(asked) == 2, asked
    for plan in asked:
        assert "LIST SUBQUERY" not in plan and "idx_visits_case" not in plan, plan
        assert "SEARCH x USING INDEX sqlite_autoindex_visits_1 (id=?)" in plan, plan
    assert asked[0].startswith("SEARCH a USING INTEGER PRIMARY KEY (rowid>?)"), asked[0]


def test_the_naming_finds_the_requests_made_here_in_their_own_index(workspace, tobacco_case, clock):
    """Which closed requests were made here (their items hash what stood at their entry) is
    read from a partial index of the requests' own entries: looking up each request's first
    entry read twenty thousand scattered pages of a log that holds all their items."""
    from datetime import timedelta

    from investigate.cases.replies import request_reply
    from investigate.cases.review import review_visit
    from investigate.policy import naming

    ws, case = workspace, tobacco_case["case"]
    for visit in tobacco_case["visits"]:
        review_visit(ws, visit, "approve")
    shop = tobacco_case["stores"][0]
    request_reply(ws, case, shop)
    clock.shift(timedelta(days=30))  # its window closes
    with statements(ws) as seen:
        assert naming(ws, case).status[shop["id"]] == "named"
    asked = [p for p in plans(ws, seen, "audit_log") if "idx_audit_log_requests" in p]
    assert asked == ["SEARCH audit_log USING COVERING INDEX idx_audit_log_requests (table_name=? AND row_id=? "
                     "AND action=?) | "
                     "LIST SUBQUERY 1 | SCAN json_each VIRTUAL TABLE INDEX 1:"], plans(ws, seen, "audit_log")
