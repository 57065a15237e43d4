"""investigate export: per-table CSV/JSON and the LIVES layout, which imports back unchanged."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import timedelta

from conftest import LIVES_DIR, statements

from investigate.cases import replies
from investigate.store.workspace import init_workspace


def store_key(ws):
    return {r["id"]: r["external_id"] for r in ws.db.query("select id, external_id from stores")}


def comparable(ws):
    """Stores, visits and findings with ids replaced by what survives a round trip."""
    ext = store_key(ws)
    stores = sorted(
        (r["external_id"], r["name"], r["address"], r["city"], r["state"], r["postcode"], r["lat"], r["lon"],
         r["source"], r["name_key"])
        for r in ws.db.query("select * from stores"))
    visits = sorted(
        (ext[r["store_id"]], r["visited_at"], r["visited_date"], r["kind"], r["protocol"], r["outcome"],
         r["answers"], r["source"], r["external_ref"])
        for r in ws.db.query("select * from visits"))
    findings = sorted(
        (r["external_ref"], r["code"], r["title"], r["description"], r["severity"], r["source"])
        for r in ws.db.query("select f.*, v.external_ref from findings f join visits v on v.id = f.visit_id"))
    return stores, visits, findings


def test_lives_export_then_import_gives_back_the_same_rows(workspace, run, tmp_path):
    assert run("import", "lives", LIVES_DIR).exit_code == 0
    out = tmp_path / "lives-out"
    result = run("export", "lives-lexington-fayette-county", "--format", "lives", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    files = json.loads(result.output)["files"]
    # the same number of rows as the original feed: same-day inspections come back as two rows
    assert files == {"businesses.csv": 1401, "inspections.csv": 3332, "violations.csv": 5075, "feed_info.csv": 1}
    original = sorted(tuple(r.values()) for r in csv.DictReader(open(LIVES_DIR / "inspections.csv")))
    exported = sorted((r["business_id"], r["score"], r["date"]) for r in csv.DictReader(open(out / "inspections.csv")))
    assert exported == original

    fresh = init_workspace(tmp_path / "fresh", timezone_name="Europe/Berlin")
    try:
        from investigate.formats import lives

        summary = lives.import_lives(fresh, lives.read_feed(out))
        assert summary["case"] == "lives-lexington-fayette-county"
        a, b = comparable(workspace), comparable(fresh)
        assert len(b[0]) == 1401 and len(b[1]) == 3060 and len(b[2]) == 5075
        assert a == b
    finally:
        fresh.close()


def test_csv_and_json_exports_hold_every_table_of_the_case(workspace, tobacco_case, run, tmp_path):
    out = tmp_path / "csv"
    assert run("export", "tobacco-nk", "--format", "csv", "--out", out).exit_code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{t}.csv" for t in ("cases", "companies", "stores", "visits", "findings", "evidence",
                                                "promises", "replies"))
    visits = list(csv.DictReader(open(out / "visits.csv", encoding="utf-8")))
    assert len(visits) == 4 and {v["observer"] for v in visits} == {"Observer Olsen"}
    assert list(csv.DictReader(open(out / "stores.csv", encoding="utf-8")))[0]["name"]

    out = tmp_path / "json"
    result = run("export", "tobacco-nk", "--format", "json", "--out", out, "--json")
    assert json.loads(result.output)["files"]["visits.json"] == 4
    rows = json.loads((out / "visits.json").read_text(encoding="utf-8"))
    assert {r["answers"]["product"] for r in rows} == {"cigarettes", "e-cigarette"}
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert {f["code"] for f in findings} >= {"SALE_TO_MINOR", "ID_CHECKED_STILL_SOLD"}
    assert json.loads((out / "cases.json").read_text(encoding="utf-8"))[0]["slug"] == "tobacco-nk"


def test_export_help_says_it_is_internal(run):
    result = run("export", "--help")
    assert "INTERNAL" in result.output and "Never publish" in result.output


def test_undercover_case_exports_to_lives_with_its_findings_as_violations(workspace, tobacco_case, run, tmp_path):
    out = tmp_path / "lives"
    assert run("export", "tobacco-nk", "--format", "lives", "--out", out).exit_code == 0
    inspections = list(csv.DictReader(open(out / "inspections.csv", encoding="utf-8")))
    assert len(inspections) == 4 and {r["type"] for r in inspections} == {"undercover"}
    violations = list(csv.DictReader(open(out / "violations.csv", encoding="utf-8")))
    assert "SALE_TO_MINOR" in {v["code"] for v in violations}
    businesses = {r["business_id"] for r in csv.DictReader(open(out / "businesses.csv", encoding="utf-8"))}
    assert {s["id"] for s in tobacco_case["stores"]} == businesses
    feed = list(csv.DictReader(open(out / "feed_info.csv", encoding="utf-8")))[0]
    assert feed["municipality_name"] == "Berlin, DE"


def test_a_lives_export_leaves_out_attempts_not_made_and_keeps_findings_in_visit_order(workspace, tobacco_case, run,
                                                                                        tmp_path):
    from investigate.cases import visits

    case, shops, tester = tobacco_case["case"], tobacco_case["stores"], tobacco_case["tester"]
    closed = visits.record_visit(workspace, case=case, store=shops[1], tester=tester, attempt="closed",
                                 answers={"product": "cigarettes", "sale": False, "id_check": "none", "id_carried": True},
                                 visited_at=workspace.now() - timedelta(days=20))
    assert closed["visit"]["outcome"] == "not_completed"
    out = tmp_path / "lives"
    summary = json.loads(run("export", "tobacco-nk", "--format", "lives", "--out", out, "--json").output)
    assert summary["visits_left_out"] == 1
    inspections = list(csv.DictReader(open(out / "inspections.csv", encoding="utf-8")))
    assert len(inspections) == 4
    violations = list(csv.DictReader(open(out / "violations.csv", encoding="utf-8")))
    # The two sales (the first and third visits, two hours apart each): in the order of the visits.
    visited = workspace.db.execute(
        "select v.store_id from findings f join visits v on v.id = f.visit_id where v.case_id = ? "
        "order by v.visited_at, f.rowid", [case["id"]]).fetchall()
    assert [v["business_id"] for v in violations] == [r[0] for r in visited]
    assert len(violations) >= 2 and violations[0]["date"] <= violations[-1]["date"]


def test_export_of_unknown_case_is_a_clear_error(workspace, run, tmp_path):
    result = run("export", "no-such-case", "--format", "csv", "--out", tmp_path / "x")
    assert result.exit_code != 0
    assert "no case matches 'no-such-case'" in result.stderr


def test_real_same_day_rows_with_a_blank_score_come_back_on_export(workspace, run, tmp_path):
    """Lexington's 2016 feed has a second row on the same day with no score (real rows)."""
    from conftest import DATA

    feed = DATA / "lives-lexington-2016"
    summary = json.loads(run("import", "lives", feed, "--json").output)
    assert (summary["inspection_rows"], summary["visits_added"], summary["same_day_duplicates"]) == (7, 4, 3)
    out = tmp_path / "out"
    assert run("export", summary["case"], "--format", "lives", "--out", out).exit_code == 0

    def rows(folder):
        with open(folder / "inspections.csv", encoding="utf-8") as fp:
            return sorted((r["business_id"], r["score"], r["date"]) for r in csv.DictReader(fp))

    assert rows(out) == rows(feed)
    assert ("43117", "", "20160404") in rows(out)


def test_a_csv_table_is_written_as_a_dict_writer_writes_it(tmp_path):
    """Issue 30: the CSV exporter takes each row's values in the header's order in one lookup
    (``csv.DictWriter``'s key by key was a third of a million-visit export). A row lacking a
    column, a row with a column the header lacks, a header of one column and every value type
    come out byte for byte as ``DictWriter`` writes them."""
    import io

    from investigate.formats.export import _write_csv

    rows = [{"id": "a", "n": 1, "x": 1.5, "t": 'say "hi"\nthere', "none": None},
            {"id": "b", "n": 0, "t": "", "extra": "left out"},  # no x, no none
            {"id": "c,d", "n": -3, "x": 1e-7, "t": "Späti Zwei", "none": None}]
    for header in (["id", "n", "x", "t", "none"], ["id"], ["t", "id"]):
        path = tmp_path / f"{len(header)}.csv"
        assert _write_csv(path, header, iter(rows)) == len(rows)
        expected = io.StringIO(newline="")
        writer = csv.DictWriter(expected, fieldnames=header, lineterminator="\r\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        assert path.read_bytes() == expected.getvalue().encode(), header


def test_a_table_s_tuples_are_written_as_its_dict_rows_are_and_share_one_stream(workspace, tobacco_case, tmp_path):
    """Issue 30: the CSV exporter writes the internal tables from their tuples (``Table.values``:
    a dict per row was a sixth of a million-visit export). Every table of a case comes out byte
    for byte as from its dict rows, with the same count; and the two are one stream, so a
    plugin that reads the dicts runs each query once."""
    from investigate.formats.export import _write_csv, case_tables

    case = tobacco_case["case"]
    replies.request_reply(workspace, case, tobacco_case["stores"][0])  # a reply row, with its NULLs
    by_values, by_rows = case_tables(workspace, case), case_tables(workspace, case)
    counts = {}
    for name, table in by_values.items():
        assert table.header == by_rows[name].header
        counts[name] = _write_csv(tmp_path / f"{name}.values.csv", table.header, (), table.values)
        assert counts[name] == _write_csv(tmp_path / f"{name}.rows.csv", table.header, by_rows[name].rows)
        assert (tmp_path / f"{name}.values.csv").read_bytes() == (tmp_path / f"{name}.rows.csv").read_bytes(), name
    assert counts["visits"] == 4 and counts["replies"] == counts["cases"] == 1 and counts["findings"] > 0
    visits = case_tables(workspace, case)["visits"]
    assert len(list(visits.rows)) == 4 and list(visits.values) == []
    # The tuples are SQLite's cursor itself, with no Python step per row in between.
    assert isinstance(iter(case_tables(workspace, case)["visits"].values), sqlite3.Cursor)


def test_the_lives_export_runs_none_of_the_internal_tables_queries_it_does_not_read(workspace, tobacco_case,
                                                                                   tmp_path):
    """Issue 30: the LIVES layout reads the case's stores from the internal tables
    (``case_tables``) and nothing else of them. sqlite-utils' ``query`` runs its SQL when
    called, so every table's query ran, the million visits sorted by time among them, for rows
    no one read: 3 s of a 9-second LIVES export at a million visits. The tables' queries now run
    when first read."""
    from investigate.formats.export import export_case

    with statements(workspace) as seen:
        export_case(workspace, tobacco_case["case"], "lives", tmp_path / "lives")
    assert any(sql.startswith("select * from stores where id in") for sql in seen)
    internal = ("select * from visits", "select t.* from", "select * from replies")
    assert not [sql for sql in seen if sql.startswith(internal)]
