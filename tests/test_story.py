"""One person's story (issue 18): a tip becomes a story case with a timeline, documents and
promises on the clock, the company's answer through the right of reply, the outcome, and a
one-case report; the person stays a protected source; bad input writes nothing."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from investigate.ids import short
from investigate.cases import cases, companies, stories, tips, visits
from investigate.cases.review import review_visit
from investigate.cli import cli
from investigate import policy
from investigate.policy.coverage import company_named
from investigate.policy.texts import public_texts
from investigate.errors import InvalidInput, MissingTranslation
from investigate.reports.build import build_report
from investigate.desk.bundles import write_bundle

from conftest import snapshot

# Made-up words that occur in no template or catalogue: finding one can only be a leak.
COMPANY = "Brixtelo Elektro"
PERSON = "Wendeline Quastorf"
CONTACT = "wq-story@example.org"
PHONE = "+49 170 999 1234"
OTHER_PHONE = "+49 171 555 0101"  # a number only the person's e-mail holds


def pdf_text(path) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(path).pages).replace("\xa0", " ").split())


def eml(path: Path, *, date="Wed, 16 Sep 2026 11:40:00 +0200", sender="Brixtelo Service <service@brixtelo.example>",
        subject="Ihre Erstattung R-1") -> Path:
    path.write_text(f"From: {sender}\nTo: {CONTACT}\nDate: {date}\nSubject: {subject}\n"
                    "Content-Type: text/plain; charset=utf-8\n\nWir erstatten 249 EUR binnen 14 Tagen.\n",
                    encoding="utf-8")
    return path


def bill_pdf(path: Path) -> Path:
    from weasyprint import HTML

    HTML(string="<p>Rechnung 2026-104233: Bearbeitungsgebühr 49,90 EUR</p>").write_pdf(path)
    return path


@pytest.fixture
def story(workspace, tmp_path):
    """A story from a tip, without consent to name the person, with a promise and an e-mail."""
    ws = workspace
    company = companies.add_company(ws, name=COMPANY, sector="retail")
    hotline = companies.add_contact_point(ws, company, channel="phone", contact="+49 30 4000 1")
    t0 = ws.now() - timedelta(days=60)
    tip = tips.add_tip(ws, received_at=(t0 + timedelta(days=30)).isoformat(), channel="email", company=COMPANY,
                       issue="refund", contact=CONTACT, what_happened="Refund promised, never paid.")
    made = stories.create_story(ws, slug="refund-story", title="A refund promised twice", tip=tip,
                                person_label="a customer from Neukölln", person_name=PERSON, contact=PHONE,
                                jurisdiction="Berlin, DE", legal_basis="BGB § 346", description="Documents checked.")
    case = made["case"]
    first = stories.add_event(ws, case, at=(t0 + timedelta(days=1)).isoformat(), channel="phone",
                              what="The hotline promised a refund", promise="Refund of 249 EUR",
                              due=(t0 + timedelta(days=15)).isoformat())
    return {"ws": ws, "case": case, "company": company, "hotline": hotline, "t0": t0, "tip": tip, "first": first,
            "tmp": tmp_path}


def test_story_case_takes_its_business_from_the_tip_and_links_the_tip(story):
    ws, case = story["ws"], story["case"]
    assert case["kind"] == "story"
    assert stories.get_story(ws, case)["company_id"] == story["company"]["id"]
    assert ws.get("tips", story["tip"]["id"])["case_id"] == case["id"]


def test_eml_document_gives_its_date_sender_and_subject(story):
    ws, case = story["ws"], story["case"]
    mail = eml(story["tmp"] / "mail.eml")
    original = mail.read_bytes()
    event = stories.add_event(ws, case, at=None, channel="email", what="The refund was confirmed by e-mail",
                              documents=[mail])
    doc = event["documents"][0]
    assert event["at"] == "2026-09-16T11:40:00+02:00"  # the e-mail's own date, as no --at was given
    assert doc["sent_at"] == "2026-09-16T11:40:00+02:00"
    assert doc["sender"] == "Brixtelo Service <service@brixtelo.example>"
    assert doc["subject"] == "Ihre Erstattung R-1"
    assert doc["media_type"] == "message/rfc822" and event["source"] == "document"
    assert ws.evidence_path(doc["sha256"]).read_bytes() == original == mail.read_bytes()  # nothing modified


def test_pdf_bill_text_is_kept_for_search(story):
    ws, case = story["ws"], story["case"]
    event = stories.add_event(ws, case, at=(story["t0"] + timedelta(days=20)).isoformat(), channel="letter",
                              what="A fee bill came instead", documents=[bill_pdf(story["tmp"] / "bill.pdf")])
    assert "49,90 EUR" in event["documents"][0]["text"]
    assert ws.db.execute("select count(*) from story_documents where text like '%Bearbeitungsgebühr%'").fetchone()[0] == 1


def test_a_promise_to_the_person_turns_overdue_without_anyone_marking_it(story):
    ws, case, t0 = story["ws"], story["case"], story["t0"]
    before, after = t0 + timedelta(days=14), t0 + timedelta(days=16)
    assert [p["promise_state"] for p in stories.story_promises(ws, case, now=before)] == ["pending"]
    assert stories.story_promises(ws, case, now=before, overdue=True) == []
    assert [p["promise_state"] for p in stories.story_promises(ws, case, now=after)] == ["overdue"]
    assert [p["id"] for p in stories.story_promises(ws, case, now=after, overdue=True)] == [story["first"]["id"]]
    assert ws.get("story_events", story["first"]["id"])["kept"] is None  # nobody marked it
    stories.keep_promise(ws, ws.get("story_events", story["first"]["id"]), kept=True, at=ws.now().isoformat())
    assert [p["promise_state"] for p in stories.story_promises(ws, case)] == ["late"]


def test_company_is_unnamed_until_every_event_was_put_to_it(story):
    ws, case = story["ws"], story["case"]
    named = lambda: company_named(ws, case, policy.naming(ws, case).named_stores)  # noqa: E731
    assert not named()
    stories.request_story_reply(ws, case, requested_at=(ws.now() - timedelta(days=20)).isoformat())
    assert named()  # asked about every event, deadline passed
    # An event added after the request was not put to the company: unnamed again, also in print.
    stories.add_event(ws, case, at=(ws.now() - timedelta(days=2)).isoformat(), what="A second refund promise")
    assert not named()
    text = pdf_text(build_report(ws, case, edition="public", lang="en", out=story["tmp"] / "r.pdf",
                                 override="test")["pdf"])
    assert COMPANY not in text and "Company A" in text
    stories.request_story_reply(ws, case, requested_at=ws.now().isoformat())
    stories.record_story_answer(ws, case, answer="We regret the delay.")
    assert named()


def test_a_request_cannot_predate_an_event_it_puts_to_the_company(story):
    ws, case = story["ws"], story["case"]
    before = snapshot(ws)
    with pytest.raises(Exception, match="dated before the event"):
        stories.request_story_reply(ws, case, requested_at=story["t0"].isoformat())
    assert snapshot(ws) == before


def test_event_text_with_the_person_s_name_or_contact_is_refused(story):
    ws, case = story["ws"], story["case"]
    before = snapshot(ws)
    for text in (f"{PERSON} called the hotline", f"Reach her at {PHONE}", f"Mail {CONTACT}"):
        with pytest.raises(Exception, match="contains"):
            stories.add_event(ws, case, at=story["t0"].isoformat(), what=text)
    assert snapshot(ws) == before


def test_the_person_is_described_in_each_language_the_story_publishes_in_checked_like_the_original(story, run):
    ws, case = story["ws"], story["case"]  # an English story: "a customer from Neukölln"
    with pytest.raises(MissingTranslation, match=r"story refund-story has no description of the person in de: "
                                                 r"add --person … with investigate case edit refund-story --lang de"):
        stories.person_text(case, stories.get_story(ws, case), "de")
    before = snapshot(ws)
    # Naming the person, who did not consent, is refused by kind, never echoing the name.
    refused = run("case", "edit", "refund-story", "--lang", "de", "--person", f"Frau {PERSON} aus Neukölln")
    assert refused.exit_code != 0 and "did not consent to be named" in refused.output
    assert PERSON not in refused.output
    # The case's own language keeps the story's description; --person alone needs another language.
    assert run("case", "edit", "refund-story", "--person", "a reader").exit_code != 0
    assert snapshot(ws) == before
    assert run("case", "edit", "refund-story", "--lang", "de", "--person", "eine Kundin aus Neukölln").exit_code == 0
    case = ws.get("cases", case["id"])
    story_row = stories.get_story(ws, case)
    assert stories.person_text(case, story_row, "de") == "eine Kundin aus Neukölln"
    assert stories.person_text(case, story_row, "en") == "a customer from Neukölln"
    # The publication policy checks the translation like every printed text of the story.
    texts = dict(public_texts(ws, case, policy.naming(ws, case)))
    assert texts["description of the person (de)"] == "eine Kundin aus Neukölln"


def _publish_story(run, workspace, tmp_path, *, consent: bool) -> dict:
    """From a tip to a published story through the CLI, as a reporter would."""
    ws = workspace
    t0 = ws.now() - timedelta(days=60)
    day = lambda n, h=10: (t0 + timedelta(days=n, hours=h)).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    assert run("company", "add", COMPANY).exit_code == 0
    assert run("company", "contact", COMPANY, "--channel", "phone", "--contact", "+49 30 4000 1").exit_code == 0
    out = run("tip", "add", "--channel", "email", "--company", COMPANY, "--what", "Refund never paid",
              "--contact", CONTACT, "--issue", "refund", "--received", day(20), "--no-input", "--json")
    assert out.exit_code == 0, out.output
    tip_id = json.loads(out.output)["id"]
    for n in range(3):  # similar complaints on file
        run("tip", "add", "--channel", "phone", "--company", COMPANY, "--what", "Same here", "--issue", "refund",
            "--received", day(n), "--no-input")
    args = ["case", "new", "story-e2e", "--kind", "story", "--tip", short(tip_id), "--title", "Refund promised twice",
            "--person", "a customer from Neukölln", "--person-name", PERSON, "--contact", PHONE,
            "--jurisdiction", "Berlin, DE", "--legal-basis", "BGB § 346", "--description", "Documents checked."]
    out = run(*args, *(["--name-consent"] if consent else []))
    assert out.exit_code == 0, out.output
    mail = eml(tmp_path / "mail.eml", date=(t0 + timedelta(days=1, hours=11)).strftime("%a, %d %b %Y %H:%M:%S %z"))
    steps = [
        ["story", "event", "story-e2e", "--at", day(1), "--channel", "phone", "--what", "The hotline promised a refund",
         "--promise", "Refund of 249 EUR within 14 days", "--due", day(15)],
        ["story", "event", "story-e2e", "--channel", "email", "--what", "The refund was confirmed by e-mail",
         "--evidence", str(mail)],
        ["story", "event", "story-e2e", "--at", day(17), "--channel", "phone", "--what", "A second promise, again unpaid",
         "--promise", "Refund of 249 EUR within a week", "--due", day(24)],
        ["story", "event", "story-e2e", "--at", day(25), "--channel", "letter", "--what", "A fee bill came instead",
         "--evidence", str(bill_pdf(tmp_path / "bill.pdf"))],
    ]
    for step in steps:
        out = run(*step)
        assert out.exit_code == 0, out.output
    case = ws.db.execute("select id from cases where slug = 'story-e2e'").fetchone()[0]
    hotline = ws.db.execute("select id from stores where channel = 'phone'").fetchone()[0]
    test = visits.record_visit(ws, case=ws.get("cases", case), store=ws.get("stores", hotline), tester=None,
                               protocol="phone-hotline", visited_at=t0 + timedelta(days=30),
                               answers={"reached_person": "yes", "wait": "23 min", "greeting": "neutral",
                                        "listened": "yes", "answer_correct": "wrong", "misstated_rights": "yes",
                                        "solved_first_contact": "yes", "escalation": "n/a"})
    review_visit(ws, test["visit"], "approve")
    for step in (["story", "ask", "story-e2e", "--at", day(35)],
                 ["story", "answer", "story-e2e", "--answer", "We regret the delay; the refund is on its way.",
                  "--at", day(40)],
                 ["story", "outcome", "story-e2e", "--what", "The refund was paid after our enquiry", "--at", day(45)],
                 ["checklist", "signoff", "story-e2e", "--role", "legal counsel", "--by", "Counsel"]):
        out = run(*step)
        assert out.exit_code == 0, out.output
    out = run("report", "story-e2e", "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_from_tip_to_published_story_the_pdf_tells_timeline_promises_answer_and_outcome(run, workspace, tmp_path):
    result = _publish_story(run, workspace, tmp_path, consent=False)
    assert result["kind"] == "story" and result["version"] == 1  # the checklist passed: no override
    text = pdf_text(result["pdf"])
    for expected in ("The hotline promised a refund", "The refund was confirmed by e-mail", "A fee bill came instead",
                     "Refund of 249 EUR within 14 days", "overdue: counts as broken", "Refund of 249 EUR within a week",
                     "We regret the delay; the refund is on its way.", "The refund was paid after our enquiry",
                     "Phone hotline test", "3 similar complaints", COMPANY, "A customer from Neukölln",
                     "Proof of the record"):
        assert expected in text, expected
    assert PERSON not in text and CONTACT not in text and PHONE not in text
    reader = PdfReader(result["pdf"])
    assert "log-checkpoint.txt" in reader.attachments
    size = reader.attachments["log-checkpoint.txt"][0].decode().split("\n")[1]
    # the head every report shares (base.html) names the checkpoint, the story's too
    assert f"log-checkpoint {size} " in reader.metadata["/Keywords"]
    assert "<svg" not in text  # the timeline is drawn, not printed as markup


def test_person_named_in_print_only_with_consent(run, workspace, tmp_path):
    result = _publish_story(run, workspace, tmp_path, consent=True)
    text = pdf_text(result["pdf"])
    assert f"{PERSON} complained about {COMPANY}" in text
    assert CONTACT not in text and PHONE not in text


def test_person_s_contact_and_name_are_in_no_bundle(story, workspace, tmp_path):
    ws = workspace
    path = tmp_path / "story.zip"
    write_bundle(ws, [story["case"]], path)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    assert any(b"refund-story" in data for data in members.values())  # the story travelled
    for secret in (PERSON, CONTACT, PHONE):
        for name, data in members.items():
            assert secret.encode() not in data, f"{secret} in {name}"


def test_the_internal_edition_keeps_document_details_the_public_one_only_hashes(story):
    ws, case = story["ws"], story["case"]
    event = stories.add_event(ws, case, at=None, what="Confirmed by e-mail", documents=[eml(story["tmp"] / "m.eml")])
    stories.request_story_reply(ws, case, requested_at=(ws.now() - timedelta(days=20)).isoformat())
    sha = event["documents"][0]["sha256"]
    # An English story printed in German: its title, method and person in German first.
    case = cases.translate_case(ws, case, "de", title="Zweimal versprochen", description="Unterlagen geprüft.",
                                person="eine Kundin aus Neukölln")
    internal = pdf_text(build_report(ws, case, edition="internal", lang="de", out=story["tmp"] / "i.pdf")["pdf"])
    public = pdf_text(build_report(ws, case, edition="public", lang="de", out=story["tmp"] / "p.pdf",
                                   override="test")["pdf"])
    assert "Ihre Erstattung R-1" in internal and "m.eml" in internal
    assert "Ihre Erstattung R-1" not in public and "m.eml" not in public and "service@brixtelo" not in public
    assert sha[:32] in public.replace(" ", "")
    assert "Was zugesagt wurde und was geschah" in public and "überfällig" in public


def test_verify_finds_a_changed_story_document(story):
    ws, case = story["ws"], story["case"]
    from investigate.proof.verify import verify

    doc = stories.add_event(ws, case, at=None, what="Mail", documents=[eml(story["tmp"] / "m.eml")])["documents"][0]
    path = ws.evidence_path(doc["sha256"])
    path.chmod(0o644)
    path.write_bytes(b"changed")
    assert any(p.kind == "evidence" for p in verify(ws).problems)


@pytest.mark.parametrize("args, message", [
    (["story", "event", "s", "--at", "2099-01-01", "--what", "x"], "in the future"),
    (["story", "event", "s", "--at", "2026-01-05", "--what", "x", "--promise", "refund"], "needs a due date"),
    (["story", "event", "s", "--at", "2026-01-05", "--what", "x", "--evidence", "BROKEN_PDF"], "not a readable PDF"),
    (["story", "event", "s", "--what", "x", "--evidence", "BROKEN_EML"], "not a readable e-mail"),
    (["story", "event", "s", "--at", "2026-01-05", "--what", "x", "--evidence", "MISSING"], "no such file"),
    (["case", "new", "s2", "--kind", "story", "--title", "No business"], "needs the business"),
])
def test_bad_story_input_is_one_line_and_writes_nothing(workspace, tmp_path, args, message):
    ws = workspace
    company = companies.add_company(ws, name=COMPANY)
    companies.add_contact_point(ws, company, channel="phone", contact="+49 30 1")
    stories.create_story(ws, slug="s", title="Story", company=company)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf")
    (tmp_path / "broken.eml").write_bytes(b"\x00\x01 no headers at all")
    files = {"BROKEN_PDF": str(tmp_path / "broken.pdf"), "BROKEN_EML": str(tmp_path / "broken.eml"),
             "MISSING": str(tmp_path / "missing.pdf")}
    before = snapshot(ws)
    evidence_before = sorted((ws.root / "evidence").rglob("*")) if (ws.root / "evidence").exists() else []
    result = CliRunner().invoke(cli, ["-w", str(ws.root), *[files.get(a, a) for a in args]])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert snapshot(ws) == before
    after = sorted((ws.root / "evidence").rglob("*")) if (ws.root / "evidence").exists() else []
    assert after == evidence_before


def test_demo_story_case_is_published_ready_and_tells_the_refund(tmp_path):
    from investigate.demo.build import build_demo
    from investigate.policy import gate
    from investigate.store.workspace import Workspace

    summary = build_demo(tmp_path / "demo")
    assert summary["story"]["events"] == 5 and summary["story"]["similar"] == 6
    ws = Workspace(tmp_path / "demo")
    case = ws.db.execute("select * from cases where slug = 'story-elektromax-refund'").fetchone()
    case = ws.get("cases", case[0])
    assert gate.open_items(ws, case) == []
    states = [p["promise_state"] for p in stories.story_promises(ws, case)]
    assert states == ["late", "late"]  # the refund paid after our enquiry kept both, late
    text = pdf_text(build_report(ws, case, lang="de", out=tmp_path / "story.pdf")["pdf"])
    assert "ElektroMax" in text and "Eine Kundin aus Neukölln hat sich über ElektroMax beschwert" in text
    assert "Jana Kowalczyk" not in text and "jana.kowalczyk@example.org" not in text
    assert "249 Euro am 18. November 2026 erstattet" in text
    assert "2 / 2 Zusagen an die Kundschaft, nicht rechtzeitig eingehalten" in text
    ws.close()


@pytest.mark.parametrize("with_sources", [False, True])
def test_a_story_travels_in_a_bundle_its_documents_and_the_person_only_with_sources(story, tmp_path,
                                                                                     with_sources):
    from investigate.desk.merge import merge
    from investigate.proof.verify import verify
    from investigate.store.workspace import init_workspace

    ws, case = story["ws"], story["case"]
    stories.add_event(ws, case, at=None, what="Confirmed by e-mail", documents=[eml(story["tmp"] / "m.eml")])
    stories.request_story_reply(ws, case, requested_at=(ws.now() - timedelta(days=20)).isoformat())
    write_bundle(ws, [case], tmp_path / "b.zip", with_sources=with_sources)
    other = init_workspace(tmp_path / "other", newsroom="Other", timezone_name="Europe/Berlin")
    merge(other, tmp_path / "b.zip")
    theirs = other.get("cases", case["id"])
    assert [e["what"] for e in stories.events(other, theirs)] == [e["what"] for e in stories.events(ws, case)]
    docs = [r[0] for r in other.db.execute("select sha256 from story_documents")]
    assert len(docs) == (1 if with_sources else 0)  # the person's e-mail is source material (issue 31)
    assert all(other.evidence_path(doc).exists() for doc in docs)
    assert company_named(other, theirs, policy.naming(other, theirs).named_stores)
    people = other.db.execute("select name, contact from story_sources").fetchall()
    assert people == ([(PERSON, PHONE)] if with_sources else [])
    assert not verify(other).problems
    other.close()


def test_editors_story_page_shows_the_same_timeline_and_the_canned_query_runs(story):
    import asyncio

    from investigate.publish.server import editors_datasette

    ws, case = story["ws"], story["case"]
    event = stories.add_event(ws, case, at=None, what="Confirmed by e-mail", documents=[eml(story["tmp"] / "m.eml")])
    ds = editors_datasette(ws)

    async def go(path):
        return await ds.client.get(path)

    page = asyncio.run(go(f"/investigate/cases/{case['id']}"))
    assert page.status_code == 200
    html = page.text
    assert "The hotline promised a refund" in html and "Confirmed by e-mail" in html
    assert "overdue: counts as broken" in html and "<svg" in html
    assert "/-/evidence/" + event["documents"][0]["sha256"] in html
    doc = asyncio.run(go("/-/evidence/" + event["documents"][0]["sha256"]))
    assert doc.status_code == 200 and b"Ihre Erstattung R-1" in doc.content
    rows = asyncio.run(go("/investigate/story_timeline.json?case=refund-story&_shape=array")).json()
    # In time order: the e-mail (16 Sep 2026) came before the fixture's promise (60 days ago).
    assert [r["what"] for r in rows] == ["Confirmed by e-mail", "The hotline promised a refund"]
    assert [r["promise_state"] for r in rows] == [None, "overdue"]


def test_the_canned_story_timeline_gives_each_promise_the_state_the_promise_clock_gives(story):
    """`story_timeline` spells the promise clock in SQL (julianday) where every other surface asks
    `numbers.clock.promise_state`: kept on time, kept at the very second it was due, kept late,
    broken, overdue and pending must read alike in both."""
    import asyncio

    from investigate.publish.server import editors_datasette

    ws, case, t0 = story["ws"], story["case"], story["t0"]
    due = t0 + timedelta(days=20)

    def promised(what, days_due, kept=None, kept_days=None):
        event = stories.add_event(ws, case, at=(t0 + timedelta(days=2)).isoformat(), channel="phone", what=what,
                                  promise=what, due=(t0 + timedelta(days=days_due)).isoformat())
        if kept is not None:
            stories.keep_promise(ws, event, kept=kept, at=(t0 + timedelta(days=kept_days)).isoformat()
                                 if kept_days is not None else None)

    promised("A callback", 20, kept=True, kept_days=10)                       # kept on time
    promised("A credit note", 20, kept=True, kept_days=20)                    # kept the second it was due
    promised("A refund", 20, kept=True, kept_days=21)                         # kept late
    promised("A voucher", 20, kept=False)                                     # broken
    promised("A letter", 90)                                                  # pending: due in a month
    assert due < ws.now()
    expected = {e["what"]: e["promise_state"] for e in stories.events(ws, case)}
    assert sorted(expected.values(), key=str) == sorted(["kept", "kept", "late", "broken", "pending", "overdue"])
    ds = editors_datasette(ws)
    rows = asyncio.run(ds.client.get("/investigate/story_timeline.json?case=refund-story&_shape=array")).json()
    assert {r["what"]: r["promise_state"] for r in rows if r["promise"]} == expected


def test_editors_story_page_shows_a_story_in_its_own_language_without_translations(workspace):
    import asyncio

    from investigate.publish.server import editors_datasette

    ws = workspace
    company = companies.add_company(ws, name=COMPANY)
    companies.add_contact_point(ws, company, channel="phone", contact="+49 30 1")
    case = stories.create_story(ws, slug="de-story", title="Zweimal versprochen", company=company, language="de",
                                person_label="eine Kundin aus Neukölln")["case"]
    stories.add_event(ws, case, at=(ws.now() - timedelta(days=3)).isoformat(), what="Die Hotline sagt zu")
    page = asyncio.run(editors_datasette(ws).client.get(f"/investigate/cases/{case['id']}"))
    # A German story with no English texts is the editors' everyday case, not an error page.
    assert page.status_code == 200 and "Die Hotline sagt zu" in page.text


def test_leads_open_story_makes_one_person_s_story_and_counts_the_rest_as_similar(run, workspace):
    ws = workspace
    company = companies.add_company(ws, name=COMPANY)
    companies.add_contact_point(ws, company, channel="phone", contact="+49 30 1")
    made = [tips.add_tip(ws, received_at=(ws.now() - timedelta(days=10 - n)).isoformat(), channel="phone",
                         company=COMPANY, what_happened="Refund never paid", issue="refund") for n in range(4)]
    other = tips.add_tip(ws, channel="phone", company=COMPANY, what_happened="Rude staff", issue="courtesy")
    lead = json.loads(run("leads", "--min", "3", "--json").output)[0]["lead"]
    out = run("leads", "open", lead, "--story", short(other["id"]))
    assert out.exit_code != 0 and "not one of lead" in out.output
    out = run("leads", "open", lead, "--story", short(made[0]["id"]), "--person", "a customer", "--json")
    assert out.exit_code == 0, out.output
    case = ws.get("cases", json.loads(out.output)["case"]["id"])
    assert case["kind"] == "story"
    assert stories.similar_complaints(ws, case)["count"] == 3


def test_promise_list_overdue_shows_a_story_promise_beside_the_tests_own(story, run):
    rows = json.loads(run("promise", "list", "--overdue", "--json").output)
    assert [(r["id"], r["kind"], r["store_name"], r["what"]) for r in rows] == [
        (story["first"]["id"], "story", COMPANY, "Refund of 249 EUR")]
    stories.keep_promise(story["ws"], story["ws"].get("story_events", story["first"]["id"]), kept=False)
    assert json.loads(run("promise", "list", "--overdue", "--json").output) == []


def test_story_keep_settles_a_promise_by_the_short_id_the_timeline_shows(story, run):
    ws, first = story["ws"], story["first"]
    out = run("story", "keep", "refund-story", short(first["id"]), "--at", ws.now().isoformat(), "--note", "paid")
    assert out.exit_code == 0, out.output
    assert f"Promise {short(first['id'])} (Refund of 249 EUR) marked kept; now late." in out.output
    assert [p["promise_state"] for p in stories.story_promises(ws, story["case"])] == ["late"]
    entry = ws.db.execute("select data from audit_log where row_id = ? and action = 'keep'", [first["id"]]).fetchone()
    assert json.loads(entry[0])["reason"] == "promise kept: paid"


def test_story_break_marks_the_promise_broken_and_it_is_not_marked_twice(story, run):
    out = run("story", "break", "refund-story", short(story["first"]["id"]))
    assert out.exit_code == 0, out.output
    assert [p["promise_state"] for p in stories.story_promises(story["ws"], story["case"])] == ["broken"]
    again = run("story", "keep", "refund-story", short(story["first"]["id"]))
    assert again.exit_code == 1 and again.output.strip().endswith("is already marked broken")


def test_promise_keep_settles_a_story_promise_that_promise_list_shows(story, run):
    listed = json.loads(run("promise", "list", "--json").output)
    assert [r["kind"] for r in listed] == ["story"]
    out = run("promise", "keep", short(listed[0]["id"]))
    assert out.exit_code == 0, out.output
    assert "(Refund of 249 EUR) marked kept" in out.output
    assert json.loads(run("promise", "list", "--json").output)[0]["state"] == "late"


def test_story_keep_of_an_event_that_made_no_promise_is_one_line_and_writes_nothing(story, run):
    ws = story["ws"]
    plain = stories.add_event(ws, story["case"], at=(story["t0"] + timedelta(days=2)).isoformat(),
                              what="The customer wrote to the shop")
    before = snapshot(ws)
    for args in (("story", "keep", "refund-story", short(plain["id"])), ("promise", "keep", short(plain["id"])),
                 ("story", "keep", "refund-story", "ffff0000")):
        out = run(*args)
        assert out.exit_code == 1 and len(out.output.strip().splitlines()) == 1, out.output
        assert "Traceback" not in out.output
    assert "made no promise" in run("story", "keep", "refund-story", short(plain["id"])).output
    assert "no promise matches" in run("promise", "keep", short(plain["id"])).output
    assert snapshot(ws) == before


def _answerable(story):
    ws, case = story["ws"], story["case"]
    stories.request_story_reply(ws, case, requested_at=(ws.now() - timedelta(days=20)).isoformat())
    return ws, case


def test_an_answer_naming_the_person_by_one_word_of_her_name_is_refused_by_kind_never_value(story, run):
    ws, case = _answerable(story)
    surname = PERSON.split()[-1]
    before = snapshot(ws)
    out = run("story", "answer", "refund-story", "--answer", f"Frau {surname} hat ihr Geld bekommen.")
    assert out.exit_code == 1 and "the name of a person who did not consent to be named" in out.output
    assert surname not in out.output and len(out.output.strip().splitlines()) == 1
    assert snapshot(ws) == before


def test_a_corrected_answer_is_a_new_audited_version_checked_like_the_first(story, run):
    ws, case = _answerable(story)
    assert run("story", "answer", "refund-story", "--answer", "We paid the customer.").exit_code == 0
    named = run("story", "answer", "refund-story", "--correct", "--reason", "new wording",
                "--answer", f"We paid {PERSON.split()[0]}.")
    assert named.exit_code == 1 and "did not consent to be named" in named.output
    out = run("story", "answer", "refund-story", "--correct", "--reason", "the company sent a new version",
              "--answer", "We paid the customer in full.")
    assert out.exit_code == 0 and "Answer corrected on 1 request(s)." in out.output
    reply = ws.db.execute("select id, answer from replies where case_id = ?", [case["id"]]).fetchone()
    assert reply[1] == "We paid the customer in full."
    entry = json.loads(ws.db.execute("select data from audit_log where row_id = ? and action = 'correct_answer'",
                                     [reply[0]]).fetchone()[0])
    assert entry["reason"] == "answer corrected: the company sent a new version"
    assert entry["old"]["answer"] == "We paid the customer."
    assert run("story", "answer", "refund-story", "--correct", "--answer", "x").exit_code == 1  # no reason


def test_the_person_s_address_is_private_in_every_text_that_may_be_printed(workspace):
    ws = workspace
    company = companies.add_company(ws, name=COMPANY, sector="retail")
    companies.add_contact_point(ws, company, channel="phone", contact="+49 30 4000 1")
    made = stories.create_story(ws, slug="address-story", title="A bill", company=company,
                                person_label="a customer", address="Quastorfweg 12, 10969 Berlin")
    with pytest.raises(InvalidInput, match="a story source's address"):
        stories.record_outcome(ws, made["case"], what="Paid to Quastorfweg 12, 10969 Berlin")


def test_an_e_mail_s_addresses_and_numbers_are_source_material_not_in_the_log_or_a_bundle(story, tmp_path):
    ws, case = story["ws"], story["case"]
    mail = story["tmp"] / "fwd.eml"
    mail.write_text(f"From: {PERSON} <{CONTACT}>\nTo: Brixtelo Service <service@brixtelo.example>\n"
                    "Date: Wed, 16 Sep 2026 11:40:00 +0200\nSubject: Fwd: Erstattung\n"
                    f"Content-Type: text/plain; charset=utf-8\n\nBitte rufen Sie mich an: {OTHER_PHONE}.\n", encoding="utf-8")
    event = stories.add_event(ws, case, at=None, what="The customer forwarded her e-mail", documents=[mail])
    assert event["documents"][0]["sender"] == f"{PERSON} <{CONTACT}>"  # the newsroom still sees it
    stored = ws.db.execute("select sender, text from story_documents").fetchone()
    assert stored[0] is None and OTHER_PHONE not in stored[1] and "[phone]" in stored[1]
    log = "\n".join(r[0] or "" for r in ws.db.execute("select data from audit_log"))
    for secret in (PERSON, CONTACT, OTHER_PHONE):
        assert secret not in log
    with pytest.raises(InvalidInput, match="an e-mail address or phone number from a story's documents"):
        stories.add_event(ws, case, at=ws.now().isoformat(), what=f"Call {OTHER_PHONE}")
    write_bundle(ws, [case], tmp_path / "b.zip")
    with zipfile.ZipFile(tmp_path / "b.zip") as z:
        tables = {n: z.read(n) for n in z.namelist() if not n.startswith("evidence/")}
    for secret in (PERSON, CONTACT, OTHER_PHONE):
        assert not any(secret.encode() in data for data in tables.values()), secret


def test_texts_written_in_another_language_print_as_quotations_marked_with_it(story, tmp_path):
    ws, case = story["ws"], story["case"]
    stories.add_event(ws, case, at=(story["t0"] + timedelta(days=3)).isoformat(), language="de",
                      what="Die Hotline sagt die Erstattung zu.")
    stories.request_story_reply(ws, case, requested_at=(ws.now() - timedelta(days=20)).isoformat())
    stories.record_story_answer(ws, case, answer="Wir bedauern die Verzögerung.", language="de")
    text = pdf_text(build_report(ws, case, lang="en", out=tmp_path / "en.pdf",
                                 override="languages test")["pdf"])
    assert "“Die Hotline sagt die Erstattung zu.” (in German)" in text
    assert "The hotline promised a refund" in text and "“The hotline promised a refund”" not in text  # its own
    assert "Answer in German: Wir bedauern die Verzögerung." in text
    with pytest.raises(InvalidInput, match="language 'fr' is not one of en, de, da"):
        stories.add_event(ws, case, at=ws.now().isoformat(), what="Appel", language="fr")
