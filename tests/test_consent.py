"""A minor's guardian consent is a timeline: no test before it was given or after it was withdrawn."""

from __future__ import annotations

import json

from investigate.cases import testers
from investigate.ids import short
from investigate.policy import gate

from conftest import snapshot


def test_a_visit_before_the_consent_is_refused_in_one_line_naming_its_date_and_the_tester(workspace, tobacco_case, run):
    # T-07's guardian signed on 2026-01-10 (conftest).
    before = snapshot(workspace)
    result = run("visit", "record", "--case", "tobacco-nk", "--store", "L-2", "--tester", "T-07", "--at",
                 "2026-01-09 15:00", "--no-input", "--sale", "no", "--product", "snus", "--id-check", "scanned",
                 "--id-carried", "yes")
    assert result.exit_code != 0
    assert result.output.strip() == ("Error: tester T-07's guardian consent dates from 2026-01-10: "
                                     "a test on 2026-01-09 is before it")
    assert snapshot(workspace) == before
    on_the_day = run("visit", "record", "--case", "tobacco-nk", "--store", "L-2", "--tester", "T-07", "--at",
                     "2026-01-10 15:00", "--no-input", "--sale", "no", "--product", "snus", "--id-check", "scanned",
                     "--id-carried", "yes", "--json")
    assert on_the_day.exit_code == 0, on_the_day.output


def withdraw(ws, tester: dict, day: str) -> None:
    # Issue 24's `tester edit --withdrawn` writes this column; here through the one audited write path.
    ws.update("testers", tester["id"], {"consent_withdrawn_at": day}, reason="guardian withdrew consent")


def test_a_visit_on_or_after_the_withdrawal_is_refused_at_record_and_import(workspace, tobacco_case, run, tmp_path):
    withdraw(workspace, tobacco_case["tester"], "2026-11-01")
    before = snapshot(workspace)
    result = run("visit", "record", "--case", "tobacco-nk", "--store", "L-2", "--tester", "T-07", "--at",
                 "2026-11-01 09:00", "--no-input", "--sale", "no", "--product", "snus", "--id-check", "scanned",
                 "--id-carried", "yes")
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1
    assert "T-07's guardian consent was withdrawn on 2026-11-01" in result.output
    f = tmp_path / "v.csv"
    f.write_text("store,tester,visited_at,product,sale,id_check,id_carried\n"
                 "L-1,T-07,2026-10-31 10:00,cigarettes,no,scanned,yes\n"
                 "L-2,T-07,2026-11-02 10:00,cigarettes,no,scanned,yes\n", encoding="utf-8")
    imported = run("visit", "import", f, "--case", "tobacco-nk")
    assert imported.exit_code != 0 and len(imported.output.strip().splitlines()) == 1
    assert "v.csv:3" in imported.output and "withdrawn on 2026-11-01" in imported.output, imported.output
    assert snapshot(workspace) == before


def test_the_checklist_lists_a_visit_in_the_data_outside_its_testers_consent(workspace, tobacco_case, run):
    assert [i for i in gate.checklist(workspace, tobacco_case["case"]) if i["key"] == "consent"][0]["ok"]
    # An older record: the form turns out to have been signed after the tests (a corrected date).
    workspace.update("testers", tobacco_case["tester"]["id"], {"consent_date": "2026-11-20"},
                     reason="the form is dated 20 November")
    item = [i for i in gate.checklist(workspace, tobacco_case["case"]) if i["key"] == "consent"][0]
    assert not item["ok"]
    assert short(tobacco_case["visits"][0]["id"]) in item["detail"]
    assert item["detail"].count("consent dates from 2026-11-20") == 4
    shown = run("checklist", "tobacco-nk")
    assert "[ ] consent" in shown.output and "T-07's guardian consent dates from 2026-11-20" in shown.output


def test_the_method_says_every_test_was_within_the_testers_consent(workspace, tobacco_case, tmp_path):
    from pypdf import PdfReader

    from investigate.reports.build import build_report

    out = tmp_path / "internal.pdf"
    build_report(workspace, tobacco_case["case"], edition="internal", lang="en", out=out)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert "All 4 tests were made within the testers' guardian consent" in text
    withdraw(workspace, tobacco_case["tester"], "2026-11-15")  # the day of the four tests (ten days ago)
    build_report(workspace, tobacco_case["case"], edition="internal", lang="en", out=out)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert "within the testers' guardian consent" not in text


def test_a_tester_added_on_the_command_line_is_dated_today_unless_told(workspace, run, tmp_path):
    form = tmp_path / "form.txt"
    form.write_text("signed", encoding="utf-8")
    row = json.loads(run("tester", "add", "T-9", "--birth-month", "2010-03", "--consent-file", form, "--json").output)
    assert row["consent_date"] == workspace.now().date().isoformat()
    assert testers.add_tester(workspace, code="T-8", birth_month="2010-03", consent=True)["consent_date"] is None
