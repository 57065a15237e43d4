"""The service report (issue 13): the demo's service case as a public PDF in en, de and da,
read back; a public edition with nothing to publish is refused; private data stays out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from investigate.cases import cases, companies, promises, visits
from investigate.cases.review import review_visit
from investigate.cli import cli
from investigate.demo.build import build_demo
from investigate.errors import PolicyError
from investigate.reports.build import build_report
from investigate.store.workspace import Workspace

SLUG = "service-test-berlin-2026"
WORDS = {
    "en": ["Courtesy", "Respect", "Commitment", "Honesty", "Resolution", "Scorecard by company and channel",
           "Response times by channel", "Promises kept and broken", "Price honesty", "What the companies said"],
    "de": ["Höflichkeit", "Respekt", "Verbindlichkeit", "Ehrlichkeit", "Lösung", "Wertung nach Unternehmen und Kanal",
           "Antwortzeiten nach Kanal", "Gehaltene und gebrochene Versprechen", "Preisehrlichkeit",
           "Was die Unternehmen sagen"],
    "da": ["Høflighed", "Respekt", "Pålidelighed", "Ærlighed", "Løsning", "Score efter virksomhed og kanal",
           "Svartider efter kanal", "Holdte og brudte løfter", "Prisærlighed", "Hvad virksomhederne siger"],
}


def pdf_text(path) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages).replace("\xa0", " ")


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "ws"
    build_demo(root)
    return root


@pytest.mark.parametrize("lang", ["en", "de", "da"])
def test_public_service_report_reads_back_in_its_language(demo_root, tmp_path, lang):
    out = tmp_path / f"service-{lang}.pdf"
    result = CliRunner().invoke(cli, ["-w", str(demo_root), "report", SLUG, "--lang", lang, "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = pdf_text(out)
    for word in WORDS[lang]:
        assert word in text, f"{word!r} missing from the {lang} report"
    for other in {"en", "de", "da"} - {lang}:
        for word in WORDS[other][5:]:  # headings of the other languages never appear
            assert word not in text
    # the scorecard: every company and its channels
    for company in ("TeleNord Mobilfunk", "Spreestrom Energie", "Kiezbank", "ElektroMax"):
        assert company in text
    # the replies, verbatim
    assert "Die fehlerhafte Abrechnung beruhte auf einem falsch übertragenen Zählerstand." in text
    assert "Der Preisunterschied an der Kasse geht auf ein nicht aktualisiertes Regaletikett zurück." in text
    # the price gap, in the language's money format
    assert {"en": "€59.90", "de": "59,90 €", "da": "59,90 €"}[lang] in text
    # nothing internal
    assert "Skript B" not in text and "Justiziariat" not in text and "service@telenord.example" not in text


def test_internal_service_report_renders(demo_root, tmp_path):
    out = tmp_path / "internal.pdf"
    with Workspace(demo_root) as ws:
        result = build_report(ws, cases.get_case(ws, SLUG), edition="internal", lang="en", out=out)
    assert result["kind"] == "service" and result["figures"]["tests"] == 80
    assert "Internal edition" in pdf_text(out)


def test_public_service_report_with_nothing_publishable_is_refused_not_rendered_empty(workspace, tmp_path):
    ws = workspace
    case = cases.create_case(ws, slug="service-empty", title="Service", protocol="phone-hotline",
                             jurisdiction="DE", legal_basis="BGB", description="Calls.")
    tele = companies.add_company(ws, name="Tele AG")
    line = companies.add_contact_point(ws, tele, channel="phone", contact="+49 30 1")
    visits.record_visit(ws, case=case, store=line, tester=None, visited_at=ws.now() - timedelta(days=3),
                        answers={"reached_person": "yes", "wait": "1 min"})  # never approved
    out = tmp_path / "empty.pdf"
    with pytest.raises(PolicyError, match="nothing can be published in a public edition: no approved, completed test"):
        build_report(ws, case, lang="en", out=out, override="testing the refusal")
    assert not out.exists()
    result = CliRunner().invoke(cli, ["-w", str(ws.root), "report", "service-empty", "--override", "x",
                                      "--out", str(out)])
    assert result.exit_code != 0 and "nothing can be published" in result.stderr and not out.exists()


def unasked_companies(ws) -> dict:
    """A phone case of two companies never asked for comment: one tested five times (a cell of its
    own), one twice (folded into "other groups"); private strings planted around them."""
    case = cases.create_case(ws, slug="service-names", title="Service", protocol="phone-hotline",
                             jurisdiction="DE", legal_basis="BGB", description="Calls.")
    tele = companies.add_company(ws, name="Secret Tele AG", notes="LEAK-COMPANY-NOTE")
    line = companies.add_contact_point(ws, tele, channel="phone", contact="LEAK-HOTLINE-NUMBER")
    t0 = ws.now() - timedelta(days=20)
    for i in range(5):
        r = visits.record_visit(ws, case=case, store=line, tester=None, visited_at=t0 + timedelta(hours=i),
                                observer="LEAK-OBSERVER", notes="LEAK-VISIT-NOTE",
                                answers={"reached_person": "yes", "wait": "2 min", "greeting": "curt",
                                         "callback_promised_at": (t0 + timedelta(days=1)).isoformat()})
        if i == 0:
            promises.keep_promise(ws, r["promises"][0], kept=False, note="LEAK-PROMISE-NOTE")
        review_visit(ws, r["visit"], "approve", reviewer="LEAK-REVIEWER")
    # a second company with too few tests for a cell of its own: folded, and still not named
    other = companies.add_company(ws, name="Hidden Bank eG")
    desk = companies.add_contact_point(ws, other, channel="phone", contact="LEAK-BANK-NUMBER")
    for i in range(2):
        r = visits.record_visit(ws, case=case, store=desk, tester=None, visited_at=t0 + timedelta(days=1, hours=i),
                                answers={"reached_person": "yes", "wait": "1 min"})
        review_visit(ws, r["visit"], "approve")
    return case


def test_public_service_report_keeps_an_unasked_company_unnamed(workspace, tmp_path):
    ws = workspace
    case = unasked_companies(ws)
    out = tmp_path / "names.pdf"
    build_report(ws, case, lang="en", out=out, override="not asked yet")
    text = pdf_text(out)
    assert "Company A" in text and "Company B" in text and "Merged here" in text
    assert "Secret Tele AG" not in text and "Hidden Bank" not in text and "LEAK-BANK-NUMBER" not in text
    for private in ("LEAK-COMPANY-NOTE", "LEAK-HOTLINE-NUMBER", "LEAK-OBSERVER", "LEAK-VISIT-NOTE",
                    "LEAK-PROMISE-NOTE", "LEAK-REVIEWER", str(ws.root)):
        assert private not in text
    # four callbacks left open are overdue by the clock: they are findings without anyone marking them
    assert text.count("Promised callback did not come in time (overdue)") == 4


@pytest.mark.parametrize("slug", ["service-test-berlin-2026", "story-elektromax-refund"])
def test_the_same_content_in_another_language_or_rendered_twice_is_the_same_version(tmp_path, slug):
    from investigate.cases.cases import get_case

    root = tmp_path / "ws"
    build_demo(root)
    with Workspace(root) as ws:
        render = lambda lang, n: build_report(  # noqa: E731
            ws, get_case(ws, slug), lang=lang, out=tmp_path / f"{n}.pdf",
            override="versions test: the checklist is not the point")["version"]
        versions = [render("en", 1), render("da", 2), render("en", 3), render("de", 4)]
        assert versions == [versions[0]] * 4
        # A change to the case's records is new content: the next version.
        cases.translate_case(ws, get_case(ws, slug), "en", title="A new English title")
        assert render("en", 5) == versions[0] + 1


def test_the_service_report_opens_on_a_lede_ranks_companies_and_groups_findings_by_company(demo_root, tmp_path):
    from investigate.cases.cases import get_case
    from investigate.views.service import gather_service

    with Workspace(demo_root) as ws:
        context = gather_service(ws, get_case(ws, SLUG), edition="internal", lang="en")
        text = pdf_text(build_report(ws, get_case(ws, SLUG), edition="internal", lang="en",
                                     out=tmp_path / "service.pdf")["pdf"])
    scores = [float(r["overall"]["text"]) for r in context["companies"]]
    assert scores == sorted(scores, reverse=True) and [r["rank"] for r in context["companies"]] == [1, 2, 3, 4]
    ranking = [r["group"]["company"] for r in context["companies"]]
    assert [g["company"] for g in context["finding_groups"]] == [c for c in ranking if any(
        f["company"] == c for f in context["findings"])]
    for group in context["finding_groups"]:
        dates = [f["date"] for f in group["rows"]]
        assert all(f["company"] == group["company"] for f in group["rows"]) and len(dates) >= 1
    broke = sum(1 for p in context["promises"] if p["broken"] + p["overdue"])
    assert context["lede"].startswith(f"{broke} of 4 companies broke a promise made to our testers.")
    assert "E-mail answers took a median of" in context["lede"]
    assert context["lede"] in text


def test_the_public_database_scores_and_times_each_company_as_the_report_prints_them(demo_root, tmp_path):
    """The public ``scorecard`` holds the report's ranking figures, and ``response_times`` the tests
    behind its response-time medians: a reader recomputes each channel's Kaplan–Meier median."""
    import sqlite3

    from scipy.stats import CensoredData, ecdf

    from investigate.cases.cases import get_case
    from investigate.publish.public import build_public
    from investigate.views.service import gather_service

    with Workspace(demo_root) as ws:
        case = get_case(ws, SLUG)
        context = gather_service(ws, case, edition="public", lang=case["language"])
        built = build_public(ws, tmp_path / "public", slugs=[SLUG], override="the checklist is not the point",
                             record=False)
    db = sqlite3.connect(built["database"])
    ranked = db.execute("select company, tests, overall, overall_ci_low, overall_ci_high from scorecard "
                        "where grouping = 'company' order by overall desc").fetchall()
    assert [(c, n, context["fmt"].num(round(o))) for c, n, o, _, _ in ranked] == [
        (r["group"]["company"], r["tests"], r["overall"]["text"]) for r in context["companies"]]
    assert all(low < overall < high for _, _, overall, low, high in ranked)
    for channel, median, still_open in db.execute(
            "select channel, response_median, responses_open from scorecard where grouping = 'channel'").fetchall():
        times = db.execute("select minutes, still_open from response_times where channel = ?", [channel]).fetchall()
        assert sum(o for _, o in times) == still_open
        curve = ecdf(CensoredData(uncensored=[m for m, o in times if not o], right=[m for m, o in times if o])).sf
        recomputed = next(x for x, s in zip(curve.quantiles, curve.probabilities) if s <= 0.5 + 1e-12)
        assert median == pytest.approx(recomputed, abs=0.1), channel
    assert db.execute("select sum(tests) from scorecard where grouping = 'channel'").fetchone()[0] == 80
    # Each test's answers by its own protocol's labels (the counter's "teller", not the case's
    # phone protocol's raw key), in the case's language; "did not apply" is no "ja".
    answers = " ".join(r[0] for r in db.execute("select answers from visits"))
    assert "representative: Bankangestellte am Schalter" in answers and "information_correct: richtig" in answers
    assert "teller" not in answers and "cashier" not in answers
    assert "misstated_rights: n/a" in answers


def test_the_public_database_keeps_an_unasked_company_unnamed_as_the_report_does(workspace, tmp_path):
    import sqlite3

    from investigate.publish.public import build_public

    ws = workspace
    case = unasked_companies(ws)
    built = build_public(ws, tmp_path / "public", slugs=[case["slug"]], override="not asked yet", record=False)
    db = sqlite3.connect(built["database"])
    # Two tests cannot stand alone, nor five once they are folded in: one merged row, as printed.
    assert db.execute("select company, tests from scorecard where grouping = 'company' order by company"
                      ).fetchall() == [("other groups", 7)]
    assert {r[0] for r in db.execute("select company from response_times")} == {"Company A", "Company B"}
    data = Path(built["database"]).read_bytes() + Path(built["metadata"]).read_bytes()
    for private in (b"Secret Tele AG", b"Hidden Bank", b"LEAK-HOTLINE-NUMBER", b"LEAK-BANK-NUMBER"):
        assert private not in data


def test_the_service_report_draws_each_dimension_and_each_channel_s_response_curve(demo_root, tmp_path):
    """A small chart per dimension (the overall score first) and a Kaplan–Meier curve per channel,
    its contacts without a response counted as the response-time table counts them."""
    from investigate.cases.cases import get_case
    from investigate.views.service import gather_service

    with Workspace(demo_root) as ws:
        context = gather_service(ws, get_case(ws, SLUG), edition="public", lang="en")
        text = pdf_text(build_report(ws, get_case(ws, SLUG), lang="en", out=tmp_path / "service.pdf",
                                     override="the checklist is not the point")["pdf"])
    assert len(context["dimension_charts"]) == 1 + len(context["dimension_names"]) == 6
    for title in ("Overall", *context["dimension_names"]):
        assert sum(f">{title}</text>" in chart for chart in context["dimension_charts"]) == 1, title
    assert len(context["response_charts"]) == len(context["channels"]) == 3
    for channel, chart in zip(context["channels"], context["response_charts"]):
        assert f"{channel['channel']} (n={channel['tests']})" in chart and "<polyline" in chart
        if channel["reply"]["open"]:
            assert f"{channel['reply']['open']} without a response" in chart
        assert f"median {channel['reply']['median']}" in text
    assert "E-mail (n=24)" in text and "4 without a response" in text


@pytest.mark.parametrize("public", [False, True])
def test_a_scorecard_of_the_scored_visits_given_is_the_scorecard_it_would_score_itself(demo_root, public):
    """The report and the public copy hand the scorecard the visits they scored already: every
    grouping must come out as the scorecard scoring them itself would give it."""
    from datetime import datetime, timezone

    from investigate.views.scorecard import scorecard, scored_visits

    now = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
    with Workspace(demo_root) as ws:
        case = cases.get_case(ws, SLUG)
        rows = scored_visits(ws, case, approved_only=public, now=now)
        for by in [(), ("company",), ("channel",), ("company", "channel")]:
            threshold = 5 if public else None
            given = scorecard(ws, case, by=by, approved_only=public, now=now, threshold=threshold, scored=rows)
            assert given == scorecard(ws, case, by=by, approved_only=public, now=now, threshold=threshold), by
            assert given["groups"], by


def test_the_service_report_and_the_public_copy_score_each_test_once(demo_root, tmp_path, monkeypatch):
    """A service report and the public copy each group their scores four ways: each test is
    scored once for all of them (at 10,000 tests each pass took about 0.15 s)."""
    from investigate.protocol.model import Protocol
    from investigate.publish.public import build_public
    from investigate.views.scorecard import scorecard, scored_visits
    from investigate.views.service import gather_service

    calls = []
    score = Protocol.score
    with Workspace(demo_root) as ws:
        case = cases.get_case(ws, SLUG)
        approved = len(scored_visits(ws, case, approved_only=True))
        scored_overall = scorecard(ws, case, by=())["groups"][0]["overall"]["n"]
        monkeypatch.setattr(Protocol, "score", lambda self, *a, **k: calls.append(1) or score(self, *a, **k))
        context = gather_service(ws, case, edition="internal", lang="en")
        assert len(calls) == 80 == context["figures"]["tests"]
        assert context["figures"]["overall"]["n"] == scored_overall > 0
        # and every grouping holds every test once
        for grouping in ("grid", "companies", "channels"):
            assert sum(g["tests"] for g in context[grouping]) == 80, grouping
        calls.clear()
        build_public(ws, tmp_path / "public", slugs=[SLUG], override="the checklist is not the point", record=False)
    assert len(calls) == approved > 0


def test_the_public_scorecard_labels_each_company_as_the_public_report_does(tmp_path):
    """A company is named in public only when every contact point of it that was tested may be:
    the demo's four are, until Kiezbank's new hotline is tested and never asked. The public
    scorecard (which reads the tested contact points without scoring them) and the public
    report label every company alike."""
    import json

    from investigate.views.service import gather_service

    root = tmp_path / "ws"
    build_demo(root)
    with Workspace(root) as ws:
        case = cases.get_case(ws, SLUG)
        kiezbank = next(ws.db.query("select * from companies where name = 'Kiezbank'"))
        line = companies.add_contact_point(ws, kiezbank, channel="phone", contact="+49 30 0000")
        for i in range(5):
            r = visits.record_visit(ws, case=case, store=line, tester=None,
                                    visited_at=ws.now() - timedelta(days=30, hours=i),
                                    answers={"reached_person": "yes", "wait": "2 min", "greeting": "curt"})
            review_visit(ws, r["visit"], "approve")
        report = sorted(c["group"]["company"] for c in gather_service(ws, case, edition="public", lang="en")["companies"])
    result = CliRunner().invoke(cli, ["-w", str(root), "scorecard", SLUG, "--public", "--json"])
    assert result.exit_code == 0, result.output
    card = sorted(g["group"]["company"] for g in json.loads(result.output)["groups"])
    assert card == report == ["Company A", "ElektroMax", "Spreestrom Energie", "TeleNord Mobilfunk"]
    assert "Kiezbank" not in result.output
