"""Tips and complaints: import, matching, leads, privacy of sources."""

from __future__ import annotations

import json
import shutil

import pytest

from investigate.ids import short
from investigate.cases import cases, stores, tips
from investigate.proof.verify import verify

from conftest import DATA, snapshot

CFPB = DATA / "cfpb" / "complaints.csv"


@pytest.fixture
def known_businesses(workspace):
    stores.add_store(workspace, name="Acme Bank", chain="Acme Bank", address="1 Main St")
    stores.add_store(workspace, name="Acme Bank Downtown", chain="Acme Bank", address="9 Market St")
    stores.add_store(workspace, name="Smart Shop", address="Hauptstraße 5")
    stores.add_store(workspace, name="Northwind Credit Union", address="3 Elm St")
    stores.add_store(workspace, name="Northwind Credit Union", address="80 Oak Ave")  # two unrelated branches
    return workspace


def test_cfpb_import_matches_companies_by_normalised_name(known_businesses, run):
    counts = json.loads(run("tip", "import", CFPB, "--format", "cfpb", "--json").output)
    assert counts["rows"] == 36 and counts["added"] == 36
    ws = known_businesses
    acme = ws.db.execute("select count(*) from tips where chain = 'Acme Bank'").fetchone()[0]
    assert acme == 12  # "ACME BANK, N.A.", "Acme Bank Inc" and "acme bank" are one chain
    smart = ws.db.execute("select count(distinct store_id) from tips where company_key = 'smartshop'").fetchone()[0]
    assert smart == 1  # "Smart-Shop GmbH" and "SMARTSHOP" are the one Smart Shop
    ambiguous = ws.db.execute("select count(*) from tips where match_note like 'ambiguous%'").fetchone()[0]
    assert ambiguous == counts["ambiguous"] > 0  # Northwind: two branches, not guessed
    unmatched = ws.db.execute("select count(*) from tips where store_id is null and chain is null "
                              "and match_note = 'no known store or chain'").fetchone()[0]
    assert unmatched == counts["unmatched"] > 0
    assert verify(ws).ok


def test_narratives_are_kept_only_with_consent_flag_set_from_the_file(known_businesses, run):
    run("tip", "import", CFPB)
    rows = known_businesses.db.execute("select narrative, consent_publish from tips").fetchall()
    assert all(bool(n) == bool(c) for n, c in rows)
    assert any('"no refunds, ever"' in (n or "") for n, _ in rows)
    assert any("\n" in (n or "") for n, _ in rows)


def test_importing_the_same_file_twice_adds_nothing(known_businesses, run):
    run("tip", "import", CFPB)
    before = known_businesses.db["tips"].count
    again = json.loads(run("tip", "import", CFPB, "--json").output)
    assert again["added"] == 0 and again["already_known"] == 36
    assert known_businesses.db["tips"].count == before


@pytest.mark.parametrize("mutate,expected", [
    (lambda t: t.replace("Complaint ID", "Complaint"), "missing column 'Complaint ID'"),
    (lambda t: t.replace("01/01/2026", "02/31/2026", 1), "complaints.csv:2: column 'Date received': '02/31/2026'"),
    (lambda t: t.replace("01/01/2026", "31/01/2026", 1), "is not a date (MM/DD/YYYY)"),
    (lambda t: t.replace("I returned the phone", "x" * 1_000_001, 1), "longer than 1,000,000"),
])
def test_bad_complaint_files_are_refused_and_nothing_is_imported(known_businesses, run, tmp_path, mutate, expected):
    bad = tmp_path / "complaints.csv"
    bad.write_text(mutate(CFPB.read_text(encoding="utf-8")), encoding="utf-8")
    before = snapshot(known_businesses)
    result = run("tip", "import", bad)
    assert result.exit_code != 0 and expected in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(known_businesses) == before


def test_a_tip_source_is_kept_apart_and_shown_only_on_the_tip(known_businesses, run):
    ws = known_businesses
    result = run("tip", "add", "--channel", "phone", "--company", "Smart-Shop GmbH", "--what",
                 "Refused my refund for a broken kettle", "--wants", "Money back", "--contact",
                 "Jane Roe, +49 170 0000000", "--issue", "refund refused", "--no-input", "--json")
    tip = json.loads(result.output)
    assert "contact" not in tip and tip["store_id"]
    assert "Jane Roe" not in run("tip", "list", "--json").output
    assert json.loads(run("tip", "show", short(tip["id"]), "--json").output)["contact"] == "Jane Roe, +49 170 0000000"
    assert ws.db.execute("select count(*) from tips where narrative like '%Jane%'").fetchone()[0] == 0


def test_tip_add_needs_a_business_and_a_story(run, workspace):
    before = snapshot(workspace)
    result = run("tip", "add", "--channel", "phone", "--what", "x", "--no-input")
    assert result.exit_code != 0 and "business" in result.output
    assert snapshot(workspace) == before


def test_leads_rank_repeated_complaints_of_one_kind_and_open_a_case(known_businesses, run):
    run("tip", "import", CFPB)
    ranked = json.loads(run("leads", "--min", "3", "--json").output)
    assert ranked and ranked[0]["business"] == "Acme Bank (chain)" and ranked[0]["complaints"] == 12
    assert all(r["complaints"] >= 3 for r in ranked)
    assert [r["complaints"] for r in ranked] == sorted((r["complaints"] for r in ranked), reverse=True)
    since = json.loads(run("leads", "--min", "1", "--since", "2026-09-01", "--json").output)
    assert all(r["last"] >= "2026-09-01" for r in since)
    opened = json.loads(run("leads", "open", ranked[0]["lead"], "--protocol", "refund-honesty", "--json").output)
    assert opened["tips"] == 12
    case = cases.get_case(known_businesses, opened["case"]["slug"])
    linked = known_businesses.db.execute("select count(*) from tips where case_id = ? and status = 'case'",
                                         [case["id"]]).fetchone()[0]
    assert linked == 12
    assert verify(known_businesses).ok


def test_leads_of_an_unknown_reference_or_bad_date_are_refused(known_businesses, run):
    run("tip", "import", CFPB)
    assert "no lead" in run("leads", "open", "zzzz", "--protocol", "refund-honesty").output
    assert "not a date" in run("leads", "--since", "31/12/2026").output


def test_tip_status_and_link(known_businesses, run, tobacco_case):
    run("tip", "import", CFPB)
    tip = tips.list_tips(known_businesses, limit=1)[0]
    assert run("tip", "status", short(tip["id"]), "checking").exit_code == 0
    assert "already checking" in run("tip", "status", short(tip["id"]), "checking").output
    assert run("tip", "link", short(tip["id"]), "tobacco-nk").exit_code == 0
    assert tips.get_tip(known_businesses, tip["id"])["status"] == "case"


def test_leads_limit_cuts_the_list_and_says_how_many_groups_were_left_out(known_businesses, run):
    run("tip", "import", CFPB)
    every = json.loads(run("leads", "--min", "1", "--limit", "1000", "--json").output)
    assert len(every) > 2
    result = run("leads", "--min", "1", "--limit", "2")
    assert result.exit_code == 0
    assert f"{len(every) - 2} more groups left out: showing the first 2" in result.stderr
    assert json.loads(run("leads", "--min", "1", "--limit", "2", "--json").stdout) == every[:2]
    assert "left out" not in run("leads", "--min", "1", "--limit", "1000").stderr
    assert tips.count_leads(known_businesses, min_count=1) == len(every)


def test_semicolon_complaint_files_import_with_headings_in_any_case(workspace, run, tmp_path):
    f = tmp_path / "tips.csv"
    f.write_text("Received_At;COMPANY;Narrative;Source Notes\n2026-10-01;Smart Shop;They refused a refund.;x\n",
                 encoding="utf-8")
    summary = json.loads(run("tip", "import", f, "--format", "generic", "--json").output)
    assert summary["added"] == 1 and summary["delimiter"] == ";"
    assert summary["unknown_columns"] == ["Source Notes"]
    again = json.loads(run("tip", "import", f, "--format", "generic", "--ignore", "source notes", "--json").output)
    assert again["already_known"] == 1 and again["ignored_columns"] == ["Source Notes"]
