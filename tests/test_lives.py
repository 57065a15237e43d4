"""LIVES feeds (real Lexington data) as stores, official visits and findings."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from conftest import DATA, LIVES_DIR, snapshot

from investigate.numbers import stats
from investigate.cases.cases import get_case
from investigate.errors import InputFileError
from investigate.formats import lives
from investigate.proof.verify import verify


def counts(ws):
    return {t: ws.db[t].count for t in ("stores", "visits", "findings")}


@pytest.fixture
def lexington(workspace, run):
    result = run("import", "lives", LIVES_DIR, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_lexington_feed_imports_exact_counts(workspace, lexington):
    # 1,401 businesses; 3,332 inspection rows on 3,060 distinct business-days (272 days have
    # two inspections, merged into one visit); 5,075 violations, each one finding.
    assert counts(workspace) == {"stores": 1401, "visits": 3060, "findings": 5075}
    assert lexington["same_day_duplicates"] == 272
    assert lexington["case"] == "lives-lexington-fayette-county"
    kinds = list(workspace.db.query("select kind, protocol, source, count(*) n from visits group by 1, 2, 3"))
    assert kinds == [{"kind": "official", "protocol": "lives-inspection", "source": "lives", "n": 3060}]
    report = verify(workspace)
    assert report.ok, report.problems[:3]
    assert report.rows_checked >= 1401 + 3060 + 5075


def test_same_day_inspections_are_one_visit_with_every_score_and_violations_once(workspace, lexington):
    # 30690 (2ND FLOOR CLUB KITCHEN) was inspected twice on 2015-10-07, scores 89 and 98, 4 violations.
    store = next(workspace.db.query("select * from stores where source = 'lives' and external_id = '30690'"))
    visits = list(workspace.db.query(
        "select * from visits where store_id = ? and visited_date = '2015-10-07'", [store["id"]]))
    assert len(visits) == 1
    answers = json.loads(visits[0]["answers"])
    assert answers["score"] == 89 and answers["scores"] == "89, 98" and answers["violations"] == 4
    assert visits[0]["outcome"] == "violation"
    assert visits[0]["external_ref"] == "lives:30690:20151007"
    # a date-only record sits at local midnight in the workspace's time zone
    assert visits[0]["visited_at"] == "2015-10-07T00:00:00+02:00"
    n = workspace.db.execute("select count(*) from findings where visit_id = ?", [visits[0]["id"]]).fetchone()[0]
    assert n == 4


def test_inspection_without_violations_is_compliant_and_violations_become_findings(workspace, lexington):
    store = next(workspace.db.query("select * from stores where external_id = '67372'"))
    assert store["name"] == "#1 CHINA BUFFET" and store["address"] == "125 E. REYNOLDS ROAD, STE. 120"
    by_date = {v["visited_date"]: v for v in workspace.db.query(
        "select * from visits where store_id = ?", [store["id"]])}
    assert json.loads(by_date["2015-06-08"]["answers"])["score"] == 87
    assert by_date["2015-06-08"]["outcome"] == "violation"
    finding = next(workspace.db.query(
        "select * from findings where visit_id = ? and code = '8'", [by_date["2015-06-08"]["id"]]))
    assert finding["title"].startswith("Standard not met. Food Protection")
    assert finding["source"] == "lives"
    no_violations = workspace.db.execute(
        "select count(*) from visits where outcome = 'compliant'").fetchone()[0]
    assert no_violations == 3060 - 1885  # business-days with no violation rows


def test_reimporting_the_same_feed_adds_nothing(workspace, lexington, run):
    before = counts(workspace)
    result = run("import", "lives", LIVES_DIR, "--json")
    summary = json.loads(result.output)
    assert summary["visits_added"] == 0 and summary["stores_added"] == 0 and summary["stores_updated"] == 0
    assert counts(workspace) == before


def test_changed_business_is_updated_with_a_reason_not_duplicated(workspace, tmp_path, run):
    feed = tmp_path / "feed"
    shutil.copytree(LIVES_DIR, feed)
    for p in feed.iterdir():
        p.chmod(0o644)
    assert run("import", "lives", feed).exit_code == 0
    text = (feed / "businesses.csv").read_text(encoding="utf-8")
    (feed / "businesses.csv").write_text(text.replace("1780'S CAFE,300 N BROADWAY", "1780'S CAFE,302 N BROADWAY"),
                                         encoding="utf-8")
    summary = json.loads(run("import", "lives", feed, "--json").output)
    assert summary["stores_updated"] == 1 and summary["stores_added"] == 0
    store = next(workspace.db.query("select * from stores where external_id = '61072'"))
    assert store["address"] == "302 N BROADWAY"
    entry = next(workspace.db.query(
        "select data from audit_log where table_name = 'stores' and row_id = ? and action = 'update'", [store["id"]]))
    assert "LIVES import" in entry["data"]


def test_official_import_does_not_change_the_undercover_rate(workspace, tobacco_case, run):
    case = tobacco_case["case"]
    before = stats.case_rates(workspace, case)
    assert run("import", "lives", LIVES_DIR, "--case", "tobacco-nk").exit_code == 0
    assert workspace.db.execute("select count(*) from visits where case_id = ? and kind = 'official'",
                                [case["id"]]).fetchone()[0] == 3060
    assert stats.case_rates(workspace, case) == before
    assert before[0]["eligible"] == 4 and before[0]["violations"] == 2
    # asked for together, the official visits do count
    together = stats.case_rates(workspace, case, kind=None)
    assert together[0]["visits"] == 4 + 3060


def test_case_option_puts_visits_into_that_case_and_leaves_its_frame_alone(workspace, tobacco_case, run):
    assert run("import", "lives", LIVES_DIR, "--case", "tobacco-nk").exit_code == 0
    case = get_case(workspace, "tobacco-nk")
    assert workspace.db.execute("select count(*) from case_stores where case_id = ?", [case["id"]]).fetchone()[0] == 4
    assert workspace.db.execute("select count(*) from cases").fetchone()[0] == 1


def _broken_feed(tmp_path, name, old, new):
    feed = tmp_path / "feed"
    shutil.copytree(LIVES_DIR, feed)
    for p in feed.iterdir():
        p.chmod(0o644)
    path = feed / name
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return feed


@pytest.mark.parametrize("name, old, new, message", [
    ("inspections.csv", "67372,87,20150608", "67372,87,20150631",
     "inspections.csv:2: column 'date': '20150631' is not a valid date (expected YYYYMMDD"),
    ("violations.csv", "67372,20150608,8,", "99999999,20150608,8,",
     "violations.csv:2: column 'business_id': business_id '99999999' is not in businesses.csv"),
    ("inspections.csv", "67372,87,20150608", "67372,eighty,20150608",
     "inspections.csv:2: column 'score': score 'eighty' is not a number"),
    ("businesses.csv", "business_id,name,", "id,name,", "businesses.csv:1: missing column 'business_id'"),
    ("inspections.csv", "67372,87,20150608", "67372,87,20991231", "inspections.csv:2: column 'date'"),
    ("violations.csv", '67372,20150608,11,"Standard', '67372,20150608,11,Sta"ndard', "violations.csv:3"),
])
def test_bad_feed_is_refused_with_file_and_line_and_nothing_written(workspace, tmp_path, run, name, old, new, message):
    feed = _broken_feed(tmp_path, name, old, new)
    before = snapshot(workspace)
    result = run("import", "lives", feed)
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(workspace) == before


def test_missing_file_is_a_clear_error(workspace, tmp_path):
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "businesses.csv").write_text("business_id,name\n1,A\n")
    with pytest.raises(InputFileError, match="not a LIVES folder: inspections.csv, violations.csv missing"):
        lives.read_feed(tmp_path / "feed")


def test_protocol_list_shows_the_official_protocols(run):
    result = run("protocol", "list", "--json")
    keys = {p["key"] for p in json.loads(result.output)}
    assert {"lives-inspection", "fda-compliance-check", "tobacco-minors"} <= keys


def test_feed_without_feed_info_takes_its_case_from_the_commonest_city(workspace, tmp_path):
    feed = tmp_path / "mini"
    feed.mkdir()
    (feed / "businesses.csv").write_text(
        "business_id,name,address,city,state,postal_code,latitude,longitude\n"
        "b1,Café \"Zur Post\",Main St 1,Springfield,IL,62701,39.80,-89.64\n"
        "b2,<b>Grill</b>,Main St 2,Springfield,IL,62701,,\n", encoding="utf-8")
    (feed / "inspections.csv").write_text(
        "business_id,score,date,type\nb1,,20240105,routine\nb2,92.5,20240105,initial\n", encoding="utf-8")
    (feed / "violations.csv").write_text("business_id,date,code,description\nb2,20240105,7,\n", encoding="utf-8")
    summary = lives.import_lives(workspace, lives.read_feed(feed))
    assert summary["case"] == "lives-springfield"
    rows = {r["external_id"]: r for r in workspace.db.query("select * from stores")}
    assert rows["b1"]["name"] == 'Café "Zur Post"' and rows["b1"]["lat"] == 39.8
    assert rows["b1"]["coord_source"] == "import" and rows["b2"]["name"] == "<b>Grill</b>"
    visits = {r["store_id"]: r for r in workspace.db.query("select * from visits")}
    assert json.loads(visits[rows["b1"]["id"]]["answers"]) == {"violations": 0, "inspection_type": "routine"}
    assert visits[rows["b1"]["id"]]["outcome"] == "compliant"
    assert json.loads(visits[rows["b2"]["id"]]["answers"])["score"] == 92.5
    finding = next(workspace.db.query("select * from findings"))
    assert finding["code"] == "7" and finding["title"] == "Violation 7" and finding["description"] is None


def test_official_history_gives_a_lives_store_its_inspections(workspace, lexington):
    from investigate.cases.history import official_history

    store = next(workspace.db.query("select * from stores where external_id = '30690'"))
    history = official_history(workspace, store)
    day = next(h for h in history if h["date"] == "2015-10-07")
    assert day["agency"] == "health department" and day["result"] == "score 89, 4 violations"
    assert len(day["findings"]) == 4 and day["summary"] == "health department: score 89, 4 violations (2015-10-07)"
    assert [h["date"] for h in history] == sorted(h["date"] for h in history)


def test_reimport_keeps_coordinates_geocoded_since_and_blank_cells_erase_nothing(workspace, run):
    assert run("import", "lives", LIVES_DIR).exit_code == 0
    store = next(workspace.db.query("select * from stores where external_id = '67372'"))
    workspace.update("stores", store["id"], {"lat": 38.0, "lon": -84.5, "coord_source": "geocoded",
                                             "coord_precision": "street", "contact": "+1 859 555 0100"},
                     reason="geocoded")
    summary = json.loads(run("import", "lives", LIVES_DIR, "--json").output)
    assert summary["stores_updated"] == 0
    again = workspace.get("stores", store["id"])
    assert (again["lat"], again["lon"], again["contact"]) == (38.0, -84.5, "+1 859 555 0100")


# -- San Francisco's layout: "Score", ViolationTypeID, risk_category, orphan violations ----------

SF = DATA / "layouts" / "lives-sf"


def sf(run, *args):
    result = run("import", "lives", SF, "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_orphan_violations_are_counted_and_kept_as_visits_without_a_score(workspace, run):
    summary = sf(run)
    assert (summary["orphan_days"], summary["orphan_violations"]) == (2, 3)
    assert summary["visits_added"] == 6 and summary["findings_added"] == 7
    assert any("3 violations on 2 business-days with no inspection" in w for w in summary["warnings"])
    orphan = json.loads(workspace.db.execute(
        "select answers from visits where external_ref = 'lives:24:20140612'").fetchone()[0])
    assert orphan == {"inspection_rows": 0, "violations": 2}


def test_orphans_skip_leaves_them_out_and_says_so(workspace, run):
    summary = sf(run, "--orphans", "skip")
    assert summary["visits_added"] == 4 and summary["findings_added"] == 4
    assert summary["orphan_days_skipped"] == 2
    assert workspace.db.execute("select count(*) from visits where external_ref = 'lives:24:20140612'").fetchone()[0] == 0


def test_a_capitalised_score_header_keeps_every_score(workspace, run):
    sf(run)
    score = {r[0]: json.loads(r[1]).get("score") for r in workspace.db.execute("select external_ref, answers from visits")}
    assert score["lives:10:20140114"] == 94 and score["lives:24:20141124"] == 96


def test_violation_codes_and_risk_categories_are_kept(workspace, run):
    sf(run)
    found = {r[0]: r[1] for r in workspace.db.execute("select code, severity from findings")}
    assert found["103119"] == "high" and found["103129"] == "medium" and found["103144"] == "low"


def test_columns_beyond_lives_are_listed_and_can_be_ignored(workspace, run):
    summary = sf(run)
    assert "businesses.csv:owner_name" in summary["unknown_columns"]
    summary = sf(run, "--ignore-unknown")
    assert summary["unknown_columns"] == [] and "businesses.csv:TaxCode" in summary["ignored_columns"]


def test_sf_export_gives_back_the_same_inspection_rows_blank_scores_included(workspace, run, tmp_path):
    sf(run)
    out = tmp_path / "out"
    assert run("export", "lives-san-francisco", "--format", "lives", "--out", out).exit_code == 0

    def rows(folder, name, *cols):
        with open(folder / name, encoding="utf-8") as fp:
            return sorted(tuple(r[c] for c in cols) for r in csv.DictReader(fp))

    assert rows(out, "inspections.csv", "business_id", "score", "date", "type") == \
        rows(SF, "inspections.csv", "business_id", "Score", "date", "type")
    assert rows(out, "violations.csv", "business_id", "date", "code", "risk_category") == \
        rows(SF, "violations.csv", "business_id", "date", "ViolationTypeID", "risk_category")
    from investigate.store.workspace import init_workspace

    ws2 = init_workspace(tmp_path / "ws2", timezone_name="Europe/Berlin")
    try:
        again = lives.import_lives(ws2, lives.read_feed(out))
        assert (again["visits_added"], again["findings_added"], again["orphan_days"]) == (6, 7, 2)
        answers = sorted(r[0] for r in ws2.db.execute("select answers from visits"))
        assert answers == sorted(r[0] for r in workspace.db.execute("select answers from visits"))
    finally:
        ws2.close()


def test_stats_says_when_orphan_days_are_counted_in_the_official_rate(workspace, run):
    summary = sf(run)
    printed = run("stats", summary["case"], "--official")
    assert printed.exit_code == 0, printed.output
    assert "Orphan days: 2 of these visits are violations on a day with no inspection" in printed.output
    assert json.loads(run("stats", summary["case"], "--official", "--json").output)["orphan_days"] == 2


def test_stats_says_nothing_of_orphans_when_they_were_skipped(workspace, run):
    summary = sf(run, "--orphans", "skip")
    printed = run("stats", summary["case"], "--official")
    assert printed.exit_code == 0 and "Orphan days" not in printed.output
    assert json.loads(run("stats", summary["case"], "--official", "--json").output)["orphan_days"] == 0


def test_a_control_character_in_a_column_beyond_lives_does_not_block_the_feed(workspace, run, tmp_path):
    import shutil

    feed = tmp_path / "sf"
    shutil.copytree(SF, feed)
    businesses = feed / "businesses.csv"
    text = businesses.read_text(encoding="utf-8")
    assert '"OWNER A LLC"' in text
    # The DOS end-of-file byte, in a column LIVES does not have (San Francisco's owner_name).
    businesses.write_text(text.replace('"OWNER A LLC"', '"OWNER A LLC\x1a"'), encoding="utf-8")
    summary = json.loads(run("import", "lives", feed, "--json").output)
    assert summary["stores_added"] == 3 and summary["text"]["control_characters_removed"] == 0
