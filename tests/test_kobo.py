"""Kobo/ODK form exports become visits under the case's protocol, with the same rules."""

from __future__ import annotations

import json

from conftest import DATA, snapshot

from investigate.formats.kobo import import_kobo

KOBO = DATA / "kobo" / "tobacco-form.csv"
ODK = DATA / "kobo" / "odk-central-tobacco.csv"


def visits_by_store(ws):
    return {r["licence_number"]: r for r in ws.db.query(
        "select v.*, s.licence_number from visits v join stores s on s.id = v.store_id where v.source = 'kobo'")}


def test_kobo_export_becomes_visits_judged_by_the_protocol_rules(workspace, tobacco_case, run):
    result = run("import", "kobo", KOBO, "--case", "tobacco-nk", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["visits_added"] == 3
    assert summary["outcomes"] == {"violation": 2, "compliant": 1}
    visits = visits_by_store(workspace)
    first = visits["L-1"]
    # start → visited_at, in the workspace's time zone; _uuid → external_ref
    assert first["visited_at"] == "2026-10-05T15:02:11+02:00"
    assert first["external_ref"] == "kobo:5b1f3c2e-9a41-4d0b-8f0e-1c2d3e4f5a60"
    assert first["kind"] == "undercover" and first["observer"] == "Observer Olsen"
    assert json.loads(first["answers"]) == {"product": "cigarettes", "sale": True, "id_check": "none",
                                            "id_carried": True, "age_sign_posted": False}
    codes = {r["code"] for r in workspace.db.query(
        "select code from findings where visit_id = ?", [first["id"]])}
    assert codes == {"SALE_TO_MINOR", "NO_AGE_CHECK", "NO_AGE_SIGN"}
    # select_one given as its form name and as its label both find the protocol's choice
    assert json.loads(visits["L-2"]["answers"])["product"] == "e-cigarette"
    assert json.loads(visits["L-3"]["answers"])["product"] == "e-cigarette"
    assert visits["L-2"]["outcome"] == "compliant"
    assert visits["L-3"]["tester_age"] == 16


def test_importing_the_same_kobo_export_twice_adds_nothing(workspace, tobacco_case, run):
    assert run("import", "kobo", KOBO, "--case", "tobacco-nk").exit_code == 0
    before = snapshot(workspace)
    result = run("import", "kobo", KOBO, "--case", "tobacco-nk", "--json")
    assert json.loads(result.output)["visits_already_imported"] == 3
    assert json.loads(result.output)["visits_added"] == 0
    # only the import's own audit event is new
    after = snapshot(workspace)
    assert [x for x in after if x not in before and "INSERT INTO \"visits\"" in x] == []


def test_odk_central_export_with_dash_groups_and_mapped_field(workspace, tobacco_case, run):
    result = run("import", "kobo", ODK, "--case", "tobacco-nk", "--map", "shop=store", "--json")
    assert result.exit_code == 0, result.output
    visit = visits_by_store(workspace)["L-4"]
    assert visit["external_ref"] == "kobo:8e4c6f51-2d74-4a3e-9c31-4f5a6b7c8d93"
    assert visit["visited_at"] == "2026-10-07T11:55:00+02:00"
    assert json.loads(visit["answers"])["product"] == "snus"
    assert visit["outcome"] == "compliant"


def test_unknown_kobo_field_is_named_and_nothing_is_imported(workspace, tobacco_case, run):
    before = snapshot(workspace)
    result = run("import", "kobo", DATA / "kobo" / "tobacco-form-unknown-field.csv", "--case", "tobacco-nk")
    assert result.exit_code != 0
    assert "unknown field 'group_visit/weather'" in result.stderr
    assert "tobacco-form-unknown-field.csv:1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(workspace) == before


def test_ignoring_an_unknown_field_with_an_empty_map_imports_the_rest(workspace, tobacco_case, run):
    result = run("import", "kobo", DATA / "kobo" / "tobacco-form-unknown-field.csv",
                 "--case", "tobacco-nk", "--map", "weather=", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["visits_added"] == 3


def test_bad_kobo_answer_names_line_and_column_and_writes_nothing(workspace, tobacco_case, tmp_path, run):
    bad = tmp_path / "bad.csv"
    text = KOBO.read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace(";e_cigarette;", ";pipe;")
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    before = snapshot(workspace)
    result = run("import", "kobo", bad, "--case", "tobacco-nk")
    assert result.exit_code != 0
    assert "bad.csv:3: column 'group_visit/product'" in result.stderr
    assert "'pipe' is not one of" in result.stderr
    assert snapshot(workspace) == before


def test_kobo_unknown_store_and_too_old_tester_are_refused(workspace, tobacco_case, tmp_path):
    from investigate.errors import InputFileError
    import pytest

    bad = tmp_path / "bad.csv"
    text = KOBO.read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([text[0], text[1].replace(";L-1;", ";L-99;")]) + "\n", encoding="utf-8")
    before = snapshot(workspace)
    with pytest.raises(InputFileError, match=r"bad.csv:2: column 'group_visit/store': unknown store 'L-99'"):
        import_kobo(workspace, bad, case_ref="tobacco-nk")
    late = tmp_path / "late.csv"  # T-07 was born 2010-03: 8 years old in 2018, below the protocol's 15
    late.write_text("\n".join([text[0], text[1].replace("2026-10-05T15:02", "2018-10-05T15:02")]) + "\n",
                    encoding="utf-8")
    with pytest.raises(InputFileError, match=r"late.csv:2"):
        import_kobo(workspace, late, case_ref="tobacco-nk")
    assert snapshot(workspace) == before


def test_kobo_export_without_a_store_field_or_with_a_bad_map_is_refused(workspace, tobacco_case, tmp_path, run):
    text = KOBO.read_text(encoding="utf-8")
    nostore = tmp_path / "nostore.csv"
    nostore.write_text(text.replace("group_visit/store;", "group_visit/shop_name;"), encoding="utf-8")
    before = snapshot(workspace)
    result = run("import", "kobo", nostore, "--case", "tobacco-nk", "--map", "shop_name=")
    assert result.exit_code != 0
    assert "nostore.csv:1: no 'store' field" in result.stderr
    result = run("import", "kobo", KOBO, "--case", "tobacco-nk", "--map", "sale=sold")
    assert result.exit_code != 0
    assert "--map group_visit/sale=sold: protocol tobacco-minors has no question 'sold'" in result.stderr
    result = run("import", "kobo", KOBO, "--case", "tobacco-nk", "--map", "weather=")
    assert "--map weather=…: no such field" in result.stderr
    assert snapshot(workspace) == before


def test_kobo_import_is_audited_and_verifies(workspace, tobacco_case, run):
    from investigate.proof.verify import verify

    assert run("import", "kobo", KOBO, "--case", "tobacco-nk").exit_code == 0
    assert verify(workspace).ok
    event = next(workspace.db.query("select data from audit_log where action = 'import' and table_name is null"))
    data = json.loads(event["data"])
    assert data["format"] == "kobo" and len(data["sha256"]) == 64


def test_kobo_visit_at_a_store_outside_the_frame_is_imported_with_a_warning(workspace, tobacco_case, run):
    from investigate.cases import stores

    stores.add_store(workspace, name="Neuer Späti", address="Weserstr. 1", licence_number="L-9")
    text = KOBO.read_text(encoding="utf-8").splitlines()
    path = workspace.root / "one.csv"
    path.write_text("\n".join([text[0], text[1].replace(";L-1;", ";L-9;")]) + "\n", encoding="utf-8")
    result = run("import", "kobo", path, "--case", "tobacco-nk")
    assert result.exit_code == 0, result.output
    assert "Warning: 1 store not in the frame of case tobacco-nk (imported all the same)" in result.output
    assert workspace.db.execute("select count(*) from visits where source = 'kobo'").fetchone()[0] == 1


def test_unknown_odk_field_with_a_dash_is_named_as_in_the_form(workspace, tobacco_case, tmp_path, run):
    odk = tmp_path / "odk.csv"
    text = ODK.read_text(encoding="utf-8").splitlines()
    odk.write_text("\n".join([text[0].replace(",tester,", ",tester,visit-weather,"),
                              text[1].replace(",T-07,", ",T-07,sunny,")]) + "\n", encoding="utf-8")
    result = run("import", "kobo", odk, "--case", "tobacco-nk", "--map", "shop=store")
    assert "unknown field 'visit-weather'" in result.stderr and "--map visit-weather=QUESTION" in result.stderr
    result = run("import", "kobo", odk, "--case", "tobacco-nk", "--map", "shop=store", "--map", "visit-weather=")
    assert result.exit_code == 0, result.output
