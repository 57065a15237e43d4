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


# -- tester edit, store edit ------------------------------------------------------------------

def test_consent_that_arrives_later_is_recorded_instead_of_a_second_tester(workspace, run, tmp_path):
    assert run("tester", "add", "T-10", "--birth-month", "2010-05").exit_code == 0
    again = run("tester", "add", "T-10", "--birth-month", "2010-05", "--consent", "--consent-held-by", "desk safe")
    assert again.exit_code != 0 and "tester edit T-10 --consent" in again.stderr
    form = tmp_path / "consent.pdf"
    form.write_bytes(b"%PDF-1.4 signed by the guardian")
    result = run("tester", "edit", "T-10", "--consent", "--consent-file", form, "--consent-date", "2026-11-02")
    assert result.exit_code == 0, result.output
    row = next(workspace.db.query("select * from testers where code = 'T-10'"))
    assert row["consent"] == 1 and row["consent_date"] == "2026-11-02" and len(row["consent_sha256"]) == 64
    assert workspace.db["testers"].count == 1
    entry = json.loads(workspace.db.execute(
        "select data from audit_log where row_id = ? and action = 'tester_consent'", [row["id"]]).fetchone()[0])
    assert entry["old"]["consent"] == 0


def test_withdrawn_consent_is_recorded_with_its_time_and_checked_against_the_consent(workspace, run):
    run("tester", "add", "T-11", "--birth-month", "2010-05", "--consent", "--consent-held-by", "desk safe",
        "--consent-date", "2026-10-01")
    early = run("tester", "edit", "T-11", "--withdrawn", "2026-09-01")
    assert early.exit_code != 0 and "before the consent of 2026-10-01" in early.stderr
    future = run("tester", "edit", "T-11", "--withdrawn", "2099-01-01")
    assert future.exit_code != 0
    result = run("tester", "edit", "T-11", "--withdrawn", "2026-11-20 10:00")
    assert result.exit_code == 0, result.output
    row = next(workspace.db.query("select * from testers where code = 'T-11'"))
    assert row["consent_withdrawn_at"].startswith("2026-11-20T10:00")
    assert row["consent_date"] == "2026-10-01"  # the consent it ends stays on file


def test_tester_edit_needs_exactly_one_of_consent_or_withdrawn(workspace, run):
    run("tester", "add", "T-12", "--birth-month", "2010-05")
    for args in ((), ("--consent",), ("--consent-held-by", "safe", "--withdrawn", "2026-11-01")):
        result = run("tester", "edit", "T-12", *args)
        assert result.exit_code != 0 and "Traceback" not in result.output, args


def test_store_edit_changes_fields_audited_and_imports_find_the_store_by_its_new_address(
        workspace, run, tmp_path):
    first = tmp_path / "registry.csv"
    first.write_text("name,postcode\nFamily Shop,40502\n", encoding="utf-8")
    assert run("store", "import", first).exit_code == 0
    store = next(workspace.db.query("select * from stores"))
    result = run("store", "edit", store["id"][-12:], "--address", "12 Main St", "--chain", "Family Shops",
                 "--reason", "address from the licence register")
    assert result.exit_code == 0, result.output
    edited = workspace.get("stores", store["id"])
    assert (edited["address"], edited["chain"]) == ("12 Main St", "Family Shops")
    entry = json.loads(workspace.db.execute(
        "select data from audit_log where row_id = ? and action = 'store_edit'", [store["id"]]).fetchone()[0])
    assert entry["reason"] == "address from the licence register" and entry["old"]["address"] is None
    later = tmp_path / "later.csv"
    later.write_text("name,address,postcode\nFamily Shop,12 Main Street,40502\n", encoding="utf-8")
    counts = imported(run("store", "import", later, "--json"))
    assert counts["inserted"] == 0 and workspace.db["stores"].count == 1
    cleared = run("store", "edit", store["id"][-12:], "--chain", "")
    assert cleared.exit_code == 0 and workspace.get("stores", store["id"])["chain"] is None
    assert run("store", "edit", store["id"][-12:]).exit_code != 0
