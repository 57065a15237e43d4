"""Issue 28: logs that vouch for each other. Three workspaces on one machine: A's checkpoints
are witnessed by B and C, each a real ``investigate witness serve`` on 127.0.0.1 (the installed
command in a subprocess), over HTTP as C2SP tlog-witness says."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from investigate.cases import cases, companies
from investigate.cli import cli
from investigate.proof.log import parse_checkpoint, sign_checkpoint
from investigate.store import audit
from investigate.store.workspace import Workspace, init_workspace

from local_server import LocalServer


def investigate(root, *args):
    prefix = ["-w", str(root)] if root else []
    return CliRunner().invoke(cli, [*prefix, *map(str, args)], catch_exceptions=False)


@contextmanager
def witness_serving(root):
    """``investigate witness serve --port 0`` in a subprocess; yields its URL and its printed
    answers (read when it stops)."""
    child = subprocess.Popen([sys.executable, "-m", "investigate", "-w", str(root), "witness", "serve", "--port", "0"],
                             stderr=subprocess.PIPE, text=True)
    try:
        first = child.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert found, first + child.stderr.read()
        answers: list[str] = []
        yield found.group(), answers
    finally:
        child.terminate()
        _, rest = child.communicate(timeout=30)
    answers.extend(rest.splitlines())


def witnessed(root) -> tuple[int, int]:
    """(size last cosigned, audit entries) of witness ``root``, read as another process would."""
    conn = sqlite3.connect(f"file:{root / 'investigate.db'}?mode=ro", uri=True)
    try:
        size = conn.execute("select max(size) from witnessed_logs").fetchone()[0]
        return size, conn.execute("select count(*) from audit_log").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def network(tmp_path):
    """A, B and C; B and C witness A, serve it over HTTP, and A trusts them."""
    roots = {}
    for name in "ABC":
        ws = init_workspace(tmp_path / name, newsroom=f"Newsroom {name}", timezone_name="Europe/Berlin")
        ws.ensure_signing_key()
        roots[name] = ws.root
        ws.close()
    a = Workspace(roots["A"])
    origin, log_key = a.key_name, a.setting("log", "public_key")
    a.close()
    for name in "BC":
        assert investigate(roots[name], "witness", "trust", origin, log_key).exit_code == 0
    with witness_serving(roots["B"]) as (b_url, b_said), witness_serving(roots["C"]) as (c_url, c_said):
        for name, url in (("B", b_url), ("C", c_url)):
            key = investigate(roots[name], "witness", "key").output.strip()
            result = investigate(roots["A"], "witness", "use", key, "--url", url)
            assert result.exit_code == 0, result.output
        yield {"roots": roots, "urls": [b_url, c_url], "said": {"B": b_said, "C": c_said}, "origin": origin,
               "tmp": tmp_path}


def cosigned_checkpoint(net, out):
    result = investigate(net["roots"]["A"], "checkpoint", *sum((["--witness", u] for u in net["urls"]), []),
                         "--out", out)
    assert result.exit_code == 0, result.output
    return result


def add_entries(root, n=1):
    """A's work goes on: each company added is one audit entry."""
    ws = Workspace(root)
    start = ws.db.execute("select count(*) from companies").fetchone()[0]
    for i in range(start, start + n):
        companies.add_company(ws, name=f"Kiosk Holding {i}")
    ws.close()


def test_a_checkpoint_cosigned_by_two_witnesses_verifies_with_witnesses_2(network, tmp_path):
    first = cosigned_checkpoint(network, tmp_path / "cp1.txt")
    add_entries(network["roots"]["A"], 3)
    second = cosigned_checkpoint(network, tmp_path / "cp2.txt")
    for result in (first, second):
        assert result.stderr.count("Cosigned by investigate.witness/") == 2
    note = (tmp_path / "cp2.txt").read_text()
    size = parse_checkpoint(note)["size"]
    assert len(parse_checkpoint(note)["signatures"]) == 3  # the log's own and two cosignatures
    result = investigate(network["roots"]["A"], "verify", "--against", tmp_path / "cp2.txt", "--witnesses", "2")
    assert result.exit_code == 0, result.output
    assert "Cosigned by 2 trusted witnesses" in result.output
    # Each witness keeps the size it cosigned, written through its own audit log.
    for name in "BC":
        assert witnessed(network["roots"][name])[0] == size
        ws = Workspace(network["roots"][name], read_only=True)
        assert ws.db.execute("select count(*) from audit_log where action = 'cosign'").fetchone()[0] == 2
        ws.close()
    # Plain verify asks the newest checkpoint recorded: the same note.
    assert investigate(network["roots"]["A"], "verify", "--witnesses", "2").exit_code == 0
    # Each side lists the other.
    at_b = json.loads(investigate(network["roots"]["B"], "witness", "list", "--json").output)
    assert [(w["origin"], w["size"]) for w in at_b["witnessing"]] == [(network["origin"], size)]
    at_a = json.loads(investigate(network["roots"]["A"], "witness", "list", "--json").output)
    assert sorted(w["url"] for w in at_a["witnesses"]) == sorted(network["urls"])
    shown = investigate(network["roots"]["A"], "witness", "list").output
    assert "Witnesses of this log:" in shown and network["urls"][0] in shown


def rewrite_history(root):
    """What a newsroom that rewrites its past does: change an entry, recompute every later link
    with the project's own code, rebuild the stored tree, and go on writing."""
    ws = Workspace(root)
    ws.db.execute("update audit_log set data = replace(data, 'Kiosk Holding 0', 'Kiosk Holding X') where seq = ?",
                  [ws.db.execute("select min(seq) from audit_log where table_name = 'companies'").fetchone()[0]])
    prev = audit.GENESIS
    for entry in list(ws.db.query("select * from audit_log order by seq")):
        entry["hash"] = audit.link_hash(prev, entry)
        ws.db.execute("update audit_log set prev_hash = ?, hash = ? where seq = ?", [prev, entry["hash"], entry["seq"]])
        prev = entry["hash"]
    ws.db.execute("delete from log_nodes")
    ws.db.execute("delete from log_leaves")
    ws.close()


def test_a_rewritten_history_is_refused_by_both_witnesses(network, tmp_path):
    add_entries(network["roots"]["A"], 2)
    cosigned_checkpoint(network, tmp_path / "cp1.txt")
    before = {name: witnessed(network["roots"][name]) for name in "BC"}
    size = before["B"][0]
    rewrite_history(network["roots"]["A"])
    # The same size again with another root: a conflict, whatever proof comes with it.
    ws = Workspace(network["roots"]["A"])
    rewritten = sign_checkpoint(ws)["note"]
    ws.close()
    assert parse_checkpoint(rewritten)["size"] == size
    for url in network["urls"]:
        status, content_type, body = post(url, f"old {size}\n\n{rewritten}".encode())
        assert (status, content_type, body) == (409, "text/x.tlog.size", f"{size}\n")
    # A larger rewritten log: its consistency proof from the cosigned size does not verify.
    add_entries(network["roots"]["A"], 1)
    result = cosigned_checkpoint(network, tmp_path / "cp2.txt")
    refusals = [line for line in result.stderr.splitlines() if line.startswith("Not cosigned by")]
    assert len(refusals) == 2, result.stderr
    assert all(": 422 " in line and "does not extend the one cosigned here" in line for line in refusals)
    assert "Cosigned by" not in result.stderr
    # The note carries the log's own signature only, and neither witness stored anything.
    assert len(parse_checkpoint((tmp_path / "cp2.txt").read_text())["signatures"]) == 1
    assert {name: witnessed(network["roots"][name]) for name in "BC"} == before
    failed = investigate(network["roots"]["A"], "verify", "--against", tmp_path / "cp1.txt", "--witnesses", "1")
    assert failed.exit_code == 3 and "no longer hash to the root" in failed.output
    refused = investigate(network["roots"]["A"], "verify", "--against", tmp_path / "cp2.txt", "--witnesses", "1")
    assert refused.exit_code == 3 and "0 valid cosignatures of trusted witnesses; 1 required" in refused.output


def post(url, body):
    request = urllib.request.Request(url + "/add-checkpoint", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as ex:
        return ex.code, ex.headers["Content-Type"], ex.read().decode()


def test_a_forged_cosignature_counts_for_nothing(network, tmp_path):
    cosigned_checkpoint(network, tmp_path / "cp.txt")
    note = (tmp_path / "cp.txt").read_text()
    lines = note.rstrip("\n").split("\n")
    name, b64 = lines[-1].split(" ")[1:]
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1  # one bit of the signature
    forged = "\n".join(lines[:-1] + [f"\u2014 {name} {base64.b64encode(bytes(raw)).decode()}"]) + "\n"
    (tmp_path / "forged.txt").write_text(forged)
    result = investigate(network["roots"]["A"], "verify", "--against", tmp_path / "forged.txt", "--witnesses", "2")
    assert result.exit_code == 3
    assert "1 valid cosignature of trusted witnesses" in result.output and "2 required" in result.output
    assert "Traceback" not in result.output
    assert investigate(network["roots"]["A"], "verify", "--against", tmp_path / "forged.txt",
                       "--witnesses", "1").exit_code == 0


def test_the_witness_refuses_bad_requests_with_c2sp_codes_and_stores_nothing(network, tmp_path):
    b_url = network["urls"][0]
    b_root = network["roots"]["B"]
    ws = Workspace(network["roots"]["A"])
    note = sign_checkpoint(ws)["note"]
    ws.close()
    before = witnessed(b_root)
    body, sigline = note.split("\n\n")
    stranger = init_workspace(tmp_path / "D", newsroom="D")
    stranger.ensure_signing_key()
    untrusted = sign_checkpoint(stranger)["note"]
    stranger.close()
    cases = {
        "untrusted origin": (b"old 0\n\n" + untrusted.encode(), 404),
        "bad signature": (b"old 0\n\n" + note.replace(body.split("\n")[2], base64.b64encode(b"x" * 32).decode())
                          .encode(), 403),
        "malformed note": (b"old 0\n\nnot a checkpoint\n", 400),
        "no old line": (note.encode(), 400),
        "old size above the checkpoint's": (f"old {parse_checkpoint(note)['size'] + 5}\n\n{note}".encode(), 400),
        "a proof that is not base64": (b"old 0\n!!!\n\n" + note.encode(), 400),
    }
    for what, (request, status) in cases.items():
        answer = post(b_url, request)
        assert answer[0] == status, (what, answer)
        assert answer[2].count("\n") == 1, (what, answer)  # one line saying why
    assert witnessed(b_root) == before
    # A first checkpoint is cosigned; then a request from another size gets 409 and the size it knows.
    assert post(b_url, f"old 0\n\n{note}".encode())[0] == 200
    size = parse_checkpoint(note)["size"]
    conflict = post(b_url, f"old 0\n\n{note}".encode())
    assert conflict[0] == 409 and conflict[1] == "text/x.tlog.size" and conflict[2] == f"{size}\n"


def test_a_witness_that_missed_a_reply_catches_up_through_its_409(network, tmp_path):
    a_root, b_url = network["roots"]["A"], network["urls"][0]
    ws = Workspace(a_root)
    note = sign_checkpoint(ws)["note"]  # B cosigns this one, but A never records the answer
    ws.close()
    assert post(b_url, f"old 0\n\n{note}".encode())[0] == 200
    add_entries(a_root, 2)
    result = cosigned_checkpoint(network, tmp_path / "cp.txt")
    assert result.stderr.count("Cosigned by") == 2, result.stderr
    assert witnessed(network["roots"]["B"])[0] == parse_checkpoint((tmp_path / "cp.txt").read_text())["size"]


class SlowWitness(LocalServer):
    def answer(self, method, path, body):
        time.sleep(5)
        return 200, "text/plain", b""


def test_a_witness_down_or_slow_does_not_stop_the_checkpoint(network, tmp_path):
    a_root = network["roots"]["A"]
    with open(a_root / "investigate.toml", "a") as fp:
        fp.write("witness_timeout_seconds = 1\n")  # under [log], the file's last table
    with SlowWitness() as slow:
        slow_url = f"http://127.0.0.1:{slow.port}"
        down_url = "http://127.0.0.1:9"  # discard: nothing listens
        for url, name in ((slow_url, "slow"), (down_url, "down")):
            # Keys of their own under other names: made here as the witnesses would.
            other = init_workspace(tmp_path / name, newsroom=name)
            key = investigate(other.root, "witness", "key").output.strip()
            other.close()
            assert investigate(a_root, "witness", "use", key, "--url", url).exit_code == 0
        started = time.monotonic()
        result = investigate(a_root, "checkpoint", "--witness", network["urls"][0], "--witness", slow_url,
                             "--witness", down_url, "--out", tmp_path / "cp.txt")
        took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert took < 4, took
    assert result.stderr.count("Cosigned by") == 1
    assert result.stderr.count("Not cosigned by") == 2
    assert "no complete answer within 1 s" in result.stderr, result.stderr.splitlines()
    assert len(parse_checkpoint((tmp_path / "cp.txt").read_text())["signatures"]) == 2


def test_witness_commands_refuse_bad_input_in_one_line(network, tmp_path):
    a_root, b_root = network["roots"]["A"], network["roots"]["B"]
    log_key = Workspace(a_root, read_only=True).setting("log", "public_key")
    other_key = Workspace(b_root, read_only=True).setting("log", "public_key")
    for args, message in (
        (("witness", "trust", network["origin"], other_key), "witnessed here with another key already"),
        (("witness", "trust", network["origin"], "nonsense"), "not a verifier key"),
        (("witness", "use", log_key, "--url", "http://127.0.0.1:1"), "of another kind"),
    ):
        result = investigate(b_root if args[1] == "trust" else a_root, *args)
        assert result.exit_code != 0 and message in result.output, result.output
        assert "Traceback" not in result.output
    result = investigate(a_root, "checkpoint", "--witness", "http://127.0.0.1:2")
    assert result.exit_code != 0 and "no witness is known at http://127.0.0.1:2" in result.output


def test_the_public_database_and_a_bundle_carry_the_cosigned_checkpoint(network, tmp_path):
    """Publications sign a checkpoint of their own: every trusted witness with a URL cosigns it."""
    a_root = network["roots"]["A"]
    ws = Workspace(a_root)
    cases.create_case(ws, slug="witnessed", title="Witnessed", protocol="tobacco-minors")
    ws.close()
    published = investigate(a_root, "publish", "--case", "witnessed", "--override", "witness test",
                            "--out", tmp_path / "public")
    assert published.exit_code == 0, published.output
    assert published.stderr.count("Cosigned by investigate.witness/") == 2
    bundled = investigate(a_root, "bundle", "witnessed", "--out", tmp_path / "w.zip")
    assert bundled.exit_code == 0, bundled.output
    for carrier in (tmp_path / "public" / "public.db", tmp_path / "w.zip"):
        result = investigate(a_root, "verify", "--against", carrier, "--witnesses", "2")
        assert result.exit_code == 0, (carrier, result.output)
        assert "Cosigned by 2 trusted witnesses" in result.output


def test_network_combine_requires_the_witnesses_asked_for(network, tmp_path):
    a_root = network["roots"]["A"]
    ws = Workspace(a_root)
    cases.create_case(ws, slug="witnessed", title="Witnessed", protocol="tobacco-minors")
    ws.close()
    out = tmp_path / "public"
    assert investigate(a_root, "publish", "--case", "witnessed", "--override", "witness test", "--parquet",
                       "--out", out).exit_code == 0
    keys = sum((["--witness-key", investigate(network["roots"][n], "witness", "key").output.strip()]
                for n in "BC"), [])
    ok = investigate(None, "network", "combine", out, *keys, "--witnesses", "2", "--out", tmp_path / "combined")
    assert ok.exit_code == 0, ok.output
    stranger = init_workspace(tmp_path / "E", newsroom="E")
    other = investigate(stranger.root, "witness", "key").output.strip()
    stranger.close()
    refused = investigate(None, "network", "combine", out, "--witness-key", keys[1], "--witness-key", other,
                          "--witnesses", "2", "--out", tmp_path / "combined2")
    assert refused.exit_code == 3
    assert f"{out / 'manifest.json'}" in refused.output and "1 valid cosignatures of the witnesses given, 2 required" \
        in refused.output


def test_witness_serve_on_a_port_in_use_is_one_line(network):
    port = int(network["urls"][0].rsplit(":", 1)[1])
    result = investigate(network["roots"]["C"], "witness", "serve", "--port", port)
    assert result.exit_code == 1
    assert f"127.0.0.1:{port}: cannot listen there" in result.output and "Traceback" not in result.output
