"""Issue 8: review, completion, rounds, retests, checklist, disclosure control, corrections."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from investigate.ids import short
from investigate.numbers import stats
from investigate.cases import cases, editorial, replies, stores, visits
from investigate.cases.review import get_visit_for_review, review_queue, review_visit, review_visits
from investigate.policy import OTHER, gate, protect_groups
from investigate.policy.texts import corrections
from investigate.errors import IntegrityError, InvalidInput, InvestigateError, NotFound, PolicyError
from investigate.numbers.fieldwork import completion, rounds_summary
from investigate.proof.verify import verify

from conftest import bulk_writes_under_a_savepoint, counted_tallies, kept_tallies, snapshot, statements

TOBACCO_NO = {"product": "cigarettes", "sale": False, "id_check": "scanned", "id_carried": True}
TOBACCO_YES = {"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True}


def approve_all(ws, case):
    for v in ws.db.query("select * from visits where case_id = ?", [case["id"]]):
        review_visit(ws, v, "approve")


def test_only_approved_visits_enter_public_figures(workspace, tobacco_case):
    ws, case = workspace, tobacco_case["case"]
    assert stats.case_rates(ws, case)[0]["eligible"] == 4
    assert stats.case_rates(ws, case, approved_only=True) == []
    review_visit(ws, tobacco_case["visits"][0], "approve")
    review_visit(ws, tobacco_case["visits"][1], "reject", comment="observer not present")
    public = stats.case_rates(ws, case, approved_only=True)[0]
    assert (public["violations"], public["eligible"]) == (1, 1)


def test_approving_a_visit_twice_is_refused_and_changes_nothing(workspace, tobacco_case, run):
    v = tobacco_case["visits"][0]
    assert run("review", short(v["id"]), "approve").exit_code == 0
    before = snapshot(workspace)
    result = run("review", short(v["id"]), "approve")
    assert result.exit_code != 0
    assert "already approved" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(workspace) == before


def test_rejecting_needs_a_comment_and_records_it(workspace, tobacco_case, run):
    v = tobacco_case["visits"][2]
    before = snapshot(workspace)
    result = run("review", short(v["id"]), "reject")
    assert result.exit_code != 0 and "--comment" in result.output
    assert snapshot(workspace) == before
    assert run("review", short(v["id"]), "reject", "--comment", "photo shows another shop").exit_code == 0
    row = workspace.db.execute("select state, comment from reviews where visit_id = ?", [v["id"]]).fetchone()
    assert row == ("rejected", "photo shows another shop")
    assert verify(workspace).ok


def test_review_of_a_visit_of_another_case_by_prefix_is_refused(workspace, tobacco_case):
    ws = workspace
    other = cases.create_case(ws, slug="other", title="Other", protocol="tobacco-minors")
    v = visits.record_visit(ws, case=other, store=tobacco_case["stores"][0], tester=tobacco_case["tester"],
                            answers=TOBACCO_NO, visited_at=ws.now() - timedelta(days=1))["visit"]
    with pytest.raises(NotFound):
        get_visit_for_review(ws, short(v["id"]), case=tobacco_case["case"])
    assert get_visit_for_review(ws, short(v["id"]), case=other)["id"] == v["id"]


def test_review_queue_lists_pending_visits_oldest_first(workspace, tobacco_case, run):
    review_visit(workspace, tobacco_case["visits"][0], "approve")
    review_visit(workspace, tobacco_case["visits"][1], "issue", comment="time missing")
    queue = json.loads(run("review", "queue", "--json").output)
    assert [q["id"] for q in queue] == [v["id"] for v in tobacco_case["visits"][1:]]
    assert queue[0]["review_state"] == "has_issues" and queue[0]["last_comment"] == "time missing"
    assert list(review_queue(workspace, case=tobacco_case["case"], states=("approved",)))[0]["id"] == tobacco_case["visits"][0]["id"]


def test_several_visits_are_approved_in_one_command_each_audited_and_proved(workspace, tobacco_case, run):
    """Issue 27/30: `review A B C approve`, one transaction; each visit's new state is in the
    log by its row hash, one event keeps the decision, and verify proves every row."""
    ws, chosen = workspace, tobacco_case["visits"][:3]
    result = run("review", *[short(v["id"]) for v in chosen], "approve", "--json")
    assert json.loads(result.output) == {"action": "approve", "state": "approved", "changed": 3, "unchanged": 0}
    states = dict(ws.db.execute("select id, review_state from visits").fetchall())
    assert [states[v["id"]] for v in tobacco_case["visits"]] == ["approved"] * 3 + ["received"]
    assert ws.db.execute("select count(*) from reviews where state = 'approved'").fetchone()[0] == 3
    events = [json.loads(d) for (d,) in ws.db.execute(
        "select data from audit_log where action = 'review' and row_id is null")]
    assert events == [{"new": {"review_state": "approved"}, "reason": "review: approved", "rows": 3,
                       "table": "visits"}]
    assert verify(ws).ok
    assert stats.case_rates(ws, tobacco_case["case"], approved_only=True)[0]["eligible"] == 3


def test_every_waiting_visit_of_a_case_is_decided_at_once_and_again_changes_nothing(workspace, tobacco_case, run):
    ws, case = workspace, tobacco_case["case"]
    review_visit(ws, tobacco_case["visits"][0], "issue", comment="receipt unreadable")
    result = run("review", "--case", "tobacco-nk", "--all-received", "approve")
    assert result.exit_code == 0 and result.output.strip() == "3 visit(s) now approved."
    # A visit with issues waits for the reporter's fix, not for a bulk approval.
    assert [q["review_state"] for q in review_queue(ws, case=case)] == ["has_issues"]
    before = snapshot(ws)
    again = run("review", "--case", "tobacco-nk", "--all-received", "approve")
    assert again.exit_code == 0 and again.output.strip() == "No visit of tobacco-nk is waiting for review."
    assert snapshot(ws) == before


def test_a_bulk_decision_is_refused_whole_when_one_visit_was_altered_outside(workspace, tobacco_case, run):
    ws, visits_ = workspace, tobacco_case["visits"]
    ws.db.execute("update visits set outcome = 'compliant' where id = ?", [visits_[2]["id"]])
    ws.db.conn.commit()
    before = snapshot(ws)
    result = run("review", *[short(v["id"]) for v in visits_], "reject", "--comment", "observer absent")
    assert result.exit_code != 0 and "altered outside investigate" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(ws) == before


def test_a_bulk_decision_moves_each_visit_between_tallies_as_one_at_a_time_would(workspace, tobacco_case, run):
    """Issue 30: a bulk update drops the tally trigger for its transaction and writes the net
    counts once; the tallies must still equal counting the visits, a visit from before review
    states (NULL: 'received') included, and the trigger must be back for the next single write."""
    ws, visits_ = workspace, tobacco_case["visits"]

    def tallies():
        return kept_tallies(ws)[0]

    def agree():  # the visit tallies and the case tallies, each equal to counting the visits
        return kept_tallies(ws) == counted_tallies(ws)

    ws.update("visits", visits_[3]["id"], {"review_state": None}, reason="as written before review states")
    review_visit(ws, visits_[0], "issue", comment="receipt unreadable")
    assert run("review", "--case", "tobacco-nk", "--all-received", "approve").output.strip() == \
        "3 visit(s) now approved."
    assert agree() and {r[4] for r in tallies()} == {"approved", "has_issues"}
    assert run("review", short(visits_[1]["id"]), short(visits_[3]["id"]), "reject", "--comment", "no observer").exit_code == 0
    review_visit(ws, ws.get("visits", visits_[2]["id"]), "reject", comment="blurred")  # the trigger is back
    assert agree() and sum(r[-1] for r in tallies()) == len(visits_)
    # A bulk decision refused halfway (a row altered outside) keeps the tallies and the trigger.
    ws.db.execute("update visits set notes = 'edited' where id = ?", [visits_[3]["id"]])
    ws.db.conn.commit()
    before = tallies()
    assert run("review", *[short(v["id"]) for v in visits_], "approve").exit_code != 0
    assert tallies() == before and agree()
    assert ws.db.execute("select 1 from sqlite_master where name = 'visit_tallies_update'").fetchone()


def test_a_bulk_decision_is_one_transaction_without_a_savepoint(workspace, tobacco_case):
    """Issue 30: with a savepoint open SQLite copies every page a write changes aside; over a bulk
    review of 250,000 visits in a workspace of a million that copy was more than half the CPU. The bulk
    writes join the decision's transaction instead."""
    ws = workspace
    with statements(ws) as sql:
        review_visits(ws, [v["id"] for v in tobacco_case["visits"]], "approve")
    assert [s for s in sql if s.startswith("update [visits]")]
    assert bulk_writes_under_a_savepoint(sql, ("visits", "reviews")) == []
    assert [s.lower() for s in sql if s.lower() in ("begin immediate", "commit")] == ["begin immediate", "commit"]
    assert {r[0] for r in ws.db.execute("select review_state from visits")} == {"approved"}


def test_a_bulk_decision_updates_the_visits_with_no_trigger_left_to_fire(workspace, tobacco_case):
    """Issue 30: a trigger on the visits makes SQLite keep a statement journal for every UPDATE of
    many of them (a trigger may abort it midway): 836,000 page writes for 250,000 approved visits.
    The findings' tallies move in bulk, as the visits' do. sqlite3 traces an UPDATE again each time
    a trigger's program runs for a row (its WHEN tested), so with none left it is traced once."""
    ws = workspace
    assert ws.db.execute("select count(*) from findings").fetchone()[0]  # the tallies to move are there
    with statements(ws) as sql:
        review_visits(ws, [v["id"] for v in tobacco_case["visits"]], "approve")
    updates = [s for s in sql if s.startswith("update [visits]")]
    assert len(updates) == len(set(updates)) == 1
    assert kept_tallies(ws) == counted_tallies(ws)
    assert ws.db.execute("select 1 from sqlite_master where name = 'finding_tallies_visit'").fetchone()


def finding_rows_for(visits_, *, bad_at: int | None = None) -> list[dict]:
    rows = [{"visit_id": v["id"], "title": "Sold to a minor", "severity": "high", "source": "manual"} for v in visits_]
    if bad_at is not None:
        rows[bad_at]["reviewed"] = 1  # a column findings lack: refused at that row, after the rows before
    return rows


def test_a_bulk_write_that_failed_inside_a_transaction_writes_nothing_even_when_its_error_was_caught(
        workspace, tobacco_case):
    """A bulk write joins its caller's transaction (no savepoint), so a failure in it cannot be
    undone on its own: if a caller catches the error and goes on, the transaction is rolled back
    at its end and says so, rather than commit the rows written before the failure with the
    findings' counting trigger dropped."""
    ws, visits_ = workspace, tobacco_case["visits"]
    before = snapshot(ws)
    with pytest.raises(IntegrityError, match="a bulk write failed inside this transaction"):
        with ws.transaction():
            ws.update("cases", tobacco_case["case"]["id"], {"description": "changed"}, reason="test")
            with pytest.raises(InvestigateError, match="findings: unknown column"):
                ws.insert_many("findings", finding_rows_for(visits_, bad_at=3), batch_size=1)
            assert ws.db.execute("select count(*) from findings").fetchone()[0] > 0  # written, not yet undone
    assert snapshot(ws) == before
    assert ws.db.execute("select 1 from sqlite_master where name = 'finding_tallies_insert'").fetchone()
    # The next transaction starts clean.
    assert ws.insert_many("findings", finding_rows_for(visits_[:1])) == 1
    assert kept_tallies(ws) == counted_tallies(ws)


def test_a_savepoint_that_rolls_back_past_a_failed_bulk_write_lets_the_transaction_go_on(workspace, tobacco_case):
    ws, visits_ = workspace, tobacco_case["visits"]
    with ws.transaction():
        ws.update("cases", tobacco_case["case"]["id"], {"description": "changed"}, reason="test")
        with pytest.raises(InvestigateError, match="findings: unknown column"):
            with ws.transaction():  # a savepoint: its rollback undoes the bulk write's rows and DDL
                ws.insert_many("findings", finding_rows_for(visits_, bad_at=2), batch_size=1)
    assert ws.get("cases", tobacco_case["case"]["id"])["description"] == "changed"
    assert ws.db.execute("select count(*) from findings where source = 'manual'").fetchone()[0] == 0
    assert ws.db.execute("select 1 from sqlite_master where name = 'finding_tallies_insert'").fetchone()
    assert kept_tallies(ws) == counted_tallies(ws)


def test_a_bulk_decision_naming_a_voided_visit_is_refused_whole(workspace, tobacco_case, run):
    ws, visits_ = workspace, tobacco_case["visits"]
    visits.void_visit(ws, visits_[2], reason="test entry")
    before = snapshot(ws)
    result = run("review", *[short(v["id"]) for v in visits_], "approve")
    assert result.exit_code != 0 and "was voided" in result.output and short(visits_[2]["id"]) in result.output
    assert snapshot(ws) == before


def test_a_bulk_update_of_a_column_the_table_lacks_is_refused(workspace, tobacco_case):
    with pytest.raises(InvestigateError, match="visits: unknown column"):
        workspace.update_many("visits", [tobacco_case["visits"][0]["id"]], {"reviewed": 1}, reason="test")


@pytest.mark.parametrize("args, says", [
    (["A", "B", "frob"], "the last word must be one of approve, reject, issue"),
    (["--case", "tobacco-nk", "approve"], "name the visits to review"),
    (["--all-received", "approve"], "--all-received takes --case SLUG"),
])
def test_a_malformed_bulk_review_is_a_usage_error_of_review_itself(workspace, tobacco_case, run, args, says):
    before = snapshot(workspace)
    result = run("review", *args)
    assert result.exit_code == 2 and says in result.output
    # The usage is the command the user typed, never the hidden one behind it.
    assert "review VISIT... approve|reject|issue" in result.output and "decide" not in result.output
    assert snapshot(workspace) == before


def test_an_amended_visit_must_be_reviewed_again(workspace, tobacco_case):
    v = review_visit(workspace, tobacco_case["visits"][0], "approve")
    amended = visits.amend_visit(workspace, v, reason="wrong product", answers={"product": "snus"})
    assert amended["review_state"] == "received"


def test_attempts_not_made_count_toward_completion_never_toward_the_rate(workspace, tobacco_case):
    ws, case = workspace, tobacco_case["case"]
    extra = stores.add_store(ws, name="Closed Kiosk", district="Neukölln")
    stores.add_to_frame(ws, case, [extra])
    visits.record_visit(ws, case=case, store=extra, tester=tobacco_case["tester"], answers={},
                        attempt="closed", visited_at=ws.now() - timedelta(days=2))
    never = stores.add_store(ws, name="Never Visited", district="Kreuzberg")
    stores.add_to_frame(ws, case, [never])
    overall = completion(ws, case)[0]
    assert overall["stratum"] is None
    assert (overall["targets"], overall["attempted"], overall["completed"]) == (6, 5, 4)
    assert overall["reasons"] == {"closed": 1, "not_attempted": 1}
    rate = stats.case_rates(ws, case)[0]
    assert (rate["eligible"], rate["not_completed"]) == (4, 1)


def test_rounds_give_rate_per_round_sold_at_least_once_and_changes(workspace, tobacco_case):
    ws, case, t = workspace, tobacco_case["case"], tobacco_case["tester"]
    shops = tobacco_case["stores"]
    # Round 1 (fixture): shops 0 and 2 sold. Round 2: shop 1 sells, shop 0 does not.
    for shop, answers in zip(shops, [TOBACCO_NO, TOBACCO_YES, TOBACCO_YES, TOBACCO_NO]):
        visits.record_visit(ws, case=case, store=shop, tester=t, answers=answers, round=2,
                            visited_at=ws.now() - timedelta(days=1))
    summary = rounds_summary(ws, case)
    assert [(r["round"], r["violations"], r["eligible"]) for r in summary["rounds"]] == [(1, 2, 4), (2, 2, 4)]
    once = summary["sold_at_least_once"]
    assert (once["violations"], once["eligible"]) == (3, 4)
    changed = {(c["store_name"], c["from"], c["to"]) for c in summary["changes"]}
    assert changed == {("Späti Eins", "violation", "compliant"), ("Späti Zwei", "compliant", "violation")}


def test_fieldwork_gives_each_round_the_rate_stats_gives_it(workspace, tobacco_case, run):
    ws, case, t = workspace, tobacco_case["case"], tobacco_case["tester"]
    # Späti Zwei tested twice in round 1 (sold the second time): two tests in the round's rate.
    visits.record_visit(ws, case=case, store=tobacco_case["stores"][1], tester=t, answers=TOBACCO_YES,
                        visited_at=ws.now() - timedelta(days=2))
    by_round = json.loads(run("stats", "tobacco-nk", "--by", "round", "--json").output)["groups"]
    rounds = json.loads(run("fieldwork", "tobacco-nk", "--json").output)["rounds"]["rounds"]
    assert [(r["round"], r["violations"], r["eligible"]) for r in rounds] == \
        [(int(g["group"]), g["violations"], g["eligible"]) for g in by_round] == [(1, 3, 5)]


def test_retest_plans_a_linked_case_of_the_stores_that_sold(workspace, tobacco_case, run):
    result = json.loads(run("retest", "tobacco-nk", "--after", "90d", "--json").output)
    new = cases.get_case(workspace, result["case"]["slug"])
    assert new["parent_case_id"] == tobacco_case["case"]["id"]
    frame = {r[0] for r in workspace.db.execute("select store_id from case_stores where case_id = ?", [new["id"]])}
    assert frame == {tobacco_case["stores"][0]["id"], tobacco_case["stores"][2]["id"]}
    assert result["planned_start"] > tobacco_case["visits"][-1]["visited_at"][:10]


def test_retest_of_a_case_with_no_sales_is_refused(workspace, run):
    cases.create_case(workspace, slug="clean", title="Clean", protocol="tobacco-minors")
    before = snapshot(workspace)
    result = run("retest", "clean")
    assert result.exit_code != 0 and "no sales" in result.output
    assert snapshot(workspace) == before


def ready_case(ws, tobacco_case):
    """Fill every checklist item of the fixture case."""
    case = tobacco_case["case"]
    approve_all(ws, case)
    # Visits were ten days ago; asked the day after, with a three-day window long closed.
    case = cases.edit_case(ws, case, reply_days=3)
    long_ago = (ws.now() - timedelta(days=9)).isoformat()
    for shop in tobacco_case["stores"]:
        replies.request_reply(ws, case, shop, requested_at=long_ago)
    case = ws.update("cases", case["id"], {"description": "Four shops tested once by one tester."})
    editorial.sign_off(ws, case, role="legal counsel", signed_by="Dr. Internal")
    return case


def test_checklist_blocks_until_every_item_is_done(workspace, tobacco_case, run):
    ws, case = workspace, tobacco_case["case"]
    open_keys = {i["key"] for i in gate.open_items(ws, case)}
    assert {"visits_reviewed", "replies", "methodology", "legal_signoff"} <= open_keys
    with pytest.raises(PolicyError, match="not ready to publish"):
        gate.require_publishable(ws, case)
    case = ready_case(ws, tobacco_case)
    assert gate.open_items(ws, case) == []
    assert gate.require_publishable(ws, case) is None
    shown = json.loads(run("checklist", "tobacco-nk", "--json").output)
    assert shown["ready"] is True


@pytest.mark.parametrize("change", ["visit", "finding", "finding deleted", "review", "answer", "case",
                                    "another case's visit"])
def test_a_legal_sign_off_is_void_after_any_change_to_the_cases_records(workspace, tobacco_case, change):
    """What the lawyer signed is what the case's records said then: a write to any of them
    after it, a deleted finding too, voids it; a write to another case does not."""
    from investigate.policy.changes import changes_since

    ws = workspace
    case = ready_case(ws, tobacco_case)
    signed_at = ws.db.execute("select audit_seq from signoffs where case_id = ?", [case["id"]]).fetchone()[0]
    finding = next(ws.db.query("select f.* from findings f join visits v on v.id = f.visit_id where v.case_id = ? "
                               "limit 1", [case["id"]]))
    if change == "visit":
        ws.update("visits", tobacco_case["visits"][0]["id"], {"notes": "receipt kept"}, reason="a note")
    elif change == "finding":
        ws.update("findings", finding["id"], {"title": finding["title"] + " (reworded)"}, reason="clearer")
    elif change == "finding deleted":
        ws.delete("findings", finding["id"], reason="entered twice")
    elif change == "review":
        review_visit(ws, tobacco_case["visits"][0], "issue", comment="the receipt is unreadable")
    elif change == "answer":
        request = next(ws.db.query("select * from replies where case_id = ? limit 1", [case["id"]]))
        replies.record_reply(ws, request, answer="We train our staff.")
    elif change == "case":
        cases.edit_case(ws, case, description="Four shops, tested once.")
    else:
        other = cases.create_case(ws, slug="other", title="Other", protocol="tobacco-minors")
        shop = tobacco_case["stores"][0]
        stores.add_to_frame(ws, other, [shop])
        visits.record_visit(ws, case=other, store=shop, tester=tobacco_case["tester"],
                            answers={"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True},
                            visited_at=ws.now() - timedelta(days=1))
    case = ws.get("cases", case["id"])
    item = next(i for i in gate.checklist(ws, case) if i["key"] == "legal_signoff")
    if change == "another case's visit":
        assert changes_since(ws, case, signed_at) == 0 and item["ok"], item
    else:
        assert changes_since(ws, case, signed_at) >= 1 and not item["ok"], item
        assert "predates" in item["detail"]


def test_an_override_needs_a_reason(workspace, tobacco_case):
    with pytest.raises(InvalidInput):
        gate.require_publishable(workspace, tobacco_case["case"], override="  ")
    assert gate.require_publishable(workspace, tobacco_case["case"], override="court deadline") == "court deadline"


def test_publications_get_versions_and_corrections_land_in_the_next(workspace, tobacco_case, tmp_path, run):
    ws, case = workspace, tobacco_case["case"]
    with pytest.raises(InvalidInput, match="not been published"):
        editorial.add_correction(ws, case, note="too early")
    v1 = tmp_path / "v1.pdf"
    v1.write_bytes(b"%PDF version one")
    assert editorial.record_publication(ws, case, kind="pdf", path=v1)["version"] == 1
    assert run("correct", "tobacco-nk", "--note", "Store B was tested on the 3rd, not the 2nd.").exit_code == 0
    assert corrections(ws, case)[0]["first_version"] is None
    v2 = tmp_path / "v2.pdf"
    v2.write_bytes(b"%PDF version two")
    assert editorial.record_publication(ws, case, kind="pdf", path=v2)["version"] == 2
    assert corrections(ws, case)[0]["first_version"] == 2
    assert editorial.verify_publication(ws, case, v1)["version"] == 1
    assert run("versions", "tobacco-nk", "--check", str(v1)).exit_code == 0
    v1.write_bytes(b"%PDF tampered")
    result = run("versions", "tobacco-nk", "--check", str(v1))
    assert result.exit_code == 3 and "matches no published version" in result.output
    assert verify(ws).ok


def group_row(group: str, violations: int, compliant: int, *, not_completed: int = 0) -> dict:
    """A row as ``stats.case_rates`` gives it."""
    return {"group": group, "visits": violations + compliant + not_completed, "completed": violations + compliant,
            "violations": violations, "compliant": compliant, "inconclusive": 0, "not_completed": not_completed}


def test_small_groups_are_merged_so_none_can_be_recovered():
    rows = [group_row("A", 5, 15), group_row("B", 3, 9), group_row("C", 2, 0)]
    out = protect_groups(rows, threshold=5)
    groups = {r["group"]: r for r in out["rows"]}
    # C alone (2) is too small, so the next smallest group (B) is folded in with it.
    assert set(groups) == {"A", OTHER}
    assert out["merged"] == ["C", "B"]
    assert groups[OTHER]["visits"] == 14 and groups[OTHER]["violations"] == 5
    assert groups[OTHER]["rate"] == pytest.approx(5 / 14)


def test_a_table_smaller_than_the_threshold_is_withheld_whole():
    rows = [{"group": "A", "visits": 3, "completed": 3, "violations": 1, "compliant": 2}]
    out = protect_groups(rows, threshold=5)
    assert out["withheld"] is True and out["rows"][0]["rate"] is None


def test_a_small_cell_is_counted_in_completed_tests_not_in_attempts():
    # Chain B: six visits, but three were closed shops: three tests, a cell small enough to name a clerk.
    rows = [group_row("A", 5, 15), group_row("B", 1, 2, not_completed=3), group_row("C", 2, 5)]
    out = protect_groups(rows, threshold=5)
    assert "B" in out["merged"] and "B" not in {r["group"] for r in out["rows"]}
    assert {r["group"]: r["completed"] for r in out["rows"]}[OTHER] == 10



def test_a_bulk_update_of_rows_with_secret_columns_hashes_them_as_every_write_of_them_does(workspace):
    """``update_many`` hashes a table with secret columns (a tip's company and story) through the
    audit view, as every other write of it does (``Workspace.update_hasher``), not by swapping the
    change into the row's own text: after a bulk change of two tips, verify holds."""
    from investigate.cases import tips
    from investigate.proof.verify import verify

    made = [tips.add_tip(workspace, channel="email", company="Späti24", what_happened="They sold to my son."),
            tips.add_tip(workspace, channel="phone", company="KioskCo", what_happened="No ID check.",
                         contact="reader@example.org")]
    ids = sorted(t["id"] for t in made)
    assert workspace.update_many("tips", ids, {"status": "dropped"}, reason="a bulk triage") == ids
    assert verify(workspace).ok
