"""Real files as they come (issue 24): placeholders where a value should be are data, and a
file is checked only where an import reads it.

Fixtures are in tests/data/layouts (see its ORIGIN.md for the real export each imitates)."""

from __future__ import annotations

import json

from investigate.cases import cases

from conftest import DATA, snapshot

LAYOUTS = DATA / "layouts"
FDA_PLACEHOLDERS = LAYOUTS / "fda-placeholders.csv"
EOF_BYTE = LAYOUTS / "inspections-eof-byte.csv"


def imported(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# -- placeholders -----------------------------------------------------------------------------

def test_fda_placeholder_inspection_dates_are_unknown_and_the_visit_is_dated_by_its_decision(workspace, run):
    summary = imported(run("import", "fda", FDA_PLACEHOLDERS, "--json"))
    assert summary["rows"] == 4 and summary["visits_added"] == 4
    assert summary["null_cells"] == {"Inspection Date": 3}
    assert summary["visits_dated_by_decision"] == 3
    visits = {r["visited_date"]: json.loads(r["answers"]) for r in workspace.db.query("select * from visits")}
    # The row with a real inspection date is dated by it, its decision kept as an answer.
    assert visits["2019-01-10"]["decision_date"] == "2019-02-14" and "dated_by_decision" not in visits["2019-01-10"]
    # "See Complaint" and "Not yet available": the decision date, marked.
    for day in ("2019-07-22", "2020-09-30", "2020-10-30"):
        assert visits[day]["dated_by_decision"] is True and "decision_date" not in visits[day]


def test_fda_placeholders_are_counted_in_the_printed_summary(workspace, run):
    result = run("import", "fda", FDA_PLACEHOLDERS)
    assert result.exit_code == 0, result.output
    assert "3 dated by their decision date" in result.output
    assert "read as unknown (placeholders): Inspection Date 3" in result.output


def test_reimporting_the_placeholder_file_adds_nothing(workspace, run):
    imported(run("import", "fda", FDA_PLACEHOLDERS, "--json"))
    again = imported(run("import", "fda", FDA_PLACEHOLDERS, "--json"))
    assert again["visits_added"] == 0 and again["visits_already_imported"] == 4


def test_an_undeclared_placeholder_names_column_value_count_and_the_null_value_to_say(workspace, run, tmp_path):
    f = tmp_path / "fda.csv"
    f.write_text(FDA_PLACEHOLDERS.read_text().replace("See Complaint", "Pending")
                 .replace("Not yet available", "Pending"), encoding="utf-8")
    before = snapshot(workspace)
    result = run("import", "fda", f)
    assert result.exit_code != 0
    message = result.stderr.strip()
    assert message.count("\n") == 0 and "Traceback" not in result.output
    assert "column 'Inspection Date'" in message and "'Pending' is not a valid date" in message
    assert "3 rows carry it" in message
    assert '--null-value "Inspection Date=Pending"' in message
    assert snapshot(workspace) == before
    accepted = imported(run("import", "fda", f, "--null-value", "Inspection Date=Pending", "--json"))
    assert accepted["null_cells"] == {"Inspection Date": 3} and accepted["visits_dated_by_decision"] == 3


def test_a_typo_in_a_date_gets_no_null_value_advice(workspace, run, tmp_path):
    f = tmp_path / "fda.csv"
    f.write_text(FDA_PLACEHOLDERS.read_text().replace("01/10/2019", "01/40/2019"), encoding="utf-8")
    result = run("import", "fda", f)
    assert result.exit_code != 0
    assert "'01/40/2019' is not a valid date" in result.stderr and "--null-value" not in result.stderr


def test_null_value_applies_to_any_importer_and_its_column_must_exist(workspace, run):
    chicago = LAYOUTS / "chicago-inspections.csv"
    cases.create_case(workspace, slug="chicago", title="Chicago food inspections", protocol="official-inspection")
    imported(run("store", "import", chicago, "--ignore-unknown", "--json"))
    summary = imported(run("visit", "import", chicago, "--case", "chicago", *CHICAGO,
                           "--null-value", "risk=RISK 3 (LOW)", "--json"))
    assert summary["null_cells"] == {"Risk": 1} and summary["visits"] == 4
    risks = [json.loads(r[0]).get("risk") for r in workspace.db.execute("select answers from visits")]
    assert risks.count(None) == 1 and "Risk 3 (Low)" not in risks
    result = run("visit", "import", chicago, "--case", "chicago", "--null-value", "Remarks=n/a")
    assert result.exit_code != 0
    assert "--null-value Remarks=n/a: no column 'Remarks'" in result.stderr


CHICAGO = ["--kind", "official", "--map", "store=License #", "--map", "visited_at=Inspection Date",
           "--date-format", "%m/%d/%Y", "--map", "result=Results", "--map", "attempt=Results",
           "--map", "risk=Risk", "--map-value", "Results:Pass w/ Conditions=pass_with_conditions",
           "--map-value", "Results:Out of Business=closed", "--ignore-unknown"]


# -- checks only where data is read -----------------------------------------------------------

CITY = ["--kind", "official", "--map", "store=License #", "--map", "visited_at=Inspection Date",
        "--date-format", "%m/%d/%Y", "--map", "result=Results", "--map-value", "Results:Fail=fail"]


def test_a_control_character_in_a_column_nobody_imports_does_not_block_the_file(workspace, run):
    imported(run("store", "import", EOF_BYTE, "--ignore-unknown", "--fix-text", "--json"))
    cases.create_case(workspace, slug="chicago", title="Chicago food inspections", protocol="official-inspection")
    summary = imported(run("visit", "import", EOF_BYTE, "--case", "chicago", *CITY, "--ignore", "Comments",
                           "--ignore-unknown", "--json"))
    assert summary["visits"] == 3
    assert "Comments" in summary["ignored_columns"]
    assert summary["text"]["control_characters_removed"] == 0


def test_a_control_character_in_a_column_read_is_refused_and_fix_text_removes_it_with_a_count(workspace, run):
    before = snapshot(workspace)
    refused = run("store", "import", EOF_BYTE, "--ignore-unknown")
    assert refused.exit_code != 0
    assert ":4: column 'DBA Name': U+001A" in refused.stderr and "--fix-text removes them" in refused.stderr
    assert snapshot(workspace) == before
    fixed = imported(run("store", "import", EOF_BYTE, "--ignore-unknown", "--fix-text", "--json"))
    # One in the name read; the two in Comments, a column left out, are neither read nor counted.
    assert fixed["text"]["control_characters_removed"] == 1
    assert {r["name"] for r in workspace.db.query("select name from stores")} == {
        "TAQUERIA EL SOL", "CORNER MART", "LUCKY CAFE"}
    assert any("1 control character removed" in w for w in fixed["warnings"])


# -- stores keyed by what the file has --------------------------------------------------------

REGISTRY = LAYOUTS / "registry-coordinates.csv"


def test_outlets_of_one_name_and_zip_more_than_50_m_apart_are_two_stores(workspace, run):
    summary = imported(run("store", "import", REGISTRY, "--json"))
    assert (summary["rows"], summary["inserted"], summary["merged"]) == (7, 4, 3)
    dollars = list(workspace.db.query("select * from stores where name = 'FAMILY DOLLAR' order by lat"))
    assert [(d["lat"], d["lon"]) for d in dollars] == [(38.0601, -84.463), (38.0712, -84.4421)]
    # The coordinates join the key where there is no address, to about 10 m.
    assert len({d["name_key"] for d in dollars}) == 2 and dollars[0]["name_key"].endswith("#38.0601,-84.4630")
    assert summary["merge_reasons"] == {"same name and postcode, within 50 m": 2, "same name and postcode": 1}
    assert [(m["line"], m["reason"]) for m in summary["merges"]] == [
        (4, "same name and postcode, 3 m apart"), (6, "same name and postcode, 39 m apart"),
        (8, "same name and postcode")]


def test_the_printed_store_summary_lists_merges_with_their_reason(workspace, run):
    result = run("store", "import", REGISTRY)
    assert result.exit_code == 0, result.output
    assert "merged, same name and postcode, within 50 m: 2" in result.output
    assert "line 4 → store " in result.output and ": same name and postcode, 3 m apart" in result.output


def test_a_rerun_of_the_same_registry_updates_nothing(workspace, run):
    imported(run("store", "import", REGISTRY, "--json"))
    log = workspace.db["audit_log"].count
    again = imported(run("store", "import", REGISTRY, "--json"))
    assert (again["inserted"], again["updated"], again["unchanged"], again["merged"]) == (0, 0, 4, 3)
    assert workspace.db["audit_log"].count == log + 1  # the import's own event, nothing else


def test_mapping_an_address_on_a_second_import_adds_it_instead_of_doubling_the_stores(workspace, run, tmp_path):
    f = tmp_path / "licences.csv"
    f.write_text("name,postcode,Street\nKiosk Nord,12045,Weserstr. 1\nKiosk Nord,12047,Pannierstr. 9\n"
                 "Späti Eck,12045,Weserstr. 40\n", encoding="utf-8")
    imported(run("store", "import", f, "--ignore", "Street", "--json"))
    again = imported(run("store", "import", f, "--map", "address=Street", "--json"))
    assert (again["inserted"], again["updated"]) == (0, 3)
    assert workspace.db["stores"].count == 3
    assert {r["address"] for r in workspace.db.query("select address from stores")} == {
        "Weserstr. 1", "Pannierstr. 9", "Weserstr. 40"}
    third = imported(run("store", "import", f, "--map", "address=Street", "--json"))
    assert (third["inserted"], third["updated"], third["unchanged"]) == (0, 0, 3)


def test_a_registry_that_moves_a_store_is_a_correction_refused_without_update(workspace, run, tmp_path):
    imported(run("store", "import", REGISTRY, "--json"))
    moved = tmp_path / "registry.csv"
    # CORNER MARKET's point 30 m further north: the same store, its coordinates corrected.
    moved.write_text(REGISTRY.read_text().replace('"(38.04500, -84.50000)"', '"(38.04527, -84.50000)"'),
                     encoding="utf-8")
    before = snapshot(workspace)
    refused = run("store", "import", moved)
    assert refused.exit_code != 0
    assert "1 row corrects stores already imported (same licence, or name and place)" in refused.stderr
    assert "1 changes the coordinates (first: line 5, store " in refused.stderr
    assert snapshot(workspace) == before
    updated = imported(run("store", "import", moved, "--update", "--json"))
    assert updated["updated"] == 1
    corner = next(workspace.db.query("select * from stores where name = 'CORNER MARKET'"))
    assert corner["lat"] == 38.04527
