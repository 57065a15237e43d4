"""The demo workspace: realistic, reproducible, and valid under verify."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from investigate.cli import cli
from investigate.demo.build import build_demo
from investigate.proof.verify import verify
from investigate.store.workspace import Workspace

STABLE = {
    "stores": "select id, name, chain, address, district, lat, lon, licence_number from stores order by id",
    "visits": "select id, store_id, tester_id, visited_at, answers, outcome, attempt, round from visits order by id",
    "findings": "select id, visit_id, code, statute, severity from findings order by id",
    "evidence": "select id, sha256, captured_at, gps_lat, gps_lon from evidence order by id",
}


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "ws"
    build_demo(root)
    return root


def test_demo_has_the_promised_shape(demo_root):
    with Workspace(demo_root) as ws:
        count = lambda sql: ws.db.execute(sql).fetchone()[0]  # noqa: E731
        # The tobacco and hotline cases; the service case (issue 13) is checked in test_service.py,
        # the story case (issue 18) in test_story.py.
        others = "case_id not in (select id from cases where slug like '%service%' or kind = 'story')"
        assert 38 <= count("select count(*) from stores where channel = 'in_person' and company_id is null") <= 45
        assert count("select count(*) from testers where consent = 1 and consent_sha256 is not null") == 2
        assert 55 <= count(f"select count(*) from visits where {others}") <= 70
        assert count(f"select count(distinct protocol) from visits where {others}") == 2
        assert count("select count(*) from visits where attempt != 'completed'") >= 2
        assert count("select count(*) from findings") > 0
        assert count("select count(*) from evidence where captured_at is not null and gps_lat is not null") > 0
        assert count("select count(*) from promises where kept = 1") > 0
        assert count(f"select count(*) from promises where kept = 0 and visit_id in (select id from visits where {others})") == 1
        assert count(f"select count(*) from promises where kept is null and due_at < '{ws.now().isoformat()}'") > 0
        assert count("select count(*) from replies where answer is not null") > 0
        assert count(f"select count(*) from replies where answered_at is null and deadline > '{ws.now().isoformat()}'") == 1


def test_every_demo_case_has_its_title_and_method_in_english_german_and_danish(demo_root):
    from investigate.cases import cases, stories
    from investigate.cases.cases import case_text

    with Workspace(demo_root) as ws:
        for case in cases.list_cases(ws):
            case = cases.get_case(ws, case["slug"])
            texts = {lang: case_text(case, lang) for lang in ("en", "de", "da")}  # else MissingTranslation
            assert len({t["title"] for t in texts.values()}) == 3, case["slug"]
            assert len({t["description"] for t in texts.values()}) == 3, case["slug"]
            if case["kind"] == "story":
                story = stories.get_story(ws, case)
                people = {lang: stories.person_text(case, story, lang) for lang in ("en", "de", "da")}
                assert people == {"en": "a customer from Neukölln", "de": "eine Kundin aus Neukölln",
                                  "da": "en kunde fra Neukölln"}


def test_every_demo_case_can_be_published_its_calls_too(demo_root):
    # A public edition counts approved tests only: the hotline calls were approved like the rest.
    with Workspace(demo_root) as ws:
        unapproved = ws.db.execute(
            "select c.slug, count(*) from visits v join cases c on c.id = v.case_id "
            "where coalesce(v.review_state, 'received') = 'received' group by c.slug").fetchall()
    assert dict(unapproved) == {"tobacco-neukoelln-2026": 1}


def test_demo_verifies(demo_root):
    with Workspace(demo_root) as ws:
        report = verify(ws)
        assert report.ok, report.problems[:3]
        assert report.evidence_checked > 0


def test_the_same_seed_builds_the_same_demo(demo_root, tmp_path):
    build_demo(tmp_path / "again")
    with Workspace(demo_root) as a, Workspace(tmp_path / "again") as b:
        for table, sql in STABLE.items():
            assert list(a.db.query(sql)) == list(b.db.query(sql)), table


def test_demo_command_prints_next_steps_and_refuses_to_replace_a_folder_that_is_not_a_workspace(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", str(tmp_path / "d"), "--json"])
    assert result.exit_code == 0, result.output
    assert "investigate verify" in json.loads(result.output)["next"]
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete")
    result = runner.invoke(cli, ["demo", str(precious), "--force"])
    assert result.exit_code != 0 and "not a workspace" in result.output
    assert (precious / "thesis.txt").exists()
    again = runner.invoke(cli, ["demo", str(tmp_path / "d"), "--force"])
    assert again.exit_code == 0


def test_the_demo_built_a_year_later_tells_the_same_autumn_a_year_later(tmp_path, clock):
    """Dated relative to the day it is built: built on another day, every date moves by whole
    weeks, so the commands it suggests work on any day (a letter's deadline still lies ahead)."""
    from datetime import timedelta

    from conftest import CLOCK

    clock.move_to(CLOCK + timedelta(days=365))
    summary = build_demo(tmp_path / "later")
    with Workspace(tmp_path / "later") as ws:
        titles = {r[0]: r[1] for r in ws.db.execute("select slug, title from cases")}
        newest = ws.db.execute("select max(visited_at) from visits").fetchone()[0]
        testers = {r[0]: r[1] for r in ws.db.execute("select code, birth_month from testers")}
        now = ws.now()
    assert "Oktober 2027" in titles["tobacco-neukoelln-2026"]
    assert timedelta(0) < now - ws.parse_time(newest) < timedelta(days=45)  # just behind today
    assert testers == {"T-01": "2010-05", "T-02": "2011-02"}  # ages on the day of each visit as written
    result = CliRunner().invoke(cli, ["-w", summary["workspace"], "reply", "letter", "tobacco-neukoelln-2026",
                                      "BE-21000"])
    assert result.exit_code == 0, result.output


def test_promises_in_the_demo_are_kept_in_office_hours_on_the_right_side_of_their_deadline(demo_root):
    """A callback kept at 03:09 is not how a hotline works: kept times fall in the place's
    working day, a promise kept on time before its deadline, a late one after."""
    from datetime import datetime

    from investigate.demo.calendar import OFFICE_HOURS

    ws = Workspace(demo_root)
    try:
        kept = list(ws.db.query("select due_at, kept_at, note from promises where kept = 1 and kept_at is not null"))
    finally:
        ws.close()
    assert len(kept) > 10
    for p in kept:
        at, due = datetime.fromisoformat(p["kept_at"]).astimezone(ws.tz), datetime.fromisoformat(p["due_at"])
        assert OFFICE_HOURS[0] <= at.hour < OFFICE_HOURS[1], p
        assert (at > due) == (p["note"] == "kam verspätet"), p
