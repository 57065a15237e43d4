"""store import and visit import: encodings, upserts, and bad input that writes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from investigate.cases import cases, stores, testers
from investigate.proof.verify import verify

from conftest import bulk_writes_under_a_savepoint, counted_tallies, kept_tallies, snapshot, statements

HEADER = "name,address,city,licence_number,chain,lat,lon\n"
ROWS = 'Café Müller,Sonnenallee 1,Berlin,L-1,Späti24,52.48,13.43\nBäckerei Öz,Hermannstr. 3,Berlin,L-2,,,\n'


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_utf8_bom_and_cp1252_files_import_alike(workspace, run, tmp_path, encoding):
    f = write(tmp_path / "stores.csv", HEADER + ROWS, encoding)
    result = run("store", "import", f, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["inserted"] == 2
    names = {r["name"] for r in stores.list_stores(workspace)}
    assert names == {"Café Müller", "Bäckerei Öz"}


def test_importing_the_same_file_twice_adds_nothing(workspace, run, tmp_path):
    f = write(tmp_path / "stores.csv", HEADER + ROWS)
    run("store", "import", f)
    again = json.loads(run("store", "import", f, "--json").output)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert workspace.db["stores"].count == 2


def test_licence_number_upsert_updates_changed_fields_and_keeps_old_values_in_the_audit_log(workspace, run, tmp_path):
    run("store", "import", write(tmp_path / "a.csv", HEADER + ROWS))
    moved = ROWS.replace("Sonnenallee 1", "Sonnenallee 99")
    # Replacing a value a store holds is a correction: refused without --update (issue 24).
    before = snapshot(workspace)
    refused = run("store", "import", write(tmp_path / "b.csv", HEADER + moved))
    assert refused.exit_code != 0 and "1 row corrects stores already imported" in refused.stderr
    assert "1 changes the address (first: line 2, store " in refused.stderr and "--update" in refused.stderr
    assert snapshot(workspace) == before
    counts = json.loads(run("store", "import", write(tmp_path / "b.csv", HEADER + moved), "--update", "--json").output)
    assert counts["updated"] == 1
    store = stores.get_store(workspace, "L-1")
    assert store["address"] == "Sonnenallee 99"
    entry = workspace.db.execute(
        "select data from audit_log where row_id = ? and action = 'update'", [store["id"]]).fetchone()[0]
    data = json.loads(entry)
    assert data["old"]["address"] == "Sonnenallee 1" and data["reason"] == "import b.csv:2"
    assert verify(workspace).ok


def test_rows_without_licence_match_on_normalised_name_and_address(workspace, run, tmp_path):
    run("store", "import", write(tmp_path / "a.csv", "name,address\nSmart-Shop GmbH,Main Street 5\n"))
    counts = json.loads(run("store", "import", write(tmp_path / "b.csv", "name,address\nsmartshop,main st. 5\n"),
                            "--json").output)
    assert counts["inserted"] == 0 and workspace.db["stores"].count == 1


def test_column_mapping_reads_another_layout(workspace, run, tmp_path):
    f = write(tmp_path / "fda.csv", "Retailer Name,Street Address,Zip\nSMART SHOP,1 Main St,40502\n")
    result = run("store", "import", f, "--map", "name=Retailer Name", "--map", "address=Street Address",
                 "--map", "postcode=Zip")
    assert result.exit_code == 0, result.output
    row = stores.list_stores(workspace)[0]
    assert (row["name"], row["address"], row["postcode"]) == ("SMART SHOP", "1 Main St", "40502")


def test_a_store_name_with_quotes_html_and_emoji_survives_byte_for_byte(workspace, run, tmp_path):
    name = '<script>alert("x")</script> Kiosk "24" 🚬'
    f = write(tmp_path / "s.csv", 'name,address\n"<script>alert(""x"")</script> Kiosk ""24"" 🚬",Weg 1\n')
    assert run("store", "import", f).exit_code == 0
    assert stores.list_stores(workspace)[0]["name"] == name


def test_import_puts_stores_into_the_case_frame(workspace, run, tmp_path):
    cases.create_case(workspace, slug="c", title="C", protocol="tobacco-minors")
    run("store", "import", write(tmp_path / "s.csv", HEADER + ROWS), "--case", "c")
    assert workspace.db["case_stores"].count == 2


BAD_STORE_FILES = {
    "broken_quoting": ('name,address\n"Unclosed,Weg 1\nOther,Weg 2\n', "utf-8", ":2"),
    "ragged_row": ("name,address\nA,Weg 1,extra\n", "utf-8", "s.csv:2"),
    "missing_column": ("shop,address\nA,Weg 1\n", "utf-8", "missing column 'name'"),
    "utf16": ("name,address\nA,Weg 1\n", "utf-16", "s.csv"),
    "lat_out_of_range": ("name,lat,lon\nA,152.1,13.4\n", "utf-8", "s.csv:2: column 'lat'"),
    "empty_name": ("name,address\n,Weg 1\n", "utf-8", "s.csv:2: column 'name'"),
}


@pytest.mark.parametrize("case_name", sorted(BAD_STORE_FILES))
def test_bad_store_files_are_refused_in_one_line_and_write_nothing(workspace, run, tmp_path, case_name):
    text, encoding, expected = BAD_STORE_FILES[case_name]
    stores.add_store(workspace, name="Already here")
    good_then_bad = tmp_path / "s.csv"
    good_then_bad.write_bytes(text.encode(encoding))
    before = snapshot(workspace)
    result = run("store", "import", good_then_bad)
    assert result.exit_code != 0
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert snapshot(workspace) == before


def test_a_bad_row_after_good_ones_writes_none_of_them(workspace, run, tmp_path):
    f = write(tmp_path / "s.csv", "name,lat,lon\nGood One,52.5,13.4\nGood Two,52.5,13.4\nBad,52.5,999\n")
    before = snapshot(workspace)
    result = run("store", "import", f)
    assert result.exit_code != 0 and "s.csv:4" in result.output and "longitude" in result.output
    assert snapshot(workspace) == before


@pytest.fixture
def visit_setup(workspace):
    ws = workspace
    case = cases.create_case(ws, slug="tob", title="Tobacco", protocol="tobacco-minors", legal_basis="JuSchG § 10")
    stores.add_store(ws, name="Späti Eins", licence_number="L-1")
    stores.add_store(ws, name="Kiosk", licence_number="L-2")
    testers.add_tester(ws, code="T-1", birth_month="2010-03", consent=True)
    testers.add_tester(ws, code="T-OLD", birth_month="2000-01", consent=True)
    return case


VISIT_HEADER = "store,tester,visited_at,product,sale,id_check,id_carried\n"


def test_visit_import_judges_rows_by_the_protocol_rules(workspace, run, tmp_path, visit_setup):
    f = write(tmp_path / "v.csv", VISIT_HEADER + "L-1,T-1,2026-11-01 10:00,cigarettes,yes,none,yes\n"
                                                "L-2,T-1,2026-11-01 11:00,cigarettes,no,scanned,yes\n")
    counts = json.loads(run("visit", "import", f, "--case", "tob", "--json").output)
    assert counts["visits"] == 2 and counts["findings"] == 2  # SALE_TO_MINOR + NO_AGE_CHECK
    outcomes = dict(workspace.db.execute(
        "select s.licence_number, v.outcome from visits v join stores s on s.id = v.store_id").fetchall())
    assert outcomes == {"L-1": "violation", "L-2": "compliant"}
    statutes = {r[0] for r in workspace.db.execute("select statute from findings")}
    assert "JuSchG § 10" in statutes
    assert workspace.db.execute("select visited_at from visits order by visited_at").fetchone()[0] == \
        "2026-11-01T10:00:00+01:00"
    assert verify(workspace).ok


def test_a_visit_import_is_one_transaction_without_a_savepoint(workspace, tmp_path, visit_setup):
    """Issue 30: a savepoint open over an import makes SQLite copy every page it changes aside
    (into a workspace of a million visits, 5 % of an import's CPU): the import's nested writes
    join its transaction. Its findings are written between its batches of visits."""
    from investigate.cases.imports import import_visits

    f = write(tmp_path / "v.csv", VISIT_HEADER + "".join(
        f"L-{1 + i % 2},T-1,2026-11-0{1 + i % 5} {10 + i}:00,cigarettes,{'yes' if i % 2 else 'no'},none,yes\n"
        for i in range(5)))
    with statements(workspace) as sql:
        counts = import_visits(workspace, visit_setup, f)
    assert counts["visits"] == 5 and counts["findings"] > 0
    assert [s for s in sql if s.startswith("insert into [findings]")]
    assert bulk_writes_under_a_savepoint(sql, ("visits", "findings", "promises")) == []
    assert [s.lower() for s in sql if s.lower() in ("begin immediate", "commit")] == ["begin immediate", "commit"]
    assert kept_tallies(workspace) == counted_tallies(workspace) and verify(workspace).ok


def test_an_import_adds_its_tallies_a_row_at_a_time_with_no_trigger_left_to_fire(workspace, tmp_path, visit_setup,
                                                                                 monkeypatch):
    """Issue 30: an INSERT … SELECT into the tallies, or an upsert that fires the case tallies'
    trigger, makes SQLite keep a statement journal that copies aside every tally page it changes
    (a million-visit import wrote 1.8 GB to a temporary file). The counts are added by one
    upsert per tally, the case tallies' too, with their triggers dropped. sqlite3 traces a
    statement again each time a trigger's program runs for it: with none left, each upsert (its
    values filled in) is traced once. The findings written after each batch of visits are counted
    once, at the import's end: their trigger is dropped and made again once, not per batch (each
    new schema has SQLite prepare every statement again)."""
    from investigate.cases.imports import import_visits
    from investigate.store import writes

    monkeypatch.setitem(writes.AuditedWrites.insert_many.__kwdefaults__, "batch_size", 2)
    written, insert_many = [], workspace.insert_many
    monkeypatch.setattr(workspace, "insert_many", lambda table, rows, **kw: written.append(table) or insert_many(
        table, rows, **kw))
    f = write(tmp_path / "v.csv", VISIT_HEADER + "".join(
        f"L-{1 + i % 2},T-1,2026-11-0{1 + i % 5} {10 + i}:00,cigarettes,{'yes' if i % 3 else 'no'},"
        f"{'none' if i % 2 else 'scanned'},yes\n" for i in range(9)))
    with statements(workspace) as sql:
        import_visits(workspace, visit_setup, f)
    for table in ("visit_tallies", "case_tallies", "finding_tallies"):
        added = [s for s in sql if s.startswith(f"insert into {table}")]
        assert added and not [s for s in added if " select " in s]
        assert len(added) == len(set(added)), table
    assert len([s for s in sql if s.startswith("insert into visit_tallies")]) == workspace.db.execute(
        "select count(*) from visit_tallies").fetchone()[0]
    assert written.count("findings") > 1  # findings written after several batches of visits
    made_again = ("drop trigger [finding_tallies_insert]", "CREATE TRIGGER finding_tallies_insert ")
    assert [s[:len(made_again[0])] for s in sql if s.startswith(made_again)] == [
        "drop trigger [finding_tallies_insert]", "CREATE TRIGGER finding_tallies_insert"]
    assert kept_tallies(workspace) == counted_tallies(workspace)
    assert {name for (name,) in workspace.db.execute("select name from sqlite_master where type = 'trigger'")} >= {
        "visit_tallies_insert", "finding_tallies_insert", "case_tallies_insert", "case_tallies_update"}


def test_an_import_moves_its_bar_for_every_row_read_also_the_rows_imported_before(workspace, tmp_path, visit_setup):
    """The bar counts the file's rows (``count_lines``), and the rows imported before move it too,
    as they are read: a re-run had stayed at 0 % until its end, and the bench's file of 100,000
    rows, 11 of them imported before, had ended at 99 %."""
    from investigate.cases.imports import import_visits
    from investigate.files import count_lines

    rows = [f"L-{1 + i % 2},T-1,2026-11-{1 + i % 20:02d} {10 + i % 8}:{i % 60:02d},cigarettes,no,scanned,yes\n"
            for i in range(12)]
    first, again = write(tmp_path / "first.csv", VISIT_HEADER + "".join(rows[:5])), write(
        tmp_path / "again.csv", VISIT_HEADER + "".join(rows))
    for f, new in ((first, 5), (again, 7)):
        ticks: list[int] = []
        assert import_visits(workspace, visit_setup, f, progress=ticks.append)["visits"] == new
        assert sum(ticks) == count_lines(f) == len(rows[:5] if f is first else rows)
    # A re-run of a long file moves the bar as it reads, not only at its end.
    long = write(tmp_path / "long.csv", VISIT_HEADER + "".join(
        f"L-{1 + i % 2},T-1,2026-11-{1 + i // 96:02d} {8 + i % 96 // 8}:{13 + i % 8 * 5:02d},snus,no,scanned,yes\n"
        for i in range(1500)))
    import_visits(workspace, visit_setup, long)
    ticks = []
    assert import_visits(workspace, visit_setup, long, progress=ticks.append)["already_imported"] == 1500
    assert len(ticks) > 1 and sum(ticks) == count_lines(long) == 1500


BAD_VISITS = {
    "unknown_store": ("L-9,T-1,2026-11-01 10:00,cigarettes,yes,none,yes", "column 'store': unknown store 'L-9'"),
    "unknown_tester": ("L-1,T-9,2026-11-01 10:00,cigarettes,yes,none,yes", "column 'tester': unknown tester 'T-9'"),
    "impossible_date": ("L-1,T-1,2026-02-31 10:00,cigarettes,yes,none,yes", "column 'visited_at'"),
    "future_date": ("L-1,T-1,2099-01-01 10:00,cigarettes,yes,none,yes", "in the future"),
    "tester_too_old": ("L-1,T-OLD,2026-11-01 10:00,cigarettes,yes,none,yes", "too old"),
    "answer_outside_choices": ("L-1,T-1,2026-11-01 10:00,pipe,yes,none,yes", "column 'product'"),
    "not_yes_or_no": ("L-1,T-1,2026-11-01 10:00,cigarettes,maybe,none,yes", "column 'sale'"),
}


@pytest.mark.parametrize("case_name", sorted(BAD_VISITS))
def test_bad_visit_rows_are_refused_with_line_and_column_and_write_nothing(workspace, run, tmp_path,
                                                                             visit_setup, case_name):
    row, expected = BAD_VISITS[case_name]
    f = write(tmp_path / "v.csv", VISIT_HEADER + "L-2,T-1,2026-11-01 09:00,cigarettes,no,scanned,yes\n" + row + "\n")
    before = snapshot(workspace)
    result = run("visit", "import", f, "--case", "tob")
    assert result.exit_code != 0
    assert "v.csv:3" in result.output and expected in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(workspace) == before


def test_a_tester_too_young_on_the_visit_date_is_refused(workspace, run, tmp_path, visit_setup):
    testers.add_tester(workspace, code="T-KID", birth_month="2013-06", consent=True)
    f = write(tmp_path / "v.csv", VISIT_HEADER + "L-1,T-KID,2026-11-01 10:00,cigarettes,yes,none,yes\n")
    result = run("visit", "import", f, "--case", "tob")
    assert result.exit_code != 0 and "too young" in result.output and "column 'tester'" in result.output


def test_a_column_that_is_no_question_is_refused(workspace, run, tmp_path, visit_setup):
    f = write(tmp_path / "v.csv", VISIT_HEADER.strip() + ",colour\nL-1,T-1,2026-11-01 10:00,cigarettes,yes,none,yes,red\n")
    result = run("visit", "import", f, "--case", "tob")
    assert result.exit_code != 0 and "'colour'" in result.output


def test_visit_import_creates_promises_for_a_callback_protocol(workspace, run, tmp_path):
    cases.create_case(workspace, slug="cb", title="Callbacks", protocol="callback-promise")
    stores.add_store(workspace, name="Hotline", channel="phone", licence_number="H-1")
    when = (workspace.now() - timedelta(days=5)).strftime("%Y-%m-%d %H:%M")
    f = write(tmp_path / "v.csv", "store,visited_at,reached_agent,callback_promised,promised_within_hours\n"
                                  f"H-1,{when},yes,yes,24\n")
    counts = json.loads(run("visit", "import", f, "--case", "cb", "--json").output)
    assert counts["promises"] == 1
    overdue = json.loads(run("promise", "list", "--overdue", "--json").output)
    assert len(overdue) == 1 and overdue[0]["what"] == "Callback"


def test_a_big_import_builds_the_visits_indexes_after_its_rows(workspace, run, tmp_path, visit_setup, monkeypatch):
    """Past DEFER_AFTER rows (and the rows the table held) an import drops the visits' indexes
    and builds them again at the end: the same indexes after, used as before, the tallies right,
    the log whole; and a failed big import keeps them. The (case_id, visited_at) index stays
    throughout: the importer looks each row's possible earlier form up through it."""
    import sqlite_utils

    from investigate.store import tables, writes

    monkeypatch.setattr(writes, "DEFER_AFTER", 3)
    indexes = lambda: sorted(workspace.db.execute(  # noqa: E731
        "select name, sql from sqlite_master where type = 'index' and tbl_name = 'visits'").fetchall())
    before = indexes()
    assert set(tables.DEFERRED_INDEXES["visits"]) <= {name for name, _ in before}
    rows = "".join(f"L-{1 + i % 2},T-1,2026-11-{1 + i % 20:02d} {10 + i % 8}:{i % 60:02d},cigarettes,"
                   f"{'yes' if i % 3 else 'no'},none,yes\n" for i in range(9))
    f = write(tmp_path / "v.csv", VISIT_HEADER + rows)
    # Batches of two rows: the deferral happens mid-import.
    monkeypatch.setitem(writes.AuditedWrites.insert_many.__kwdefaults__, "batch_size", 2)
    dropped = []
    real_execute = sqlite_utils.Database.execute

    def execute(self, sql, *args, **kwargs):
        if sql.startswith("drop index"):
            dropped.append(sql)
        return real_execute(self, sql, *args, **kwargs)

    monkeypatch.setattr(sqlite_utils.Database, "execute", execute)
    failing = write(tmp_path / "bad.csv", VISIT_HEADER + rows + "L-1,T-1,2099-01-01 10:00,cigarettes,yes,none,yes\n")
    assert run("visit", "import", failing, "--case", "tob").exit_code != 0
    assert indexes() == before and dropped  # the failed import dropped them, and kept them
    dropped.clear()
    assert json.loads(run("visit", "import", f, "--case", "tob", "--json").output)["visits"] == 9
    assert indexes() == before
    assert sorted(dropped) == sorted(f"drop index [{name}]" for name in tables.DEFERRED_INDEXES["visits"])
    assert "idx_visits_case_id_visited_at" not in tables.DEFERRED_INDEXES["visits"]
    plan = " ".join(r[3] for r in workspace.db.execute(
        "explain query plan select count(*) from visits where store_id = ?", ["x"]))
    assert "idx_visits_store_id" in plan
    assert kept_tallies(workspace) == counted_tallies(workspace)
    assert workspace.db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert verify(workspace).ok
