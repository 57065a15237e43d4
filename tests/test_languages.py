"""Whole-language output: a German or Danish report or letter is German or Danish throughout,
for every built-in protocol, and a missing translation stops the report with its name."""

from __future__ import annotations

import copy
import re
import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest
from pypdf import PdfReader

from investigate.cases import cases, companies, findings, replies, stores, stories, testers, visits
from investigate.protocol.protocols import all_protocols, get_protocol
from investigate.cases.review import review_visit
from investigate.errors import MissingTranslation
from investigate.publish.public import build_public
from investigate.reports.build import build_letter, build_report
from investigate.views.i18n import LANGUAGES, Formatter
from investigate.cases.samples import draw_sample

# Every built-in, the scored customer-service protocols (issue 13: they render the service
# report) as much as the tobacco and official ones.
BUILTINS = sorted(all_protocols())


def words_of(path) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return norm(text)


def norm(text: str) -> str:
    # A cell may break a line after a hyphen ("FDA-" / "kontrolkøb"): join those again.
    return re.sub(r"-\s+", "-", " ".join(text.replace("\xa0", " ").split()))


def plain_answers(protocol) -> dict:
    """An answer to every question that the protocol accepts."""
    answers = {}
    for q in protocol.questions:
        if q.type == "bool":
            answers[q.key] = False
        elif q.type == "choice":
            answers[q.key] = q.choices[-1]
        elif q.type in ("int", "number"):
            answers[q.key] = int(q.min or 0) + 1 if q.max is None or (q.min or 0) + 1 <= q.max else q.min
        elif q.type == "date":
            answers[q.key] = "2026-10-01"
        elif q.type == "datetime":
            answers[q.key] = "2026-10-01T10:00:00+02:00"
        elif q.type == "duration":
            answers[q.key] = "5 min"
        elif q.type == "money":
            answers[q.key] = "10.00 EUR"
        elif q.type == "rating":
            answers[q.key] = int(q.min)
        elif q.required:
            answers[q.key] = "A"
    return answers


def case_with_every_finding(ws, key: str):
    """A case under protocol ``key`` with one visit carrying every finding the protocol can
    give (recorded as the protocol words them, in English), asked for comment."""
    protocol = get_protocol(key, ws.root)
    case = cases.create_case(ws, slug=f"lang-{key}", title="Testfall", protocol=key, legal_basis="§ 1",
                             language="de")
    case = cases.translate_case(ws, case, "da", title="Testsag")
    shop = stores.add_store(ws, name="Laden Eins", address="Weg 1", city="Berlin", district="Mitte")
    tester = (testers.add_tester(ws, code=f"T-{key[:6]}", birth_month="2010-03", consent=True,
                                 consent_date="2026-01-10") if protocol.uses_testers else None)
    visit = visits.record_visit(ws, case=case, store=shop, tester=tester, answers=plain_answers(protocol),
                                visited_at=ws.now() - timedelta(days=5), observer="O")["visit"]
    recorded = {f["code"] for f in findings.list_findings(ws, visit=visit)}
    for code, title in protocol.finding_codes().items():
        if code not in recorded:
            findings.add_finding(ws, visit, title=title, code=code, severity="medium")
    replies.request_reply(ws, case, shop)
    return protocol, case, shop


def english_texts(protocol) -> list[str]:
    """What must not appear in another language: the English finding titles and the raw keys
    of questions and choices (those with an underscore cannot be words of any language)."""
    en = protocol.texts("en")
    keys = [q.key for q in protocol.questions] + [c for q in protocol.questions for c in q.choices]
    return list(protocol.finding_codes().values()) + [en.title] + [k for k in keys if "_" in k]


def every_text(protocol, lang: str) -> dict[str, str]:
    """Every text a report, letter, statement or public database prints about ``protocol`` in
    ``lang``, by its place in ``[text.LANG]``: "title", "questions.sale", "choices.id_check.none",
    "findings.SALE_TO_MINOR" (fatal answers' and broken promises' findings included)."""
    t = protocol.texts(lang)
    found = {"title": t.title, "description": t.description}
    found.update({k: getattr(t, k) for k in ("id_policy", "lede") if getattr(protocol, k)})
    found.update({f"questions.{q.key}": t.prompts.get(q.key) for q in protocol.questions})
    found.update({f"choices.{q.key}.{c}": t.choices.get(q.key, {}).get(c) for q in protocol.questions
                  for c in q.choices})
    found.update({f"findings.{code}": t.findings.get(code) for code in protocol.finding_codes()})
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("key", BUILTINS)
def test_every_builtin_protocol_has_every_text_a_report_prints_in_every_language(key, lang):
    protocol = get_protocol(key)
    texts = every_text(protocol, lang)  # a missing text raises MissingTranslation, naming it
    assert [place for place, text in texts.items() if not (text or "").strip()] == []
    if lang != "en":
        english = every_text(protocol, "en")
        # Titles, descriptions, prompts and finding titles are sentences: none is left in English.
        # (A choice may read the same: "neutral", "snus", "under 25".)
        same = [place for place in texts if not place.startswith("choices.") and texts[place] == english[place]]
        assert same == []


def test_a_fatal_answer_finding_is_one_of_the_protocol_texts():
    # FALSE_RIGHTS is given by a fatal answer, not a rule: reports print it, so it needs its titles.
    assert "FALSE_RIGHTS" in get_protocol("phone-hotline").finding_codes()
    assert get_protocol("phone-hotline").texts("de").findings["FALSE_RIGHTS"].startswith("Falsche Aussage")


@pytest.mark.parametrize("key", BUILTINS)
def test_a_protocol_lacking_any_one_text_is_refused_naming_that_text(key):
    protocol = get_protocol(key)
    for lang in ("de", "da"):
        for place in every_text(protocol, lang):
            given = copy.deepcopy(protocol.translations)  # "prompts" stays the same dict as "questions"
            *path, last = place.split(".")
            table = given[lang]
            for part in path:
                table = table[part]
            del table[last]
            with pytest.raises(MissingTranslation, match=rf"\({lang}\) text for (.*, )?{re.escape(place)}(,|:| and)"):
                replace(protocol, translations=given).texts(lang)


@pytest.mark.parametrize("lang", ["de", "da"])
@pytest.mark.parametrize("key", BUILTINS)
def test_every_builtin_protocol_reports_and_writes_letters_wholly_in_the_language(workspace, tmp_path, key, lang):
    protocol, case, shop = case_with_every_finding(workspace, key)
    texts = protocol.texts(lang)
    report = tmp_path / "report.pdf"
    build_report(workspace, case, edition="internal", lang=lang, out=report)
    letter = build_letter(workspace, case, shop, lang=lang, out=tmp_path / "letter.pdf")["pdf"]
    for path in (report, letter):
        text = words_of(path)
        for english in english_texts(protocol):
            assert english not in text, f"{path.name} ({lang}) prints {english!r}"
        for title in texts.findings.values():
            assert norm(title) in text, f"{path.name} ({lang}) lacks the finding {title!r}"
        assert texts.title in text
    assert "(email)" not in words_of(letter), "the channel is written in words, not its key"
    report_text = words_of(report)
    for prompt in texts.prompts.values():
        assert norm(prompt) in report_text


def test_a_missing_translation_stops_the_report_and_names_what_is_missing(workspace, tmp_path):
    own = workspace.root / "protocols"
    own.mkdir(exist_ok=True)
    source = get_protocol("tobacco-minors").source
    text = open(source, encoding="utf-8").read()
    # The workspace's copy loses its Danish texts and one German finding title.
    text = text[:text.index("[text.da]")]
    text = text.replace("ID_CHECKED_STILL_SOLD = \"Ausweis geprüft und trotzdem verkauft\", ", "")
    (own / "tobacco-minors.toml").write_text(text, encoding="utf-8")
    case = cases.create_case(workspace, slug="tm", title="T", protocol="tobacco-minors", language="de")
    with pytest.raises(MissingTranslation, match=r"German \(de\) text for findings.ID_CHECKED_STILL_SOLD"):
        build_report(workspace, case, edition="internal", lang="de", out=tmp_path / "de.pdf")
    with pytest.raises(MissingTranslation, match=r"Danish \(da\) text for title, description"):
        build_report(workspace, case, edition="internal", lang="da", out=tmp_path / "da.pdf")
    assert not (tmp_path / "de.pdf").exists() and not (tmp_path / "da.pdf").exists()


def test_an_unknown_text_key_in_a_protocol_is_an_error_naming_it(workspace):
    own = workspace.root / "protocols"
    own.mkdir(exist_ok=True)
    text = open(get_protocol("tobacco-minors").source, encoding="utf-8").read()
    (own / "tobacco-minors.toml").write_text(text.replace("NO_AGE_SIGN = \"Kein", "NO_SIGN = \"Kein"), encoding="utf-8")
    with pytest.raises(Exception, match=r"text\.de\.findings\.NO_SIGN"):
        get_protocol("tobacco-minors", workspace.root)


def test_times_follow_the_place_and_quotes_the_language():
    when = "2026-10-14T15:04:00+02:00"
    assert Formatter("en", "Europe/Berlin").day_time(when).endswith("15:04")
    assert re.search(r"3:04\sPM$", Formatter("en", "America/New_York").day_time(when))
    assert Formatter("da", "Europe/Copenhagen").day_time(when).endswith("15.04")
    assert Formatter("de").quote("Zur Ecke") == "„Zur Ecke“"
    assert Formatter("da").quote("Hjørnet") == "“Hjørnet”"


def test_a_report_in_a_language_the_case_has_no_title_in_is_refused_and_says_how_to_add_it(workspace, tmp_path, run):
    case = cases.create_case(workspace, slug="tm", title="Tabakverkauf an Minderjährige", protocol="tobacco-minors",
                             language="de", description="Zwölf Läden, zwei Testpersonen.")
    result = run("report", "tm", "--edition", "internal", "--lang", "da", "--out", tmp_path / "da.pdf")
    assert result.exit_code != 0 and "case tm has no title and no description in da" in result.output
    assert "investigate case edit tm --lang da" in result.output
    assert run("case", "edit", "tm", "--lang", "da", "--title", "Tobakssalg til mindreårige",
               "--description", "Tolv butikker, to testpersoner.").exit_code == 0
    assert run("report", "tm", "--edition", "internal", "--lang", "da", "--out", tmp_path / "da.pdf").exit_code == 0
    text = words_of(tmp_path / "da.pdf")
    assert "Tobakssalg til mindreårige" in text and "Tolv butikker" in text
    assert "Tabakverkauf" not in text and "Zwölf" not in text


def catalogue_msgids() -> set[str]:
    """Every text the report, the letter and their Python code ask the catalogues for."""
    from babel.messages.extract import extract_from_file

    from investigate.reports.render import templates_root

    found = set()
    for template in (templates_root() / "report").glob("*.html"):
        found |= {m[1] for m in extract_from_file("jinja2.ext.babel_extract", template,
                                                    options={"extensions": "jinja2.ext.i18n"})}
    package = templates_root().parent / "investigate"
    for module in [*(package / "reports").glob("*.py"), *(package / "views").glob("*.py")]:
        found |= {m[1] for m in extract_from_file("python", module) if isinstance(m[1], str)}
    return found


@pytest.mark.parametrize("lang", ["de", "da"])
def test_every_text_the_report_and_letter_ask_for_is_translated(lang):
    from babel.messages.pofile import read_po

    from investigate.views.i18n import LOCALE_DIR

    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as fp:
        catalog = read_po(fp, locale=lang)
    wanted = catalogue_msgids()
    assert len(wanted) > 100
    missing = sorted(m for m in wanted if not (catalog.get(m) and catalog.get(m).string))
    assert missing == []




def test_service_and_story_reports_are_refused_in_a_language_the_case_has_no_title_in(workspace, run, tmp_path):
    ws = workspace
    tele = companies.add_company(ws, name="Tele AG")
    companies.add_contact_point(ws, tele, channel="phone", contact="+49 30 1")
    cases.create_case(ws, slug="svc", title="Kundenservice im Test", protocol="phone-hotline", language="de",
                      description="Anrufe bei der Hotline.")
    stories.create_story(ws, slug="st", title="Zweimal versprochen", company=tele, language="de",
                         person_label="eine Kundin aus Neukölln", description="Unterlagen geprüft.")
    given = {"svc": {"en": ["--title", "Customer service tested", "--description", "Calls to the hotline."],
                     "da": ["--title", "Kundeservice i test", "--description", "Opkald til hotlinen."]},
             "st": {"en": ["--title", "Promised twice", "--description", "Documents checked.",
                           "--person", "a customer from Neukölln"],
                    "da": ["--title", "Lovet to gange", "--description", "Dokumenterne kontrolleret.",
                           "--person", "en kunde fra Neukölln"]}}
    for slug, by_lang in given.items():
        for lang, args in by_lang.items():
            out = tmp_path / f"{slug}-{lang}.pdf"
            refused = run("report", slug, "--edition", "internal", "--lang", lang, "--out", out)
            assert refused.exit_code != 0 and not out.exists()
            assert refused.stderr.strip() == (f"Error: case {slug} has no title and no description in {lang}: add "
                                              f"--title … --description … with investigate case edit {slug} "
                                              f"--lang {lang}")
            assert run("case", "edit", slug, "--lang", lang, *args[:4]).exit_code == 0
            if slug == "st":  # the person, too, is described in the report's language or not at all
                refused = run("report", slug, "--edition", "internal", "--lang", lang, "--out", out)
                assert refused.exit_code != 0 and f"no description of the person in {lang}" in refused.stderr
                assert run("case", "edit", slug, "--lang", lang, *args[4:]).exit_code == 0
            assert run("report", slug, "--edition", "internal", "--lang", lang, "--out", out).exit_code == 0
            text = words_of(out)
            assert args[1] in text and args[3] in text
            assert "Kundenservice im Test" not in text and "Zweimal versprochen" not in text
            assert "Anrufe" not in text and "Unterlagen" not in text and "eine Kundin" not in text
            if slug == "st":
                assert args[5][:1].upper() + args[5][1:] in text


def test_a_story_in_english_reads_its_times_on_the_place_s_clock(workspace, tmp_path):
    ws = workspace
    tele = companies.add_company(ws, name="Tele AG")
    companies.add_contact_point(ws, tele, channel="phone", contact="+49 30 1")
    case = stories.create_story(ws, slug="st", title="Promised twice", company=tele, person_label="a customer",
                                description="Documents checked.")["case"]
    at = (ws.now() - timedelta(days=3)).replace(hour=15, minute=4, second=0, microsecond=0)
    stories.add_event(ws, case, at=at.isoformat(), channel="phone", what="The hotline promised a refund")
    text = words_of(build_report(ws, case, edition="internal", lang="en", out=tmp_path / "st.pdf")["pdf"])
    # Berlin reads 15:04 in English too (the place's clock), not 3:04 PM: as the case report does.
    assert norm(Formatter("en", "Europe/Berlin").day_time(at.isoformat())) in text
    assert "15:04" in text and not re.search(r"\d:\d\d\s?[AP]M", text)


@pytest.mark.parametrize("lang", ["de", "da"])
def test_a_service_letter_titles_each_finding_by_the_protocol_of_its_own_visit(workspace, tmp_path, lang):
    # The case's protocol is phone-hotline; its e-mail was tested under email-webform, whose
    # finding codes phone-hotline does not know: the title must come from email-webform's texts.
    ws = workspace
    tele = companies.add_company(ws, name="Tele AG")
    mail = companies.add_contact_point(ws, tele, channel="email", contact="service@tele.example")
    case = cases.create_case(ws, slug="svc", title="Kundenservice", protocol="phone-hotline", language="de",
                             legal_basis="BGB § 241 Abs. 2")
    case = cases.translate_case(ws, case, "da", title="Kundeservice")
    sent = ws.now() - timedelta(days=5)
    visits.record_visit(ws, case=case, store=mail, tester=None, protocol="email-webform", visited_at=sent,
                        answers={"sent_at": sent.isoformat(), "question_answered": "not"})
    companies.request_company_reply(ws, case, tele)
    text = words_of(build_letter(ws, case, mail, lang=lang, out=tmp_path / "letter.pdf")["pdf"])
    assert get_protocol("email-webform").texts(lang).findings["NOT_ANSWERED"] in text
    assert "The question was not answered" not in text


@pytest.mark.parametrize("lang, stratified, simple", [("de", "geschichtet", "rein zufällig"),
                                                      ("da", "stratificeret", "simpel tilfældig udvælgelse")])
def test_how_the_sample_was_drawn_is_written_in_the_report_s_language(workspace, tobacco_case, tmp_path, lang,
                                                                       stratified, simple):
    ws = workspace
    case = cases.translate_case(ws, tobacco_case["case"], lang, title="Tabak")
    draw_sample(ws, case, n=4, seed=1)
    draw_sample(ws, case, n=4, seed=2, strata="district", replace=True, reason="by district")
    text = words_of(build_report(ws, case, edition="internal", lang=lang, out=tmp_path / "r.pdf")["pdf"])
    assert f", {stratified}," in text and f", {simple})" in text  # the draw, and the one it replaced
    assert "stratified" not in text and "simple random" not in text


@pytest.mark.parametrize("lang", ["de", "da"])
def test_the_public_database_speaks_the_case_s_language(workspace, tmp_path, lang):
    ws = workspace
    tele = companies.add_company(ws, name="Tele AG")
    line = companies.add_contact_point(ws, tele, channel="phone", contact="+49 30 1")
    mail = companies.add_contact_point(ws, tele, channel="email", contact="service@tele.example")
    case = cases.create_case(ws, slug="svc", title="Kundenservice", protocol="phone-hotline", language=lang,
                             legal_basis="BGB § 241 Abs. 2")
    at = ws.now() - timedelta(days=30)
    called = visits.record_visit(ws, case=case, store=line, tester=None, visited_at=at,
                                 answers={"reached_person": "no", "wait": "20 min", "escalation": "refused"})
    # The e-mail is tested under its own protocol, whose findings the case's protocol does not know.
    wrote = visits.record_visit(ws, case=case, store=mail, tester=None, protocol="email-webform", visited_at=at,
                                answers={"sent_at": at.isoformat(), "question_answered": "not"})
    for v in (called, wrote):
        review_visit(ws, v["visit"], "approve", reviewer="Redaktion")
    build_public(ws, tmp_path / "public", slugs=["svc"], override="test")
    db = sqlite3.connect(tmp_path / "public" / "public.db")
    hotline, email = get_protocol("phone-hotline").texts(lang), get_protocol("email-webform").texts(lang)
    assert {r[0] for r in db.execute("select title from findings")} == {
        hotline.findings["NO_PERSON"], hotline.findings["ESCALATION_REFUSED"], email.findings["NOT_ANSWERED"]}
    assert db.execute("select protocol_title from cases").fetchone()[0] == hotline.title
    answers = " ".join(r[0] for r in db.execute("select answers from visits"))
    assert hotline.choices["escalation"]["refused"] in answers and ": refused" not in answers
    groups = {r[0] for r in db.execute("select grp from rates")}
    assert not groups & {"(unknown)", "(other groups)", "(independent)"}, groups
