"""One right of reply per company (issue 23): ``company ask`` puts every channel to the company,
and its one letter lists every contact point, visit and finding — overdue promises included —
that the report prints about it, with where and to whom to answer."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from investigate.cases import cases, companies, replies, visits
from investigate.cases.cases import get_case
from investigate.cli import cli
from investigate.demo.build import build_demo
from investigate.errors import InvalidInput
from investigate.reports.build import build_letter
from investigate.store.workspace import Workspace
from investigate.views.service import gather_service

SERVICE = "service-test-berlin-2026"


def pdf_text(path) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(path).pages).replace("\xa0", " ").split())


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "ws"
    build_demo(root)
    return root


def test_the_letter_to_each_company_lists_what_its_report_prints_about_it(demo_root, tmp_path):
    with Workspace(demo_root) as ws:
        case = get_case(ws, SERVICE)
        report = gather_service(ws, case, edition="public", lang="en", now=ws.now())
        company_of_visit = {r[0]: r[1] for r in ws.db.execute(
            "select v.id, s.company_id from visits v join stores s on s.id = v.store_id where v.case_id = ?",
            [case["id"]])}
        printed = Counter((company_of_visit[f["visit_id"]], f["visit_id"], f["code"]) for f in report["findings"])
        listed, clock = Counter(), 0
        for company in companies.list_companies(ws):
            companies.request_company_reply(ws, case, company, requested_at=ws.now().isoformat())
            points = companies.contact_points(ws, company)
            letter = build_letter(ws, case, points[-1], lang="en", out=tmp_path / f"{company['name']}.pdf")
            assert letter["contact_points"] == len(points) == 3  # one letter for every channel
            listed += Counter((company["id"], f["visit_id"], f["code"]) for f in letter["listed"])
            clock += sum(f["clock"] for f in letter["listed"])
            text = pdf_text(letter["pdf"])
            for point in points:  # a long name may break over lines: compared without spaces
                assert point["name"].replace(" ", "") in text.replace(" ", "")
            assert "Please send your answer to recherche@kiezblatt.example. Your contact person is Aylin Demir." in text
            assert "preparing a report on" not in text
        assert clock > 0  # overdue promises are put to the companies, as the report prints them
        assert listed == printed


def test_the_hotline_letter_calls_an_overdue_callback_a_violation_as_the_report_does(demo_root, tmp_path):
    with Workspace(demo_root) as ws:
        case = get_case(ws, SERVICE)
        company = companies.get_company(ws, "TeleNord")
        companies.request_company_reply(ws, case, company, requested_at=ws.now().isoformat())
        letter = build_letter(ws, case, companies.contact_points(ws, company)[0], lang="en", out=tmp_path / "t.pdf")
        text = pdf_text(letter["pdf"])
    assert "violation Promised callback did not come in time" in text
    assert "compliant Promised callback did not come in time" not in text


@pytest.fixture
def shop_case(workspace):
    ws = workspace
    case = cases.create_case(ws, slug="service-small", title="Kundenservice im Test",
                             protocol="phone-hotline", jurisdiction="DE", legal_basis="BGB § 241", language="de")
    tele = companies.add_company(ws, name="Tele AG", sector="telecom")
    phone = companies.add_contact_point(ws, tele, channel="phone", contact="+49 30 1")
    counter = companies.add_contact_point(ws, tele, channel="in_person", address="Hauptstr. 1")
    t0 = ws.now() - timedelta(days=10)
    visits.record_visit(ws, case=case, store=phone, tester=None, visited_at=t0, answers={
        "reached_person": "yes", "wait": "30s", "greeting": "friendly", "listened": "yes", "answer_correct": "correct",
        "misstated_rights": "no", "solved_first_contact": "yes", "escalation": "n/a"})
    visits.record_visit(ws, case=case, store=counter, tester=None, protocol="counter-branch", visited_at=t0, answers={
        "greeted_within": "1 min", "served_within": "4 min", "full_attention": "yes", "friendliness": 4,
        "information_correct": "correct", "misstated_rights": "no"})
    return {"ws": ws, "case": case, "company": tele, "phone": phone, "counter": counter}


def test_company_letter_writes_one_letter_for_all_channels(shop_case, run, tmp_path):
    ws = shop_case["ws"]
    assert run("company", "ask", "service-small", "Tele").exit_code == 0
    out = run("company", "letter", "service-small", "Tele", "--lang", "de", "--out", tmp_path / "l.pdf")
    assert out.exit_code == 0, out.output
    assert "2 contact point(s), 2 test(s)" in out.output
    text = pdf_text(tmp_path / "l.pdf")
    assert "+49 30 1" in text and "Hauptstr. 1" in text and "Bitte antworten Sie bis" in text
    ws.close()


def test_a_letter_whose_request_left_out_a_tested_channel_is_refused_naming_it(shop_case, tmp_path):
    ws, case = shop_case["ws"], shop_case["case"]
    replies.request_reply(ws, case, shop_case["phone"])
    with pytest.raises(InvalidInput, match=r"does not cover its contact point .*: ask again for all its channels "
                                           r"\(investigate company ask service-small"):
        build_letter(ws, case, shop_case["phone"], out=tmp_path / "l.pdf")


def test_a_company_letter_before_any_request_is_one_line_naming_company_ask(shop_case, tmp_path):
    out = CliRunner().invoke(cli, ["-w", str(shop_case["ws"].root), "company", "letter", "service-small", "Tele"])
    assert out.exit_code == 1 and len(out.output.strip().splitlines()) == 1
    assert "no reply request for Tele AG in case service-small" in out.output
    assert "investigate company ask service-small" in out.output


# -- a property over random service cases ------------------------------------------------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from investigate.cases.review import review_visit  # noqa: E402
from investigate.store.workspace import init_workspace  # noqa: E402

call_st = st.fixed_dictionaries({
    "company": st.integers(0, 1), "channel": st.sampled_from(["phone", "in_person"]), "days_ago": st.integers(5, 40),
    "answer_correct": st.sampled_from(["correct", "partly", "wrong"]), "misstated_rights": st.booleans(),
    "escalation": st.sampled_from(["n/a", "offered", "refused"]),
    # A callback promised this many days after the call (may be overdue by now), or none.
    "callback_in": st.one_of(st.none(), st.integers(1, 10)),
})


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(calls=st.lists(call_st, min_size=2, max_size=7))
def test_property_each_company_s_letter_lists_what_the_report_prints_about_it(tmp_path_factory, calls):
    root = tmp_path_factory.mktemp("prop")
    ws = init_workspace(root / "ws", newsroom="Prop", timezone_name="Europe/Berlin")
    try:
        case = cases.create_case(ws, slug="prop", title="Property", protocol="phone-hotline", language="en")
        made = [companies.add_company(ws, name=n, sector="telecom") for n in ("Orvelta Tel", "Brunswar Bank")]
        points = {(i, ch): companies.add_contact_point(ws, c, channel=ch, contact=f"{c['name']} {ch}")
                  for i, c in enumerate(made) for ch in ("phone", "in_person")}
        for c in calls:
            when = ws.now() - timedelta(days=c["days_ago"])
            store = points[(c["company"], c["channel"])]
            if c["channel"] == "phone":
                v = visits.record_visit(ws, case=case, store=store, tester=None, visited_at=when, answers={
                    "reached_person": "yes", "wait": "2 min", "greeting": "neutral", "listened": "yes",
                    "answer_correct": c["answer_correct"], "misstated_rights": c["misstated_rights"],
                    "solved_first_contact": "no", "escalation": c["escalation"],
                    **({"callback_promised_at": when + timedelta(days=c["callback_in"])}
                       if c["callback_in"] else {})})
            else:
                v = visits.record_visit(ws, case=case, store=store, tester=None, protocol="counter-branch",
                                        visited_at=when, answers={
                                            "greeted_within": "1 min", "served_within": "4 min",
                                            "full_attention": "yes", "friendliness": 3,
                                            "information_correct": c["answer_correct"],
                                            "misstated_rights": c["misstated_rights"]})
            review_visit(ws, v["visit"], "approve", reviewer="Desk")
        report = gather_service(ws, case, edition="internal", lang="en", now=ws.now())
        company_of_visit = {r[0]: r[1] for r in ws.db.execute(
            "select v.id, s.company_id from visits v join stores s on s.id = v.store_id")}
        printed = Counter((company_of_visit[f["visit_id"]], f["visit_id"], f["code"]) for f in report["findings"])
        listed = Counter()
        for company in made:
            tested = [s for (i, _), s in points.items() if made[i] is company and ws.db.execute(
                "select 1 from visits where store_id = ?", [s["id"]]).fetchone()]
            if not tested:
                continue
            companies.request_company_reply(ws, case, company, requested_at=ws.now().isoformat())
            letter = build_letter(ws, case, tested[0], lang="en", out=root / f"{company['id']}.pdf")
            assert letter["contact_points"] == len(tested)
            listed += Counter((company["id"], f["visit_id"], f["code"]) for f in letter["listed"])
        assert listed == printed
    finally:
        ws.close()
