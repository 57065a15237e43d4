"""Customer-service cases (issue 13): companies and channels, the promise clock, the scorecard
and its figures, the demo's service case, and bad input that writes nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from investigate.ids import short
from investigate.protocol.protocols import all_protocols
from investigate.views import scorecard as scorecards
from investigate.cases import cases, companies, promises, visits
from investigate.cases.review import review_visit
from investigate.cli import cli
from investigate.demo.build import build_demo
from investigate.store.workspace import Workspace

from conftest import snapshot

DIMS = {"courtesy", "respect", "commitment", "honesty", "resolution"}


@pytest.fixture
def service(workspace):
    """Two companies, each with a hotline and a branch; visits whose scores are known."""
    ws = workspace
    case = cases.create_case(ws, slug="service-small", title="Service test", protocol="phone-hotline",
                             jurisdiction="DE", legal_basis="BGB § 241")
    tele = companies.add_company(ws, name="Tele AG", sector="telecom")
    bank = companies.add_company(ws, name="Bank eG", sector="bank")
    cp = {(c["name"], ch): companies.add_contact_point(ws, c, channel=ch, contact=f"{c['name']} {ch}")
          for c in (tele, bank) for ch in ("phone", "in_person")}
    return {"ws": ws, "case": case, "tele": tele, "bank": bank, "cp": cp}


def call(ws, case, store, when, **answers):
    base = {"reached_person": "yes", "wait": "30s", "greeting": "friendly", "listened": "yes",
            "answer_correct": "correct", "misstated_rights": "no", "solved_first_contact": "yes", "escalation": "n/a"}
    base.update(answers)
    return visits.record_visit(ws, case=case, store=store, tester=None, answers=base, visited_at=when)


def counter(ws, case, store, when):
    return visits.record_visit(ws, case=case, store=store, tester=None, protocol="counter-branch", visited_at=when,
                               answers={"greeted_within": "1 min", "served_within": "4 min", "full_attention": "yes",
                                        "friendliness": 4, "information_correct": "correct",
                                        "misstated_rights": "no"})


def test_scorecard_means_match_hand_computed_scores(service):
    ws, case, cp = service["ws"], service["case"], service["cp"]
    t0 = ws.now() - timedelta(days=20)
    # Tele AG: courtesy = (greeting + wait) / 4: friendly+30 s → 100; curt + 3 min → (0 + 1)/4 = 25;
    # neutral + 10 min → (1 + 0)/4 = 25. Mean 50; three tests are too few for an interval.
    call(ws, case, cp[("Tele AG", "phone")], t0)
    call(ws, case, cp[("Tele AG", "phone")], t0 + timedelta(days=1), greeting="curt", wait="3 min")
    call(ws, case, cp[("Tele AG", "phone")], t0 + timedelta(days=2), greeting="neutral", wait="10 min")
    # A false statement about rights: honesty 0 % (fatal), though the answer was correct.
    call(ws, case, cp[("Bank eG", "phone")], t0, misstated_rights="yes")
    result = scorecards.scorecard(ws, case, by=("company",))
    tele = next(g for g in result["groups"] if g["group"] == {"company": "Tele AG"})
    c = tele["dimensions"]["courtesy"]
    assert (c["mean"], c["n"]) == (50, 3)
    assert (c["ci_low"], c["ci_high"]) == (None, None)
    bank = next(g for g in result["groups"] if g["group"] == {"company": "Bank eG"})
    assert bank["dimensions"]["honesty"]["mean"] == 0
    assert bank["fatal"] == 1
    # n/a escalation left the resolution denominator: solved on first contact alone → 100
    assert bank["dimensions"]["resolution"]["mean"] == 100


def test_an_overdue_promise_counts_as_broken_without_anyone_marking_it(service):
    ws, case, cp = service["ws"], service["case"], service["cp"]
    t0 = ws.now() - timedelta(days=10)
    due_soon = ws.now() + timedelta(days=3)
    overdue = call(ws, case, cp[("Tele AG", "phone")], t0, callback_promised_at=(t0 + timedelta(days=1)).isoformat())
    late = call(ws, case, cp[("Tele AG", "phone")], t0, callback_promised_at=(t0 + timedelta(days=1)).isoformat())
    kept = call(ws, case, cp[("Tele AG", "phone")], t0, callback_promised_at=(t0 + timedelta(days=2)).isoformat())
    call(ws, case, cp[("Tele AG", "phone")], t0, callback_promised_at=due_soon.isoformat())
    promises.keep_promise(ws, late["promises"][0], at=(t0 + timedelta(days=3)).isoformat())
    promises.keep_promise(ws, kept["promises"][0], at=(t0 + timedelta(days=1)).isoformat())
    states = sorted(p["state"] for p in promises.list_promises(ws, case=case))
    assert states == ["kept", "late", "overdue", "pending"]
    g = scorecards.scorecard(ws, case, by=())["groups"][0]
    # due: kept, late, overdue (pending is not yet due); only the on-time keep counts as kept
    assert (g["promises_kept"]["k"], g["promises_kept"]["n"]) == (1, 3)
    assert g["promises_kept"]["overdue"] == 1 and g["promises_kept"]["late"] == 1
    # commitment: kept 2 + late 1 + overdue 0 over 3 × 2 → per visit 100, 50, 0 → mean 50
    assert g["dimensions"]["commitment"]["mean"] == 50
    found = promises.clock_findings(ws, case)
    assert [(f["visit_id"], f["code"]) for f in found] == [(overdue["visit"]["id"], "CALLBACK_NOT_MADE")]
    # Marking it kept now is a late keep, and it stays late.
    promises.keep_promise(ws, overdue["promises"][0])
    assert promises.clock_findings(ws, case) == []
    assert sorted(p["state"] for p in promises.list_promises(ws, case=case)).count("late") == 2


def test_email_without_reply_is_censored_in_the_median(service):
    ws, case = service["ws"], service["case"]
    mail = companies.add_contact_point(ws, service["tele"], channel="email", contact="help@tele.example")
    t0 = ws.now() - timedelta(days=30)
    for hours, replied in [(10, True), (20, False), (30, True), (40, True), (50, True)]:
        answers = {"sent_at": t0.isoformat()}
        if replied:
            answers["first_reply_at"] = (t0 + timedelta(hours=hours)).isoformat()
        visits.record_visit(ws, case=case, store=mail, tester=None, answers=answers, visited_at=t0,
                            protocol="email-webform")
    g = scorecards.scorecard(ws, case, by=("channel",))["groups"][0]
    rm = g["response_minutes"]
    # The open one has waited 30 days, longer than every reply: by hand S(10h) = .8, S(30h) = .6,
    # S(40h) = .4 → median 40 h; it stays open (censored), never dropped.
    assert (rm["median"], rm["n"], rm["open"]) == (40 * 60, 5, 1)
    # no reply within 2 days: the 50-hour reply and the one open for 30 days
    assert (g["no_reply_within"]["k"], g["no_reply_within"]["n"]) == (2, 5)


def test_right_of_reply_is_put_to_the_company_for_every_channel_tested(service):
    ws, case, cp = service["ws"], service["case"], service["cp"]
    t0 = ws.now() - timedelta(days=30)
    call(ws, case, cp[("Tele AG", "phone")], t0)
    counter(ws, case, cp[("Tele AG", "in_person")], t0)
    asked = companies.request_company_reply(ws, case, service["tele"], requested_at=(t0 + timedelta(days=2)).isoformat())
    assert {r["store_id"] for r in asked} == {cp[("Tele AG", "phone")]["id"], cp[("Tele AG", "in_person")]["id"]}
    answered = companies.record_company_reply(ws, case, service["tele"], answer="Wir prüfen das.")
    assert {r["answer"] for r in answered} == {"Wir prüfen das."}


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "ws"
    build_demo(root)
    return root


def cli_run(root, *args):
    return CliRunner().invoke(cli, ["-w", str(root), *map(str, args)], catch_exceptions=False)


def test_demo_has_a_realistic_service_case(demo_root):
    with Workspace(demo_root) as ws:
        count = lambda sql: ws.db.execute(sql, ["%service%"]).fetchone()[0]  # noqa: E731
        case = "(select id from cases where slug like ?)"
        assert count(f"select count(distinct s.company_id) from visits v join stores s on s.id = v.store_id "
                     f"where v.case_id = {case}") == 4
        assert 75 <= count(f"select count(*) from visits where case_id = {case}") <= 85
        assert count(f"select count(distinct s.channel) from visits v join stores s on s.id = v.store_id "
                     f"where v.case_id = {case}") == 3
        dates = ws.db.execute("select min(visited_at), max(visited_at) from visits where case_id = "
                              "(select id from cases where slug like '%service%')").fetchone()
        assert 14 <= (datetime.fromisoformat(dates[1]) - datetime.fromisoformat(dates[0])).days <= 21
        assert count(f"select count(*) from findings f join visits v on v.id = f.visit_id "
                     f"where v.case_id = {case} and f.code = 'OVERCHARGED'") == 1
        assert count(f"select count(*) from visits where case_id = {case} and protocol = 'billing-dispute'") == 1
        assert count(f"select count(*) from replies where case_id = {case} and answer is not null") >= 3
        service = cases.get_case(ws, "service-test-berlin-2026")
        states = {p["state"] for p in promises.list_promises(ws, case=service)}
        assert {"kept", "late", "broken", "overdue"} <= states


def test_scorecard_json_of_the_demo_service_case_has_the_promised_shape(demo_root):
    result = cli_run(demo_root, "scorecard", "service-test-berlin-2026", "--by", "company,channel", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["groups"]) == 12
    for g in data["groups"]:
        assert set(g["group"]) == {"company", "channel"}
        assert g["tests"] >= 5
        assert set(g["dimensions"]) <= DIMS and {"courtesy", "honesty"} <= set(g["dimensions"])
        for d in g["dimensions"].values():
            assert set(d) == {"mean", "ci_low", "ci_high", "n"}
        assert {"mean", "ci_low", "ci_high", "n"} <= set(g["overall"])
        assert {"k", "n", "rate", "ci_low", "ci_high"} <= set(g["promises_kept"])
        assert {"median", "ci_low", "ci_high", "n", "open"} <= set(g["response_minutes"])
    by_channel = json.loads(cli_run(demo_root, "scorecard", "service-test-berlin-2026", "--by", "channel",
                                    "--json").output)
    email = next(g for g in by_channel["groups"] if g["group"]["channel"] == "email")
    assert email["response_minutes"]["open"] > 0 and email["response_minutes"]["median"] is not None
    csv_out = cli_run(demo_root, "scorecard", "service-test-berlin-2026", "--format", "csv").output
    assert csv_out.splitlines()[0].startswith("company,tests,courtesy_mean")
    table = cli_run(demo_root, "scorecard", "service-test-berlin-2026", "--by", "channel").output
    assert "courtesy" in table and "phone" in table


def test_stats_by_channel_works(demo_root):
    result = cli_run(demo_root, "stats", "service-test-berlin-2026", "--by", "channel", "--json")
    assert result.exit_code == 0, result.output
    groups = {g["group"]: g for g in json.loads(result.output)["groups"]}
    assert set(groups) == {"phone", "email", "in_person"}
    assert sum(g["visits"] for g in groups.values()) >= 75


def approved_six_and_two(service):
    """Six approved calls to Tele AG and two to Bank eG: one group above the smallest cell, one below."""
    ws, case, cp = service["ws"], service["case"], service["cp"]
    t0 = ws.now() - timedelta(days=20)
    made = [call(ws, case, cp[("Tele AG", "phone")], t0 + timedelta(hours=i)) for i in range(6)]
    made += [call(ws, case, cp[("Bank eG", "phone")], t0 + timedelta(hours=i)) for i in range(2)]
    for r in made:
        review_visit(ws, r["visit"], "approve")
    return ws, case


def test_public_scorecard_merges_groups_below_the_smallest_cell(service):
    ws, case = approved_six_and_two(service)
    public = scorecards.scorecard(ws, case, by=("company",), approved_only=True, threshold=5)
    assert [g["group"]["company"] for g in public["groups"]] == ["(other groups)"]
    assert public["groups"][0]["tests"] == 8
    assert public["merged"] == [{"company": "Bank eG"}, {"company": "Tele AG"}]
    internal = scorecards.scorecard(ws, case, by=("company",))
    assert [g["tests"] for g in internal["groups"]] == [2, 6]


def test_public_scorecard_names_no_company_that_may_not_be_named_not_even_among_merged_groups(service):
    ws, case = approved_six_and_two(service)
    for args in (["--by", "company", "--public"], ["--by", "company", "--public", "--json"],
                 ["--by", "company,channel", "--public", "--format", "csv"]):
        result = CliRunner().invoke(cli, ["-w", str(ws.root), "scorecard", case["slug"], *args])
        assert result.exit_code == 0, result.output
        assert "Tele AG" not in result.output and "Bank eG" not in result.output, result.output
        assert "Company A" in result.output or "other groups" in result.output
    internal = CliRunner().invoke(cli, ["-w", str(ws.root), "scorecard", case["slug"], "--by", "company"])
    assert "Tele AG" in internal.output


@pytest.mark.parametrize("answer, message", [
    ("--charged=59.90", "charged: '59.90' has no currency"),
    ("--sent-at=x", "is not a date and time"),
])
def test_bad_service_answers_are_one_line_errors_and_write_nothing(service, answer, message):
    ws, case = service["ws"], service["case"]
    store = service["cp"][("Tele AG", "in_person")]
    before = snapshot(ws)
    proto = "price-honesty" if "charged" in answer else "email-webform"
    extra = ["--quoted", "39.90 EUR"] if proto == "price-honesty" else []
    result = CliRunner().invoke(cli, ["-w", str(ws.root), "visit", "record", "--case", case["slug"], "--store",
                                      short(store["id"]), "--protocol", proto, "--no-input", answer, *extra])
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert snapshot(ws) == before


def test_answered_before_asked_is_refused_naming_the_answer(service):
    ws, case = service["ws"], service["case"]
    store = service["cp"][("Tele AG", "phone")]
    before = snapshot(ws)
    result = CliRunner().invoke(cli, ["-w", str(ws.root), "visit", "record", "--case", case["slug"], "--store",
                                      short(store["id"]), "--protocol", "email-webform", "--no-input",
                                      "--sent-at", "2026-10-05 10:00", "--first-reply-at", "2026-10-05 09:00"])
    assert result.exit_code != 0
    assert "first_reply_at: 2026-10-05T09:00:00+02:00 is before sent_at" in result.stderr
    assert snapshot(ws) == before


def test_a_bad_workspace_protocol_is_a_one_line_error_naming_file_and_key(workspace):
    folder = workspace.root / "protocols"
    folder.mkdir(exist_ok=True)
    (folder / "mine.toml").write_text("""
key = "mine"
title = "Mine"
[[questions]]
key = "a"
type = "bool"
prompt = "A?"
section = "courtesy"
weight = -2
points = { yes = 1, no = 0 }
""", encoding="utf-8")
    # Issue 17: the list flags the broken file and goes on; the commands that need it refuse.
    listed = CliRunner().invoke(cli, ["-w", str(workspace.root), "protocol", "list"])
    assert listed.exit_code == 0 and "tobacco-minors" in listed.stdout
    assert "mine.toml: questions[0].weight: -2 is below zero" in listed.stderr
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "protocol", "show", "mine"])
    assert result.exit_code != 0
    assert "mine.toml: questions[0].weight: -2 is below zero" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def assert_canned_service_queries_equal_the_scorecard(ws, case):
    """The editors' canned `service_scorecard` and `response_times_by_channel`, fetched from
    Datasette, hold the same groups and figures as `scorecard` by company and channel, and by
    channel."""
    import asyncio

    from investigate.publish.server import editors_datasette

    ds = editors_datasette(ws)

    async def fetch(name):
        await ds.invoke_startup()
        return await ds.client.get(f"/investigate/{name}.json?case={case['slug']}&_shape=array")

    grid = asyncio.run(fetch("service_scorecard"))
    assert grid.status_code == 200, grid.text
    rows = {(r["company"], r["channel"]): r for r in grid.json()}
    card = scorecards.scorecard(ws, case, by=("company", "channel"))["groups"]
    assert set(rows) == {(g["group"]["company"], g["group"]["channel"]) for g in card}
    for g in card:
        got = rows[(g["group"]["company"], g["group"]["channel"])]
        assert got["tests"] == g["tests"]
        for d, figure in g["dimensions"].items():
            # SQLite rounds halves up, Python to even: compare within the rounding
            assert got[d] == pytest.approx(figure["mean"], abs=0.051), (g["group"], d)
            if figure["ci_low"] is not None:
                assert got[f"{d}_ci_low"] == pytest.approx(figure["ci_low"], abs=0.051)
    times = asyncio.run(fetch("response_times_by_channel"))
    assert times.status_code == 200, times.text
    by_channel = {r["channel"]: r for r in times.json()}
    card = scorecards.scorecard(ws, case, by=("channel",))["groups"]
    assert set(by_channel) == {g["group"]["channel"] for g in card}
    for g in card:
        rm = g["response_minutes"]
        got = by_channel[g["group"]["channel"]]
        assert (got["n"], got["still_open"]) == (rm["n"], rm["open"])
        assert got["median_minutes"] == pytest.approx(rm["median"], abs=0.051)


def test_editors_canned_service_queries_equal_the_scorecard(demo_root):
    with Workspace(demo_root) as ws:
        assert_canned_service_queries_equal_the_scorecard(ws, cases.get_case(ws, "service-test-berlin-2026"))


def test_the_promise_clock_moves_an_overdue_visit_into_the_violation_rate(workspace):
    from investigate.numbers import stats
    from investigate.cases import stores

    ws = workspace
    case = cases.create_case(ws, slug="cb-clock", title="Callbacks", protocol="callback-promise")
    line = stores.add_store(ws, name="Hotline", channel="phone", contact="+49 30 1")
    t0 = ws.now() - timedelta(days=10)
    answers = {"reached_agent": True, "callback_promised": True, "promised_within_hours": 24}
    a = visits.record_visit(ws, case=case, store=line, tester=None, answers=answers, visited_at=t0)
    visits.record_visit(ws, case=case, store=line, tester=None, answers=answers, visited_at=ws.now() - timedelta(hours=1))
    # both compliant as recorded; the first promise fell due nine days ago and nobody marked it
    assert stats.case_rates(ws, case, now=t0 + timedelta(hours=1))[0]["violations"] == 0
    r = stats.case_rates(ws, case)[0]
    assert (r["violations"], r["compliant"]) == (1, 1)
    assert stats.case_rates(ws, case, by="channel")[0]["violations"] == 1
    promises.keep_promise(ws, a["promises"][0], kept=False)  # marking it changes nothing in the figure
    r = stats.case_rates(ws, case)[0]
    assert (r["violations"], r["compliant"]) == (1, 1)


def test_company_commands_find_a_company_by_the_start_of_its_name(run):
    assert run("company", "add", "TeleNord Mobilfunk", "--sector", "telecom").exit_code == 0
    result = run("company", "contact", "telenord", "--channel", "phone", "--contact", "+49 30 1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["name"] == "TeleNord Mobilfunk (+49 30 1)"
    listed = run("company", "list", "--json")
    assert json.loads(listed.output)[0]["contact_points"] == 1


def test_amending_a_service_visit_recomputes_derived_values_and_keeps_typed_answers(service):
    ws, case = service["ws"], service["case"]
    shop = companies.add_contact_point(ws, service["tele"], channel="in_person", address="Hauptstr. 1")
    t0 = ws.now() - timedelta(days=5)
    r = visits.record_visit(ws, case=case, store=shop, tester=None, visited_at=t0, protocol="price-honesty",
                            answers={"quoted": "39.90 EUR", "charged": "59.90 EUR", "greeting": "n/a"})
    assert r["visit"]["outcome"] == "violation"
    amended = visits.amend_visit(ws, r["visit"], reason="receipt shows the quoted price", answers={"charged": "39.90 EUR"})
    answers = json.loads(amended["answers"])
    assert answers["overcharge"] == {"amount": "0.00", "currency": "EUR"}
    assert answers["greeting"] == "n/a" and answers["quoted"] == {"amount": "39.90", "currency": "EUR"}
    assert amended["outcome"] == "compliant"
    assert not list(ws.db.query("select * from findings where visit_id = ?", [r["visit"]["id"]]))


def test_a_service_case_travels_in_a_bundle_with_its_companies(demo_root, tmp_path):
    from investigate.desk.bundles import write_bundle
    from investigate.desk.merge import merge
    from investigate.proof.verify import verify
    from investigate.store.workspace import init_workspace

    with Workspace(demo_root) as ws:
        case = cases.get_case(ws, "service-test-berlin-2026")
        write_bundle(ws, [case], tmp_path / "service.zip")
        # One moment for both: an unanswered e-mail's time is counted up to now, and the clock
        # ticks on while the bundle is written and merged (a second apart, it had differed).
        at = ws.now()
        expected = scorecards.scorecard(ws, case, by=("company", "channel"), now=at)
    other = init_workspace(tmp_path / "other", newsroom="Other", timezone_name="Europe/Berlin")
    try:
        merge(other, tmp_path / "service.zip")
        assert other.db.execute("select count(*) from companies").fetchone()[0] == 4
        got = scorecards.scorecard(other, cases.get_case(other, "service-test-berlin-2026"), by=("company", "channel"),
                                   now=at)
        assert got["groups"] == expected["groups"]
        assert verify(other).ok
    finally:
        other.close()


def test_scorecard_of_a_case_without_scored_protocol_says_why(demo_root):
    result = CliRunner().invoke(cli, ["-w", str(demo_root), "scorecard", "tobacco-neukoelln-2026"])
    assert result.exit_code != 0
    assert "protocol tobacco-minors scores no service dimensions" in result.stderr
    assert "Traceback" not in result.stderr


def test_company_ask_and_answer_cover_every_tested_channel(service, run):
    ws, case, cp = service["ws"], service["case"], service["cp"]
    t0 = ws.now() - timedelta(days=30)
    call(ws, case, cp[("Bank eG", "phone")], t0)
    counter(ws, case, cp[("Bank eG", "in_person")], t0)
    asked = run("company", "ask", case["slug"], "Bank", "--at", (t0 + timedelta(days=1)).isoformat())
    assert asked.exit_code == 0 and "2 contact point(s)" in asked.output
    answered = run("company", "answer", case["slug"], "bank eg", "--answer", "Wir bedauern das.")
    assert answered.exit_code == 0 and "2 request(s)" in answered.output
    again = CliRunner().invoke(cli, ["-w", str(ws.root), "company", "answer", case["slug"], "Bank", "--answer", "x"])
    assert again.exit_code != 0 and "no open reply request" in again.stderr


def support(ws, case, store, when, **answers):
    base = {"reached_person": "yes", "wait": "3 min", "listened": "yes", "transfers": 0, "steps_correct": "correct",
            "problem_solved": "solved", "escalation": "n/a"}
    base.update(answers)
    return visits.record_visit(ws, case=case, store=store, tester=None, protocol="tech-support", answers=base,
                               visited_at=when)


def test_tech_support_tests_score_and_read_by_representative_and_escalation(service, run):
    ws, case, cp = service["ws"], service["case"], service["cp"]
    t0 = ws.now() - timedelta(days=20)
    phone = cp[("Tele AG", "phone")]
    support(ws, case, phone, t0, representative="technician")
    wrong = support(ws, case, phone, t0 + timedelta(hours=1), representative="agent", transfers=3,
                    steps_correct="wrong", problem_solved="not", escalation="refused")
    assert {f["code"] for f in wrong["findings"]} == {"WRONG_STEPS", "ESCALATION_REFUSED"}
    call(ws, case, cp[("Bank eG", "phone")], t0, escalation="offered")
    by_rep = {tuple(g["group"].values()): g for g in scorecards.scorecard(ws, case, by="representative")["groups"]}
    assert set(by_rep) == {("agent",), ("technician",), ("(unknown)",)}
    assert by_rep[("technician",)]["overall"]["mean"] > by_rep[("agent",)]["overall"]["mean"]
    out = run("scorecard", case["slug"], "--by", "escalation", "--json")
    assert out.exit_code == 0, out.output
    groups = {g["group"]["escalation"]: g["tests"] for g in json.loads(out.output)["groups"]}
    assert groups["refused"] == 1 and groups["offered"] == 1
    bad = CliRunner().invoke(cli, ["-w", str(ws.root), "scorecard", case["slug"], "--by", "mood"])
    assert bad.exit_code != 0 and "expected company, channel, representative, escalation" in bad.output


SERVICE_PROTOCOLS = sorted(k for k, p in all_protocols().items() if p.scored)


@pytest.mark.parametrize("key", SERVICE_PROTOCOLS)
def test_every_service_protocol_asks_who_answered_and_about_escalation_as_optional_questions(key):
    protocol = all_protocols()[key]
    representative, escalation = protocol.question("representative"), protocol.question("escalation")
    assert not representative.required and not escalation.required
    assert representative.choices and "supervisor" in representative.choices
    assert tuple(escalation.choices) == ("offered", "on_request", "refused") and escalation.section == "resolution"
    # A refused escalation is a finding on every channel, not only on the phone.
    assert "ESCALATION_REFUSED" in protocol.finding_codes()


def test_the_scorecard_reads_every_channel_by_who_answered_and_by_escalation(service, run):
    """A counter visit, an e-mail and a call each say who answered and how an escalation went:
    `scorecard --by representative` and `--by escalation` group them across the channels."""
    ws, case, cp = service["ws"], service["case"], service["cp"]
    t0 = ws.now() - timedelta(days=20)
    desk = visits.record_visit(ws, case=case, store=cp[("Bank eG", "in_person")], tester=None,
                               protocol="counter-branch", visited_at=t0,
                               answers={"greeted_within": "1 min", "served_within": "4 min", "full_attention": "yes",
                                        "friendliness": 4, "information_correct": "correct", "misstated_rights": "no",
                                        "representative": "teller", "escalation": "refused"})
    assert {f["code"] for f in desk["findings"]} == {"ESCALATION_REFUSED"}
    mail = companies.add_contact_point(ws, service["tele"], channel="email", contact="service@tele.example")
    visits.record_visit(ws, case=case, store=mail, tester=None, protocol="email-webform", visited_at=t0,
                        answers={"sent_at": t0.isoformat(), "first_reply_at": (t0 + timedelta(hours=5)).isoformat(),
                                 "representative": "chatbot", "escalation": "on_request"})
    call(ws, case, cp[("Tele AG", "phone")], t0, representative="supervisor", escalation="offered")
    call(ws, case, cp[("Bank eG", "phone")], t0)
    by_rep = json.loads(run("scorecard", case["slug"], "--by", "representative", "--json").output)
    assert {g["group"]["representative"]: g["tests"] for g in by_rep["groups"]} == {
        "teller": 1, "chatbot": 1, "supervisor": 1, "(unknown)": 1}
    by_escalation = json.loads(run("scorecard", case["slug"], "--by", "escalation", "--json").output)
    groups = {g["group"]["escalation"]: g for g in by_escalation["groups"]}
    assert {k: g["tests"] for k, g in groups.items()} == {"refused": 1, "on_request": 1, "offered": 1, "n/a": 1}
    assert groups["refused"]["dimensions"]["resolution"]["mean"] < groups["offered"]["dimensions"]["resolution"]["mean"]
    table = run("scorecard", case["slug"], "--by", "representative,channel").output
    assert "teller" in table and "chatbot" in table


def test_the_demo_s_service_tests_read_by_who_answered(demo_root):
    """The demo says who answered each contact someone answered (a bank's counter: a teller);
    a call nobody took and an e-mail never answered say nobody, and read as "(unknown)"."""
    by_rep = json.loads(cli_run(demo_root, "scorecard", "service-test-berlin-2026", "--by",
                                "representative,channel", "--json").output)
    groups = {tuple(g["group"].values()): g["tests"] for g in by_rep["groups"]}
    assert groups[("teller", "in_person")] == 6 and ("teller", "phone") not in groups
    assert {rep for rep, _ in groups} == {"agent", "supervisor", "chatbot", "cashier", "sales_assistant", "teller",
                                          "(unknown)"}
    with Workspace(demo_root) as ws:
        nobody = ws.db.execute(
            "select count(*) from visits v join cases c on c.id = v.case_id where c.slug = ? and ("
            "json_extract(v.answers, '$.reached_person') = 0 or (v.protocol = 'email-webform' and "
            "json_extract(v.answers, '$.first_reply_at') is null))", ["service-test-berlin-2026"]).fetchone()[0]
    assert sum(n for (rep, _), n in groups.items() if rep == "(unknown)") == nobody > 0
    # Half of those are still waiting: no median yet, said in words rather than left blank.
    table = cli_run(demo_root, "scorecard", "service-test-berlin-2026", "--by", "representative").output
    assert "not reached, 6 still open" in table


def test_the_canned_service_queries_count_and_score_as_the_scorecard_does(demo_root, tmp_path):
    """The editors' canned service queries leave out rejected and voided tests and score each test
    by the protocol version that judged it, as `scorecard` does: they had counted every test and
    scored it by the protocol file as it is now."""
    import shutil

    from investigate.cases.review import review_visits
    from investigate.protocol.protocols import BUILTIN_DIR

    root = tmp_path / "ws"
    shutil.copytree(demo_root, root)
    # A version 3 of the phone protocol that reverses the greeting's points: the tests were
    # judged by version 2, which the workspace keeps.
    text = (BUILTIN_DIR / "phone-hotline.toml").read_text(encoding="utf-8")
    assert "version = 2\n" in text and "points = { friendly = 2, neutral = 1, curt = 0 }" in text
    (root / "protocols").mkdir(exist_ok=True)
    (root / "protocols" / "phone-hotline.toml").write_text(
        text.replace("version = 2\n", "version = 3\n", 1)
            .replace("points = { friendly = 2, neutral = 1, curt = 0 }", "points = { friendly = 0, neutral = 1, curt = 2 }"),
        encoding="utf-8")
    with Workspace(root) as ws:
        case = cases.get_case(ws, "service-test-berlin-2026")
        tests = ws.db.execute("select id, json_extract(answers, '$.greeting') from visits where case_id = ? "
                              "order by visited_at", [case["id"]]).fetchall()
        # Every friendly greeting on the phone rejected, and three tests of the other channels voided.
        friendly = [vid for vid, greeting in tests if greeting == "friendly"]
        assert friendly and len(friendly) < len(tests) // 2
        review_visits(ws, friendly, "reject", comment="test: re-do")
        for vid in [vid for vid, greeting in tests if greeting is None][:3]:
            visits.void_visit(ws, visits.get_visit(ws, vid), reason="test: a duplicate")
        assert_canned_service_queries_equal_the_scorecard(ws, case)


def test_the_canned_service_queries_score_each_test_once(demo_root, monkeypatch):
    """A test's scores and a contact's clock are Python functions of its answers: the canned
    queries compute each once per test. (SQLite computed a CTE's column again for each use of it:
    eighteen scorings per test, 65 s for a scorecard of 100,000 tests.)"""
    import sqlite3

    from investigate.protocol.model import Protocol
    from investigate.publish.metadata import _WORKING, RESPONSE_TIMES, SERVICE_SCORECARD
    from investigate.publish import plugin
    from investigate.publish.plugin import _service_functions

    monkeypatch.setattr(plugin, "_KEPT_ANSWERS", {})  # nothing kept by the tests before: score them
    conn = sqlite3.connect(demo_root / "investigate.db")
    calls = {"score": 0, "response_time": 0}
    for name in calls:
        def counted(*args, _fn=getattr(Protocol, name), _name=name, **kwargs):
            calls[_name] += 1
            return _fn(*args, **kwargs)

        monkeypatch.setattr(Protocol, name, counted)
    _service_functions(conn, demo_root)
    params = {"case": "service-test-berlin-2026"}
    tests = conn.execute("select count(*) from visits v where v.case_id = (select id from cases where slug = :case) "
                         f"and {_WORKING} and coalesce(v.attempt, 'completed') = 'completed'",
                         params).fetchone()[0]
    assert conn.execute(SERVICE_SCORECARD, params).fetchall() and calls["score"] == tests > 1
    assert conn.execute(RESPONSE_TIMES, params).fetchall() and calls["response_time"] == tests


def test_the_editors_instance_imports_its_statistics_as_it_starts_and_no_other_does(workspace):
    """The first canned scorecard after a start paid for importing scipy.stats inside its 3 s SQL
    limit; the editors' instance now imports it beside its start. Run in a fresh interpreter,
    where nothing has imported scipy yet."""
    import subprocess
    import sys

    script = """
import asyncio, sys, threading
from investigate.publish.server import editors_datasette
from investigate.store.workspace import Workspace
from datasette.app import Datasette
assert "scipy.stats" not in sys.modules
editors = editors_datasette(Workspace(sys.argv[1]))  # our plugins registered
asyncio.run(Datasette([]).invoke_startup())  # an instance that serves no workspace, as the public one
print("other", [t.name for t in threading.enumerate() if t.name == "investigate-statistics"])
asyncio.run(editors.invoke_startup())
for t in threading.enumerate():
    if t.name == "investigate-statistics":
        t.join(60)
print("editors", "scipy.stats" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", script, str(workspace.root)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["other []", "editors True"]


def test_the_canned_scorecard_is_kept_until_a_write_or_the_clock_moves_a_score(service, clock, monkeypatch):
    """Issue 30: the editors' canned scorecard keeps what it computed while the workspace is the
    same and the clock crosses no moment at which a test's score moves on its own: a promise
    falling due, an e-mail's reply clock outgrowing its last band. At every moment it must give
    what `scorecard` gives then, and a kept answer must not score a test again."""
    from investigate.protocol.model import Protocol
    from investigate.publish.server import editors_datasette

    ws, case, cp = service["ws"], service["case"], service["cp"]
    t0 = ws.now()
    call(ws, case, cp[("Tele AG", "phone")], t0 - timedelta(days=1))
    call(ws, case, cp[("Bank eG", "phone")], t0 - timedelta(days=1), greeting="curt")
    # A callback promised for the day after tomorrow: pending now, overdue (broken) from then.
    promised = call(ws, case, cp[("Tele AG", "phone")], t0 - timedelta(hours=1),
                    callback_promised_at=(t0 + timedelta(days=2)).isoformat())
    # An e-mail sent an hour ago and not answered: its reply clock leaves the score until it has
    # outgrown the last band (three days), then it scores that band's 0 points.
    mail = companies.add_contact_point(ws, service["tele"], channel="email", contact="help@tele.example")
    sent = t0 - timedelta(hours=1)
    visits.record_visit(ws, case=case, store=mail, tester=None, protocol="email-webform", visited_at=sent,
                        answers={"sent_at": sent.isoformat(), "misstated_rights": "no"})
    scorings = []
    score = Protocol.score
    monkeypatch.setattr(Protocol, "score", lambda self, *a, **k: scorings.append(1) or score(self, *a, **k))
    ds = editors_datasette(ws)

    def canned() -> tuple[dict, int]:
        """The canned scorecard's rows by (company, channel), and how many tests it scored."""
        scorings.clear()
        rows = canned_rows(ds, "service_scorecard", case)
        return {(r["company"], r["channel"]): r for r in rows}, len(scorings)

    def as_the_scorecard(rows: dict) -> None:
        card = scorecards.scorecard(ws, case, by=("company", "channel"))["groups"]
        assert set(rows) == {(g["group"]["company"], g["group"]["channel"]) for g in card}
        for g in card:
            got = rows[(g["group"]["company"], g["group"]["channel"])]
            assert got["tests"] == g["tests"]
            for d, figure in [*g["dimensions"].items(), ("overall", g["overall"])]:
                assert got[d] == pytest.approx(figure["mean"], abs=0.051), (g["group"], d)

    first, scored = canned()
    assert scored == 4
    as_the_scorecard(first)
    assert canned() == (first, 0)  # kept
    clock.shift(timedelta(days=1))  # no moment crossed
    assert canned() == (first, 0)

    clock.move_to(t0 + timedelta(days=2, minutes=1))  # the callback is overdue
    overdue, scored = canned()
    assert scored == 4
    as_the_scorecard(overdue)
    # the pending promise was left out; overdue, it counts as broken
    assert (first[("Tele AG", "phone")]["commitment"], overdue[("Tele AG", "phone")]["commitment"]) == (None, 0)
    assert canned() == (overdue, 0)

    clock.move_to(sent + timedelta(days=3, minutes=1))  # the e-mail has outgrown its last band
    outgrown, scored = canned()
    assert scored == 4
    as_the_scorecard(outgrown)
    assert outgrown[("Tele AG", "email")]["overall"] < overdue[("Tele AG", "email")]["overall"]
    assert canned() == (outgrown, 0)

    review_visit(ws, promised["visit"], "reject", comment="The recording is missing.")  # a write
    after, scored = canned()
    assert scored == 3
    as_the_scorecard(after)
    assert after[("Tele AG", "phone")]["tests"] == 1


def test_the_canned_reply_times_are_kept_until_a_write_or_an_open_contact_waits_past_a_reply(service, clock,
                                                                                             monkeypatch):
    """Issue 30: the editors' canned reply times keep what they computed while the workspace is
    the same and no contact still open has waited past another contact's time: only then does
    the Kaplan–Meier median move without a write. At every moment they must give what
    `scorecard` gives then, and a kept answer must not read a contact's clock again."""
    from investigate.protocol.model import Protocol
    from investigate.publish.server import editors_datasette

    ws, case = service["ws"], service["case"]
    mail = companies.add_contact_point(ws, service["tele"], channel="email", contact="help@tele.example")
    t0 = ws.now()
    for hours in (10, 30):  # answered after 10 and 30 hours
        sent = t0 - timedelta(days=3)
        visits.record_visit(ws, case=case, store=mail, tester=None, protocol="email-webform", visited_at=sent,
                            answers={"sent_at": sent.isoformat(),
                                     "first_reply_at": (sent + timedelta(hours=hours)).isoformat()})
    sent = t0 - timedelta(hours=1)  # still waiting: censored at the time waited so far
    waiting = visits.record_visit(ws, case=case, store=mail, tester=None, protocol="email-webform",
                                  visited_at=sent, answers={"sent_at": sent.isoformat()})
    clocks = []
    response_time = Protocol.response_time
    monkeypatch.setattr(Protocol, "response_time",
                        lambda self, *a, **k: clocks.append(1) or response_time(self, *a, **k))
    ds = editors_datasette(ws)

    def canned() -> tuple[dict, int]:
        """The canned reply times by channel, and how many contacts' clocks they read."""
        clocks.clear()
        return {r["channel"]: r for r in canned_rows(ds, "response_times_by_channel", case)}, len(clocks)

    def as_the_scorecard(rows: dict) -> None:
        card = {g["group"]["channel"]: g["response_minutes"]
                for g in scorecards.scorecard(ws, case, by=("channel",))["groups"]}
        assert set(rows) == set(card)
        for channel, km in card.items():
            got = rows[channel]
            assert (got["n"], got["still_open"]) == (km["n"], km["open"])
            for key, column in (("median", "median_minutes"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
                assert got[column] == (None if km[key] is None else pytest.approx(km[key], abs=0.051)), (channel, key)

    first, read = canned()
    assert read == 3
    as_the_scorecard(first)
    assert first["email"]["median_minutes"] == 600  # the open one (1 h) is not at risk at 10 h: S = 1/2
    assert canned() == (first, 0)  # kept
    clock.shift(timedelta(hours=5))  # it has waited 6 hours: still short of the first reply's 10
    assert canned() == (first, 0)

    clock.move_to(sent + timedelta(hours=10, minutes=1))  # waited past the 10-hour reply
    passed, read = canned()
    assert read == 3
    as_the_scorecard(passed)
    assert passed["email"]["median_minutes"] == 1800  # at risk at 10 h now: S = 2/3, then 0 at 30 h
    assert canned() == (passed, 0)

    review_visit(ws, waiting["visit"], "reject", comment="Sent to the wrong address.")  # a write
    after, read = canned()
    assert read == 2
    as_the_scorecard(after)
    assert after["email"]["still_open"] == 0


def canned_rows(ds, name: str, case: dict) -> list[dict]:
    """A canned query's rows for ``case``, fetched from the editors' Datasette as its JSON link
    asks for them."""
    import asyncio

    async def fetch():
        await ds.invoke_startup()
        return await ds.client.get(f"/investigate/{name}.json?case={case['slug']}&_shape=array")

    response = asyncio.run(fetch())
    assert response.status_code == 200, response.text
    return response.json()
