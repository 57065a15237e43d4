"""Real agencies' layouts as they come: store registries, any agency's inspections, forms.

Fixtures are in tests/data/layouts (synthetic files in the real layouts; see its ORIGIN.md)."""

from __future__ import annotations

import json

from investigate.cases import cases, stores
from investigate.numbers.stats import case_rates

from conftest import DATA, snapshot

LAYOUTS = DATA / "layouts"


def imported(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_headers_match_whatever_their_case_and_spacing(workspace, run, tmp_path):
    f = tmp_path / "s.csv"
    f.write_text(" NAME ,Street_Address,ZIP CODE,Licence-Number\nKiosk,Main St 1,12045,L-9\n", encoding="utf-8")
    summary = imported(run("store", "import", f, "--json"))
    store = stores.get_store(workspace, "L-9")
    assert (store["name"], store["address"], store["postcode"]) == ("Kiosk", "Main St 1", "12045")
    assert summary["unknown_columns"] == []


def test_unknown_store_columns_are_listed_never_dropped_silently(workspace, run):
    result = run("store", "import", LAYOUTS / "nyc-no-address.csv")
    assert result.exit_code == 0, result.output
    assert "1 column not imported (unknown): CUISINE DESCRIPTION" in result.output
    summary = imported(run("store", "import", LAYOUTS / "nyc-no-address.csv", "--json"))
    assert summary["unknown_columns"] == ["CUISINE DESCRIPTION"]


def test_ignore_and_ignore_unknown_leave_columns_out_on_purpose(workspace, run):
    one = imported(run("store", "import", LAYOUTS / "nyc-no-address.csv", "--ignore", "cuisine description", "--json"))
    assert one["ignored_columns"] == ["CUISINE DESCRIPTION"] and one["unknown_columns"] == []
    assert not any("not imported" in w for w in one["warnings"])
    every = imported(run("store", "import", LAYOUTS / "chicago-inspections.csv", "--ignore-unknown", "--json"))
    assert "Inspection ID" in every["ignored_columns"] and every["unknown_columns"] == []


def test_an_ignore_naming_no_column_is_an_error(workspace, run):
    before = snapshot(workspace)
    result = run("store", "import", LAYOUTS / "nyc-no-address.csv", "--ignore", "Cuisine")
    assert result.exit_code != 0 and "--ignore Cuisine: no such column" in result.output
    assert snapshot(workspace) == before


def test_a_chains_outlets_without_address_stay_apart_by_postcode_and_district(workspace, run):
    summary = imported(run("store", "import", LAYOUTS / "nyc-no-address.csv", "--json"))
    dunkin = [s for s in stores.list_stores(workspace) if s["name"] == "DUNKIN"]
    assert sorted((s["district"], s["postcode"]) for s in dunkin) == [
        ("Brooklyn", "11201"), ("Manhattan", "10001"), ("Manhattan", "10002")]
    assert summary["rows"] == 6 and summary["merged"] == 1  # the same Brooklyn outlet twice


def test_mojibake_is_counted_with_its_first_lines_and_repaired_on_request(workspace, run):
    result = run("store", "import", LAYOUTS / "nyc-no-address.csv")
    assert "1 cell holds mojibake" in result.output and "line 6 (DBA: 'CafÃ© Luna')" in result.output
    assert "--fix-text" in result.output
    assert "1 cell holds U+FFFD" in result.output and "line 7" in result.output
    assert {s["name"] for s in stores.list_stores(workspace)} >= {"CafÃ© Luna"}


def test_fix_text_repairs_mojibake(workspace, run):
    summary = imported(run("store", "import", LAYOUTS / "nyc-no-address.csv", "--fix-text", "--json"))
    assert summary["text"]["garbled_cells"] == 1 and summary["text"]["fixed_cells"] == 1
    assert summary["text"]["first_damaged"][0] == {"line": 6, "column": "DBA", "text": "CafÃ© Luna"}
    assert "Café Luna" in {s["name"] for s in stores.list_stores(workspace)}


def test_location_cells_with_lat_lon_on_another_line_give_coordinates(workspace, run):
    summary = imported(run("store", "import", LAYOUTS / "registry-location.csv", "--json"))
    assert summary["with_coordinates"] == 2 and summary["inserted"] == 3
    deli = stores.get_store(workspace, "TR-0001")
    assert (deli["lat"], deli["lon"]) == (42.6511, -73.7545)
    assert stores.get_store(workspace, "TR-0003")["lat"] is None


def test_map_location_names_the_column_holding_lat_lon(workspace, run, tmp_path):
    f = tmp_path / "r.csv"
    f.write_text('name,Geo Point\nA,"1 Main St\n(40.7128, -74.006)"\n', encoding="utf-8")
    imported(run("store", "import", f, "--map", "location=geo point", "--json"))
    store = stores.list_stores(workspace)[0]
    assert (store["lat"], store["lon"]) == (40.7128, -74.006)


def test_semicolon_files_with_decimal_commas_import(workspace, run):
    summary = imported(run("store", "import", LAYOUTS / "stores-semicolon.csv", "--json"))
    assert summary["delimiter"] == ";" and summary["inserted"] == 2
    spaeti = next(s for s in stores.list_stores(workspace) if s["name"] == "Späti Eins")
    assert (spaeti["postcode"], spaeti["district"], spaeti["lat"]) == ("12045", "Neukölln", 52.4801)


def test_tab_separated_files_import(workspace, run, tmp_path):
    f = tmp_path / "s.tsv"
    f.write_text("name\taddress\nKiosk, the one\tMain St 1\n", encoding="utf-8")
    assert imported(run("store", "import", f, "--json"))["delimiter"] == "\t"
    assert stores.list_stores(workspace)[0]["name"] == "Kiosk, the one"


def test_a_missing_file_is_one_line_for_every_importer(workspace, run, tmp_path):
    cases.create_case(workspace, slug="c", title="C", protocol="tobacco-minors")
    missing = tmp_path / "nope.csv"
    for args in (["store", "import", missing], ["visit", "import", missing, "--case", "c"],
                 ["tip", "import", missing], ["import", "fda", missing], ["import", "kobo", missing, "--case", "c"],
                 ["import", "lives", tmp_path / "no-folder"], ["near", missing, "--radius", "100m"]):
        result = run(*args)
        assert result.exit_code != 0, args
        assert len(result.output.strip().splitlines()) == 1, (args, result.output)
        assert "nope.csv" in result.output or "no-folder" in result.output, result.output
        assert "Traceback" not in result.output


# -- any agency's inspections -----------------------------------------------------------------

CHICAGO = ["--kind", "official", "--map", "store=License #", "--map", "visited_at=Inspection Date",
           "--date-format", "%m/%d/%Y", "--map", "result=Results", "--map", "attempt=Results",
           "--map", "inspection_type=Inspection Type", "--map", "risk=Risk", "--map", "violations=Violations",
           "--map-value", "Results:Pass w/ Conditions=pass_with_conditions",
           "--map-value", "Results:Out of Business=closed", "--ignore-unknown"]


def chicago(workspace, run):
    imported(run("store", "import", LAYOUTS / "chicago-inspections.csv", "--ignore-unknown", "--json"))
    cases.create_case(workspace, slug="chicago", title="Chicago food inspections", protocol="official-inspection")
    return imported(run("visit", "import", LAYOUTS / "chicago-inspections.csv", "--case", "chicago", *CHICAGO,
                        "--json"))


def test_chicago_inspections_come_in_as_official_visits(workspace, run):
    summary = chicago(workspace, run)
    assert summary["visits"] == 4 and summary["kind"] == "official"
    rows = {r["visited_date"]: r for r in workspace.db.query("select * from visits")}
    assert rows["2025-03-14"]["outcome"] == "compliant"
    assert rows["2025-09-02"]["outcome"] == "violation"
    assert rows["2025-05-20"]["outcome"] == "violation"
    assert rows["2025-06-11"]["attempt"] == "closed" and rows["2025-06-11"]["outcome"] == "not_completed"
    assert {r["kind"] for r in rows.values()} == {"official"}
    assert json.loads(rows["2025-09-02"]["answers"])["inspection_type"] == "Complaint"


def test_a_second_run_of_the_same_inspections_adds_nothing(workspace, run):
    chicago(workspace, run)
    before = workspace.db["visits"].count
    again = imported(run("visit", "import", LAYOUTS / "chicago-inspections.csv", "--case", "chicago", *CHICAGO,
                         "--json"))
    assert again["visits"] == 0 and again["already_imported"] == 4
    assert workspace.db["visits"].count == before


def test_official_inspections_never_enter_the_undercover_rate(workspace, run):
    chicago(workspace, run)
    case = cases.get_case(workspace, "chicago")
    undercover = case_rates(workspace, case)
    assert sum(r["visits"] for r in undercover) == 0
    every_kind = case_rates(workspace, case, kind=None)
    assert sum(r["violations"] for r in every_kind) == 2


def test_a_date_that_does_not_match_the_date_format_is_located(workspace, run):
    imported(run("store", "import", LAYOUTS / "chicago-inspections.csv", "--ignore-unknown", "--json"))
    cases.create_case(workspace, slug="chicago", title="Chicago", protocol="official-inspection")
    args = [a if a != "%m/%d/%Y" else "%Y-%m-%d" for a in CHICAGO]
    before = snapshot(workspace)
    result = run("visit", "import", LAYOUTS / "chicago-inspections.csv", "--case", "chicago", *args)
    assert result.exit_code != 0
    assert "chicago-inspections.csv:2: column 'Inspection Date'" in result.output
    assert "does not match --date-format" in result.output
    assert snapshot(workspace) == before


def test_a_value_no_map_covers_is_located_and_nothing_is_written(workspace, run):
    imported(run("store", "import", LAYOUTS / "chicago-inspections.csv", "--ignore-unknown", "--json"))
    cases.create_case(workspace, slug="chicago", title="Chicago", protocol="official-inspection")
    args = [a for a in CHICAGO if a != "Results:Pass w/ Conditions=pass_with_conditions"]
    args.remove("--map-value")
    before = snapshot(workspace)
    result = run("visit", "import", LAYOUTS / "chicago-inspections.csv", "--case", "chicago", *args)
    assert result.exit_code != 0 and "chicago-inspections.csv:4: column 'Results'" in result.output
    assert snapshot(workspace) == before


def test_undercover_visit_import_run_twice_adds_nothing(workspace, run, tmp_path):
    case = cases.create_case(workspace, slug="tob", title="Tobacco", protocol="tobacco-minors")
    stores.add_store(workspace, name="Späti", licence_number="L-1")
    from investigate.cases import testers
    testers.add_tester(workspace, code="T-1", birth_month="2010-03", consent=True)
    f = tmp_path / "v.csv"
    f.write_text("store;tester;visited_at;product;sale;id_check;id_carried\n"
                 "L-1;T-1;2026-11-01 10:00;cigarettes;yes;none;yes\n", encoding="utf-8")
    assert imported(run("visit", "import", f, "--case", "tob", "--json"))["visits"] == 1
    again = imported(run("visit", "import", f, "--case", "tob", "--json"))
    assert (again["visits"], again["already_imported"]) == (0, 1)
    assert case_rates(workspace, case)[0]["visits"] == 1


# -- Kobo / ODK --------------------------------------------------------------------------------

def test_kobo_metadata_is_ignored_by_default_and_listed(workspace, tobacco_case, run):
    summary = imported(run("import", "kobo", DATA / "kobo" / "tobacco-form.csv", "--case", "tobacco-nk", "--json"))
    for meta in ("end", "_id", "_validation_status", "_index", "__version__"):
        assert meta in summary["ignored_columns"], meta
    assert summary["visits_added"] == 3


def test_kobo_extra_questions_left_out_with_ignore_unknown(workspace, tobacco_case, run):
    summary = imported(run("import", "kobo", LAYOUTS / "kobo-groups.csv", "--case", "tobacco-nk",
                           "--ignore-unknown", "--json"))
    assert summary["visits_added"] == 2
    assert {"grp_extra/weather", "grp_extra/queue_length", "grp_visit/product/cigarettes"} <= set(
        summary["ignored_columns"])


def test_kobo_ignore_names_a_field_by_its_form_name(workspace, tobacco_case, run):
    summary = imported(run("import", "kobo", DATA / "kobo" / "tobacco-form-unknown-field.csv",
                           "--case", "tobacco-nk", "--ignore", "weather", "--json"))
    assert "group_visit/weather" in summary["ignored_columns"] and summary["visits_added"] == 3


def test_bad_new_options_are_one_line_and_write_nothing(workspace, tobacco_case, run):
    cases.create_case(workspace, slug="chicago", title="Chicago", protocol="official-inspection")
    before = snapshot(workspace)
    for args, expected in [
        (["visit", "import", LAYOUTS / "chicago-inspections.csv", "--case", "chicago", *CHICAGO,
          "--map-value", "Outcome:Pass=pass"], "--map-value Outcome:…: no column 'Outcome'"),
        (["visit", "import", LAYOUTS / "chicago-inspections.csv", "--case", "chicago", "--map-value", "Results"],
         "is not COLUMN:VALUE=ANSWER"),
        (["import", "kobo", DATA / "kobo" / "tobacco-form.csv", "--case", "tobacco-nk", "--ignore", "wether"],
         "--ignore wether: no such field"),
        (["import", "lives", LAYOUTS / "lives-sf", "--ignore", "owner"], "--ignore owner: no such column"),
        (["import", "fda", LAYOUTS / "fda-search-export.csv", "--ignore", "Retailer"], "--ignore Retailer"),
    ]:
        result = run(*args)
        assert result.exit_code != 0, args
        assert expected in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1 or "Usage" in result.output, result.output
        assert "Traceback" not in result.output
    assert snapshot(workspace) == before


def test_stores_keyed_before_postcode_counted_are_still_found_on_reimport(workspace, run, monkeypatch):
    """A store stored with the old key (name + blank address) is matched, not duplicated."""
    with monkeypatch.context() as m:
        m.setattr(stores, "name_key", lambda name, address, *rest: f"{stores.normalise_name(name)}|")
        old = stores.add_store(workspace, name="DUNKIN", postcode="10001", district="Manhattan")
    assert old["name_key"] == "dunkin|"
    summary = imported(run("store", "import", LAYOUTS / "nyc-no-address.csv", "--ignore-unknown", "--json"))
    assert summary["inserted"] == 4 and summary["updated"] == 1  # its key brought up to date, audited
    assert sum(1 for s in stores.list_stores(workspace) if s["name"] == "DUNKIN") == 3
    assert stores.get_store(workspace, old["id"])["name_key"] == "dunkin|@10001/manhattan"
