"""Issue 12: a log that proves itself to outsiders. Each attack a court would ask about is
made here, and caught by 'verify --against' a checkpoint and a public PDF made before it."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import tomllib
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from investigate.store import audit
from investigate.cases import cases, replies
from investigate.protocol.protocols import get_protocol
from investigate.cases.review import review_visit
from investigate.reports.build import build_report
from investigate.store.workspace import Workspace

from test_merkle import ref_mth, ref_path


def independent_check(note: str, verifier_key: str) -> tuple[int, bytes]:
    """A reader's own check of a C2SP signed note, from the format's description only."""
    name, kid_hex, b64 = verifier_key.split("+", 2)
    raw = base64.b64decode(b64)
    assert raw[0] == 1 and len(raw) == 33  # Ed25519
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == kid_hex
    body, _, signatures = note.partition("\n\n")
    origin, size, root_b64 = body.split("\n")[:3]
    assert origin == name
    line = signatures.strip().split("\n")[0]
    assert line.startswith(f"\u2014 {name} ")
    sig = base64.b64decode(line.rsplit(" ", 1)[1])
    assert sig[:4].hex() == kid_hex
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(sig[4:], (body + "\n").encode())
    return int(size), base64.b64decode(root_b64)


def leaves_of(ws) -> list[bytes]:
    rows = ws.db.conn.execute("select seq, at, actor, action, table_name, row_id, row_hash, data from audit_log "
                              "order by seq").fetchall()
    return [hashlib.sha256(b"\x00" + audit.entry_bytes(dict(zip(audit.ENTRY_FIELDS, r)))).digest() for r in rows]


@pytest.fixture
def published(workspace, tobacco_case, run, tmp_path):
    """A case with a public PDF and a checkpoint file, both made before any attack."""
    ws, case = workspace, tobacco_case["case"]
    for v in tobacco_case["visits"]:
        review_visit(ws, v, "approve")
    case = cases.edit_case(ws, case, reply_days=3)
    replies.request_reply(ws, case, tobacco_case["stores"][0], requested_at=(ws.now() - timedelta(days=9)).isoformat())
    pdf = tmp_path / "public.pdf"
    build_report(ws, case, lang="en", out=pdf, override="log test")
    result = run("checkpoint", "--out", tmp_path / "cp.txt", "--json")
    assert result.exit_code == 0, result.output
    return {"ws": ws, "pdf": pdf, "checkpoint": tmp_path / "cp.txt", "size": json.loads(result.output)["size"]}


def test_a_checkpoint_is_a_signed_note_a_reader_can_check_without_our_code(published, workspace):
    note = published["checkpoint"].read_text()
    lines = note.split("\n")
    assert lines[1] == str(published["size"]) and lines[4] == "" and lines[5].startswith("\u2014 ")
    config = tomllib.loads((workspace.root / "investigate.toml").read_text())
    size, root = independent_check(note, config["log"]["public_key"])
    assert size == published["size"] and root == ref_mth(leaves_of(workspace)[:size])
    key = workspace.root / "keys" / "log.key"
    assert key.stat().st_mode & 0o777 == 0o600 and b"PRIVATE KEY" in key.read_bytes()
    assert workspace.db.execute("select count(*) from log_checkpoints").fetchone()[0] >= 2  # the PDF's, and this


def test_an_inclusion_proof_checks_with_an_independent_verifier(published, run):
    ws = published["ws"]
    result = json.loads(run("prove", "3", "--json").output)
    leaves = leaves_of(ws)
    n = result["size"]
    assert result["leaf"] == leaves[2].hex()
    assert [bytes.fromhex(p) for p in result["proof"]] == ref_path(2, leaves[:n])
    assert result["root"] == ref_mth(leaves[:n]).hex()


def test_every_publication_carries_the_checkpoint_current_when_made(published, workspace, run, tmp_path):
    from pypdf import PdfReader

    text = " ".join("\n".join(p.extract_text() for p in PdfReader(published["pdf"]).pages).split())
    assert "Proof of the record" in text and "investigate.log/" in text
    assert "log-checkpoint.txt" in PdfReader(published["pdf"]).attachments
    assert run("verify", "--against", published["pdf"]).exit_code == 0
    assert run("publish", "--case", "tobacco-nk", "--out", tmp_path / "pub", "--override", "test").exit_code == 0
    db = sqlite3.connect(tmp_path / "pub" / "public.db")
    note = db.execute("select note from log_checkpoint").fetchone()[0]
    assert run("verify", "--against", tmp_path / "pub" / "public.db").exit_code == 0
    assert run("bundle", "tobacco-nk", "--out", tmp_path / "b.zip").exit_code == 0
    import zipfile

    manifest = json.loads(zipfile.ZipFile(tmp_path / "b.zip").read("manifest.json"))
    assert manifest["checkpoint"].startswith("investigate.log/") and note != manifest["checkpoint"]
    assert run("verify", "--against", tmp_path / "b.zip").exit_code == 0
    letter = tmp_path / "letter.pdf"
    replies.request_reply(workspace, cases.get_case(workspace, "tobacco-nk"), cases_store(workspace, "L-2"))
    assert run("reply", "letter", "tobacco-nk", "L-2", "--out", letter).exit_code == 0
    assert run("verify", "--against", letter).exit_code == 0


def cases_store(ws, licence):
    from investigate.cases.stores import get_store

    return get_store(ws, licence)


def both_catch(run, published, expected):
    for target in (published["checkpoint"], published["pdf"]):
        result = run("verify", "--against", target)
        assert result.exit_code == 3, result.output
        assert expected in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1


def test_truncating_the_newest_entries_with_their_rows_is_caught(published, run):
    ws = published["ws"]
    newest = list(ws.db.query("select * from audit_log where table_name is not null order by seq desc limit 3"))
    for e in newest:  # the attacker removes the rows and their entries, leaving a clean chain
        if e["action"] in ("insert", "review", "update"):
            ws.db.execute(f"delete from [{e['table_name']}] where id = ?", [e["row_id"]]) \
                if e["action"] == "insert" else None
    top = newest[-1]["seq"]
    ws.db.execute("delete from audit_log where seq >= ?", [top])
    ws.db.execute("delete from log_nodes")
    ws.db.execute("delete from log_leaves")
    ws.db.execute("delete from log_checkpoints")
    both_catch(run, published, f"the log is shorter than the checkpoint of")
    assert "now " + str(top - 1) in run("verify", "--against", published["checkpoint"]).output


def test_a_rewritten_row_with_recomputed_links_is_caught(published, run):
    ws = published["ws"]
    # Change a visit and recompute its row hash and every later link with the project's own code.
    visit = ws.db.execute("select id from visits order by visited_at limit 1").fetchone()[0]
    ws.db.execute("update visits set outcome = 'compliant' where id = ?", [visit])
    row = ws.get("visits", visit)
    target = ws.db.execute("select max(seq) from audit_log where table_name = 'visits' and row_id = ?",
                           [visit]).fetchone()[0]
    ws.db.execute("update audit_log set row_hash = ? where seq = ?", [audit.row_hash(row), target])
    prev = ws.db.execute("select hash from audit_log where seq = ?", [target - 1]).fetchone()[0]
    for entry in list(ws.db.query("select * from audit_log where seq >= ? order by seq", [target])):
        entry["prev_hash"] = prev
        entry["hash"] = audit.link_hash(prev, entry)
        ws.db.execute("update audit_log set prev_hash = ?, hash = ? where seq = ?", [prev, entry["hash"], entry["seq"]])
        prev = entry["hash"]
    assert audit.broken_link(ws.db.query("select * from audit_log order by seq")) is None  # the chain alone: fine
    both_catch(run, published, f"entry {target} differs from what the checkpoint")
    # Had the attacker rebuilt the stored tree too, the entry cannot be named, but the break still shows.
    ws.db.execute("delete from log_nodes")
    ws.db.execute("delete from log_leaves")
    from investigate.proof.log import sync_tree

    sync_tree(ws)
    both_catch(run, published, "no longer hash to the root the checkpoint")


def test_a_wiped_database_is_caught_by_plain_verify_and_against_the_pdf(published, run):
    ws = published["ws"]
    ws.db.execute("pragma foreign_keys = off")
    for (table,) in ws.db.execute("select name from sqlite_master where type = 'table' "
                                  "and name not like 'sqlite_%'").fetchall():
        ws.db.execute(f"drop table [{table}]")
    ws.close()
    fresh = Workspace(ws.root)  # the migrations make empty tables again
    assert fresh.db.execute("select count(*) from audit_log").fetchone()[0] == 0
    result = run("verify")
    assert result.exit_code == 3 and "the log is shorter than the checkpoint" in result.output
    assert "now 0" in result.output
    assert "now 0" in run("verify", "--against", published["pdf"]).output


def test_a_replaced_key_and_a_forged_checkpoint_are_refused(published, run, workspace, tmp_path):
    note = published["checkpoint"].read_text()
    lines = note.split("\n")
    forged = "\n".join([lines[0], lines[1], base64.b64encode(b"\x00" * 32).decode(), *lines[3:]])
    (tmp_path / "forged.txt").write_text(forged)
    result = run("verify", "--against", tmp_path / "forged.txt")
    assert result.exit_code == 3 and "does not verify" in result.output
    # The attacker makes a new key and re-signs: the old publications name the old key.
    (workspace.root / "keys" / "log.key").unlink()
    text = (workspace.root / "investigate.toml").read_text()
    (workspace.root / "investigate.toml").write_text(text.split("\n[log]")[0] + "\n")
    Workspace(workspace.root).close()  # opening makes a new key
    result = run("verify", "--against", published["pdf"])
    assert result.exit_code == 3 and "unknown key" in result.output


@pytest.mark.parametrize("content", [b"", b"not a checkpoint\n", b"%PDF-1.7 broken", b"PK\x03\x04 broken zip",
                                     b"SQLite format 3\x00 broken"])
def test_a_malformed_checkpoint_file_is_a_one_line_error(workspace, run, tmp_path, content):
    path = tmp_path / "bad"
    path.write_bytes(content)
    result = run("verify", "--against", path)
    assert result.exit_code != 0 and result.output.startswith("Error:")
    assert len(result.output.strip().splitlines()) == 1
    missing = run("verify", "--against", tmp_path / "nope.txt")
    assert missing.exit_code != 0 and "no such file" in missing.output


# -- timestamps from a real authority on 127.0.0.1 --------------------------------------------


def use_authority(ws, url, root):
    text = (ws.root / "investigate.toml").read_text()
    text = text.replace('tsa_url = ""', f'tsa_url = "{url}"').replace(
        "tsa_roots = []", f'tsa_roots = ["{root}"]')
    (ws.root / "investigate.toml").write_text(text)


def test_checkpoints_get_a_timestamp_that_verify_checks(workspace, tmp_path):
    from click.testing import CliRunner

    from investigate.cli import cli
    from tsa_server import TimestampAuthority

    with TimestampAuthority(tmp_path / "tsa") as tsa:
        use_authority(workspace, tsa.url, tsa.authority["root"])
        result = CliRunner().invoke(cli, ["-w", str(workspace.root), "checkpoint", "--json"])
        assert result.exit_code == 0, result.output
        stamped = json.loads(result.stdout)["timestamp"]
        assert stamped["stamped_at"] and tsa.hits == 1
    assert CliRunner().invoke(cli, ["-w", str(workspace.root), "verify"]).exit_code == 0
    # A token moved to another checkpoint no longer verifies.
    ws = Workspace(workspace.root)
    ws.db.execute("update log_checkpoints set note = note || ' ' where tsa_token is not null")
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "verify"])
    assert result.exit_code == 3 and "timestamp of checkpoint" in result.output


def test_offline_checkpoints_are_queued_and_stamped_later(workspace, tmp_path):
    from click.testing import CliRunner

    from investigate.cli import cli
    from tsa_server import TimestampAuthority

    tsa = TimestampAuthority(tmp_path / "tsa")  # made but not started: nobody answers yet
    tsa.server.server_close()
    use_authority(workspace, tsa.url, tsa.authority["root"])
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "checkpoint"])
    assert result.exit_code == 0 and "Timestamp queued" in result.stderr
    with TimestampAuthority(tmp_path / "tsa2") as online:
        text = (workspace.root / "investigate.toml").read_text().replace(tsa.url, online.url).replace(
            str(tsa.authority["root"]), str(online.authority["root"]))
        (workspace.root / "investigate.toml").write_text(text)
        result = CliRunner().invoke(cli, ["-w", str(workspace.root), "checkpoint", "--stamp"])
        assert result.exit_code == 0 and "stamped" in result.output, result.output
    ws = Workspace(workspace.root)
    assert ws.db.execute("select count(*) from log_checkpoints where tsa_token is null").fetchone()[0] == 0


@pytest.mark.parametrize("lang, heading", [("en", "Custodian's statement"), ("de", "Erklärung des Verwahrers"),
                                           ("da", "Erklæring fra den ansvarlige")])
def test_the_custodians_statement_lists_each_file_with_its_proof(workspace, tobacco_case, run, tmp_path, lang, heading):
    from pypdf import PdfReader

    from investigate.cases import evidence

    photo = tmp_path / "till.jpg"
    photo.write_bytes(b"\xff\xd8\xff a photo of the till")
    item = evidence.add_evidence(workspace, tobacco_case["visits"][0], [photo])[0]
    out = tmp_path / f"statement-{lang}.pdf"
    titles = {"en": "Tobacco sales to minors, Neukölln", "de": "Tabakverkauf an Minderjährige, Neukölln",
              "da": "Tobakssalg til mindreårige, Neukölln"}
    if lang != "en":  # a statement, like a report, is in one language or not made
        refused = run("certify", "tobacco-nk", "--lang", lang, "--out", out)
        assert refused.exit_code != 0 and f"case tobacco-nk has no title in {lang}" in refused.output
        assert run("case", "edit", "tobacco-nk", "--lang", lang, "--title", titles[lang]).exit_code == 0
    result = run("certify", "tobacco-nk", "--lang", lang, "--custodian", "Jana Berg", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["proofs_verified"] is True
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert heading in text and "Jana Berg" in text and item["sha256"] in text.replace(" ", "")
    # The case's and the protocol's titles in the statement's language, never another's.
    assert titles[lang] in text and get_protocol("tobacco-minors").texts(lang).title in text
    assert all(titles[other] not in text for other in titles if other != lang)
    if lang != "en":
        assert "Tobacco sales to minors" not in text
    assert "till.jpg" not in text  # original names stay out: the other side may read this
    # The proof printed for the file checks with the independent verifier against the checkpoint.
    note = PdfReader(out).attachments["log-checkpoint.txt"][0].decode()
    size, root = independent_check(note, tomllib.loads((workspace.root / "investigate.toml").read_text())["log"]["public_key"])
    seq = workspace.db.execute("select min(seq) from audit_log where table_name = 'evidence' and row_id = ?",
                               [item["id"]]).fetchone()[0]
    leaves = leaves_of(workspace)
    assert ref_mth(leaves[:size]) == root
    for h in ref_path(seq - 1, leaves[:size]):
        assert h.hex() in text.replace(" ", "")
    assert run("verify", "--against", out).exit_code == 0


def test_the_pdf_metadata_names_the_checkpoint(published):
    from pypdf import PdfReader

    keywords = PdfReader(published["pdf"]).metadata.get("/Keywords", "")
    note = PdfReader(published["pdf"]).attachments["log-checkpoint.txt"][0].decode()
    size = note.split("\n")[1]
    assert f"log-checkpoint {size} " in keywords


def test_the_stored_tree_gives_every_root_and_proof_across_runs_of_leaves(workspace):
    """The stored tree keeps leaves a run of 1,024 to a row and only whole runs' subtrees as
    nodes. Grown in steps that end inside a run, on its last leaf and just past it, it gives
    the root of every size, inclusion, consistency and partial proofs as the tree hashed from
    the entries themselves does, and stores no node smaller than a run."""
    from investigate.proof import log, merkle

    from test_merkle import ref_proof

    ws = workspace
    base = ws.db.execute("select count(*) from audit_log").fetchone()[0]
    grown = []
    for step in (5, 1019 - base, 1, 1, 1500, 700):  # to 1,024 and 1,025 leaves, then past two runs
        for i in range(step):
            ws.log_event("note", {"i": i})
        grown.append(log.sync_tree(ws))
    leaves = leaves_of(ws)
    n = len(leaves)
    assert grown[-1] == n == log.stored_size(ws.db) and 1024 in grown and 1025 in grown
    assert ws.db.execute("select min(level) from log_nodes").fetchone()[0] == log.RUN_LEVEL
    for size in (1, 5, 1023, 1024, 1025, 2048, 2049, n):
        assert log.root(ws, size) == (size, ref_mth(leaves[:size]))
    for seq in (1, 700, 1024, 1025, 2048, 2049, n):
        proof = log.inclusion(ws, seq)
        assert proof["verified"] and [bytes.fromhex(p) for p in proof["proof"]] == ref_path(seq - 1, leaves)
    sub = log.subtree_reader(ws.db)
    for old in (3, 1024, 1030, 2048):
        assert merkle.consistency_proof(sub, old, n) == ref_proof(old, leaves)
    kept = [0, 1023, 1024, 2500, n - 1]
    proof = merkle.partial_proof(log.subtree_reader(ws.db), n, kept)
    assert merkle.root_from_partial(n, {i: leaves[i] for i in kept}, proof) == ref_mth(leaves)


def test_a_stored_tree_of_entries_the_log_no_longer_has_is_rebuilt_before_it_is_signed(workspace):
    from investigate.proof import log

    ws = workspace
    for i in range(30):
        ws.log_event("note", {"i": i})
    log.sync_tree(ws)
    ws.db.execute("delete from audit_log where seq > 20")  # the log cut short behind the tree's back
    assert log.root(ws) == (20, ref_mth(leaves_of(ws)))


def test_a_tree_stored_a_node_to_a_row_is_moved_into_runs_when_the_workspace_is_opened(workspace):
    """Workspaces made before log_leaves stored every node as a row: the migration keeps their
    leaves, as runs, and the nodes of whole runs and above; the roots are unchanged."""
    from investigate.proof import log, merkle

    ws = workspace
    for i in range(1100):
        ws.log_event("note", {"i": i})
    leaves = leaves_of(ws)
    nodes: list = []
    tree = log.StreamingTree(record=nodes)
    for leaf in leaves:
        tree.add(leaf)
    tree.flush()
    ws.db.execute("drop table log_leaves")
    ws.db.execute("delete from log_nodes")
    ws.db.conn.executemany("insert into log_nodes (level, idx, hash) values (?, ?, ?)", nodes)
    ws.db.execute("delete from _sqlite_migrations where name = 'i30_log_leaves'")
    root = ws.root
    ws.close()
    opened = Workspace(root)
    assert log.stored_size(opened.db) == len(leaves)
    assert opened.db.execute("select min(level), count(*) from log_nodes").fetchone() == (log.RUN_LEVEL, 1)
    before = opened.db.execute("select count(*) from log_leaves").fetchone()[0]
    assert log.root(opened) == (len(leaves), ref_mth(leaves)) and before == 2
    assert merkle.root_from_inclusion(1099, len(leaves), leaves[1099],
                                      [bytes.fromhex(p) for p in log.inclusion(opened, 1100)["proof"]]) \
        == ref_mth(leaves)
