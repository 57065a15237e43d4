"""The foundation: workspace, schema migrations, audit chain and verify, ids, protocols,
recording and amending visits, evidence, promises — and the bad input each must refuse."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
import sqlite_utils
from click.testing import CliRunner

from investigate.cases import cases, evidence, promises, replies, stores, testers, visits
from investigate.protocol.parse import load_protocol
from investigate.protocol.protocols import all_protocols
from investigate.cli import cli
from investigate.demo.build import receipt_photo
from investigate.errors import AmbiguousPrefix, IntegrityError, NotFound, ProtocolError
from investigate.ids import TAIL, short
from investigate.policy.coverage import reply_window_closed
from investigate.store.lookup import resolve
from investigate.store.schema import migrations
from investigate.proof.verify import verify
from investigate.store.workspace import Workspace, find_workspace, init_workspace

from conftest import snapshot

SOLD = {"product": "cigarettes", "sale": True, "id_check": "glance", "id_carried": True}


# -- the workspace -----------------------------------------------------------------------------


def test_init_makes_a_wal_workspace_with_foreign_keys_and_an_evidence_folder(tmp_path):
    ws = init_workspace(tmp_path / "w", timezone_name="Europe/Berlin")
    assert (tmp_path / "w" / "investigate.toml").is_file() and (tmp_path / "w" / "evidence").is_dir()
    assert ws.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert ws.db.execute("pragma foreign_keys").fetchone()[0] == 1
    ws.close()


def test_init_refuses_to_overwrite_a_workspace(tmp_path):
    init_workspace(tmp_path / "w").close()
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "w")])
    assert result.exit_code != 0 and "refusing to overwrite" in result.output


def test_the_workspace_is_found_from_a_subfolder_and_from_investigate_home(tmp_path, monkeypatch):
    init_workspace(tmp_path / "w").close()
    deep = tmp_path / "w" / "reports" / "drafts"
    deep.mkdir(parents=True)
    monkeypatch.delenv("INVESTIGATE_HOME", raising=False)
    assert find_workspace(deep) == (tmp_path / "w").resolve()
    monkeypatch.setenv("INVESTIGATE_HOME", str(tmp_path / "w"))
    assert find_workspace(tmp_path) == (tmp_path / "w").resolve()


def test_outside_a_workspace_the_error_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.delenv("INVESTIGATE_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["case", "list"])
    assert result.exit_code != 0
    assert result.output.strip().startswith("Error: not an investigate workspace")
    assert len(result.output.strip().splitlines()) == 1


def test_python_dash_m_investigate_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "investigate", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "Record undercover consumer tests" in out.stdout


def test_a_read_only_database_refuses_writes_in_one_line(workspace, tobacco_case, run):
    before = snapshot(workspace)
    workspace.close()
    os.chmod(workspace.db_path, 0o444)
    try:
        result = run("store", "add", "New Shop")
        assert result.exit_code != 0 and "read-only" in result.output
        assert len(result.output.strip().splitlines()) == 1
        listed = run("store", "list", "--json")
        assert listed.exit_code == 0 and len(json.loads(listed.output)) == 4
    finally:
        os.chmod(workspace.db_path, 0o644)
    assert snapshot(Workspace(workspace.root)) == before


# -- schema migrations -------------------------------------------------------------------------


def test_a_workspace_made_at_an_older_schema_migrates_without_losing_rows(tmp_path):
    root = tmp_path / "old"
    root.mkdir()
    (root / "investigate.toml").write_text('[newsroom]\nname = "Old"\ntimezone = "Europe/Berlin"\n')
    db = sqlite_utils.Database(root / "investigate.db")
    migrations.apply(db, stop_before="0002_frames_rounds_review")
    # Rows written by the version that had only the first migration, with their audit entries.
    from investigate.store import audit

    case = {"id": "case-1", "slug": "old", "title": "Old case", "protocol": "tobacco-minors", "status": "fieldwork",
            "language": "en", "reply_days": 14, "created_at": "2026-01-01T10:00:00+01:00"}
    store = {"id": "store-1", "name": "Old Shop", "channel": "in_person", "created_at": "2026-01-01T10:00:00+01:00"}
    visit = {"id": "visit-1", "case_id": "case-1", "store_id": "store-1", "protocol": "tobacco-minors",
             "kind": "undercover", "visited_at": "2026-01-02T15:00:00+01:00", "visited_date": "2026-01-02",
             "answers": json.dumps(SOLD, sort_keys=True), "outcome": "violation", "source": "manual",
             "created_at": "2026-01-02T15:05:00+01:00"}
    entries = []
    for table, row in (("cases", case), ("stores", store), ("visits", visit)):
        db[table].insert(row)
        entries.append({"at": "2026-01-02T14:05:00+00:00", "actor": "old", "action": "insert", "table_name": table,
                        "row_id": row["id"], "row_hash": audit.row_hash(row), "data": None})
    db["audit_log"].insert_all(audit.chain_entries(entries, prev_hash=audit.GENESIS, next_seq=1))
    db.close()

    ws = Workspace(root)
    assert not migrations.pending(ws.db)
    row = ws.get("visits", "visit-1")
    assert (row["outcome"], row["round"], row["attempt"], row["review_state"]) == ("violation", 1, "completed", "received")
    assert ws.db["cases"].count == 1 and ws.db["stores"].count == 1
    report = verify(ws)
    assert report.ok, report.problems[:3]  # the backfill was written into the chain
    ws.close()


# -- the audit chain and verify ------------------------------------------------------------------


def raw(ws, sql, params=()):
    """Tamper as an attacker would: a second connection, around the audit API."""
    conn = sqlite3.connect(ws.db_path)
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def test_verify_passes_on_an_honest_workspace(workspace, tobacco_case, run):
    result = run("verify", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["ok"] is True


@pytest.mark.parametrize("attack,where", [
    ("update visits set outcome = 'compliant' where id = :visit", "visits"),
    ("update audit_log set actor = 'someone' where seq = 3", "audit_log seq 3"),
    ("delete from findings where visit_id = :visit", "findings"),
    ("insert into stores (id, name, channel) values ('sneaky', 'Sneaky', 'in_person')", "stores sneaky"),
])
def test_verify_names_the_first_altered_row(workspace, tobacco_case, run, attack, where):
    raw(workspace, attack, {"visit": tobacco_case["visits"][0]["id"]})
    result = run("verify")
    assert result.exit_code == 3
    assert "verification failed at" in result.output and where in result.output


def test_verify_names_an_altered_evidence_file(workspace, tobacco_case, tmp_path, run):
    photo = receipt_photo(tmp_path / "r.jpg", when=workspace.now() - timedelta(days=1), lat=52.5, lon=13.4, text="x")
    item = evidence.add_evidence(workspace, tobacco_case["visits"][0], [photo])[0]
    path = workspace.evidence_path(item["sha256"])
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes() + b"edited")
    result = run("verify")
    assert result.exit_code == 3 and item["sha256"][:2] in result.output and "file content changed" in result.output


def test_a_tampered_row_is_not_laundered_by_a_later_edit(workspace, tobacco_case):
    visit = tobacco_case["visits"][0]
    raw(workspace, "update visits set notes = 'inserted later' where id = ?", [visit["id"]])
    with pytest.raises(IntegrityError, match="altered outside investigate"):
        visits.amend_visit(workspace, workspace.get("visits", visit["id"]), reason="try", answers={"sale": False})


# -- ids -----------------------------------------------------------------------------------------


def test_a_unique_prefix_finds_the_row_and_an_ambiguous_one_lists_candidates(workspace, run):
    a = workspace.insert("stores", {"id": "abc11111-0000-4000-8000-000000000001", "name": "Alpha", "channel": "in_person"})
    workspace.insert("stores", {"id": "abc22222-0000-4000-8000-000000000002", "name": "Beta", "channel": "in_person"})
    assert resolve(workspace, "stores", "abc1")["id"] == a["id"]
    with pytest.raises(AmbiguousPrefix) as err:
        resolve(workspace, "stores", "abc")
    assert "Alpha" in str(err.value) and "Beta" in str(err.value)
    result = run("store", "show", "abc")
    assert result.exit_code != 0 and "ambiguous" in result.output and "abc11111" in result.output
    assert "no store matches" in run("store", "show", "zzz").output



def test_new_ids_are_uuid7_in_time_order_and_typed_by_their_random_end(workspace, run):
    rows = [workspace.insert("stores", {"name": f"Shop {i}", "channel": "in_person"}) for i in range(3)]
    ids = [r["id"] for r in rows]
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)  # the time comes first
    # The short form is random (not the shared time prefix), and the CLI takes it back.
    assert len({short(i) for i in ids}) == 3 and all(short(i) == i[24:32] for i in ids)
    for row in rows:
        assert resolve(workspace, "stores", short(row["id"]))["id"] == row["id"]
        assert resolve(workspace, "stores", short(row["id"], 5))["id"] == row["id"]
        assert json.loads(run("store", "show", short(row["id"]), "--json").output)["store"]["name"] == row["name"]
    # The time prefix names them all: refused as ambiguous, the candidates listed by short form.
    with pytest.raises(AmbiguousPrefix) as err:
        resolve(workspace, "stores", ids[0][:6])
    assert all(short(i) in str(err.value) for i in ids)  # the short ids the tables show
    assert "type the short id the tables show" in str(err.value)


def test_a_short_id_is_found_through_its_index_not_a_scan(workspace):
    plan = " ".join(r[3] for r in workspace.db.execute(
        f"explain query plan select * from visits where {TAIL} >= ? and {TAIL} < ? and substr(id, 15, 1) = '7'",
        ["abcd", "abcdg"]))
    assert "USING INDEX idx_visits_short_id" in plan and "SCAN" not in plan


def test_rows_with_uuid4_ids_keep_their_old_short_form(workspace):
    old = workspace.insert("stores", {"id": "0f1e2d3c-4b5a-4978-8877-665544332211", "name": "Old", "channel": "in_person"})
    assert short(old["id"]) == "0f1e2d3c"
    assert resolve(workspace, "stores", "0f1e2d")["id"] == old["id"]
    # Its last group does not answer as a short form: only a UUIDv7's does.
    with pytest.raises(NotFound):
        resolve(workspace, "stores", "665544332211")

# -- protocols -----------------------------------------------------------------------------------


def test_every_built_in_protocol_loads():
    keys = set(all_protocols())
    assert {"tobacco-minors", "alcohol-minors", "callback-promise", "refund-honesty"} <= keys


@pytest.mark.parametrize("text,where", [
    ('key = "x"\ntitle = "X"\nquestons = []\n', "questons: unknown key"),
    ('key = "x"\ntitle = "X"\n[[questions]]\nkey = "sale"\ntype = "boool"\nprompt = "?"\n', "questions[0].type"),
    ('key = "x"\ntitle = "X"\n[[questions]]\nkey = "sale"\ntype = "bool"\nprompt = "?"\n[[rules]]\nwhen = { sael = true }\noutcome = "violation"\n',
     "rules[0].when.sael: no such question"),
    ('key = "x"\ntitle = "X"\n[[questions]]\nkey = "c"\ntype = "choice"\nchoices = ["a"]\nprompt = "?"\n[[rules]]\nwhen = { c = "b" }\noutcome = "violation"\n',
     "rules[0].when.c"),
    ('key = "x"\ntitle = "X\n', "not valid TOML"),
    # The shape (msgspec, protocol/shape.py): a path as deep as the mistake, in the file's words.
    ('key = "x"\ntitle = "X"\n[[questions]]\nkey = "sale"\ntype = "bool"\nprompt = "?"\n[[rules]]\n'
     'when = { sale = true }\nfinding = { titel = "Sale" }\n',
     "rules[0].finding.titel: unknown key (expected one of code, description, severity, statute, title)"),
    ('key = "x"\ntitle = "X"\n[[questions]]\nkey = "sale"\ntype = "bool"\nprompt = "?"\n[text.deu]\ntitle = "X"\n',
     "text.deu: expected a two-letter language code such as de or da"),
    ('key = "x"\ntitle = "X"\n[tester]\nmin_age = 5\n[[questions]]\nkey = "sale"\ntype = "bool"\nprompt = "?"\n',
     "tester.min_age: 5 is not an age in years"),
    ('key = "x"\ntitle = "X"\n[[questions]]\nkey = "sale"\ntype = "bool"\nprompt = "?"\nrequired = "yes"\n',
     "questions[0].required: expected true or false, got text"),
    ('key = "x"\ntitle = "X"\n[[questions]]\nkey = "sale"\ntype = "bool"\nprompt = "?"\nsection = "honesty"\n'
     'points = { yes = 1, no = -2 }\n', "questions[0].points.no: -2 is not a number of points (0 or more)"),
    ('key = "x"\ntitle = "X"\n[[questions]]\nkey = "sale"\nprompt = "?"\n', "questions[0].type: missing"),
])
def test_a_protocol_with_a_typo_names_the_file_and_the_key(tmp_path, text, where):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert str(path) in str(err.value) and where in str(err.value)


def test_a_workspace_protocol_replaces_a_built_in_and_protocol_commands_show_it(workspace, run):
    builtin = (all_protocols()["refund-honesty"].source)
    text = open(builtin, encoding="utf-8").read().replace('title = "Refund honesty"', 'title = "Refund honesty (ours)"')
    (workspace.root / "protocols" / "refund.toml").write_text(text, encoding="utf-8")
    listed = json.loads(run("protocol", "list", "--json").output)
    assert {"key": "refund-honesty", "title": "Refund honesty (ours)"}.items() <= \
        next(p for p in listed if p["key"] == "refund-honesty").items()
    shown = json.loads(run("protocol", "show", "tobacco-minors", "--json").output)
    assert shown["tester_min_age"] == 15 and any(q["option"] == "--id-check" for q in shown["questions"])


# -- recording and amending visits ------------------------------------------------------------------


def test_visit_record_takes_each_question_as_an_option(workspace, tobacco_case, run):
    result = run("visit", "record", "--case", "tobacco-nk", "--store", "L-2", "--tester", "T-07", "--at",
                 "2026-11-01 14:35", "--sale", "yes", "--id-check", "glance", "--product", "snus",
                 "--id-carried", "no", "--json")
    data = json.loads(result.output)
    assert data["visit"]["outcome"] == "violation" and data["visit"]["visited_at"] == "2026-11-01T14:35:00+01:00"
    assert {f["code"] for f in data["findings"]} == {"SALE_TO_MINOR", "ID_CHECKED_STILL_SOLD"}


def test_visit_record_asks_for_missing_answers_and_asks_again_after_a_bad_one(workspace, tobacco_case):
    runner = CliRunner()
    result = runner.invoke(cli, ["-w", str(workspace.root), "visit", "record", "--case", "tobacco-nk", "--store", "L-2",
                                 "--tester", "T-07", "--at", "2026-11-02 10:00", "-a", "product=cigarettes"],
                           input="maybe\nno\nnone\nyes\n")
    assert result.exit_code == 0, result.output
    assert "is not yes or no" in result.output  # the bad answer, then the question again
    assert "COMPLIANT" in result.output
    # With nobody to answer, the missing answer is named instead of a bare "Aborted!".
    silent = runner.invoke(cli, ["-w", str(workspace.root), "visit", "record", "--case", "tobacco-nk", "--store", "L-2",
                                 "--tester", "T-07", "--at", "2026-11-02 11:00"], input="")
    assert silent.exit_code != 0 and "missing answer" in silent.output


@pytest.mark.parametrize("args,expected", [
    (["--at", "2099-01-01 10:00"], "in the future"),
    (["--at", "2026-02-31 10:00"], "is not a date and time"),
    (["--product", "pipe"], "not one of"),
    (["--store", "nope"], "no store matches"),
    (["--tester", "T-99"], "no tester matches"),
    (["--colour", "red"], "no such option --colour"),
])
def test_visit_record_refuses_bad_input_and_writes_nothing(workspace, tobacco_case, run, args, expected):
    base = {"--store": "L-2", "--tester": "T-07", "--at": "2026-11-01 10:00", "--product": "cigarettes"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    flat = [x for kv in base.items() for x in kv]
    before = snapshot(workspace)
    result = run("visit", "record", "--case", "tobacco-nk", "--no-input", *flat, "--sale", "no",
                 "--id-check", "scanned", "--id-carried", "yes")
    assert result.exit_code != 0 and expected in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(workspace) == before


@pytest.mark.parametrize("born,expected", [("2012-06", "too young"), ("2007-01", "too old")])
def test_a_tester_outside_the_age_range_on_the_visit_date_is_refused(workspace, tobacco_case, run, born, expected):
    testers.add_tester(workspace, code="T-X", birth_month=born, consent=True)
    before = snapshot(workspace)
    result = run("visit", "record", "--case", "tobacco-nk", "--store", "L-2", "--tester", "T-X", "--at",
                 "2026-11-01 10:00", "--no-input", "--sale", "no", "--product", "snus", "--id-check", "scanned",
                 "--id-carried", "yes")
    assert result.exit_code != 0 and expected in result.output
    assert snapshot(workspace) == before


def test_an_amendment_needs_a_reason_keeps_the_old_values_and_derives_the_outcome_again(workspace, tobacco_case, run):
    visit = tobacco_case["visits"][0]
    assert run("visit", "amend", short(visit["id"]), "-a", "sale=no").exit_code != 0  # --reason is required
    result = run("visit", "amend", short(visit["id"]), "--reason", "tester misremembered", "-a", "sale=no",
                 "-a", "id_check=scanned", "--json")
    assert json.loads(result.output)["outcome"] == "compliant"
    entry = json.loads(workspace.db.execute(
        "select data from audit_log where row_id = ? and action = 'amend'", [visit["id"]]).fetchone()[0])
    assert entry["reason"] == "tester misremembered" and entry["old"]["outcome"] == "violation"
    codes = {r[0] for r in workspace.db.execute("select code from findings where visit_id = ?", [visit["id"]])}
    assert "SALE_TO_MINOR" not in codes
    assert verify(workspace).ok


def test_store_names_with_quotes_html_and_emoji_round_trip(workspace, run):
    name = 'Kiosk "Zur Ecke" <b>bold</b> & 🚬'
    result = json.loads(run("store", "add", name, "--json").output)
    assert stores.get_store(workspace, result["id"])["name"] == name
    assert json.loads(run("store", "show", short(result["id"]), "--json").output)["store"]["name"] == name


# -- evidence, promises, replies ---------------------------------------------------------------------


def test_evidence_keeps_exif_time_and_gps_and_stores_a_file_once(workspace, tobacco_case, tmp_path):
    when = (workspace.now() - timedelta(days=3)).replace(microsecond=0)
    photo = receipt_photo(tmp_path / "IMG_1.jpg", when=when, lat=52.48012, lon=13.43015, text="Späti")
    visit = tobacco_case["visits"][0]
    first = evidence.add_evidence(workspace, visit, [photo])[0]
    assert first["captured_at"] == when.isoformat()
    assert first["gps_lat"] == pytest.approx(52.48012, abs=1e-4) and first["gps_lon"] == pytest.approx(13.43015, abs=1e-4)
    again = evidence.add_evidence(workspace, visit, [photo])[0]
    assert again.get("duplicate") and workspace.db["evidence"].count == 1
    stored = workspace.evidence_path(first["sha256"])
    assert stored.read_bytes() == photo.read_bytes()
    assert stored.stat().st_mode & 0o222 == 0  # stored read-only: the original is never modified


def test_promises_go_overdue_and_a_broken_one_becomes_a_finding(workspace, run):
    case = cases.create_case(workspace, slug="cb", title="Callbacks", protocol="callback-promise")
    line = stores.add_store(workspace, name="Hotline", channel="phone")
    call = visits.record_visit(workspace, case=case, store=line, tester=None,
                               answers={"reached_agent": True, "callback_promised": True, "promised_within_hours": 24},
                               visited_at=workspace.now() - timedelta(days=3))
    overdue = json.loads(run("promise", "list", "--overdue", "--json").output)
    assert [p["id"] for p in overdue] == [call["promises"][0]["id"]]
    assert run("promise", "keep", short(call["promises"][0]["id"]), "--broken").exit_code == 0
    assert workspace.get("visits", call["visit"]["id"])["outcome"] == "violation"
    assert workspace.db.execute("select code from findings where visit_id = ?",
                                [call["visit"]["id"]]).fetchone()[0] == "PROMISE_BROKEN"
    assert "already marked broken" in run("promise", "keep", short(call["promises"][0]["id"])).output


def test_a_reply_window_closes_after_the_deadline_or_an_answer(workspace, tobacco_case):
    case, shop = cases.edit_case(workspace, tobacco_case["case"], reply_days=3), tobacco_case["stores"][0]
    assert not reply_window_closed(workspace, case, shop)
    req = replies.request_reply(workspace, case, shop, requested_at=(workspace.now() - timedelta(days=2)).isoformat())
    assert not reply_window_closed(workspace, case, shop)
    replies.record_reply(workspace, req, answer="We disagree.")
    assert reply_window_closed(workspace, case, shop)
    other = tobacco_case["stores"][1]
    replies.request_reply(workspace, case, other, requested_at=(workspace.now() - timedelta(days=9)).isoformat())
    assert reply_window_closed(workspace, case, other)


@pytest.mark.parametrize("group", ["case", "store", "tester", "visit", "finding", "evidence", "promise", "reply",
                                   "protocol", "review", "tip", "leads"])
def test_every_group_has_help(group):
    result = CliRunner().invoke(cli, [group, "--help"])
    assert result.exit_code == 0 and len(result.output) > 100


def test_an_answer_kept_while_unchanged_is_asked_again_after_any_write(workspace):
    calls = []

    def count_stores():
        calls.append(1)
        return workspace.db.execute("select count(*) from stores").fetchone()[0]

    assert workspace.while_unchanged(("stores",), count_stores) == 0
    assert workspace.while_unchanged(("stores",), count_stores) == 0 and len(calls) == 1
    workspace.insert("stores", {"name": "New shop", "channel": "in_person"})
    assert workspace.while_unchanged(("stores",), count_stores) == 1 and len(calls) == 2


def test_the_login_name_the_log_names_is_looked_up_once_per_workspace(workspace, monkeypatch):
    """Without $USER, getpass reads /etc/passwd: once per audited write, it was 20,000 reads of
    the file for one `reply request --all`. The name is the same for every write."""
    import getpass

    asked = []
    monkeypatch.setattr(getpass, "getuser", lambda: asked.append(1) or "lena")
    ws = Workspace(workspace.root)
    for name in ("Eins", "Zwei", "Drei"):
        stores.add_store(ws, name=f"Späti {name}")
    assert asked == [1]
    assert {r[0] for r in ws.db.execute("select actor from audit_log where table_name = 'stores'")} == {"lena"}
    ws.close()
