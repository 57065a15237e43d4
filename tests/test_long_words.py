"""Issue 31 (5): long words are laid out in linear time. A store named by one word of 10,000
characters made the public report take 405 s of CPU: WeasyPrint measured the table cell by
laying out the rest of the word again after every character. The report now prints such a word
in pieces of 64 characters with a word-break opportunity between them (``<wbr>``,
``reports.render.breakable``); the text itself is unchanged and wraps inside its cell."""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta

import markupsafe

from investigate.cases import cases, editorial, replies, stores, testers, visits
from investigate.cases.review import review_visit
from investigate.reports.render import LONG_WORD, breakable

from conftest import need_tool

WORD = ("Spätkauf" * 1250)[:10_000]


def test_a_public_report_naming_a_store_of_10000_characters_renders_in_seconds_with_the_name_whole(
        workspace, run, tmp_path):
    need_tool("pdftotext", package="poppler-utils")
    ws = workspace
    case = cases.create_case(ws, slug="long", title="Long names", protocol="tobacco-minors",
                             jurisdiction="Berlin, DE", legal_basis="JuSchG § 10", reply_days=3)
    shops = [stores.add_store(ws, name=WORD, address="Sonnenallee 1", city="Berlin", lat=52.48, lon=13.43),
             stores.add_store(ws, name="Kiosk am Park", address="Sonnenallee 2", city="Berlin", lat=52.481, lon=13.431)]
    stores.add_to_frame(ws, case, shops)
    tester = testers.add_tester(ws, code="T-07", birth_month="2010-03", consent=True, consent_date="2026-01-10")
    for i, shop in enumerate(shops):
        recorded = visits.record_visit(ws, case=case, store=shop, tester=tester,
                                       visited_at=ws.now() - timedelta(days=10, hours=i), observer="Observer Olsen",
                                       answers={"product": "cigarettes", "sale": i == 0, "id_check": "none",
                                                "id_carried": True})
        review_visit(ws, recorded["visit"], "approve")
        replies.request_reply(ws, case, shop, requested_at=(ws.now() - timedelta(days=9)).isoformat())
    editorial.sign_off(ws, case, role="legal counsel", signed_by="Counsel")
    started = time.process_time()
    result = run("report", "long", "--edition", "public", "--out", tmp_path / "r.pdf", "--override", "long words")
    cpu = time.process_time() - started
    assert result.exit_code == 0, result.output
    assert cpu < 60, f"{cpu:.0f} s of CPU"  # 405 s before; about 5 s on a busy shared machine
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    # Named, and whole: the word wraps in its cell (pdftotext reads the next column's text between
    # its lines, so its letters are counted). Cut into boxes with no break between them, most of it
    # ran off the page and was lost.
    assert text.count("ä") >= WORD.count("ä") == 1250


def test_a_long_word_may_break_every_64_characters_and_everything_else_prints_as_before():
    sha = "ab" * 32
    assert breakable(f"SHA-256 {sha}") == f"SHA-256 {sha}"  # 64 characters: never cut
    assert breakable(markupsafe.Markup("<b>" + "x" * 200 + "</b>")) == markupsafe.Markup("<b>" + "x" * 200 + "</b>")
    assert breakable(42) == 42
    hostile = "<script>" + "ä" * 1000 + "&"
    printed = breakable(f"Shop {hostile} end")
    assert isinstance(printed, markupsafe.Markup)
    assert "<script>" not in printed and "&lt;script&gt;" in printed  # still escaped
    assert markupsafe.Markup(printed).striptags() == f"Shop {hostile} end"  # the text, unchanged
    pieces = [markupsafe.Markup(p).striptags() for p in str(printed).split("<wbr>")]
    assert len(pieces) == -(-len(hostile) // LONG_WORD)  # 1,009 characters: 16 pieces
    assert all(len(p) == LONG_WORD for p in pieces[1:-1])
