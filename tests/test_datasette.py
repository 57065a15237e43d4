"""The editors' Datasette instance and the public copy, in-process and over real HTTP."""

from __future__ import annotations

import asyncio
import json
import re
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from investigate.numbers import stats
from investigate.cases import cases, evidence
from investigate.demo.build import receipt_photo
from investigate.publish import metadata as meta_module
from investigate.publish.public import build_public
from investigate.publish.server import PASSWORD_ENV, editors_datasette, public_datasette
from investigate.store.workspace import Workspace

from conftest import counted_tallies, kept_tallies, snapshot


def get(ds, path, **kwargs):
    async def go():
        await ds.invoke_startup()
        return await ds.client.get(path, **kwargs)

    return asyncio.run(go())


@pytest.fixture
def editors(workspace, tobacco_case, tmp_path, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    visit = tobacco_case["visits"][0]
    shop = tobacco_case["stores"][0]
    photo = receipt_photo(tmp_path / "IMG_1.jpg", when=workspace.now() - timedelta(days=10),
                          lat=shop["lat"], lon=shop["lon"], text=shop["name"])
    item = evidence.add_evidence(workspace, visit, [photo])[0]
    return {"ds": editors_datasette(workspace), "visit": visit, "evidence": item, "photo": photo, **tobacco_case}


def test_every_table_and_column_of_the_schema_is_described(workspace):
    described = meta_module.TABLES
    for table in workspace.db.table_names():
        if table.startswith("_") or table.endswith("_fts"):
            continue
        assert table in described, f"table {table} has no description in publish/metadata.py"
        for column in workspace.db[table].columns:
            assert column.name in described[table][1], f"{table}.{column.name} has no description"


def test_visit_page_shows_answers_findings_and_evidence_with_thumbnail(editors):
    v, e = editors["visit"], editors["evidence"]
    page = get(editors["ds"], f"/investigate/visits/{v['id']}")
    assert page.status_code == 200
    html = page.text
    assert "Tobacco product sold to a minor" in html and "JuSchG § 10" in html
    assert e["sha256"] in html and f"/-/evidence/{e['sha256']}?thumb=1" in html
    full = get(editors["ds"], f"/-/evidence/{e['sha256']}")
    assert full.status_code == 200
    assert full.content == editors["photo"].read_bytes()
    thumb = get(editors["ds"], f"/-/evidence/{e['sha256']}?thumb=1")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"


def test_evidence_route_serves_only_known_hashes(editors):
    assert get(editors["ds"], "/-/evidence/" + "0" * 64).status_code == 404
    assert get(editors["ds"], "/-/evidence/../investigate.db").status_code == 404


def test_case_page_shows_rates_from_the_stats_module(editors, workspace):
    case = editors["case"]
    html = get(editors["ds"], f"/investigate/cases/{case['id']}").text
    for row in stats.case_rates(workspace, case, by="chain"):
        assert row["group"] in html
        assert f"{row['rate'] * 100:.1f} %" in html


def test_canned_rate_by_chain_equals_stats(editors, workspace):
    case = editors["case"]
    response = get(editors["ds"], "/investigate/rate_by_chain.json?case=tobacco-nk&_shape=array")
    assert response.status_code == 200, response.text
    rows = {r["chain"]: r for r in response.json()}
    for expected in stats.case_rates(workspace, case, by="chain"):
        got = rows[expected["group"]]
        assert got["violations"] == expected["violations"] and got["eligible"] == expected["eligible"]
        assert got["ci_low"] == pytest.approx(expected["ci_low"], abs=1e-4)
        assert got["ci_high"] == pytest.approx(expected["ci_high"], abs=1e-4)


def test_visit_tallies_follow_every_insert_update_and_delete(workspace, tobacco_case):
    """The rate query reads visit_tallies: the triggers must keep it equal to counting the visits."""
    from investigate.cases.review import review_visit

    def tallies():
        return kept_tallies(workspace)[0]

    def agree():  # the visit tallies and the case tallies, each equal to counting the visits
        return kept_tallies(workspace) == counted_tallies(workspace)

    visits = tobacco_case["visits"]
    assert agree() and sum(r[-1] for r in tallies()) == len(visits)
    review_visit(workspace, visits[0], "approve")
    review_visit(workspace, visits[1], "reject", comment="blurred photo")
    workspace.update("visits", visits[2]["id"], {"outcome": "inconclusive"}, reason="test")
    # Round and attempt are counted too (issue 30: completion and the rounds read them).
    workspace.update("visits", visits[2]["id"], {"round": 2, "attempt": "closed"}, reason="test")
    assert ("closed", 2) in {(r[6], r[5]) for r in tallies()}
    workspace.update("visits", visits[2]["id"], {"round": None, "attempt": None}, reason="test")
    workspace.delete("visits", visits[3]["id"], reason="test")
    assert agree() and sum(r[-1] for r in tallies()) == len(visits) - 1
    # A bulk insert (an import) counts its rows in one statement, its trigger dropped meanwhile:
    # the same tallies, and the trigger is back for the next single insert.
    template = {k: v for k, v in visits[0].items() if k != "id"}
    workspace.insert_many("visits", [{**template, "outcome": o} for o in ("violation", "compliant", "violation")])
    workspace.insert("visits", {**template, "outcome": "inconclusive"})
    assert agree() and sum(r[-1] for r in tallies()) == len(visits) + 3
    # A bulk insert that fails keeps nothing, the trigger included.
    with pytest.raises(Exception):
        workspace.insert_many("visits", [{**template, "outcome": "compliant"}, {**template, "store_id": "nowhere"}])
    workspace.insert("visits", {**template, "outcome": "compliant"})
    assert agree()


def test_finding_tallies_follow_every_finding_and_every_visit_they_move_with(workspace, tobacco_case, frame_case):
    """`case show` and the naming read finding_tallies (issue 30): the triggers, and a bulk
    insert's one recount, must keep it equal to counting the findings by their visit's case,
    store, kind and review state — through reviews, bulk reviews and a visit changing case."""
    from investigate.cases.review import review_visit

    def tallies():
        return sorted(workspace.db.execute("select * from finding_tallies").fetchall())

    def counted():
        return sorted(workspace.db.execute(
            "select v.case_id, v.store_id, v.kind, coalesce(v.review_state, 'received'), count(*) "
            "from findings f join visits v on v.id = f.visit_id group by 1, 2, 3, 4").fetchall())

    visits, other = tobacco_case["visits"], frame_case
    template = {"code": "x", "title": "Sold", "severity": "high", "source": "test", "created_at": "2026-01-01"}
    workspace.insert_many("findings", [{**template, "visit_id": v["id"]} for v in visits])
    workspace.insert("findings", {**template, "visit_id": visits[0]["id"]})
    assert tallies() == counted() and sum(r[-1] for r in tallies()) >= len(visits) + 1
    review_visit(workspace, visits[0], "reject", comment="blurred")
    workspace.update_many("visits", [v["id"] for v in visits[1:]], {"review_state": "approved"}, reason="test",
                          action="review")
    assert tallies() == counted() and {r[3] for r in tallies()} >= {"rejected", "approved"}
    finding = workspace.db.execute("select id from findings where visit_id = ?", [visits[1]["id"]]).fetchone()[0]
    workspace.update("findings", finding, {"visit_id": visits[2]["id"]}, reason="test")
    workspace.update("visits", visits[0]["id"], {"case_id": other["id"]}, reason="test")
    assert tallies() == counted() and other["id"] in {r[0] for r in tallies()}
    workspace.delete("findings", finding, reason="test")
    assert tallies() == counted() and all(r[-1] > 0 for r in tallies())


def test_other_canned_queries_run(editors):
    for name in ("stores_sold_more_than_once", "overdue_promises", "open_reply_deadlines",
                 "visits_per_tester_per_week"):
        response = get(editors["ds"], f"/investigate/{name}.json?_shape=array")
        assert response.status_code == 200, (name, response.text)
    weekly = get(editors["ds"], "/investigate/visits_per_tester_per_week.json?_shape=array").json()
    assert sum(r["visits"] for r in weekly) == 4


def test_visits_table_facets_on_request_and_shows_store_names(editors):
    # No default facet on the largest table: each would count every visit on every page load.
    assert not get(editors["ds"], "/investigate/visits.json").json()["facet_results"]
    data = get(editors["ds"], "/investigate/visits.json?_labels=on&_shape=objects&_facet=outcome").json()
    assert {r["value"] for r in data["facet_results"]["outcome"]["results"]} >= {"violation", "compliant"}
    labels = {row["store_id"]["label"] for row in data["rows"]}
    assert "Späti Eins" in labels


def test_units_are_shown_with_values(editors):
    html = get(editors["ds"], "/investigate/evidence").text
    # Pint scales the value: 8,397 bytes show as "8.397 kB".
    assert f"{editors['evidence']['size'] / 1000:g}&nbsp;kB" in html


def test_database_download_is_off(editors):
    assert get(editors["ds"], "/investigate.db").status_code in (403, 404)


def test_with_accounts_every_page_needs_login(workspace, tobacco_case, monkeypatch):
    from investigate.store.accounts import add_account

    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    add_account(workspace, "editor", role="editor", password="s3cret-password")
    ds = editors_datasette(workspace, host="0.0.0.0")
    assert get(ds, "/investigate/visits.json").status_code == 403
    assert get(ds, "/investigate.json?sql=select+code+from+testers").status_code == 403
    # A person in a browser is sent to the login form (issue 22: not "Forbidden / view-instance").
    for page in ("/", "/investigate/visits", "/investigate?sql=select+code+from+testers"):
        response = get(ds, page)
        assert response.status_code == 302 and response.headers["location"] == "/-/login", page
    login = get(ds, "/-/login")
    assert login.status_code == 200 and 'name="password"' in login.text
    cookie = ds.sign({"a": {"id": "editor"}}, "actor")
    assert get(ds, "/investigate/visits.json", cookies={"ds_actor": cookie}).status_code == 200


def test_a_non_loopback_host_without_accounts_is_refused(run, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    result = run("serve", "--host", "0.0.0.0", "--check")
    assert result.exit_code != 0 and "without editors' accounts" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_port_in_use_is_a_one_line_error(run, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = run("serve", "--port", port, "--check")
    assert result.exit_code != 0 and f"127.0.0.1:{port}" in result.output


def test_publish_without_published_case_or_with_unknown_slug_fails_cleanly(run, tobacco_case, workspace):
    before = snapshot(workspace)
    result = run("publish")
    assert result.exit_code != 0 and "no published case" in result.output
    result = run("publish", "--case", "nope")
    assert result.exit_code != 0 and "no case with slug 'nope'" in result.output
    assert snapshot(workspace) == before


def test_public_instance_serves_the_copy_immutable_without_the_evidence_route(editors, workspace, tmp_path):
    out = tmp_path / "public"
    build_public(workspace, out, slugs=["tobacco-nk"], override="test")
    ds = public_datasette(out)
    tables = get(ds, "/public.json").json()
    counts = {t["name"]: t["count"] for t in tables["tables"]}
    assert counts["visits"] == 0  # nothing approved yet: nothing public
    assert get(ds, f"/-/evidence/{editors['evidence']['sha256']}").status_code == 404
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["license"] == "CC BY 4.0"
    assert "Tobacco sales to minors, Neukölln" in meta["description"]
    served = get(ds, "/public/cases.json?_shape=array").json()
    assert [c["slug"] for c in served] == ["tobacco-nk"] and served[0]["checklist_overridden"] == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc, timeout: float = 20) -> httpx.Response:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read().decode()}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s")


@contextmanager
def serving(workspace, first_page: str = "/"):
    """``investigate serve`` on a free port of 127.0.0.1, as a person starts it (no shared
    password in the environment); yields its base URL once ``first_page`` answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    proc = subprocess.Popen([sys.executable, "-m", "investigate", "-w", str(workspace.root), "serve", "--port",
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        wait_for(f"http://127.0.0.1:{port}{first_page}", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_real_server_answers_over_http_while_the_cli_writes(workspace, tobacco_case, run, monkeypatch):
    with serving(workspace) as url:
        first = httpx.get(f"{url}/investigate/visits.json?_shape=array", timeout=5)
        assert first.status_code == 200 and len(first.json()) == 4
        cases.create_case(workspace, slug="while-serving", title="Written while serving", protocol="tobacco-minors")
        later = httpx.get(f"{url}/investigate/cases.json?_shape=array", timeout=5)
        assert "while-serving" in {c["slug"] for c in later.json()}


def test_the_editors_home_page_is_a_desk_of_counts_and_first_pages_linking_to_what_is_done(editors, workspace):
    from investigate.cases import replies

    case = editors["case"]
    replies.request_reply(workspace, case, editors["stores"][0])
    page = get(editors["ds"], "/")
    assert page.status_code == 200
    html = page.text
    # What blocks the case, counted from the tallies; the full checklist is a click away.
    assert "4 visit(s) await review" in html and "1 reply window(s) open" in html
    assert f"/investigate/cases/{case['id']}" in html and "the checklist" in html
    assert "Reply windows open (1)" in html and editors["stores"][0]["name"] in html
    assert "Visits waiting for review (4)" in html and "Promises overdue (0)" in html
    assert f"/investigate/visits/{editors['visit']['id']}" in html
    for key in ("review", "replies", "overdue", "due", "unasked"):
        assert f"/-/investigate/todo/{key}" in html


def test_the_visit_list_facets_by_chain_and_shows_names_and_readable_answers(editors):
    page = get(editors["ds"], "/investigate/visit_list")  # faceted by chain as it opens, once
    assert page.status_code == 200
    html = page.text
    assert "Späti24" in html and "KioskCo" in html and html.count('id="facet-chain"') == 1
    assert "(tally)" not in html  # shown as the column facet it is to a reader
    assert "sale: yes" in html and "id_check: none" in html and '{"' not in html
    assert f"/investigate/visits/{editors['visit']['id']}" in html
    facet = get(editors["ds"], "/investigate/visit_list.json?chain=Späti24&_shape=array").json()
    assert len(facet) == 2 and all(r["store"].startswith("Späti") for r in facet)


def test_the_public_visits_page_shows_the_reports_pseudonyms_and_percentages_never_none(workspace, tobacco_case, tmp_path):
    from investigate.cases.review import review_visit

    for v in tobacco_case["visits"]:
        review_visit(workspace, v, "approve")
    out = tmp_path / "public"
    build_public(workspace, out, slugs=["tobacco-nk"], override="nobody asked yet")
    ds = public_datasette(out)
    visits = get(ds, "/public/visits")
    assert visits.status_code == 200
    page = visits.text
    assert "None" not in page and re.search(r"Store [A-D]", page)
    assert "sale: yes" in page and "id_check: asked the age only" in page and "{&#34;" not in page and '{"' not in page
    rates = get(ds, "/public/rates?grouping=all").text
    assert "50.0%" in rates or "50%" in rates
    assert "None" not in get(ds, "/public/stores").text


def test_the_case_page_shows_the_checklist_the_policys_rates_and_the_answers(editors, workspace):
    from investigate import policy
    from investigate.cases import replies
    from investigate.policy import WORKING, gate

    case = editors["case"]
    request = replies.request_reply(workspace, case, editors["stores"][0])
    replies.record_reply(workspace, request, answer="Wir haben die Mitarbeiterin nachgeschult.")
    html = get(editors["ds"], f"/investigate/cases/{case['id']}").text
    for item in gate.checklist(workspace, case):
        assert item["detail"].replace("'", "&#39;") in html
    overall = policy.case_rates(workspace, case, scope=WORKING)[0]
    assert f"<td>all</td><td>{overall['visits']}</td><td>{overall['eligible']}</td><td>{overall['violations']}</td>" in html
    assert "Wir haben die Mitarbeiterin nachgeschult." in html


def test_the_column_dictionary_is_folded_away_so_the_rows_come_first(editors):
    html = get(editors["ds"], "/investigate/visits").text
    assert '<details class="investigate-columns"><summary>What the columns mean</summary>' in html
    assert "dl.column-descriptions { display: none; }" in html
    assert html.index("What the columns mean") < html.index('<table class="rows-and-columns">')


def test_canned_query_rows_link_to_their_visit_and_store(editors, workspace):
    from investigate.cases import replies

    replies.request_reply(workspace, editors["case"], editors["stores"][0])
    html = get(editors["ds"], "/investigate/open_reply_deadlines").text
    assert f'/investigate/stores/{editors["stores"][0]["id"]}"' in html


def test_the_public_landing_text_is_in_the_cases_language_and_links_to_the_report(workspace):
    from investigate.cases import cases
    from investigate.publish.public_metadata import public_metadata

    case = cases.create_case(workspace, slug="tabak", title="Tabakverkauf an Minderjährige", protocol="tobacco-minors",
                             language="de", description="Zwölf Läden.")
    workspace.config["newsroom"]["url"] = "https://example.org/tabak"
    meta = public_metadata(workspace, [case])
    assert meta["title"] == "Test Newsroom: veröffentlichte Recherchen"
    assert meta["description"].startswith("Verdeckte Tests, wie veröffentlicht.") and "Zwölf Läden." in meta["description"]
    assert (meta["about"], meta["about_url"]) == ("Der Bericht und seine Methode", "https://example.org/tabak")


def test_a_visit_page_shows_its_business_reply(editors, workspace):
    from investigate.cases import replies

    request = replies.request_reply(workspace, editors["case"], editors["stores"][0])
    replies.record_reply(workspace, request, answer="Wir bedauern den Vorfall.")
    html = get(editors["ds"], f"/investigate/visits/{editors['visit']['id']}").text
    assert "The business&#39;s reply" in html or "The business's reply" in html
    assert "Wir bedauern den Vorfall." in html


def test_public_visits_pages_and_facets_read_indexes_and_never_sort(workspace, tobacco_case, tmp_path):
    """What keeps the public pages fast at a million visits, checked on the SQL Datasette really
    runs (its trace) with EXPLAIN QUERY PLAN: the visits page, a case's and an outcome's visits
    and the next page read an index or the rowid order and never sort; a facet counts a covering
    index; no count(*) of the whole table (the inspect file has it)."""
    import shutil
    import sqlite3

    from investigate.cases.review import review_visit

    for v in tobacco_case["visits"]:
        review_visit(workspace, v, "approve")
    out = tmp_path / "public"
    build_public(workspace, out, slugs=["tobacco-nk"], override="nobody asked yet")
    ds = public_datasette(out, trace_debug=True)
    # The plans a million visits get: on four, ANALYZE's statistics tell the planner that
    # sorting is free. Without statistics it plans as for a large table, as it does with the
    # statistics publish writes for a million visits (bench/datasette_bench.py).
    shutil.copy(out / "public.db", tmp_path / "plans.db")
    db = sqlite3.connect(tmp_path / "plans.db")
    db.execute("delete from sqlite_stat1")
    db.commit()
    db.close()
    db = sqlite3.connect(tmp_path / "plans.db")
    checked = 0
    for path in ("/public/visits.json", "/public/visits.json?_facet=outcome",
                 "/public/visits.json?case_slug=tobacco-nk&_facet=outcome",
                 "/public/visits.json?outcome=violation", "/public/visits.json?_next=2"):
        response = get(ds, path + ("&" if "?" in path else "?") + "_trace=1")
        assert response.status_code == 200, response.text
        for trace in response.json()["_trace"]["traces"]:
            sql = trace["sql"]
            if not re.search(r"\bfrom visits\b", sql):
                continue
            assert sql.strip().lower() != "select count(*) from visits", "the count comes from the inspect file"
            plan = [row[3] for row in db.execute("explain query plan " + sql, trace["params"] or {})]
            if "count(*) as count" in sql:
                # A facet counts one covering index in its order; only its few groups are sorted.
                assert any("COVERING INDEX" in step for step in plan), (path, sql, plan)
                assert not any("TEMP B-TREE FOR GROUP BY" in step for step in plan), (path, sql, plan)
                continue
            assert not any("TEMP B-TREE" in step for step in plan), (path, sql, plan)
            for step in plan:
                # The table itself is read only in rowid order, for one page.
                if step.startswith("SCAN visits") and "INDEX" not in step:
                    assert re.search(r"order by \[?id\]? limit \d+$", sql.strip()), (path, sql, plan)
            checked += 1
    assert checked >= 6  # pages and facets of each path above


def test_the_editors_map_gets_the_outcome_pins_script_and_the_instance_serves_it(editors, workspace, tmp_path):
    """Pins by outcome on the map of any table or query with an outcome and coordinates: our own
    script, served by the editors' instance itself (no CDN), and nowhere else."""
    page = get(editors["ds"], "/investigate/store_map?case=tobacco-nk").text
    src = re.search(r'<script type="module" src="([^"]*outcome-pins\.js)"', page)
    assert src and "datasette-cluster-map.js" in page
    script = get(editors["ds"], src.group(1))
    assert script.status_code == 200 and "investigate-pin" in script.text and "L.Marker.include" in script.text
    rows = get(editors["ds"], "/investigate/store_map.json?case=tobacco-nk&_shape=array").json()
    assert rows and {"lat", "lon", "outcome"} <= set(rows[0]) and "violation" in {r["outcome"] for r in rows}
    assert "outcome-pins" not in get(editors["ds"], "/investigate/visits").text  # no coordinates there
    out = tmp_path / "public"
    build_public(workspace, out, slugs=["tobacco-nk"], override="test")
    assert "outcome-pins" not in get(public_datasette(out), "/public/stores").text


@pytest.mark.parametrize("how", ["served as publish --serve serves it", "the folder as a configuration directory",
                                 "as the README's datasette publish runs it"])
def test_the_public_visits_page_counts_no_facet_however_it_is_served(workspace, tobacco_case, tmp_path, how):
    """Issue 30: a suggested facet counts a column of every row on every page load (the visits
    page took 875 ms at a million visits with them), and so does a default facet (120 ms each
    there). The settings travel with the copy: settings.json for `datasette public/`, and the
    README's --extra-options for Datasette's publishers (their container runs `datasette serve
    -i … -m …` with those options); the visits table has no default facet, a facet is a click
    away."""
    from investigate.cases.review import review_visit

    for visit in tobacco_case["visits"]:  # rows to suggest facets for: without, none are suggested anyway
        review_visit(workspace, visit, "approve")
    out = tmp_path / "public"
    build_public(workspace, out, slugs=["tobacco-nk"], override="test")
    assert json.loads((out / "settings.json").read_text()) == {"allow_download": True, "suggest_facets": False}
    if how.startswith("served as publish"):
        page = get(public_datasette(out), "/public/visits.json").json()
    else:
        args = [str(out)] if "folder" in how else [
            "-i", str(out / "public.db"), "-m", str(out / "metadata.json"), "--inspect-file",
            str(out / "inspect-data.json"), "--setting", "suggest_facets", "off"]
        done = subprocess.run([str(Path(sys.executable).with_name("datasette")), "serve", *args,
                               "--get", "/public/visits.json"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        page = json.loads(done.stdout)
    assert page["rows"] and page["suggested_facets"] == [] and page["facet_results"] == {}


def test_no_map_asks_a_tile_server_the_newsroom_did_not_set(editors, workspace, tmp_path):
    page = get(editors["ds"], "/investigate/store_map?case=tobacco-nk").text
    assert "datasette-cluster-map.js" in page
    assert "openstreetmap" not in page.lower() and "data:image/png;base64" in page
    out = tmp_path / "public"
    build_public(workspace, out, slugs=["tobacco-nk"], override="test")
    public_meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert public_meta["plugins"]["datasette-cluster-map"]["tile_layer"].startswith("data:image/png")
    # With the newsroom's own server, that one and no other.
    text = workspace.config_path.read_text(encoding="utf-8").replace(
        'tile_url = ""', 'tile_url = "http://127.0.0.1:8090/{z}/{x}/{y}.png"', 1)
    workspace.config_path.write_text(text, encoding="utf-8")
    page = get(editors_datasette(Workspace(workspace.root)), "/investigate/store_map?case=tobacco-nk").text
    assert "127.0.0.1:8090" in page and "openstreetmap" not in page.lower()


@pytest.mark.parametrize("lang, question, answer", [
    ("en", "Was the product sold to the tester?", "yes"),
    ("de", "Wurde das Produkt an die Testperson verkauft?", "ja"),
    ("da", None, None),
])
def test_the_visit_page_reads_like_a_newsroom_tool(editors, workspace, lang, question, answer):
    """Answers under their questions in the case's language, times local, the store and case
    linked; the stored row (UUIDs, JSON) only behind a fold."""
    from investigate.protocol.protocols import get_protocol
    from investigate.views.i18n import Formatter

    cases.edit_case(workspace, editors["case"], language=lang)
    v = editors["visit"]  # sold, no age check
    texts = get_protocol("tobacco-minors", workspace.root).texts(lang)
    question = question or texts.prompts["sale"]
    page = get(editors_datasette(workspace), f"/investigate/visits/{v['id']}").text
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    assert v["id"] not in heading and "Späti Eins" in heading
    when = Formatter(lang, "Europe/Berlin").day_time(v["visited_at"])
    assert when in heading
    assert re.search(rf"<td>{re.escape(question)}</td><td>{answer or '[^<]+'}</td>", page)
    assert '{"' not in page.split("<details")[0]  # no JSON above the fold
    assert f'/investigate/stores/{v["store_id"]}"' in page and f'/investigate/cases/{v["case_id"]}"' in page


def test_a_canned_query_opens_on_a_case_and_prints_rates_as_percentages(editors):
    ds = editors["ds"]
    opened = get(ds, "/investigate/rate_by_chain")
    assert opened.status_code == 302 and opened.headers["location"] == "/investigate/rate_by_chain?case=tobacco-nk"
    page = get(ds, "/investigate/rate_by_chain?case=tobacco-nk").text
    assert re.search(r">\s*\d{1,3}\.\d %\s*<", page), "rates as percentages"
    assert not re.search(r">\s*0\.\d{3,}\s*<", page), "no bare fractions"
    rows = get(ds, "/investigate/rate_by_chain.json?case=tobacco-nk&_shape=array").json()
    assert rows and all(r["rate"] is None or 0 <= r["rate"] <= 1 for r in rows)  # JSON keeps the number
    assert get(ds, "/investigate/open_reply_deadlines").status_code == 200  # asks no case: as it was


def test_the_store_and_case_pages_open_on_what_an_editor_reads(editors, workspace):
    shop, v = editors["stores"][0], editors["visit"]
    page = get(editors["ds"], f"/investigate/stores/{shop['id']}").text
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

    def shown(html: str, section: str) -> str:  # the text a reader sees above the fold
        return re.sub(r"<[^>]+>", " ", html.split(f'<section class="{section}">')[1].split("</section>")[0])

    assert re.search(r"<h1>\s*Späti Eins\s*</h1>", page) and not uuid.search(shown(page, "investigate-store"))
    from investigate.views.i18n import Formatter

    assert Formatter(workspace.language, "Europe/Berlin").day_time(v["visited_at"]) in page
    assert f'/investigate/visits/{v["id"]}"' in page and f'/investigate/cases/{v["case_id"]}"' in page
    case_page = get(editors["ds"], f"/investigate/cases/{v['case_id']}").text
    assert re.search(r"<h1>\s*Tobacco sales to minors", case_page)
    assert not uuid.search(shown(case_page, "investigate-case"))


TALLIED_FACETS = ("case_slug", "chain", "outcome", "review_state")


def _visit_list_facets(ds, query: str):
    """The visit_list page's facets for ``query``: the metadata's (counted from the tallies where
    the filters allow) and Datasette's column facets over the rows for the same columns, and
    the SQL the page ran to count them."""
    from datasette.tracer import capture_traces

    traces = []

    async def go():
        await ds.invoke_startup()
        with capture_traces(traces):
            return await ds.client.get(f"/investigate/visit_list.json?{query}&"
                                       + "&".join(f"_facet={c}" for c in TALLIED_FACETS))

    response = asyncio.run(go())
    assert response.status_code == 200, response.text
    facets = {}  # each column twice: the metadata's facet and the one asked for, in either order
    for key, info in response.json()["facet_results"].items():
        counts = [(r["value"], r["count"], r["selected"], r["toggle_url"]) for r in info["results"]]
        facets[key] = (counts, info["truncated"])
    counted = [t["sql"] for t in traces if t.get("sql") and "as value" in t["sql"]]
    return facets, counted


def test_the_visit_list_counts_its_facets_from_the_tallies_as_its_rows_count(editors, workspace):
    """Issue 30: at a million visits the view's case and chain facets looked up every visit and
    ran into the facet time limit. They are counted from the visit tallies when every filter is
    one the tallies hold, and over the rows otherwise; either way the same figures and links as
    Datasette's own column facet on the same page."""
    from investigate.cases.review import review_visit

    review_visit(workspace, editors["visits"][0], "approve")
    review_visit(workspace, editors["visits"][1], "reject", comment="blurred receipt")
    answered = ["", "outcome=violation", "chain=Sp%C3%A4ti24&review_state=received", "case_slug=tobacco-nk",
                "chain=nowhere", "review_state__exact=approved&_sort=store&_size=2", "district=Neuk%C3%B6lln"]
    counted_over_rows = ["visited_at__gt=2000-01-01", "_where=findings%3E0", "round=1", "outcome__not=violation",
                         "_search=x"]
    for query in answered + counted_over_rows:
        facets, sql = _visit_list_facets(editors["ds"], query)
        for column in TALLIED_FACETS:
            assert facets[column] == facets[column + "_2"], (query, column)
        from_tallies = [s for s in sql if re.search(r"from (visit|case)_tallies", s)]
        assert len(from_tallies) == (len(TALLIED_FACETS) if query in answered else 0), (query, sql)
    facets, _ = _visit_list_facets(editors["ds"], "")
    assert [(v, n) for v, n, *_ in facets["review_state"][0]] == [("received", 2), ("approved", 1),
                                                                              ("rejected", 1)]
    assert {v for v, *_ in facets["chain"][0]} == {"Späti24", "KioskCo", "(independent)"}


@settings(max_examples=int(os.environ.get("INVESTIGATE_SOAK_EXAMPLES", "12")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(filters=st.lists(st.tuples(st.sampled_from(["case_slug", "store", "chain", "district", "kind", "outcome",
                                                     "review_state", "visited_at__gte", "round", "chain__exact"]),
                                  st.sampled_from(["tobacco-nk", "Späti24", "KioskCo", "(independent)", "violation",
                                                   "compliant", "received", "test_purchase", "1", "", "2026-01-01"])),
                        max_size=3))
def test_any_filters_give_the_visit_list_the_facets_of_its_rows(editors, filters):
    """The property behind the test above: whatever the filters, the facets counted from the
    tallies are those of the rows the page lets through."""
    from urllib.parse import urlencode

    facets, _ = _visit_list_facets(editors["ds"], urlencode(filters))
    for column in TALLIED_FACETS:
        assert facets[column] == facets[column + "_2"], (filters, column)
