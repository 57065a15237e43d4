"""Issue 12: bundles that cannot hurt. Crafted, truncated, inflated and malformed bundles are
refused with one line, merge nothing, leave no file behind; killed merges and publishes are
cleaned by the next run and reported by verify until then. A big bundle is merged a row at a
time (issue 30)."""

from __future__ import annotations

import hashlib
import json
import resource
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from investigate.cases import evidence
from investigate.desk.bundles import write_bundle
from investigate.desk.merge import merge
from investigate.proof.verify import verify
from investigate.store.workspace import init_workspace

from conftest import snapshot


@pytest.fixture
def bundle(workspace, tobacco_case, tmp_path) -> Path:
    photo = tmp_path / "till.jpg"
    photo.write_bytes(b"\xff\xd8\xff a photo of the till")
    evidence.add_evidence(workspace, tobacco_case["visits"][0], [photo])
    out = tmp_path / "field.zip"
    write_bundle(workspace, [tobacco_case["case"]], out)
    return out


@pytest.fixture
def desk(tmp_path):
    ws = init_workspace(tmp_path / "desk", timezone_name="Europe/Berlin")
    yield ws
    ws.close()


def rewrite(src: Path, dst: Path, changes: dict, *, fix_manifest: bool = True) -> Path:
    """Copy a bundle with members replaced (bytes), removed (None) or added; the manifest's sums
    are updated so that the deeper checks are the ones tested."""
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    for name, data in changes.items():
        if name == "manifest.json":
            manifest = data
            continue
        if data is None:
            members.pop(name, None)
            manifest["members"].pop(name, None)
        else:
            members[name] = data
            if fix_manifest and isinstance(manifest, dict):
                manifest["members"][name] = hashlib.sha256(data).hexdigest()
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr("manifest.json", manifest if isinstance(manifest, (str, bytes)) else json.dumps(manifest))
    return dst


def rows(path: Path, table: str) -> list:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read(f"rows/{table}.json"))


def refused(run, desk, path, expected: str):
    before = snapshot(desk)
    from click.testing import CliRunner

    from investigate.cli import cli

    # Not the ``run`` fixture: that one is bound to the field reporter's workspace.
    result = CliRunner().invoke(cli, ["-w", str(desk.root), "merge", str(path)])
    assert result.exit_code != 0, result.output
    assert result.output.startswith("Error:") and len(result.output.strip().splitlines()) == 1, result.output
    assert expected in result.output, result.output
    assert "Traceback" not in result.output
    assert snapshot(desk) == before
    assert not list(desk.root.glob(".incoming-*"))
    assert not any(p.is_file() for p in (desk.root / "evidence").rglob("*"))


def test_an_evidence_hash_that_is_a_path_is_refused_and_never_shipped(bundle, desk, run, tmp_path):
    items = rows(bundle, "evidence")
    items[0]["sha256"] = "../../../../etc/passwd"
    crafted = rewrite(bundle, tmp_path / "crafted.zip", {"rows/evidence.json": json.dumps(items).encode()})
    refused(run, desk, crafted, "is not a SHA-256")
    with pytest.raises(Exception, match="not a SHA-256"):
        desk.evidence_path("../../../../etc/passwd")


def test_incoming_evidence_is_hashed_even_when_the_file_is_here_already(bundle, desk, run, tmp_path):
    merge(desk, bundle)  # the desk now holds the real photo
    sha = rows(bundle, "evidence")[0]["sha256"]
    lying = rewrite(bundle, tmp_path / "lying.zip", {f"evidence/{sha}": b"something else entirely"},
                    fix_manifest=False)
    with zipfile.ZipFile(lying) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["members"][f"evidence/{sha}"] == sha  # the manifest still claims the right hash
    other = init_workspace(tmp_path / "other", timezone_name="Europe/Berlin")
    refused(run, other, lying, "does not match its hash")


def test_a_zip_bomb_is_refused_in_under_a_second_and_100_mb(bundle, desk, tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in src.namelist():
            zf.writestr(name, src.read(name))
        with zf.open("rows/padding.json", "w", force_zip64=True) as fp:
            zero = bytes(1 << 20)
            for _ in range(2048):  # 2 GiB of zeros, about 2 MB compressed
                fp.write(zero)
    assert bomb.stat().st_size < 5_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(Exception, match="zip bomb"):
        merge(desk, bomb)
    assert time.perf_counter() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB


@pytest.mark.parametrize("change, expected", [
    ({"manifest.json": "not json"}, "manifest.json is not valid JSON"),
    ({"manifest.json": json.dumps([1, 2])}, "not a JSON object"),
    ({"manifest.json": json.dumps({"format": "investigate-bundle/1", "members": ["x"]})}, "members are not"),
    ({"audit.json": None}, "no audit.json"),
    ({"audit.json": b"{}"}, "audit.json is not a JSON list"),
    ({"audit.json": json.dumps([{"seq": "one"}]).encode()}, "is not an audit entry"),
    ({"rows/visits.json": b"[1, 2]"}, "is not a row with a text id"),
    ({"rows/visits.json": json.dumps([{"id": "x", "answers": {"nested": True}}]).encode()}, "holds no plain value"),
    ({"rows/stores.json": b"\xff\xfe not utf-8"}, "is not valid JSON"),
    ({"rows/extra.json": b"[]"}, None),
])
def test_every_malformed_shape_is_one_line_and_merges_nothing(bundle, desk, run, tmp_path, change, expected):
    crafted = rewrite(bundle, tmp_path / "crafted.zip", change)
    if expected is None:  # a member the manifest lists but no table reads is harmless
        merge(desk, crafted)
        return
    refused(run, desk, crafted, expected)


def test_members_laid_out_otherwise_merge_the_same(bundle, desk, workspace, tmp_path):
    # Read item by item, a member may be laid out as any JSON writer lays it out: indented, with a
    # byte-order mark, with its items' keys in another order. The same rows arrive.
    with zipfile.ZipFile(bundle) as zf:
        names = [n for n in zf.namelist() if n.startswith("rows/") or n == "audit.json"]
        relaid = {n: b"\xef\xbb\xbf" + json.dumps([dict(reversed(item.items())) for item in json.loads(zf.read(n))],
                                                    indent=2, ensure_ascii=True).encode() for n in names}
    merged = merge(desk, rewrite(bundle, tmp_path / "relaid.zip", relaid))
    assert merged["merged"]["visits"] == 4 and merged["conflicts"] == []
    for table in ("visits", "findings", "stores", "evidence"):
        assert (sorted(desk.db.query(f"select * from [{table}]"), key=lambda r: r["id"])
                == sorted(workspace.db.query(f"select * from [{table}]"), key=lambda r: r["id"]))
    assert verify(desk).ok


def test_a_row_that_breaks_a_foreign_key_is_one_line_and_merges_nothing(bundle, desk, run, tmp_path):
    # Dropping the stores makes every visit point nowhere: the chain check names the first row.
    crafted = rewrite(bundle, tmp_path / "crafted.zip", {"rows/stores.json": b"[]"})
    refused(run, desk, crafted, "Error:")


def test_a_truncated_bundle_is_refused(bundle, desk, run, tmp_path):
    cut = tmp_path / "cut.zip"
    cut.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
    refused(run, desk, cut, "Error:")


def test_leftovers_of_a_killed_merge_and_publish_are_reported_then_cleaned(workspace, tobacco_case, bundle, desk,
                                                                           run, tmp_path):
    # A merge killed after its commit: the row is in, the file still in staging.
    merge(desk, bundle)
    sha = rows(bundle, "evidence")[0]["sha256"]
    target = desk.evidence_path(sha)
    staged_dir = desk.root / ".incoming-999999-dead"
    staged_dir.mkdir()
    target.chmod(0o644)
    target.rename(staged_dir / sha)
    public = desk.root / "public"
    public.mkdir()
    (public / ".public.db.999999.tmp").write_bytes(b"half")
    (public / ".public.db.999999.tmp-journal").write_bytes(b"half")
    from click.testing import CliRunner

    from investigate.cli import cli

    result = CliRunner().invoke(cli, ["-w", str(desk.root), "verify", "--json"])
    assert result.exit_code == 3
    problems = json.loads(result.stdout)["problems"]
    assert {p["kind"] for p in problems} >= {"leftover", "evidence"}
    assert ".incoming-999999-dead" in {p["where"] for p in problems}
    merge(desk, bundle)  # the next merge finishes the move and removes the folder
    assert target.exists() and not staged_dir.exists()
    from investigate.publish.public import clean_leftovers

    assert sorted(clean_leftovers(public)) == [".public.db.999999.tmp", ".public.db.999999.tmp-journal"]
    assert CliRunner().invoke(cli, ["-w", str(desk.root), "verify"]).exit_code == 0


@pytest.mark.parametrize("command", [["merge", "/nonexistent/field.zip"], ["verify", "--against", "/nonexistent/cp"],
                                     ["reply", "record", "x", "--answer-file", "/nonexistent/a.txt"],
                                     ["versions", "tobacco-nk", "--check", "/nonexistent/r.pdf"],
                                     ["evidence", "add", "x", "/nonexistent/p.jpg"]])
def test_a_missing_file_is_a_one_line_error(run, tobacco_case, command):
    result = run(*command)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output


GROWTH = """
import sys
from pathlib import Path
from investigate.desk.merge import merge
from investigate.store.workspace import Workspace

def high_water_mb():  # VmHWM starts afresh with the process: ru_maxrss would carry pytest's
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

ws = Workspace(Path(sys.argv[1]))
before = high_water_mb()
result = merge(ws, Path(sys.argv[2]))
print(high_water_mb() - before, result["merged"]["visits"])
"""


def test_a_merge_reads_a_bundle_a_row_at_a_time_not_whole(workspace, tobacco_case, desk, tmp_path):
    # 8,000 visits with 25 kB of notes each: 200 MB of rows in the bundle, a few MB zipped.
    # Held whole (the member's bytes, then its rows as dicts) they took three times that.
    template = {k: v for k, v in tobacco_case["visits"][0].items() if k != "id"}
    workspace.insert_many("visits", ({**template, "notes": f"visit {i}: " + "n" * 25_000} for i in range(8_000)))
    out = tmp_path / "big.zip"
    write_bundle(workspace, [tobacco_case["case"]], out)
    with zipfile.ZipFile(out) as zf:
        rows_mb = zf.getinfo("rows/visits.json").file_size / 2 ** 20
    assert rows_mb > 190
    child = subprocess.run([sys.executable, "-c", GROWTH, str(desk.root), str(out)], capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    growth, merged = child.stdout.split()
    assert int(merged) == 8_004
    # What is held: SQLite's page caches (the workspace's, 64 MB for a bulk insert, and the
    # spool's) and a row at a time: 108 MB here. Held whole, the rows of a bundle of 20,000
    # visits with 10 kB of notes (205 MB, as these) took 643 MB, read so 108.
    assert float(growth) < rows_mb * 0.75
