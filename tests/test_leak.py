"""The leak test: private strings planted in every private field never reach a published byte.

This test guards every change that touches publishing. To protect a new private field, plant
a unique string in it in ``planted_workspace`` and add it to ``PRIVATE``.
"""

from __future__ import annotations

import json

from datetime import timedelta
from pathlib import Path

import pytest

from pypdf import PdfReader

from investigate.cases import (cases, companies, editorial, evidence, promises, replies, stores, stories, testers,
                              tips, visits)
from investigate.cases.review import review_visit
from investigate.policy import gate
from investigate.formats.export import export_lives
from investigate.publish.public import build_public, export_public
from investigate.reports.build import build_report
from investigate.store.workspace import init_workspace

from conftest import with_setting

PRIVATE = {
    "tester code": "TLEAKCODE9",
    "tester birth month": "2009-07",
    "tester notes": "LEAK-TESTER-NOTE",
    "consent file path": "LEAK-CONSENT-FORM",
    "observer": "LEAK-OBSERVER-NAME",
    "case notes": "LEAK-CASE-NOTE",
    "store notes": "LEAK-STORE-NOTE",
    "visit notes": "LEAK-VISIT-NOTE",
    "rejected visit notes": "LEAK-REJECTED-NOTE",
    "evidence original name": "LEAKPHOTO",
    "evidence notes": "LEAK-EVIDENCE-NOTE",
    "promise note": "LEAK-PROMISE-NOTE",
    "reply notes": "LEAK-REPLY-NOTE",
    "reviewer": "LEAK-REVIEWER",
    "review comment": "LEAK-REVIEW-COMMENT",
    "sign-off by": "LEAK-SIGNER",
    "free-text answer": "LEAK-TICKET-77",
    "unnamed store name": "LEAK-UNNAMED-STORE",
    "unnamed store address": "LEAK-UNNAMED-ADDRESS",
    "unnamed store licence": "LEAK-LICENCE",
    "unnamed store contact": "LEAK-CONTACT",
    "tip source contact": "LEAK-TIP-CONTACT",
    "tip narrative without consent": "LEAK-UNCONSENTED-STORY",
    "tip about an unnamed store": "LEAK-UNNAMED-STORE",
    "checklist override reason": "LEAK-OVERRIDE-REASON",
    "unnamed store's chain": "LEAK-UNNAMED-CHAIN",
    "a tip's own text for a company it could not match": "LEAK-TIP-COMPANY",
    "a store named in a correction, unnameable since": "LEAK-STALE-STORE",
    "a story's person without consent": "LEAK-PERSON-NAME",
    "a story's person's contact": "LEAK-PERSON-CONTACT",
    "a story's company, not yet asked about every event": "LEAK-STORY-COMPANY",
    "that company's hotline": "LEAK-STORY-HOTLINE",
    "a service company never asked": "LEAK-SERVICE-COMPANY",
    "its contact point": "LEAK-SERVICE-LINE",
    "a story document's file name": "LEAK-DOCNAME",
    "a story document's sender": "LEAK-SENDER",
    "a story document's subject": "LEAK-SUBJECT",
    "a story document's text": "LEAK-DOC-TEXT",
}


def planted_workspace(ws, tmp_path: Path) -> list[dict]:
    """A workspace with a unique private string in every private field; returns the cases."""
    consent = tmp_path / "LEAK-CONSENT-FORM.pdf"
    consent.write_bytes(b"%PDF consent")
    tester = testers.add_tester(ws, code="TLEAKCODE9", birth_month="2009-07", consent=True,
                                consent_file=consent, notes="LEAK-TESTER-NOTE")
    case = cases.create_case(ws, slug="leak", title="Leak test", protocol="tobacco-minors",
                             jurisdiction="Berlin", legal_basis="JuSchG § 10", description="Method text.",
                             notes="LEAK-CASE-NOTE")
    named = stores.add_store(ws, name="Named Shop", address="Open Street 1", district="Mitte",
                             notes="LEAK-STORE-NOTE", lat=52.5, lon=13.4)
    hidden = stores.add_store(ws, name="LEAK-UNNAMED-STORE", address="LEAK-UNNAMED-ADDRESS", district="Mitte",
                              licence_number="LEAK-LICENCE", contact="LEAK-CONTACT", lat=52.51, lon=13.41,
                              chain="LEAK-UNNAMED-CHAIN")
    stale = stores.add_store(ws, name="LEAK-STALE-STORE", district="Mitte", chain="LEAK-UNNAMED-CHAIN")
    other = stores.add_store(ws, name="Rejected Shop", district="Mitte")
    when = ws.now() - timedelta(days=40)
    sold = {"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True}
    v1 = visits.record_visit(ws, case=case, store=named, tester=tester, answers=sold, visited_at=when,
                             observer="LEAK-OBSERVER-NAME", notes="LEAK-VISIT-NOTE")["visit"]
    v2 = visits.record_visit(ws, case=case, store=hidden, tester=tester, answers=sold,
                             visited_at=when + timedelta(hours=1), observer="LEAK-OBSERVER-NAME")["visit"]
    v3 = visits.record_visit(ws, case=case, store=other, tester=tester, answers=sold,
                             visited_at=when + timedelta(hours=2), notes="LEAK-REJECTED-NOTE")["visit"]
    photo = tmp_path / "LEAKPHOTO_0001.jpg"
    photo.write_bytes(b"\xff\xd8\xff fake jpeg bytes")
    evidence.add_evidence(ws, v1, [photo], notes="LEAK-EVIDENCE-NOTE")
    review_visit(ws, v1, "approve", reviewer="LEAK-REVIEWER")
    review_visit(ws, v2, "approve", reviewer="LEAK-REVIEWER")
    review_visit(ws, v3, "reject", comment="LEAK-REVIEW-COMMENT", reviewer="LEAK-REVIEWER")
    replies.request_reply(ws, case, named, requested_at=(ws.now() - timedelta(days=30)).isoformat(),
                          notes="LEAK-REPLY-NOTE")
    replies.request_reply(ws, case, hidden, requested_at=(ws.now() - timedelta(days=1)).isoformat(),
                          notes="LEAK-REPLY-NOTE")
    # A store asked and named once; a correction naming it was recorded then (as an older
    # version allowed); then a sale approved after its request makes it unnameable again.
    v4 = visits.record_visit(ws, case=case, store=stale, tester=tester, answers=sold,
                             visited_at=when + timedelta(hours=3))["visit"]
    review_visit(ws, v4, "approve")
    replies.request_reply(ws, case, stale, requested_at=(ws.now() - timedelta(days=30)).isoformat())
    ws.insert("corrections", {"case_id": case["id"], "note": "LEAK-STALE-STORE was tested on the 3rd.",
                              "created_at": ws.now().isoformat(), "first_version": None})
    v5 = visits.record_visit(ws, case=case, store=stale, tester=tester, answers=sold,
                             visited_at=ws.now() - timedelta(days=2))["visit"]
    review_visit(ws, v5, "approve")
    t = tips.add_tip(ws, channel="phone", company="LEAK-TIP-COMPANY", what_happened="Sold to a child.",
                     contact="LEAK-TIP-CONTACT", consent_publish=True, issue="sale to minors")
    tips.link_tip(ws, t, case)
    t = tips.add_tip(ws, channel="phone", company="LEAK-UNNAMED-CHAIN", what_happened="Chain sells to minors.",
                     contact="LEAK-TIP-CONTACT", issue="sale to minors")
    tips.link_tip(ws, t, case)
    editorial.sign_off(ws, case, role="legal counsel", signed_by="LEAK-SIGNER")
    for what, consent, contact, about in [("LEAK-UNCONSENTED-STORY", False, "LEAK-TIP-CONTACT", named),
                                          ("They sold cigarettes to my son (published with consent).", True,
                                           "LEAK-TIP-CONTACT", named),
                                          ("Same at the other shop.", True, "LEAK-TIP-CONTACT", hidden)]:
        t = tips.add_tip(ws, channel="phone", store=about, what_happened=what, contact=contact,
                         consent_publish=consent, issue="sale to minors")
        tips.link_tip(ws, t, case)
    editorial.mark_published(ws, case, override="leak test: the hidden store's window is open on purpose")

    hotline_case = cases.create_case(ws, slug="leak-hotline", title="Hotline", protocol="callback-promise",
                                     jurisdiction="DE", legal_basis="BGB", description="Calls.")
    line = stores.add_store(ws, name="Hotline Co", channel="phone", contact="+49 30 1")
    call = visits.record_visit(ws, case=hotline_case, store=line, tester=None,
                               answers={"reached_agent": True, "callback_promised": True, "promised_within_hours": 24,
                                        "case_reference": "LEAK-TICKET-77"},
                               visited_at=ws.now() - timedelta(days=20), observer="LEAK-OBSERVER-NAME")
    promises.keep_promise(ws, call["promises"][0], kept=False, note="LEAK-PROMISE-NOTE")
    review_visit(ws, call["visit"], "approve", reviewer="LEAK-REVIEWER")
    replies.request_reply(ws, hotline_case, line, requested_at=(ws.now() - timedelta(days=19)).isoformat())
    # A company tested on the same case and never asked: its name and line stay out of the public
    # scorecard and response times (a pseudonym there, as in the report).
    unasked = companies.add_company(ws, name="LEAK-SERVICE-COMPANY")
    unasked_line = companies.add_contact_point(ws, unasked, channel="phone", contact="LEAK-SERVICE-LINE")
    for hours in range(6):
        unasked_call = visits.record_visit(ws, case=hotline_case, store=unasked_line, tester=None,
                                           answers={"reached_agent": True, "wait_minutes": 3 + hours,
                                                    "callback_promised": False},
                                           visited_at=ws.now() - timedelta(days=20, hours=hours))
        review_visit(ws, unasked_call["visit"], "approve")
    editorial.sign_off(ws, hotline_case, role="legal counsel", signed_by="LEAK-SIGNER")
    editorial.mark_published(ws, hotline_case, override="leak test")
    return [case, hotline_case, planted_story(ws, tmp_path)]


def planted_story(ws, tmp_path: Path) -> dict:
    """A story whose person did not consent to be named and whose company was asked, then
    told of one more event: unnamed again. Its texts name the company (recorded before)."""
    company = companies.add_company(ws, name="LEAK-STORY-COMPANY")
    companies.add_contact_point(ws, company, channel="phone", contact="LEAK-STORY-HOTLINE")
    t0 = ws.now() - timedelta(days=50)
    tip = tips.add_tip(ws, received_at=t0.isoformat(), channel="email", company="LEAK-STORY-COMPANY",
                       what_happened="Refund never paid.", contact="LEAK-TIP-CONTACT", issue="refund")
    case = stories.create_story(ws, slug="leak-story", title="Leak story", tip=tip, person_name="LEAK-PERSON-NAME",
                                contact="LEAK-PERSON-CONTACT", person_label="a customer from Mitte",
                                jurisdiction="Berlin", legal_basis="BGB", description="Documents.")["case"]
    mail = tmp_path / "LEAK-DOCNAME.eml"
    mail.write_text("From: LEAK-SENDER <x@example.org>\nDate: Mon, 05 Oct 2026 10:15:00 +0200\n"
                    "Subject: LEAK-SUBJECT\n\nLEAK-DOC-TEXT\n", encoding="utf-8")
    stories.add_event(ws, case, at=(t0 + timedelta(days=1)).isoformat(), what="LEAK-STORY-COMPANY promised a refund",
                      promise="a refund", due=(t0 + timedelta(days=10)).isoformat(), documents=[mail])
    stories.request_story_reply(ws, case, requested_at=(t0 + timedelta(days=2)).isoformat())
    stories.record_story_answer(ws, case, answer="We will look into it.", answered_at=(t0 + timedelta(days=3)).isoformat())
    stories.add_event(ws, case, at=(t0 + timedelta(days=20)).isoformat(), what="A second promise, again unpaid")
    stories.record_outcome(ws, case, what="LEAK-STORY-COMPANY paid after our enquiry")
    editorial.mark_published(ws, case, override="leak test: the company was not asked about every event on purpose")
    return case


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Planted and published once for the module: every test below only reads the published
    bytes (the 36 parametrised checks rebuilt them each before)."""
    tmp_path = tmp_path_factory.mktemp("leak")
    workspace = init_workspace(tmp_path / "ws", newsroom="Test Newsroom", timezone_name="Europe/Berlin")
    try:
        yield _publish(workspace, tmp_path)
    finally:
        workspace.close()


def _publish(workspace, tmp_path):
    planted_workspace(workspace, tmp_path)
    out = tmp_path / "public"
    result = build_public(workspace, out, override="LEAK-OVERRIDE-REASON: the checklist is not the subject here",
                          parquet=True)
    # The Parquet files (issue 28) are zstd-compressed: their values and metadata as text, so the
    # byte search below reads them as a reader of the files would.
    import pyarrow.parquet as pq

    assert result["parquet"]["files"]
    for f in result["parquet"]["files"]:
        table = pq.read_table(out / f["path"])
        (out / f"{f['path']}.txt").write_text(json.dumps([table.to_pylist(), {k.decode(): v.decode() for k, v in
                                                          table.schema.metadata.items()}], ensure_ascii=False,
                                                         default=str), encoding="utf-8")
    # Exports with --public are published bytes too.
    leak = cases.get_case(workspace, "leak")
    export_public(workspace, leak, "csv", out / "export-csv", override="LEAK-OVERRIDE-REASON")
    export_public(workspace, leak, "json", out / "export-json", override="LEAK-OVERRIDE-REASON")
    export_lives(workspace, leak, out / "export-lives", public=True, override="LEAK-OVERRIDE-REASON")
    # The public one-case report, as bytes and as the text a reader sees (the PDF compresses it).
    story = build_report(workspace, cases.get_case(workspace, "leak-story"), edition="public", lang="en",
                         out=out / "story.pdf", override="LEAK-OVERRIDE-REASON")
    text = "\n".join(page.extract_text() for page in PdfReader(story["pdf"]).pages)
    (out / "story.txt").write_text(" ".join(text.split()), encoding="utf-8")
    # The case report with its visits in an annex, a part per visit: each part is laid out as a
    # document of its own from the report's values (issue 30).
    annexed = with_setting(workspace, "[report]\nannex_rows = 1")
    report = build_report(annexed, cases.get_case(annexed, "leak"), edition="public", lang="en",
                          out=out / "annexed.pdf", override="LEAK-OVERRIDE-REASON")
    annexed.close()
    text = "\n".join(page.extract_text() for page in PdfReader(report["pdf"]).pages)
    (out / "annexed.txt").write_text(" ".join(text.split()), encoding="utf-8")
    return workspace, out, result


def every_published_byte(out: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file())


@pytest.mark.parametrize("field", sorted(PRIVATE))
def test_no_private_string_reaches_a_published_byte(published, field):
    ws, out, _ = published
    data = every_published_byte(out)
    assert data, "nothing was published"
    assert PRIVATE[field].encode() not in data, f"{field} leaked into {out}"


def test_no_workspace_path_or_evidence_path_is_published(published):
    ws, out, _ = published
    data = every_published_byte(out)
    assert str(ws.root).encode() not in data
    assert b"evidence/" not in data


def test_the_public_copy_still_holds_what_is_public(published):
    """Guard against a leak test that passes because nothing was written."""
    ws, out, result = published
    import sqlite3

    db = sqlite3.connect(out / "public.db")
    assert db.execute("select name from stores where named = 1 order by name").fetchall() == [("Hotline Co",), ("Named Shop",)]
    assert db.execute("select count(*) from stores where named = 0 and name is null").fetchone()[0] == 3
    assert db.execute("select count(*) from visits where case_slug = 'leak'").fetchone()[0] == 4  # rejected left out
    assert db.execute("select note from corrections").fetchone()[0] == "[…] was tested on the 3rd."
    assert db.execute("select visit_date from visits limit 1").fetchone()[0].count(":") == 0  # day precision
    assert db.execute("select count(*) from evidence_hashes").fetchone()[0] == 1
    assert db.execute("select count(*) from findings where code = 'PROMISE_BROKEN'").fetchone()[0] == 1
    counts = dict(db.execute("select business, complaints from complaint_counts").fetchall())
    from investigate.policy.naming import public_store_id

    hidden_id = ws.db.execute("select id from stores where name = 'LEAK-UNNAMED-STORE'").fetchone()[0]
    hidden = public_store_id(cases.get_case(ws, "leak"), hidden_id)
    assert db.execute("select named from stores where id = ?", [hidden]).fetchone() == (0,)
    # The same pseudonym as in the stores table; an unnamed chain and an unmatched company as such.
    assert counts == {"Named Shop": 2, hidden: 1, "Chain A": 1, "Business A": 1}
    # The service tables hold the unasked company under its pseudonym (the named one's call gave
    # no waiting time, and alone it is a group too small to show).
    assert db.execute("select company, count(*), sum(still_open) from response_times group by company "
                      "order by company").fetchall() == [("Company A", 6, 0)]
    # A group of one cannot stand alone, nor can the rest once it is folded: one merged row.
    assert db.execute("select company, tests from scorecard where grouping = 'company' order by company"
                      ).fetchall() == [("other groups", 7)]
    quoted = [r[0] for r in db.execute("select story from complaint_stories order by story")]
    assert quoted == ["Same at the other shop.", "Sold to a child.", "They sold cigarettes to my son (published with consent)."]


def test_the_public_story_still_tells_the_story(published):
    """Guard against a story leak test that passes because nothing was printed."""
    _, out, _ = published
    text = (out / "story.txt").read_text(encoding="utf-8")
    assert "[…] promised a refund" in text and "A second promise, again unpaid" in text
    assert "A customer from Mitte complained about Company A" in text
    assert "[…] paid after our enquiry" in text


def test_the_annexed_report_lists_every_public_visit_in_its_parts(published):
    """Guard against a leak test of the annex that passes because no part was laid out: the leak
    case's four public visits, a part each."""
    _, out, _ = published
    text = (out / "annexed.txt").read_text(encoding="utf-8")
    assert "The 4 visits are listed in the annex" in text
    assert all(f"Annex, part {n} of 4 · 1 / 1" in text for n in range(1, 5)) and "Named Shop" in text
