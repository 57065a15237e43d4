"""Issue 8, walked end to end: visits recorded, some rejected, an unreachable store, two
rounds, replies, the checklist blocking then passing, publish, a correction, version 2 — and
the PDF, the public database and `stats` agreeing at every step."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

from pypdf import PdfReader

from investigate.numbers import stats
from investigate.cases import cases, editorial, replies, stores, testers, visits
from investigate.cases.review import review_visit
from investigate.policy import gate
from investigate.views.i18n import Formatter

SOLD = {"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True}
REFUSED = {"product": "cigarettes", "sale": False, "id_check": "scanned", "id_carried": True}


def pdf_text(path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


def public_rate(db_path, slug):
    db = sqlite3.connect(db_path)
    try:
        return db.execute("select violations, visits, violation_rate, ci_low, ci_high, version from cases "
                          "where slug = ?", [slug]).fetchone()
    finally:
        db.close()


def agree(ws, case, run, tmp_path, step):
    """Publish and print; check both against stats.case_rates(approved_only=True)."""
    expected = stats.case_rates(ws, case, approved_only=True)[0]
    out = tmp_path / f"public-{step}"
    published = json.loads(run("publish", "--case", case["slug"], "--out", out, "--json").output)
    violations, n, rate, lo, hi, version = public_rate(published["database"], case["slug"])
    assert (violations, rate, lo, hi) == (expected["violations"], expected["rate"], expected["ci_low"], expected["ci_high"])
    pdf = tmp_path / f"report-{step}.pdf"
    result = json.loads(run("report", case["slug"], "--lang", "en", "--out", pdf, "--json").output)
    text = pdf_text(pdf)
    fmt = Formatter("en")
    assert fmt.pct(expected["rate"], expected["eligible"]) in text and f"{expected['violations']} / {expected['eligible']}" in text
    cli = json.loads(run("stats", case["slug"], "--approved-only", "--json").output)["groups"][0]
    assert (cli["violations"], cli["eligible"], cli["rate"]) == (expected["violations"], expected["eligible"], expected["rate"])
    return version, result["version"], text


def test_a_case_from_fieldwork_to_a_corrected_second_version(workspace, run, tmp_path):
    ws = workspace
    case = cases.create_case(ws, slug="walk", title="Tobacco walk-through", protocol="tobacco-minors",
                             jurisdiction="Berlin", legal_basis="JuSchG § 10", description="Ten shops, two rounds.")
    shops = [stores.add_store(ws, name=f"Shop {i}", chain="Chain A" if i < 5 else "Chain B", district="Mitte",
                              lat=52.5 + i / 500, lon=13.4) for i in range(10)]
    stores.add_to_frame(ws, case, shops)
    t = testers.add_tester(ws, code="T-1", birth_month="2010-03", consent=True)
    start = ws.now() - timedelta(days=60)
    recorded = []
    for i, shop in enumerate(shops[:9]):
        recorded.append(visits.record_visit(ws, case=case, store=shop, tester=t, answers=SOLD if i % 3 == 0 else REFUSED,
                                            visited_at=start + timedelta(hours=i))["visit"])
    closed = visits.record_visit(ws, case=case, store=shops[9], tester=t, answers={}, attempt="closed",
                                 visited_at=start + timedelta(hours=10))["visit"]
    round2 = [visits.record_visit(ws, case=case, store=shop, tester=t, answers=SOLD, round=2,
                                  visited_at=start + timedelta(days=7, hours=i))["visit"] for i, shop in enumerate(shops[:3])]
    for v in recorded[:8] + [closed] + round2:
        review_visit(ws, v, "approve")
    review_visit(ws, recorded[8], "reject", comment="observer missing")

    # The checklist blocks: no replies asked, no legal sign-off.
    blocked = run("publish", "--case", "walk", "--out", tmp_path / "blocked")
    assert blocked.exit_code != 0 and "replies" in blocked.output and "legal_signoff" in blocked.output
    assert run("report", "walk", "--out", tmp_path / "blocked.pdf").exit_code != 0

    violators = {v["store_id"] for v in recorded[:8] + round2 if v["outcome"] == "violation"}
    for shop in shops:
        if shop["id"] in violators:
            req = replies.request_reply(ws, case, shop, requested_at=(ws.now() - timedelta(days=20)).isoformat())
            if shop["name"] == "Shop 0":
                replies.record_reply(ws, req, answer="We retrained our staff.",
                                     answered_at=(ws.now() - timedelta(days=15)).isoformat())
    editorial.sign_off(ws, case, role="legal counsel", signed_by="Counsel")
    assert gate.open_items(ws, case) == []
    editorial.mark_published(ws, case)

    db_version, pdf_version, text = agree(ws, case, run, tmp_path, "v1")
    assert (db_version, pdf_version) == (1, 1)
    assert "We retrained our staff." in text and "Shop 0" in text
    rate = stats.case_rates(ws, case, approved_only=True)[0]
    assert rate["not_completed"] == 1 and rate["eligible"] == 11  # the rejected visit is out; the closed shop apart

    # Shop 4 was never asked for comment: a correction may not name it (issue 11).
    refused = run("correct", "walk", "--note", "Shop 4 was visited at 14:00, not 13:00.")
    assert refused.exit_code != 0 and "unnamed business's name" in refused.output and "Shop 4" not in refused.output
    assert run("correct", "walk", "--note", "One shop was visited at 14:00, not 13:00.").exit_code == 0
    # The correction is a change to what counsel signed: the sign-off no longer covers it.
    assert [i["detail"] for i in gate.open_items(ws, case)] == [
        "sign-off by legal counsel predates 1 change(s) to the case's records: sign again"]
    editorial.sign_off(ws, case, role="legal counsel", signed_by="Counsel")
    db_version, pdf_version, text = agree(ws, case, run, tmp_path, "v2")
    assert (db_version, pdf_version) == (2, 2)
    assert "One shop was visited at 14:00, not 13:00." in text
    db = sqlite3.connect(tmp_path / "public-v2" / "public.db")
    assert db.execute("select note from corrections").fetchone()[0].startswith("One shop")
    versions = json.loads(run("versions", "walk", "--json").output)
    assert sorted((v["kind"], v["version"]) for v in versions) == [("database", 1), ("database", 2), ("pdf", 1), ("pdf", 2)]
    assert run("versions", "walk", "--check", tmp_path / "report-v1.pdf").exit_code == 0
    assert run("verify").exit_code == 0
