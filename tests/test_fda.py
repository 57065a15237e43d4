"""The FDA's tobacco compliance-check export as stores and official visits."""

from __future__ import annotations

import json

import pytest
from conftest import DATA, snapshot

from investigate.numbers import stats
from investigate.cases import stores
from investigate.errors import InputFileError
from investigate.formats.fda import import_fda, read_fda
from investigate.cases.history import official_history

FDA = DATA / "fda" / "compliance-checks.csv"
HEADER = ("Retailer Name,Street Address,City,State,Zip,Decision Date,Decision Type,Minor Involved,"
          "Sale to Minor,Product Type\r\n")


def write(tmp_path, *rows, name="fda.csv", encoding="iso-8859-1", header=HEADER):
    path = tmp_path / name
    path.write_bytes((header + "".join(r + "\r\n" for r in rows)).encode(encoding))
    return path


def test_fixture_is_latin1_not_utf8():
    data = FDA.read_bytes()
    assert "Café".encode("iso-8859-1") in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_fda_export_imports_as_stores_and_official_visits(workspace, run):
    result = run("import", "fda", FDA, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    # 14 decisions about 8 shops: "Smart-Shop", "smartshop" and "SMART SHOP INC" are one store,
    # as are "Gas N Go LLC" / "Gas-N-Go" and the "Rd"/"Road" spellings of one address.
    assert summary == {**summary, "rows": 14, "stores_added": 8, "visits_added": 14, "findings_added": 16,
                       "case": "fda-compliance-checks"}
    names = {r["name"] for r in workspace.db.query("select name from stores")}
    assert {"Café Olé Market", "Peña's Tobacco & Vape", "Zoë's Corner Store", "Hookah Lounge Ñandú"} <= names
    assert workspace.db.execute("select count(*) from stores where name_key like 'smartshop|%'").fetchone()[0] == 1
    outcomes = dict(workspace.db.execute("select outcome, count(*) from visits group by outcome").fetchall())
    assert outcomes == {"compliant": 5, "violation": 9}
    assert {r[0] for r in workspace.db.execute("select distinct kind from visits")} == {"official"}
    sales = workspace.db.execute("select count(*) from findings where code = 'SALE_TO_MINOR'").fetchone()[0]
    assert sales == 7


def test_official_history_says_this_shop_had_a_warning_letter_in_2019(workspace):
    import_fda(workspace, FDA)
    shop = next(workspace.db.query("select * from stores where name_key like 'smartshop|%'"))
    history = official_history(workspace, shop)
    assert [h["date"] for h in history] == ["2018-01-15", "2019-03-14", "2019-09-02"]
    letter = history[1]
    assert letter["agency"] == "FDA" and letter["result"] == "warning letter" and letter["year"] == 2019
    assert letter["sale_to_minor"] is True
    assert {f["code"] for f in letter["findings"]} == {"FDA_WARNING_LETTER", "SALE_TO_MINOR"}
    assert letter["summary"] == "FDA: warning letter (2019-03-14)"
    assert history[2]["result"] == "civil money penalty"
    assert history[0]["outcome"] == "compliant" and history[0]["findings"] == []


def test_fda_rows_find_the_newsrooms_own_store_by_name_key(workspace, tobacco_case, run):
    own = stores.add_store(workspace, name="SMARTSHOP GmbH", address="1200 Main Str.", city="Lexington")
    before = stats.case_rates(workspace, tobacco_case["case"])
    result = run("import", "fda", FDA, "--case", "tobacco-nk", "--json")
    summary = json.loads(result.output)
    assert summary["stores_matched"] == 1 and summary["stores_added"] == 7
    assert workspace.db.execute("select count(*) from visits where store_id = ?", [own["id"]]).fetchone()[0] == 3
    # the official checks sit in the tobacco case, but its undercover rate is unchanged
    assert stats.case_rates(workspace, tobacco_case["case"]) == before


def test_reimporting_the_fda_file_adds_nothing(workspace, run):
    run("import", "fda", FDA)
    before = {t: workspace.db[t].count for t in ("stores", "visits", "findings")}
    summary = json.loads(run("import", "fda", FDA, "--json").output)
    assert summary["visits_added"] == 0 and summary["visits_already_imported"] == 14
    assert {t: workspace.db[t].count for t in ("stores", "visits", "findings")} == before


def test_utf8_export_is_read_as_utf8(workspace, tmp_path):
    path = write(tmp_path, "Café Ünal,1 Elm St,Lexington,KY,40508,03/14/2019,Warning Letter,Yes,No,Cigars",
                 encoding="utf-8")
    assert read_fda(path)[0]["store"]["name"] == "Café Ünal"


@pytest.mark.parametrize("rows, header, message", [
    (["Kwik,9 Broadway,Louisville,KY,40202,02/31/2019,Warning Letter,No,No,Cigarettes"], HEADER,
     "fda.csv:2: column 'Decision Date': '02/31/2019' is not a valid date (expected MM/DD/YYYY"),
    (["Kwik,9 Broadway,Louisville,KY,40202,2019-03-01,Warning Letter,No,No,Cigarettes"], HEADER,
     "column 'Decision Date': '2019-03-01' is not a valid date"),
    (["Kwik,9 Broadway,Louisville,KY,40202,03/01/2019,Stern Look,No,No,Cigarettes"], HEADER,
     "fda.csv:2: column 'Decision Type': unknown decision type 'Stern Look'"),
    (["Kwik,9 Broadway,Louisville,KY,40202,03/01/2019,Warning Letter,Maybe,No,Cigarettes"], HEADER,
     "fda.csv:2: column 'Minor Involved': 'Maybe' is not Yes or No"),
    (["Kwik,9 Broadway,Louisville,KY,40202,03/01/2019"], "Retailer Name,Street Address,City,State,Zip,Decision Date\r\n",
     "fda.csv:1: missing column 'Decision Type'"),
    (["Kwik,9 Broadway,Louisville,KY,40202,03/01/2019,Warning Letter,No,No,Cigarettes",
      "Kwik,9 Broadway,Louisville,KY,40202,03/01/2030,Warning Letter,No,No,Cigarettes"], HEADER,
     "fda.csv:3: column 'Decision Date': date 2030-03-01T00:00:00+01:00 is in the future"),
])
def test_bad_fda_file_is_refused_with_line_and_nothing_written(workspace, tmp_path, run, rows, header, message):
    path = write(tmp_path, *rows, header=header)
    before = snapshot(workspace)
    result = run("import", "fda", path)
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(workspace) == before


def test_wrong_encoding_forced_is_a_clear_error_and_nothing_written(workspace, run):
    before = snapshot(workspace)
    result = run("import", "fda", FDA, "--encoding", "utf-8")
    assert result.exit_code != 0
    assert "compliance-checks.csv:5: not valid utf-8 (byte 0xe9)" in result.stderr
    assert snapshot(workspace) == before


def test_read_fda_names_an_empty_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match="empty.csv:1: the file is empty"):
        read_fda(empty)


def test_older_fda_headings_are_understood(workspace, tmp_path):
    header = "Retailer Name,Address,City,State,Zip Code,Decision Date,Inspection Result,Sale to Minor?\r\n"
    path = write(tmp_path, "Kwik Mart,9 Broadway,Louisville,KY,40202,03/03/2021,No-Tobacco-Sale Order,Yes",
                 header=header)
    summary = import_fda(workspace, path)
    assert summary["visits_added"] == 1
    visit = next(workspace.db.query("select * from visits"))
    assert json.loads(visit["answers"]) == {"decision_type": "no_tobacco_sale_order", "sale_to_minor": True}
    codes = {r[0] for r in workspace.db.execute("select code from findings")}
    assert codes == {"FDA_NO_TOBACCO_SALE_ORDER", "SALE_TO_MINOR"}
    store = next(workspace.db.query("select * from stores"))
    assert store["postcode"] == "40202" and store["source"] == "fda" and store["country"] == "US"


# -- the FDA's search export as it comes ----------------------------------------------------------

SEARCH = DATA / "layouts" / "fda-search-export.csv"


def test_search_export_imports_as_it_comes_preamble_and_all(workspace, run):
    result = run("import", "fda", SEARCH, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["header_line"] == 5 and summary["rows"] == 6 and summary["encoding"] == "cp1252"
    # Joe's two checks on different days are two visits; Quick Stop's two products one visit
    assert summary["visits_added"] == 5 and summary["rows_merged"] == 1
    again = json.loads(run("import", "fda", SEARCH, "--json").output)
    assert again["visits_added"] == 0 and again["visits_already_imported"] == 5


def test_search_export_wordings_map_to_the_decisions_and_are_kept(workspace):
    import_fda(workspace, SEARCH)
    answers = [json.loads(r[0]) for r in workspace.db.execute("select answers from visits order by visited_date")]
    by_text = {a.get("decision_text"): a["decision_type"] for a in answers}
    assert by_text["Warning Letter Issued"] == "warning_letter"
    assert by_text["Civil Money Penalty not available"] == "civil_money_penalty"
    assert by_text["Civil Money Penalty Archived"] == "civil_money_penalty"
    assert {a["decision_type"] for a in answers} >= {"no_violations_observed", "no_tobacco_sale_order"}


def test_inspection_date_is_the_visit_and_decision_date_is_kept(workspace):
    import_fda(workspace, SEARCH)
    rows = {r[0]: json.loads(r[1]) for r in workspace.db.execute("select visited_date, answers from visits")}
    assert rows["2019-01-10"]["decision_date"] == "2019-02-14"
    assert rows["2019-06-03"]["decision_date"] == "2019-02-14"  # same decision date, another inspection
    quick = rows["2019-11-11"]
    assert quick["product_type"] == "Cigarettes; ENDS" and quick["decision_type"] == "no_tobacco_sale_order"


def test_cp1252_is_chosen_over_latin1_when_bytes_0x80_to_0x9f_occur(workspace):
    assert b"\x92" in SEARCH.read_bytes()
    import_fda(workspace, SEARCH)
    names = {r[0] for r in workspace.db.execute("select name from stores")}
    assert "Joe\u2019s Smoke Shop" in names
    assert not any("\x92" in n for n in names)


def test_unknown_fda_columns_are_listed(workspace, tmp_path):
    path = write(tmp_path, "Kwik,9 Broadway,Louisville,KY,40202,03/01/2019,Warning Letter,No,No,Cigarettes,x",
                 header=HEADER.strip() + ",Retailer ID\r\n")
    summary = import_fda(workspace, path)
    assert summary["unknown_columns"] == ["Retailer ID"]
    assert import_fda(workspace, path, ignore=["retailer id"])["ignored_columns"] == ["Retailer ID"]
