"""Issue 11: one publication policy. Each test is one of the holes found by trying the project
as a user would, named for the behaviour that closes it."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from datetime import datetime, timedelta

import pytest

from investigate.numbers import stats
from investigate.cases import cases, editorial, replies, stores, testers, tips, visits
from investigate.cases.review import review_visit
from investigate.policy import gate, naming
from investigate.errors import InvalidInput, PolicyError
from investigate.numbers.fieldwork import rounds_summary
from investigate.publish.metadata import CANNED
from investigate.publish.public import build_public
from investigate.reports.build import build_letter, build_report
from investigate.views.i18n import Formatter
from investigate.desk.bundles import write_bundle

from conftest import bulk_writes_under_a_savepoint, snapshot, statements
from test_report import text_of

SOLD = {"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True}
REFUSED = {"product": "cigarettes", "sale": False, "id_check": "scanned", "id_carried": True}


def approve_all(ws, case):
    for v in ws.db.query("select * from visits where case_id = ? and review_state = 'received'", [case["id"]]):
        review_visit(ws, v, "approve")


def everything_else_ready(ws, case):
    """Fill the checklist items that are not the subject of a test."""
    case = cases.edit_case(ws, case, description="Four shops, one tester.")
    editorial.sign_off(ws, case, role="legal counsel", signed_by="Counsel")
    return case


# -- the right of reply cannot be bypassed ---------------------------------------------------------


def test_a_reply_request_dated_before_a_visit_it_covers_is_refused(workspace, tobacco_case, run):
    before = snapshot(workspace)
    early = (workspace.now() - timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    result = run("reply", "request", "tobacco-nk", "L-1", "--at", early)
    assert result.exit_code != 0
    assert result.output.startswith("Error: the request") and "before the visit" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(workspace) == before


def test_a_finding_approved_after_the_request_makes_the_store_unnamed_again(workspace, tobacco_case, tmp_path):
    ws = workspace
    case = cases.edit_case(ws, tobacco_case["case"], reply_days=3)
    shop = tobacco_case["stores"][1]  # refused the sale: no finding yet
    approve_all(ws, case)
    replies.request_reply(ws, case, shop, requested_at=(ws.now() - timedelta(days=9)).isoformat())
    assert shop["id"] in naming(ws, case).named_stores
    # A second visit a day later sells; it is approved after the window of the request closed.
    late = visits.record_visit(ws, case=case, store=shop, tester=tobacco_case["tester"], answers=SOLD,
                               visited_at=ws.now() - timedelta(days=5), observer="Observer Olsen")["visit"]
    assert shop["id"] in naming(ws, case).named_stores  # not approved: not published, nothing to cover yet
    assert gate.reply_status(ws, case)[shop["id"]] == "not_covered"  # the editors' working scope counts it
    review_visit(ws, late, "approve")
    assert naming(ws, case).status[shop["id"]] == "not_covered"
    out = build_public(ws, tmp_path / "pub", slugs=["tobacco-nk"], override="test")
    db = sqlite3.connect(out["database"])
    assert ("Späti Zwei",) not in db.execute("select name from stores").fetchall()
    assert "after their request" in [i for i in gate.checklist(ws, case) if i["key"] == "replies"][0]["detail"]
    # A new request covers it, and once its window closes the store may be named again.
    replies.request_reply(ws, case, shop, requested_at=(ws.now() - timedelta(days=4)).isoformat())
    assert shop["id"] in naming(ws, case).named_stores


def test_a_finding_reworded_after_the_request_is_not_covered_by_it_in_the_same_session(workspace, tobacco_case):
    """The namings of one command share the findings' covered hashes (a checklist hashed every
    finding of the case once per scope): a finding reworded meanwhile, in the same session, is
    hashed again, and the request that covered its old wording no longer covers it."""
    ws = workspace
    case = cases.edit_case(ws, tobacco_case["case"], reply_days=3)
    approve_all(ws, case)
    finding_id, store_id = ws.db.execute(
        "select f.id, v.store_id from findings f join visits v on v.id = f.visit_id where v.case_id = ? limit 1",
        [case["id"]]).fetchone()
    replies.request_reply(ws, case, ws.get("stores", store_id), requested_at=(ws.now() - timedelta(days=9)).isoformat())
    assert naming(ws, case).status[store_id] == "named"
    assert store_id in gate.reply_status(ws, case) and gate.reply_status(ws, case)[store_id] == "named"
    ws.update("findings", finding_id, {"title": "Sold cigarettes to a minor without asking"}, reason="reworded")
    assert naming(ws, case).status[store_id] == "not_covered"
    assert gate.reply_status(ws, case)[store_id] == "not_covered"


def test_the_namings_of_both_scopes_read_the_findings_once_until_a_window_closes(workspace, tobacco_case, clock):
    """A checklist names the case for the editors (every counted visit) and for the public
    (approved ones): one pass over the findings serves both (each pass read every finding of a
    million visits, 0.9 s), and one over the visit tallies. What is kept is kept for the
    requests closed then: a window the clock closes, with nothing written, is a new question."""
    from investigate.policy.counting import WORKING

    ws = workspace
    case = cases.edit_case(ws, tobacco_case["case"], reply_days=3)
    shop = tobacco_case["stores"][1]  # refused the sale: no finding yet
    approve_all(ws, case)
    replies.request_reply(ws, case, shop, requested_at=(ws.now() - timedelta(days=9)).isoformat())
    late = visits.record_visit(ws, case=case, store=shop, tester=tobacco_case["tester"], answers=SOLD,
                               visited_at=ws.now() - timedelta(days=5), observer="Observer Olsen")["visit"]
    review_visit(ws, late, "approve")
    replies.request_reply(ws, case, shop)  # covers the sale; its window is open
    with statements(ws) as sql:
        public, working = naming(ws, case), naming(ws, case, scope=WORKING)
    assert len([s for s in sql if " findings f " in s]) == 1  # the findings read once, for both scopes
    assert len([s for s in sql if "from visit_tallies v where" in s and "group by v.store_id" in s]) == 1
    assert len([s for s in sql if " from replies where case_id" in s]) == 1  # and the requests
    assert public.status[shop["id"]] == working.status[shop["id"]] == "not_covered"
    clock.shift(timedelta(days=4))  # the second request's deadline passes: nothing is written
    with statements(ws) as sql:
        assert naming(ws, case).status[shop["id"]] == naming(ws, case, scope=WORKING).status[shop["id"]] == "named"
    assert len([s for s in sql if " findings f " in s]) == 1  # the findings read once, for both scopes
    # The requests, as they were: when each window closes does not move with the clock.
    assert not [s for s in sql if " from replies where case_id" in s]


@pytest.mark.parametrize("answers", [0, 1], ids=["the-first-asked-answers", "the-second-asked-answers"])
def test_of_two_businesses_asked_at_one_moment_only_the_one_that_answered_may_be_named(workspace, tobacco_case,
                                                                                        answers):
    """Asked together, their deadlines are one: the window the answer closed is closed, the
    other stays open until that deadline, whichever of them the naming reads first."""
    ws, case = workspace, tobacco_case["case"]
    approve_all(ws, case)
    asked = ws.now().isoformat()
    sold = [tobacco_case["stores"][0], tobacco_case["stores"][2]]  # both sold: both have findings
    requests = [replies.request_reply(ws, case, shop, requested_at=asked) for shop in sold]
    assert requests[0]["deadline"] == requests[1]["deadline"]
    replies.record_reply(ws, requests[answers], answer="We train our staff.")
    status = naming(ws, case).status
    assert status[sold[answers]["id"]] == "named"
    assert status[sold[1 - answers]["id"]] == "window_open"


def test_the_public_scope_sees_approved_visits_and_the_editors_every_counted_one(workspace, tobacco_case):
    """The two scopes' stores come from one pass over the visit tallies: each must still see
    only its own visits. The store whose approved visit was refused was compliant for the
    public, while the editors see the sale not yet reviewed; the stores with no approved visit
    are not the public's at all, and a rejected visit is no one's."""
    from investigate.policy.coverage import visited_stores

    ws = workspace
    case = tobacco_case["case"]
    spaeti_eins, refused, kiosk, tabak = (s["id"] for s in tobacco_case["stores"])
    review_visit(ws, tobacco_case["visits"][1], "approve")
    review_visit(ws, tobacco_case["visits"][2], "reject", comment="the tester was seen")
    visits.record_visit(ws, case=case, store=tobacco_case["stores"][1], tester=tobacco_case["tester"],
                        answers=SOLD, visited_at=ws.now() - timedelta(days=2), observer="Observer Olsen")
    assert visited_stores(ws, case, approved_only=True) == {refused: True}
    assert visited_stores(ws, case, approved_only=False) == {spaeti_eins: False, refused: False, tabak: True}


@pytest.mark.parametrize("visited", [True, False], ids=["visited", "asked-before-any-visit"])
def test_a_store_whose_name_holds_its_unnamed_chain_stays_unnamed_until_the_chain_may_be_named(
        workspace, tobacco_case, tmp_path, visited):
    ws = workspace
    case = cases.edit_case(ws, tobacco_case["case"], reply_days=3)
    branded = stores.add_store(ws, name="KioskCo Sonnenallee", chain="KioskCo", address="Sonnenallee 90",
                               district="Neukölln")
    stores.add_to_frame(ws, case, [branded])
    if visited:
        visits.record_visit(ws, case=case, store=branded, tester=tobacco_case["tester"], answers=REFUSED,
                            visited_at=ws.now() - timedelta(days=10), observer="Observer Olsen")
    approve_all(ws, case)
    asked = (ws.now() - timedelta(days=9)).isoformat()
    replies.request_reply(ws, case, branded, requested_at=asked)
    # Its own window closed, but "Kiosk am Park" (KioskCo, sold) was never asked: "Chain A" in
    # print, and "KioskCo Sonnenallee" beside it would name the chain.
    names = naming(ws, case)
    assert "KioskCo" not in names.named_chains and names.status[branded["id"]] == "chain_unnamed"
    db = sqlite3.connect(build_public(ws, tmp_path / "pub", slugs=["tobacco-nk"], override="test")["database"])
    assert not any("KioskCo" in (name or "") for (name,) in db.execute("select name from stores"))
    assert names.counts()["chain_unnamed"] == 1  # the report's method counts it with its reason
    # Once the chain's other store was asked and its window closed, the chain and the store are named.
    replies.request_reply(ws, case, tobacco_case["stores"][2], requested_at=asked)
    names = naming(ws, case)
    assert "KioskCo" in names.named_chains and branded["id"] in names.named_stores


def test_the_businesses_not_asked_are_listed_in_the_order_of_their_names_as_sqlite_sorts_them(workspace,
                                                                                             tobacco_case):
    """The checklist names them from the stores the naming has read, sorted in Python: the same
    order as the stores read back sorted by SQLite (byte order, then id), ties and all."""
    from investigate.cases.asking import unasked_ids, unasked_names, unasked_stores

    ws, case = workspace, tobacco_case["case"]
    for name in ["Zoo", "apple", "Äpfel", "Apfel", "Apfel", "ångström", "Øl", "10 Shop", "9 Shop", "Ärger", "ZOO"]:
        visits.record_visit(ws, case=case, store=stores.add_store(ws, name=name), tester=tobacco_case["tester"],
                            answers=SOLD, visited_at=ws.now() - timedelta(days=1))
    ids = unasked_ids(ws, case)
    expected = [s["name"] for s in unasked_stores(ws, case)]
    assert len(expected) == 13 and expected[:2] == ["10 Shop", "9 Shop"]  # and the fixture's two
    assert unasked_names(ws, case, ids) == expected
    assert unasked_names(ws, case, ids, limit=5) == expected[:5]


def test_reply_request_all_asks_every_business_with_findings_once(workspace, tobacco_case, run):
    from investigate.cases.asking import unasked_stores

    ws, case = workspace, tobacco_case["case"]
    approve_all(ws, case)
    waiting = {s["name"] for s in unasked_stores(ws, case)}
    assert waiting
    result = run("reply", "request", "tobacco-nk", "--all")
    assert result.exit_code == 0, result.output
    assert all(f"from {name}," in result.output for name in waiting)
    assert f"{len(waiting)} request(s)" in result.output and not unasked_stores(ws, case)
    before = snapshot(ws)
    again = run("reply", "request", "tobacco-nk", "--all")
    assert again.exit_code == 0 and "was asked already" in again.output and snapshot(ws) == before
    both = run("reply", "request", "tobacco-nk", "L-1", "--all")
    assert both.exit_code != 0 and "name one STORE, or give --all" in both.output and snapshot(ws) == before


def test_asking_every_business_is_one_moment_with_one_deadline_however_long_it_takes(workspace, tobacco_case, clock):
    from investigate.cases.asking import request_unasked, unasked_stores

    ws, case = workspace, tobacco_case["case"]
    approve_all(ws, case)
    waiting, started, seen = len(unasked_stores(ws, case)), ws.now(), []
    assert waiting > 1

    def slow(n):  # each business takes a minute and a half to record
        seen.append(n)
        clock.shift(timedelta(seconds=90))

    made = request_unasked(ws, case, progress=slow, total=seen.append)
    assert seen == [waiting] + [1] * waiting and len(made) == waiting
    stored = list(ws.db.query("select requested_at, deadline from replies where case_id = ?", [case["id"]]))
    assert {(r["requested_at"], r["deadline"]) for r in stored} == {(started.isoformat(), made[0]["deadline"])}


@pytest.mark.parametrize("one_pass", [True, False])
def test_asking_every_business_at_once_covers_what_asking_each_covers(workspace, tobacco_case, monkeypatch, one_pass):
    """``request_unasked`` reads the businesses' visits in one pass over the case (from
    ``ONE_PASS`` businesses; here from one) or store by store, and writes their items in one
    bulk insert, its index of visits built once at the end when the items are many (here from
    one): either way it records exactly what ``request_reply`` records asked store by store at
    the same moment, rejected visits left out, and the log proves it."""
    import shutil
    from investigate.cases import asking
    from investigate.proof.verify import verify
    from investigate.store import writes
    from investigate.store.workspace import Workspace

    ws, case = workspace, tobacco_case["case"]
    shop = tobacco_case["stores"][0]
    for answers, decision in ((SOLD, "approve"), (SOLD, "reject")):  # a second sale, and one rejected
        again = visits.record_visit(ws, case=case, store=shop, tester=tobacco_case["tester"], answers=answers,
                                    visited_at=ws.now() - timedelta(days=2), observer="Observer Olsen")["visit"]
        review_visit(ws, again, decision, comment="the tester's card was not in the file")
    approve_all(ws, case)
    ws.close()
    shutil.copytree(ws.root, ws.root.parent / "each")
    at_once, each = Workspace(ws.root), Workspace(ws.root.parent / "each")
    asked = at_once.now()
    monkeypatch.setattr(asking, "ONE_PASS", 1 if one_pass else 1_000_000)
    monkeypatch.setattr(writes, "DEFER_AFTER", 1)
    with statements(at_once) as sql:
        made = asking.request_unasked(at_once, case)
    # Each request and its items join the one transaction: a savepoint per business had SQLite
    # copy every page each touched (25 s of system time for 20,000 businesses).
    assert bulk_writes_under_a_savepoint(sql, ("replies", "reply_items")) == []
    assert [s.lower() for s in sql if s.lower() in ("begin immediate", "commit")] == ["begin immediate", "commit"]
    first = next(i for i, s in enumerate(sql) if s.startswith("insert into [reply_items]"))
    dropped = [i for i, s in enumerate(sql) if s == "drop index [idx_reply_items_visit_id]"]
    assert dropped == ([] if not one_pass else [dropped[0]]) and all(i < first for i in dropped)
    assert at_once.db["reply_items"].indexes and "idx_reply_items_visit_id" in {
        i.name for i in at_once.db["reply_items"].indexes}
    for store in asking.unasked_stores(each, case):
        replies.request_reply(each, case, store, requested_at=asked)

    def covered(w):
        return list(w.db.execute("select r.store_id, r.requested_at, r.deadline, i.visit_id, i.finding_id, "
                                 "i.covered_hash from reply_items i join replies r on r.id = i.reply_id "
                                 "order by 1, 2, 3, 4, 5, 6"))

    rejected = again["id"]
    assert len(made) > 1 and len(covered(at_once)) > 2 * len(made) and covered(at_once) == covered(each)
    assert rejected not in {row[3] for row in covered(at_once)}
    assert verify(at_once).ok and verify(each).ok
    with pytest.raises(RuntimeError, match="in a transaction"):
        replies.record_request(at_once, case, tobacco_case["stores"][0])
    at_once.close(), each.close()


def test_a_deadline_shorter_than_the_window_needs_a_reason_that_the_method_prints(workspace, tobacco_case, run,
                                                                                  tmp_path):
    ws = workspace
    before = snapshot(ws)
    soon = (ws.now() + timedelta(days=2)).date().isoformat()
    refused = run("reply", "request", "tobacco-nk", "L-1", "--deadline", soon)
    assert refused.exit_code != 0 and "shorter than the case's reply window of 14 days" in refused.output
    assert snapshot(ws) == before
    ok = run("reply", "request", "tobacco-nk", "L-1", "--deadline", soon,
             "--short-deadline-reason", "Publication is tied to a court date.")
    assert ok.exit_code == 0, ok.output
    case = tobacco_case["case"]
    approve_all(ws, case)
    out = tmp_path / "internal.pdf"
    build_report(ws, case, edition="internal", lang="en", out=out)
    assert "Publication is tied to a court date." in " ".join(text_of(out).split())


def test_working_day_windows_skip_weekends_and_the_regions_holidays():
    case = {"reply_days": 5, "reply_calendar": "working_days", "holidays": "DE-BE"}
    asked = datetime.fromisoformat("2026-12-23T10:00:00+01:00")  # a Wednesday
    # 24th (Thu) 1, 25th/26th holidays, 27th Sunday, 28th 2, 29th 3, 30th 4, 31st 5.
    assert replies.earliest_deadline(case, asked).isoformat() == "2026-12-31T23:59:59+01:00"
    calendar_days = {"reply_days": 5}
    assert replies.earliest_deadline(calendar_days, asked).isoformat() == "2026-12-28T10:00:00+01:00"
    with pytest.raises(InvalidInput, match="unknown country"):
        replies.check_holiday_region("XX-YY")


def test_the_letter_lists_observations_with_time_and_evidence_and_a_deadline_after_its_date(workspace, tobacco_case,
                                                                                          tmp_path):
    ws = workspace
    case, shop = tobacco_case["case"], tobacco_case["stores"][0]
    photo = tmp_path / "till.jpg"
    photo.write_bytes(b"\xff\xd8\xff not really a jpeg")
    from investigate.cases import evidence

    item = evidence.add_evidence(ws, tobacco_case["visits"][0], [photo])[0]
    with pytest.raises(InvalidInput, match="no reply request"):
        build_letter(ws, case, shop, out=tmp_path / "none.pdf")
    replies.request_reply(ws, case, shop)
    letter = build_letter(ws, case, shop, lang="en", out=tmp_path / "letter.pdf")
    text = " ".join(text_of(letter["pdf"]).split())
    assert "No age check" in text and "observation" in text  # observations are put to the business too
    assert item["sha256"][:20] in text.replace(" ", "")
    # The time as the letter's formatter writes it for this workspace's place (Berlin: 24 hours).
    when = Formatter("en", ws.setting("newsroom", "timezone", None)).day_time(tobacco_case["visits"][0]["visited_at"])
    assert " ".join(when.split()) in text
    assert datetime.fromisoformat(letter["deadline"]) > ws.now()


def test_a_letter_whose_request_deadline_passed_is_refused(workspace, tobacco_case, tmp_path):
    ws = workspace
    case = cases.edit_case(ws, tobacco_case["case"], reply_days=3)
    replies.request_reply(ws, case, tobacco_case["stores"][0], requested_at=(ws.now() - timedelta(days=9)).isoformat())
    with pytest.raises(InvalidInput, match="is not after today"):
        build_letter(ws, case, tobacco_case["stores"][0], out=tmp_path / "late.pdf")


# -- complaint tables, merged groups and exports name nobody the policy does not allow ---------------


@pytest.fixture
def tipped(workspace, tobacco_case):
    """Nobody asked for comment; tips name a chain, one store, and a company two unnamed stores share."""
    ws, case = workspace, tobacco_case["case"]
    approve_all(ws, case)
    twin_a = stores.add_store(ws, name="Doppelkiosk", address="Weg 1", district="Mitte")
    twin_b = stores.add_store(ws, name="Doppelkiosk", address="Weg 2", district="Mitte")
    stores.add_to_frame(ws, case, [twin_a, twin_b])
    for company in ("Späti24", "Kiosk am Park", "Doppelkiosk"):
        t = tips.add_tip(ws, channel="phone", company=company, what_happened=f"{company} sold to my son.",
                         consent_publish=True, issue="sale to minors", contact="+49 30 5550199")
        tips.link_tip(ws, t, case)
    return case


def test_complaint_tables_name_no_business_that_was_not_asked(workspace, tipped, tmp_path):
    out = build_public(workspace, tmp_path / "pub", slugs=["tobacco-nk"], override="test")
    data = b"".join(p.read_bytes() for p in (tmp_path / "pub").iterdir())
    for name in (b"Sp\xc3\xa4ti24", b"Kiosk am Park", b"Doppelkiosk", b"KioskCo", b"5550199"):
        assert name not in data, name
    db = sqlite3.connect(out["database"])
    businesses = sorted(r[0] for r in db.execute("select business from complaint_counts"))
    assert businesses[0] == "Business A" and "Chain A" in businesses or "Chain B" in businesses
    assert db.execute("select count(*) from complaint_stories").fetchone()[0] == 0  # every story names one


def test_merged_groups_are_listed_by_pseudonym_not_by_chain_name(workspace, tipped, tmp_path):
    out = tmp_path / "r.pdf"
    build_report(workspace, tipped, lang="en", out=out, override="test")
    text = " ".join(text_of(out).split())
    assert "Merged here:" in text and "Chain A" in text
    assert "Späti24" not in text and "KioskCo" not in text


def test_export_is_internal_by_default_and_public_applies_the_policy(workspace, tobacco_case, run, tmp_path):
    ws, case = workspace, tobacco_case["case"]
    review_visit(ws, tobacco_case["visits"][0], "approve")
    review_visit(ws, tobacco_case["visits"][2], "reject", comment="observer missing")
    help_text = run("export", "--help").output
    assert "INTERNAL" in help_text and "--public" in help_text
    internal = run("export", "tobacco-nk", "--format", "lives", "--out", tmp_path / "int")
    assert internal.exit_code == 0 and "INTERNAL" in internal.output
    assert "Kiosk am Park" in (tmp_path / "int" / "businesses.csv").read_text()
    blocked = run("export", "tobacco-nk", "--format", "lives", "--public", "--out", tmp_path / "blocked")
    assert blocked.exit_code != 0 and "not ready to publish" in blocked.output
    ok = run("export", "tobacco-nk", "--format", "lives", "--public", "--override", "test", "--out", tmp_path / "pub")
    assert ok.exit_code == 0, ok.output
    files = b"".join(p.read_bytes() for p in (tmp_path / "pub").iterdir())
    for private in (b"Kiosk am Park", b"Sp\xc3\xa4ti Eins", b"Sonnenallee", b"T-07", b"Olsen"):
        assert private not in files
    inspections = (tmp_path / "pub" / "inspections.csv").read_text().splitlines()
    assert len(inspections) == 2  # the approved visit only: unreviewed and rejected are out
    as_csv = run("export", "tobacco-nk", "--public", "--override", "test", "--out", tmp_path / "pubcsv", "--json")
    files = json.loads(as_csv.output)["files"]
    assert files["visits.csv"] == 1 and "rates.csv" in files


# -- counting: rejected never, unreviewed only as provisional -------------------------------------------


def test_a_rejected_visit_counts_nowhere(workspace, tobacco_case, run):
    ws, case = workspace, tobacco_case["case"]
    sold = tobacco_case["visits"][0]
    review_visit(ws, sold, "reject", comment="tester too old on the day")
    working = stats.case_rates(ws, case)[0]
    assert working["violations"] == 1 and working["eligible"] == 3 and working["provisional"] == 3
    shown = json.loads(run("stats", "tobacco-nk", "--json").output)
    assert shown["groups"][0]["violations"] == 1 and shown["provisional"] == 3
    assert "Provisional: 3" in run("stats", "tobacco-nk").output
    assert rounds_summary(ws, case)["sold_at_least_once"]["violations"] == 1
    from investigate.publish.plugin import prepare_connection

    class Datasette:  # the one thing prepare_connection asks of Datasette here
        def plugin_config(self, name):
            return {"workspace": str(ws.root)}

    prepare_connection(ws.db.conn, Datasette())  # the SQL functions Datasette gets from our plugin
    sql = CANNED["rate_by_chain"]["sql"]
    rows = {r["chain"]: r for r in ws.db.query(sql, {"case": "tobacco-nk"})}
    assert rows["Späti24"]["violations"] == 0 and rows["Späti24"]["visits"] == 1


# -- free text is checked, sources protected at rest --------------------------------------------------


@pytest.mark.parametrize("note, kind", [("Visit by T-07 was on the 3rd.", "a tester code"),
                                        ("Kiosk am Park was tested twice.", "an unnamed business's name"),
                                        ("Observer Olsen was late.", "an observer's name")])
def test_a_correction_quoting_a_private_string_is_refused_by_kind(workspace, tobacco_case, run, tmp_path, note, kind):
    ws, case = workspace, tobacco_case["case"]
    approve_all(ws, case)
    build_report(ws, case, lang="en", out=tmp_path / "v1.pdf", override="first version")
    before = snapshot(ws)
    result = run("correct", "tobacco-nk", "--note", note)
    assert result.exit_code != 0 and kind in result.output
    assert note.split()[0] not in result.output  # the kind, never the value
    assert snapshot(ws) == before


@pytest.mark.parametrize("how", ["in-the-frame", "asked"])
@pytest.mark.parametrize("note, kind", [("Trafik Fünf was closed on both days.", "an unnamed business's name"),
                                        ("The kiosk at Weserstr. 77 was closed.", "an unnamed business's address")])
def test_a_business_of_the_case_that_no_visit_went_to_is_as_private_as_a_visited_one(workspace, tobacco_case, run,
                                                                                     tmp_path, note, kind, how):
    ws, case = workspace, tobacco_case["case"]
    unvisited = stores.add_store(ws, name="Trafik Fünf", chain=None, address="Weserstr. 77", city="Berlin",
                                 district="Neukölln", licence_number="L-5")
    if how == "in-the-frame":
        stores.add_to_frame(ws, case, [unvisited])
    else:  # asked for comment before any visit: its window is open
        replies.request_reply(ws, case, unvisited)
    approve_all(ws, case)
    build_report(ws, case, lang="en", out=tmp_path / "v1.pdf", override="first version")
    before = snapshot(ws)
    result = run("correct", "tobacco-nk", "--note", note)
    assert result.exit_code != 0 and kind in result.output
    assert snapshot(ws) == before


def test_case_text_and_answers_are_checked_when_recorded(workspace, tobacco_case):
    with pytest.raises(InvalidInput, match="a tester code"):
        cases.edit_case(workspace, tobacco_case["case"], description="T-07 visited four shops.")
    req = replies.request_reply(workspace, tobacco_case["case"], tobacco_case["stores"][0])
    with pytest.raises(InvalidInput, match="an observer's name"):
        replies.record_reply(workspace, req, answer="Observer Olsen was rude to our staff.")


def test_a_tip_contact_never_enters_the_audit_log_or_a_bundle_in_clear(workspace, tobacco_case, run, tmp_path):
    ws, case = workspace, tobacco_case["case"]
    t = tips.add_tip(ws, channel="phone", company="Kiosk am Park", what_happened="They sold to my son.",
                     contact="mother@example.org")
    tips.link_tip(ws, t, case)
    log = "".join(str(r) for r in ws.db.execute("select * from audit_log"))
    assert "mother@example.org" not in log and "hmac-sha256:" in log
    assert run("verify").exit_code == 0  # the keyed hash still proves the row
    plain = tmp_path / "plain.zip"
    write_bundle(ws, [case], plain)
    assert b"mother@example.org" not in b"".join(
        zipfile.ZipFile(plain).read(n) for n in zipfile.ZipFile(plain).namelist())
    loud = run("bundle", "tobacco-nk", "--with-sources", "--out", tmp_path / "sources.zip")
    assert loud.exit_code == 0 and "contacts of their sources" in loud.stderr
    with zipfile.ZipFile(tmp_path / "sources.zip") as zf:
        assert b"mother@example.org" in zf.read("rows/tip_sources.json")
    from investigate.desk.merge import merge
    from investigate.store.workspace import init_workspace

    other = init_workspace(tmp_path / "desk", timezone_name="Europe/Berlin")
    merged = merge(other, tmp_path / "sources.zip")
    assert merged["merged"]["tip_sources"] == 1
    assert other.db.execute("select contact from tip_sources").fetchone()[0] == "mother@example.org"


def test_a_workspace_made_before_keyed_contacts_is_rekeyed_and_still_verifies(workspace):
    ws = workspace
    t = tips.add_tip(ws, channel="phone", company="X", what_happened="y", contact="old@example.org")
    src = ws.db.execute("select * from tip_sources").fetchone()
    # As an older version wrote it: the row hash over the contact in clear.
    from investigate.store import audit

    row = dict(zip([d[0] for d in ws.db.execute("select * from tip_sources").description], src))
    ws.db.conn.execute("update audit_log set row_hash = ? where table_name = 'tip_sources'", [audit.row_hash(row)])
    ws._rekey_secret_columns(ws.db)
    assert ws.db.execute("select action from audit_log order by seq desc limit 1").fetchone()[0] == "rekey"
    assert t["id"]


# -- decisions stay explicit ------------------------------------------------------------------------


def test_a_second_sample_needs_replace_and_a_reason_and_the_method_names_it(workspace, tobacco_case, run, tmp_path):
    ws = workspace
    assert run("sample", "tobacco-nk", "--n", "2", "--seed", "1").exit_code == 0
    before = snapshot(ws)
    again = run("sample", "tobacco-nk", "--n", "3", "--seed", "2")
    assert again.exit_code != 0 and "--replace --reason" in again.output
    assert snapshot(ws) == before
    assert run("sample", "tobacco-nk", "--n", "3", "--seed", "2", "--replace").exit_code != 0
    ok = run("sample", "tobacco-nk", "--n", "3", "--seed", "2", "--replace", "--reason", "The frame grew by a district.")
    assert ok.exit_code == 0, ok.output
    out = tmp_path / "internal.pdf"
    build_report(ws, tobacco_case["case"], edition="internal", lang="en", out=out)
    text = " ".join(text_of(out).split())
    assert "replaced an earlier draw" in text and "The frame grew by a district." in text


def test_a_signoff_is_voided_by_a_later_change_to_the_case(workspace, tobacco_case):
    ws, case = workspace, tobacco_case["case"]
    editorial.sign_off(ws, case, role="legal counsel", signed_by="Counsel")
    signed = [i for i in gate.checklist(ws, case) if i["key"] == "legal_signoff"][0]
    assert signed["ok"]
    review_visit(ws, tobacco_case["visits"][0], "approve")
    voided = [i for i in gate.checklist(ws, case) if i["key"] == "legal_signoff"][0]
    assert not voided["ok"] and "predates 2 change(s)" in voided["detail"]  # the review and its state


def test_published_status_only_through_the_checklist(workspace, tobacco_case, run):
    ws, case = workspace, tobacco_case["case"]
    with pytest.raises(PolicyError):
        cases.set_status(ws, case, "published")
    refused = run("case", "status", "tobacco-nk", "published")
    assert refused.exit_code != 0 and "not ready to publish" in refused.output
    assert ws.get("cases", case["id"])["status"] == "planning"
    ok = run("case", "status", "tobacco-nk", "published", "--override", "court order")
    assert ok.exit_code == 0 and ws.get("cases", case["id"])["status"] == "published"
    assert "court order" in ws.db.execute("select data from audit_log where action = 'checklist-override'").fetchone()[0]


def test_case_edit_closes_the_methodology_item_and_is_audited(workspace, run):
    cases.create_case(workspace, slug="bare", title="Bare", protocol="tobacco-minors")
    case = cases.get_case(workspace, "bare")
    assert not [i for i in gate.checklist(workspace, case) if i["key"] == "methodology"][0]["ok"]
    result = run("case", "edit", "bare", "--description", "Twelve shops, two rounds.", "--legal-basis", "JuSchG § 10",
                 "--jurisdiction", "Berlin, DE", "--reason", "method written")
    assert result.exit_code == 0, result.output
    case = cases.get_case(workspace, "bare")
    assert [i for i in gate.checklist(workspace, case) if i["key"] == "methodology"][0]["ok"]
    entry = workspace.db.execute("select data from audit_log where action = 'edit'").fetchone()[0]
    assert "method written" in entry and "Twelve shops" in entry
    assert run("case", "edit", "bare").exit_code != 0
