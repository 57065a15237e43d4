"""Corrections, not copies (issue 24): a corrected file imported again amends the visits it
corrects (with --update) or is refused with counts; a visit can be voided; a tester's consent
and a store's fields can be edited."""

from __future__ import annotations

import json

from investigate.cases import review, visits
from investigate.policy import counting

from conftest import snapshot

# A newsroom's own field sheet, typed up after a round: one row per visit, no external_ref
# column, so the import knows each row by its mapped values.
SHEET = ("store,tester,visited_at,round,product,sale,id_check,id_carried,observer\n"
         "L-1,T-07,2026-11-20T15:05,1,cigarettes,yes,none,yes,Observer Olsen\n"
         "L-2,T-07,2026-11-20T16:10,1,cigarettes,no,scanned,yes,Observer Olsen\n"
         "L-3,T-07,2026-11-20T17:20,1,cigarettes,no,glance,yes,Observer Olsen\n")
# The same sheet with two mistakes put right: a sale typed as "yes" that was "no", and the
# third visit, made in the second round, typed as round 1.
CORRECTED = (SHEET.replace("15:05,1,cigarettes,yes,none", "15:05,1,cigarettes,no,none")
             .replace("17:20,1,", "17:20,2,"))


def sheet(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def imported(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def public_violations(ws, case) -> int:
    return counting.case_rates(ws, case, scope=counting.PUBLIC)[0]["violations"]


def approve_all(ws, case) -> None:
    for row in list(ws.db.query("select * from visits where case_id = ? and review_state != 'approved'",
                                [case["id"]])):
        review.review_visit(ws, row, "approve")


def test_a_corrected_file_without_update_is_refused_with_counts_per_kind_and_nothing_written(
        workspace, tobacco_case, run, tmp_path):
    imported(run("visit", "import", sheet(tmp_path, "round1.csv", SHEET), "--json"))
    before = snapshot(workspace)
    result = run("visit", "import", sheet(tmp_path, "round1-fixed.csv", CORRECTED))
    assert result.exit_code != 0 and "Traceback" not in result.output
    message = result.stderr
    assert "2 rows correct visits already imported (same store, tester and minute); nothing was written" in message
    assert "1 changes the answers (first: line 2, visit " in message
    assert "1 changes the round (first: line 4, visit " in message
    assert "re-run with --update" in message
    assert snapshot(workspace) == before


def test_a_corrected_file_with_update_amends_the_same_visits_and_the_public_figures_follow(
        workspace, tobacco_case, run, tmp_path):
    case = tobacco_case["case"]
    imported(run("visit", "import", sheet(tmp_path, "round1.csv", SHEET), "--json"))
    approve_all(workspace, case)
    count = workspace.db["visits"].count
    violations = public_violations(workspace, case)
    summary = imported(run("visit", "import", sheet(tmp_path, "round1-fixed.csv", CORRECTED), "--update", "--json"))
    assert summary["visits"] == 0 and summary["amended"] == 2 and summary["already_imported"] == 1
    assert workspace.db["visits"].count == count
    fixed = next(workspace.db.query("select * from visits where visited_at like '2026-11-20T15:05%'"))
    assert json.loads(fixed["answers"])["sale"] is False and fixed["outcome"] == "compliant"
    # An amended visit is a new version: reviewed again before it counts, then counted as amended.
    assert fixed["review_state"] == "received"
    approve_all(workspace, case)
    assert public_violations(workspace, case) == violations - 1
    reason = json.loads(workspace.db.execute(
        "select data from audit_log where row_id = ? and action = 'amend'", [fixed["id"]]).fetchone()[0])["reason"]
    assert reason == "corrected by round1-fixed.csv:2"
    again = imported(run("visit", "import", sheet(tmp_path, "round1-fixed.csv", CORRECTED), "--json"))
    assert again["visits"] == 0 and again["amended"] == 0 and again["already_imported"] == 3


def test_the_same_file_twice_is_already_imported_not_a_correction(workspace, tobacco_case, run, tmp_path):
    imported(run("visit", "import", sheet(tmp_path, "round1.csv", SHEET), "--json"))
    again = imported(run("visit", "import", sheet(tmp_path, "copy.csv", SHEET), "--json"))
    assert (again["visits"], again["already_imported"], again["amended"]) == (0, 3, 0)


def test_the_printed_summary_says_how_many_were_amended(workspace, tobacco_case, run, tmp_path):
    run("visit", "import", sheet(tmp_path, "round1.csv", SHEET))
    result = run("visit", "import", sheet(tmp_path, "round1-fixed.csv", CORRECTED), "--update")
    assert result.exit_code == 0, result.output
    assert "(3 rows, 1 already imported, 2 amended)" in result.output


# -- visit void -------------------------------------------------------------------------------

def test_a_voided_visit_leaves_every_figure_and_stays_in_the_log(workspace, tobacco_case, run):
    case = tobacco_case["case"]
    approve_all(workspace, case)
    sold = tobacco_case["visits"][0]  # a sale: a violation
    public = counting.case_rates(workspace, case, scope=counting.PUBLIC)[0]
    working = counting.case_rates(workspace, case, scope=counting.WORKING)[0]
    result = run("visit", "void", sold["id"], "--reason", "typed twice: duplicate of another visit")
    assert result.exit_code == 0, result.output
    assert "no longer counts" in result.output
    for scope, before in ((counting.PUBLIC, public), (counting.WORKING, working)):
        after = counting.case_rates(workspace, case, scope=scope)[0]
        assert (after["visits"], after["violations"]) == (before["visits"] - 1, before["violations"] - 1)
    row = workspace.get("visits", sold["id"])
    assert row["review_state"] == "voided" and row["outcome"] == "violation"
    entry = json.loads(workspace.db.execute(
        "select data from audit_log where row_id = ? and action = 'void'", [sold["id"]]).fetchone()[0])
    assert entry["reason"] == "typed twice: duplicate of another visit"


def test_a_voided_visit_cannot_be_reviewed_amended_or_voided_again(workspace, tobacco_case, run):
    visit = tobacco_case["visits"][0]
    visits.void_visit(workspace, visit, reason="test entry")
    voided = workspace.get("visits", visit["id"])
    for args in (("review", visit["id"], "approve"),
                 ("visit", "amend", visit["id"], "--reason", "x", "--answer", "sale=no"),
                 ("visit", "void", visit["id"], "--reason", "again")):
        result = run(*args)
        assert result.exit_code != 0 and "was voided" in result.stderr, (args, result.output)
    assert workspace.get("visits", visit["id"]) == voided


def test_voiding_needs_a_reason(workspace, tobacco_case, run):
    result = run("visit", "void", tobacco_case["visits"][0]["id"], "--reason", " ")
    assert result.exit_code != 0 and "needs a reason" in result.stderr
