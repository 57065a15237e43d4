"""Editors decide in the browser, each under their own name (issue 27): accounts, the login,
decisions on the visit page, the queue and the case page, through Datasette in-process — as a
browser sends them (the login form, the session cookie, Datasette's CSRF token)."""

from __future__ import annotations

import asyncio
import json
import html as html_lib
import re
from datetime import timedelta

import pytest

from investigate.cases import evidence
from investigate.demo.build import receipt_photo
from investigate.policy import gate
from investigate.publish.server import PASSWORD_ENV, editors_datasette
from investigate.store.accounts import add_account, list_accounts, read_accounts, remove_account

from conftest import snapshot
from test_datasette import free_port

PASSWORDS = {"anna": "anna-password-1", "lena": "lena-password-1", "rita": "rita-password-1"}


class Browser:
    """One person's browser on the editors' instance: it keeps its cookies (the session, the
    CSRF token) and sends forms as the page wrote them."""

    def __init__(self, ds):
        self.ds, self.cookies = ds, {}
        asyncio.run(ds.invoke_startup())

    def _keep(self, response):
        for name, value in response.cookies.items():
            self.cookies[name] = value
        return response

    def get(self, path):
        return self._keep(asyncio.run(self.ds.client.get(path, cookies=self.cookies)))

    def post(self, path, data):
        return self._keep(asyncio.run(self.ds.client.post(path, data=data, cookies=self.cookies)))

    def login(self, name):
        page = self.get("/-/login")
        response = self.post("/-/login", {"username": name, "password": PASSWORDS[name],
                                          "csrftoken": token(page.text)})
        assert response.status_code == 302 and "ds_actor" in self.cookies, response.text[:500]
        return self


def token(html: str) -> str:
    return re.search(r'name="csrftoken" value="([^"]+)"', html).group(1)


def form(html: str, action: str) -> dict[str, list[str]]:
    """The hidden fields of the page's form that posts to ``action``, as the page wrote them."""
    start = html.index(f'action="{action}"')
    body = html[start:html.index("</form>", start)]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body):
        fields.setdefault(html_lib.unescape(name), []).append(html_lib.unescape(value))
    return fields


def refusal(response) -> str:
    found = re.search(r'class="message-error investigate-refused">(.*?)</p>', response.text, re.S)
    return html_lib.unescape(found.group(1)) if found else ""


@pytest.fixture
def desk(workspace, tobacco_case, monkeypatch, tmp_path):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    add_account(workspace, "anna", role="editor", password=PASSWORDS["anna"])
    add_account(workspace, "lena", role="legal", password=PASSWORDS["lena"])
    add_account(workspace, "rita", role="reporter", password=PASSWORDS["rita"])
    from investigate.cli.serve import letter_pdf

    return {"ds": editors_datasette(workspace, write_letter=letter_pdf), **tobacco_case}


def visit_form(browser, visit_id):
    page = browser.get(f"/investigate/visits/{visit_id}")
    assert page.status_code == 200
    return form(page.text, "/-/investigate/review")


def audit_actors(ws, table, row_id):
    return [r["actor"] for r in ws.db.query("select actor from audit_log where table_name = ? and row_id = ? "
                                            "and action = 'review' order by seq", [table, row_id])]


def test_accounts_keep_name_role_and_the_auth_plugins_hash_outside_the_database(workspace):
    from datasette_auth_passwords.utils import verify_password

    add_account(workspace, "Anna", role="editor", password="anna-password-1")
    stored = read_accounts(workspace.root)["anna"]
    assert stored["role"] == "editor" and verify_password("anna-password-1", stored["password_hash"])
    assert list_accounts(workspace.root) == [{"name": "anna", "role": "editor", "added_at": stored["added_at"]}]
    assert stored["password_hash"] not in "\n".join(snapshot(workspace))
    events = [r["action"] for r in workspace.db.query("select action from audit_log where action like 'editor %'")]
    assert events == ["editor add"]
    remove_account(workspace, "anna")
    assert list_accounts(workspace.root) == []


def test_editor_add_list_remove_from_the_command_line(run, workspace):
    added = run("editor", "add", "anna", "--role", "legal", "--password-stdin", input="anna-password-1\n")
    assert added.exit_code == 0 and "Added anna (legal)." in added.output
    assert "anna  legal" in run("editor", "list").output
    short = run("editor", "add", "bob", "--role", "editor", "--password-stdin", input="short\n")
    assert short.exit_code != 0 and "at least 10 characters" in short.output and "Traceback" not in short.output
    bad = run("editor", "add", "Bob Smith", "--role", "editor", "--password-stdin", input="long-enough-1\n")
    assert bad.exit_code != 0 and "account name" in bad.output
    assert run("editor", "remove", "anna").exit_code == 0
    gone = run("editor", "remove", "anna")
    assert gone.exit_code != 0 and "no editor account named 'anna'" in gone.output


def test_serve_beyond_loopback_needs_accounts(run, workspace, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    refused = run("serve", "--host", "0.0.0.0", "--check")
    assert refused.exit_code != 0 and "without editors' accounts" in refused.output
    run("editor", "add", "anna", "--role", "editor", "--password-stdin", input="anna-password-1\n")
    assert run("serve", "--host", "0.0.0.0", "--port", free_port(), "--check").exit_code == 0


def test_an_editor_logs_in_and_approves_a_visit_under_her_own_name(desk, workspace):
    anna = Browser(desk["ds"]).login("anna")
    visit = desk["visits"][0]
    fields = visit_form(anna, visit["id"])
    response = anna.post("/-/investigate/review", {**fields, "action": "approve"})
    assert response.status_code == 302 and response.headers["location"] == f"/investigate/visits/{visit['id']}"
    assert workspace.get("visits", visit["id"])["review_state"] == "approved"
    assert audit_actors(workspace, "visits", visit["id"]) == ["anna"]
    review = workspace.db.execute("select reviewer from reviews where visit_id = ?", [visit["id"]]).fetchone()
    assert review == ("anna",)
    page = anna.get(f"/investigate/visits/{visit['id']}")
    assert "is now approved (by anna)" in page.text and "approved by anna" in page.text


def test_the_queue_approves_several_visits_at_once_and_the_home_page_counts_change(desk, workspace):
    anna = Browser(desk["ds"]).login("anna")
    home = anna.get("/")
    assert "Visits waiting for review (4)" in home.text
    fields = form(home.text, "/-/investigate/review")
    chosen = [v["id"] for v in desk["visits"][:2]]
    seen = {f"seen-{v}": fields[f"seen-{v}"] for v in chosen}
    response = anna.post("/-/investigate/review", {**{k: v for k, v in fields.items() if not k.startswith("seen-")},
                                                   **seen, "visit": chosen, "action": "approve"})
    assert response.status_code == 302, refusal(response)
    assert [workspace.get("visits", v)["review_state"] for v in chosen] == ["approved", "approved"]
    assert all(audit_actors(workspace, "visits", v) == ["anna"] for v in chosen)
    after = anna.get("/")  # the same instance, no restart
    assert "Visits waiting for review (2)" in after.text and "2 visit(s) now approved (by anna)" in after.text


def test_legal_signs_off_on_the_case_page_and_the_checklist_names_the_role(desk, workspace):
    lena = Browser(desk["ds"]).login("lena")
    case = desk["case"]
    page = lena.get(f"/investigate/cases/{case['id']}")
    response = lena.post("/-/investigate/signoff", form(page.text, "/-/investigate/signoff"))
    assert response.status_code == 302, refusal(response)
    row = workspace.db.execute("select role, signed_by from signoffs where case_id = ?", [case["id"]]).fetchone()
    assert row == ("legal counsel", "lena")
    assert [r["actor"] for r in workspace.db.query("select actor from audit_log where table_name = 'signoffs'")] == ["lena"]
    legal = next(i for i in gate.checklist(workspace, case) if i["key"] == "legal_signoff")
    assert legal["ok"]


def test_an_editor_asks_every_business_not_yet_asked_from_the_case_page(desk, workspace, tmp_path):
    anna = Browser(desk["ds"]).login("anna")
    case = desk["case"]
    for v in desk["visits"]:
        workspace.update("visits", v["id"], {"review_state": "approved"}, reason="test setup", action="review")
    page = anna.get(f"/investigate/cases/{case['id']}")
    assert "Späti Eins" in page.text and "not asked" in page.text
    response = anna.post("/-/investigate/request-replies", form(page.text, "/-/investigate/request-replies"))
    assert response.status_code == 302, refusal(response)
    asked = {r["store_id"] for r in workspace.db.query("select store_id from replies where case_id = ?", [case["id"]])}
    assert asked == {desk["stores"][0]["id"], desk["stores"][2]["id"]}  # the two that sold
    actors = {r["actor"] for r in workspace.db.query("select actor from audit_log where table_name = 'replies'")}
    assert actors == {"anna"}
    replies = next(i for i in gate.checklist(workspace, case) if i["key"] == "replies")
    assert "not asked" not in replies["detail"]
    # Each request's letter, linked on the case page, as `investigate reply letter` writes it.
    from pypdf import PdfReader

    page = anna.get(f"/investigate/cases/{case['id']}").text
    links = re.findall(r'href="(/-/investigate/letter/[^"]+)"', page)
    assert len(links) == 2
    pdf = anna.get(links[0])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    (tmp_path / "letter.pdf").write_bytes(pdf.content)
    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "letter.pdf").pages)
    assert "Kiosk am Park" in text or "Späti Eins" in text
    assert Browser(desk["ds"]).get(links[0]).status_code == 403  # no session, no letter
    assert Browser(desk["ds"]).login("rita").get(links[0]).status_code == 403  # a reporter reads, writes none


def test_a_reporter_gets_403_on_every_write_and_nothing_is_written(desk, workspace):
    rita = Browser(desk["ds"]).login("rita")
    visit, case = desk["visits"][0], desk["case"]
    visit_fields = visit_form(rita, visit["id"])
    case_page = rita.get(f"/investigate/cases/{case['id']}").text
    before = snapshot(workspace)
    for path, fields in (("/-/investigate/review", {**visit_fields, "action": "approve"}),
                         ("/-/investigate/signoff", form(case_page, "/-/investigate/signoff")),
                         ("/-/investigate/request-replies", form(case_page, "/-/investigate/request-replies"))):
        response = rita.post(path, fields)
        assert response.status_code == 403, path
        assert "rita (reporter) may not do this" in refusal(response)
    assert snapshot(workspace) == before


def test_an_editor_may_not_sign_off_for_legal(desk, workspace):
    anna = Browser(desk["ds"]).login("anna")
    page = anna.get(f"/investigate/cases/{desk['case']['id']}").text
    response = anna.post("/-/investigate/signoff", form(page, "/-/investigate/signoff"))
    assert response.status_code == 403 and "needs the role legal" in refusal(response)


def test_an_anonymous_post_and_a_forged_csrf_token_are_refused(desk, workspace):
    visit = desk["visits"][0]
    anna = Browser(desk["ds"]).login("anna")
    fields = visit_form(anna, visit["id"])
    before = snapshot(workspace)
    stranger = Browser(desk["ds"])
    stranger.get("/-/login")  # a CSRF cookie of its own, no session
    anonymous = stranger.post("/-/investigate/review", {**fields, "csrftoken": token(stranger.get("/-/login").text),
                                                       "action": "approve"})
    assert anonymous.status_code == 403 and refusal(anonymous).startswith("Log in first")
    # A script with no cookie at all (asgi-csrf lets such a request through): still nobody.
    bare = asyncio.run(desk["ds"].client.post("/-/investigate/review", data={**fields, "action": "approve"}))
    assert bare.status_code == 403 and refusal(bare).startswith("Log in first")
    forged = anna.post("/-/investigate/review", {**fields, "csrftoken": "forged" + fields["csrftoken"][0][6:],
                                                 "action": "approve"})
    assert forged.status_code == 403 and "did not match cookie" in forged.text
    assert snapshot(workspace) == before


def test_a_stale_form_is_refused_saying_what_changed(desk, workspace):
    anna = Browser(desk["ds"]).login("anna")
    visit = desk["visits"][0]
    fields = visit_form(anna, visit["id"])
    # Someone else decides first, from the terminal.
    from investigate.cases.review import review_visit
    review_visit(workspace, visit, "issue", comment="receipt unreadable", reviewer="jonas")
    before = snapshot(workspace)
    response = anna.post("/-/investigate/review", {**fields, "action": "approve"})
    assert response.status_code == 409
    message = refusal(response)
    assert "changed since the page was loaded" in message and "it is now has_issues" in message
    assert snapshot(workspace) == before


def test_a_rejection_without_a_comment_is_refused_on_the_page(desk, workspace):
    anna = Browser(desk["ds"]).login("anna")
    visit = desk["visits"][0]
    before = snapshot(workspace)
    response = anna.post("/-/investigate/review", {**visit_form(anna, visit["id"]), "action": "reject"})
    assert response.status_code == 400 and "needs a --comment" in refusal(response)
    assert snapshot(workspace) == before


def test_a_removed_account_loses_its_session_at_once(desk, workspace):
    anna = Browser(desk["ds"]).login("anna")
    assert anna.get("/investigate/visits.json").status_code == 200
    remove_account(workspace, "anna")
    assert anna.get("/investigate/visits.json").status_code == 403


def test_what_still_needs_doing_is_counted_and_paged_oldest_first(desk, workspace):
    from investigate.desk.overview import todo

    first, second = todo(workspace, "review", per_page=3), todo(workspace, "review", page=2, per_page=3)
    assert (first["count"], first["pages"], len(first["rows"]), len(second["rows"])) == (4, 2, 3, 1)
    visited = [r["when"] for r in first["rows"] + second["rows"]]
    assert visited == sorted(visited) and len({r["row_id"] for r in first["rows"] + second["rows"]}) == 4
    anna = Browser(desk["ds"]).login("anna")
    page = anna.get("/-/investigate/todo/review")
    assert page.status_code == 200 and "Visits waiting for review (4)" in page.text
    assert 'name="visit"' in page.text and "/-/investigate/review" in page.text
    unasked = anna.get(f"/-/investigate/todo/unasked?case={desk['case']['slug']}")
    assert "Businesses with findings not asked for comment in tobacco-nk (2)" in unasked.text
    assert "Kiosk am Park" in unasked.text and "Späti Eins" in unasked.text
    assert anna.get("/-/investigate/todo/nothing").status_code == 404
    assert anna.get("/-/investigate/todo/review?page=x").status_code == 400


def test_the_home_page_runs_no_checklist(desk, workspace, monkeypatch):
    from investigate.cases import asking
    from investigate.policy import gate as gate_module

    def refuse(*args, **kwargs):
        raise AssertionError("the home page ran the checklist or named the businesses")

    # What walks every finding and names every business: the checklist, and its naming.
    monkeypatch.setattr(gate_module, "checklist", refuse)
    monkeypatch.setattr(gate_module, "make_naming", refuse)
    monkeypatch.setattr(asking, "reply_status", refuse)
    anna = Browser(desk["ds"]).login("anna")
    home = anna.get("/")
    assert home.status_code == 200 and "Visits waiting for review (4)" in home.text


def test_evidence_is_served_to_logged_in_editors_only_and_its_thumbnail_is_made_once(desk, workspace, tmp_path):
    from investigate.publish import plugin

    shop = desk["stores"][0]
    photo = receipt_photo(tmp_path / "IMG_2.jpg", when=workspace.now() - timedelta(days=10), lat=shop["lat"],
                          lon=shop["lon"], text=shop["name"])
    sha = evidence.add_evidence(workspace, desk["visits"][0], [photo])[0]["sha256"]
    stranger = Browser(desk["ds"])
    assert stranger.get(f"/-/evidence/{sha}?thumb=1").status_code == 403
    assert stranger.get(f"/-/evidence/{sha}").status_code == 403
    rita = Browser(desk["ds"]).login("rita")
    plugin._thumbnail.cache_clear()
    first, again = rita.get(f"/-/evidence/{sha}?thumb=1"), rita.get(f"/-/evidence/{sha}?thumb=1")
    assert first.status_code == 200 and first.content == again.content
    assert plugin._thumbnail.cache_info().hits == 1
    page = rita.get(f"/investigate/visits/{desk['visits'][0]['id']}")
    assert f"/-/evidence/{sha}?thumb=1" in page.text and "taken" in page.text and "52.48010, 13.43010" in page.text


def test_the_custodians_statement_names_the_editor_who_approved_each_visit(desk, workspace, run, tmp_path):
    from pypdf import PdfReader

    shop = desk["stores"][0]
    photo = receipt_photo(tmp_path / "IMG_3.jpg", when=workspace.now() - timedelta(days=10), lat=shop["lat"],
                          lon=shop["lon"], text=shop["name"])
    evidence.add_evidence(workspace, desk["visits"][0], [photo])
    anna = Browser(desk["ds"]).login("anna")
    assert anna.post("/-/investigate/review", {**visit_form(anna, desk["visits"][0]["id"]),
                                               "action": "approve"}).status_code == 302
    out = tmp_path / "statement.pdf"
    assert run("certify", "tobacco-nk", "--out", out).exit_code == 0
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert "Approved by anna," in text


def test_the_checklist_names_the_businesses_not_asked(run, desk):
    shown = run("checklist", "tobacco-nk")
    assert "2 business(es) with findings not asked for comment" in shown.output
    assert "not asked: Kiosk am Park, Späti Eins" in shown.output
    assert json.loads(run("checklist", "tobacco-nk", "--json").output)["not_asked"] == ["Kiosk am Park", "Späti Eins"]


def many_unasked(workspace, n: int) -> dict:
    """A case whose n businesses each sold once and none was asked for comment."""
    from investigate.cases import cases, stores, testers, visits

    case = cases.create_case(workspace, slug="many", title="Many", protocol="tobacco-minors")
    tester = testers.add_tester(workspace, code="T-1", birth_month="2010-03", consent=True)
    for i in range(n):
        visits.record_visit(workspace, case=case, store=stores.add_store(workspace, name=f"Shop {i:02d}"),
                            tester=tester, answers={"product": "cigarettes", "sale": True, "id_check": "none",
                                                    "id_carried": True},
                            visited_at=workspace.now() - timedelta(days=1, minutes=i))
    return case


def test_the_checklist_shows_the_first_twenty_businesses_not_asked_and_counts_the_rest(run, workspace):
    from investigate.cases.asking import UNASKED_SHOWN

    many_unasked(workspace, UNASKED_SHOWN + 5)
    shown = run("checklist", "many").output
    names = [f"Shop {i:02d}" for i in range(UNASKED_SHOWN + 5)]
    assert f"not asked: {', '.join(names[:UNASKED_SHOWN])}; and 5 more (--json lists all" in shown
    assert names[UNASKED_SHOWN] not in shown
    assert json.loads(run("checklist", "many", "--json").output)["not_asked"] == names


def test_the_case_page_names_the_first_twenty_businesses_not_asked_and_asks_them_all(desk, workspace):
    from investigate.cases.asking import UNASKED_SHOWN

    case = many_unasked(workspace, UNASKED_SHOWN + 5)
    anna = Browser(desk["ds"]).login("anna")
    page = anna.get(f"/investigate/cases/{case['id']}").text
    names = ", ".join(f"Shop {i:02d}" for i in range(UNASKED_SHOWN))
    assert f"With findings and not asked for comment: {names}; and 5 more." in page
    assert f"Shop {UNASKED_SHOWN:02d}" not in page
    assert f"Request replies from every business not yet asked ({UNASKED_SHOWN + 5})" in page
    response = anna.post("/-/investigate/request-replies", form(page, "/-/investigate/request-replies"))
    assert response.status_code == 302, refusal(response)
    asked = workspace.db.execute("select count(distinct store_id) from replies where case_id = ?", [case["id"]])
    assert asked.fetchone()[0] == UNASKED_SHOWN + 5
    # The message says how many were asked and names the first twenty: it travels in a cookie.
    assert len(response.headers.get("set-cookie", "")) < 4096
    page = anna.get(f"/investigate/cases/{case['id']}").text
    assert "not asked for comment:" not in page and "not yet asked (0)" in page
    assert f"Asked {UNASKED_SHOWN + 5} business(es) for comment on many: {names}; and 5 more (each" in page


def test_the_case_page_lists_the_first_requests_by_deadline_and_links_to_all(desk, workspace):
    from investigate.publish.plugin import REPLIES_SHOWN

    case = many_unasked(workspace, REPLIES_SHOWN + 3)
    anna = Browser(desk["ds"]).login("anna")
    page = anna.get(f"/investigate/cases/{case['id']}").text
    assert anna.post("/-/investigate/request-replies", form(page, "/-/investigate/request-replies")).status_code == 302
    page = anna.get(f"/investigate/cases/{case['id']}").text
    assert page.count('href="/-/investigate/letter/') == REPLIES_SHOWN
    # Asked at one moment, they share their deadline: the first are the first by name.
    assert re.findall(r"<tr><td>(Shop \d+)</td>", page) == [f"Shop {i:02d}" for i in range(REPLIES_SHOWN)]
    assert f"The first {REPLIES_SHOWN} of {REPLIES_SHOWN + 3} requests, soonest deadline first" in page
    link = html_lib.unescape(re.search(r'<a href="([^"]+)">all of them</a>', page).group(1))
    listed = anna.get(link + "&_size=max").text
    assert f"{REPLIES_SHOWN + 3} rows" in listed


def test_a_decision_on_a_read_only_workspace_is_refused_on_the_page(desk, workspace):
    anna = Browser(desk["ds"]).login("anna")
    fields = visit_form(anna, desk["visits"][0]["id"])
    before = snapshot(workspace)
    mode = workspace.db_path.stat().st_mode
    workspace.db_path.chmod(0o444)  # an archived copy: Workspace opens it read-only
    try:
        response = anna.post("/-/investigate/review", {**fields, "action": "approve"})
    finally:
        workspace.db_path.chmod(mode)
    assert response.status_code == 503 and "Nothing was written" in refusal(response)
    assert snapshot(workspace) == before


def test_no_page_shows_a_password_hash_to_anyone_logged_in(desk):
    rita = Browser(desk["ds"]).login("rita")
    for path in ("/", "/.json", "/investigate.json", "/-/metadata.json", "/-/plugins.json", "/-/settings.json",
                 "/-/actor.json", "/investigate?sql=select+*+from+sqlite_master", "/-/investigate/todo/review"):
        page = rita.get(path)
        assert "pbkdf2" not in page.text, path
    # Nor can SQL reach them: they are not in the database.
    tables = rita.get("/investigate.json?sql=select+group_concat(name)+from+sqlite_master&_shape=array").json()
    assert "editors" not in str(tables) and "account" not in str(tables)


def test_without_accounts_the_pages_say_how_to_decide_and_nobody_can(workspace, tobacco_case, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    ds = editors_datasette(workspace)  # on 127.0.0.1, no accounts: a reader's instance
    visitor = Browser(ds)
    visit = tobacco_case["visits"][0]
    page = visitor.get(f"/investigate/visits/{visit['id']}")
    assert "Nobody decides here until each editor has an account" in page.text
    before = snapshot(workspace)
    response = visitor.post("/-/investigate/review", {**form(page.text, "/-/investigate/review"), "action": "approve"})
    assert response.status_code == 403 and refusal(response).startswith("Log in first")
    assert snapshot(workspace) == before
