"""Issue 31 (5): every reader of a bundle has a budget, and merge checks the bundle's signed
checkpoint against its origin's key (trust on first use, recorded) and its chain against it.
Each refusal is one line, exit != 0, the database byte-identical, in under a second and 100 MB."""

from __future__ import annotations

import base64
import json
import os
import zipfile

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from click.testing import CliRunner

from investigate.cli import cli
from investigate.desk.merge import merge
from investigate.keys import key_id, verifier_key
from investigate.proof.log import parse_checkpoint

from conftest import snapshot
from test_bundles import bundle, desk, refused, rewrite  # noqa: F401 (fixtures)
from test_hostile_files import within_budget


def manifest_of(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json"))


def with_manifest(src, dst, **changes):
    manifest = manifest_of(src)
    manifest.update(changes)
    return rewrite(src, dst, {"manifest.json": manifest})


def test_a_bundle_without_a_checkpoint_is_refused(bundle, desk, run, tmp_path):
    crafted = with_manifest(bundle, tmp_path / "c.zip", checkpoint=None)
    refused(run, desk, crafted, "carries no signed checkpoint")


def test_a_bundle_whose_checkpoint_is_garbage_is_refused(bundle, desk, run, tmp_path):
    crafted = with_manifest(bundle, tmp_path / "c.zip", checkpoint="garbage\n\n— x y\n")
    refused(run, desk, crafted, "its checkpoint does not hold")


def test_a_bundle_whose_chain_is_not_the_signed_one_is_refused(bundle, desk, run, tmp_path):
    with zipfile.ZipFile(bundle) as zf:
        chain = json.loads(zf.read("audit.json"))
    crafted = rewrite(bundle, tmp_path / "c.zip", {"audit.json": json.dumps(chain[:-1]).encode()})
    refused(run, desk, crafted, "its audit chain is not the one its checkpoint signed")


def resigned(src, dst):
    """The same bundle signed by another key under the same name: what a forger holds."""
    manifest = manifest_of(src)
    parsed = parse_checkpoint(manifest["checkpoint"])
    name = parsed["origin"]
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    signature = private.sign(parsed["body"].encode())
    note = parsed["body"] + "\n" + f"— {name} {base64.b64encode(key_id(name, public) + signature).decode()}\n"
    manifest.update(checkpoint=note, public_key=verifier_key(name, public))
    return rewrite(src, dst, {"manifest.json": manifest})


def test_the_first_key_of_an_origin_is_trusted_and_recorded_and_another_is_refused(bundle, desk, run, tmp_path):
    forged = resigned(bundle, tmp_path / "forged.zip")
    merge(desk, bundle)
    recorded = desk.db.execute("select value from workspace_meta where key like 'origin_key:%'").fetchall()
    assert [r[0] for r in recorded] == [manifest_of(bundle)["public_key"]]
    before = snapshot(desk)
    result = CliRunner().invoke(cli, ["-w", str(desk.root), "merge", str(forged)])
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1, result.output
    assert "signed with another key than the bundles merged before" in result.output
    assert snapshot(desk) == before


def test_a_forged_first_bundle_is_trusted_only_by_its_own_key(bundle, desk, tmp_path):
    # Trust on first use: a desk that never saw the origin takes the first key it is shown.
    forged = resigned(bundle, tmp_path / "forged.zip")
    merge(desk, forged)
    assert desk.db.execute("select value from workspace_meta where key like 'origin_key:%'").fetchone()[0] == \
        manifest_of(forged)["public_key"]


def test_three_thousand_junk_members_are_refused_from_the_directory(bundle, desk, run, tmp_path):
    junk = tmp_path / "junk.zip"
    manifest = manifest_of(bundle)
    megabyte = bytes(1 << 20)
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(junk, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in src.namelist():
            if name != "manifest.json":
                zf.writestr(name, src.read(name))
        for i in range(3000):
            zf.writestr(f"junk/{i}", megabyte)
            manifest["members"][f"junk/{i}"] = "0" * 64
        zf.writestr("manifest.json", json.dumps(manifest))
    with within_budget():
        refused(run, desk, junk, "members that no table reads")


def test_a_manifest_larger_than_its_members_need_is_refused_unread(bundle, desk, run, tmp_path):
    manifest = manifest_of(bundle)
    manifest["padding"] = os.urandom(4 << 20).hex()  # 8 MB that do not compress: no zip bomb
    crafted = rewrite(bundle, tmp_path / "big.zip", {"manifest.json": manifest})
    with within_budget():
        refused(run, desk, crafted, "more than a manifest of")


def test_rows_far_larger_than_the_rows_counted_are_refused_unread(bundle, desk, run, tmp_path):
    counts = manifest_of(bundle)["counts"]
    padding = json.dumps([{"id": f"x{i}", "pad": os.urandom(500).hex()} for i in range(6000)]).encode()  # ~6 MB
    crafted = rewrite(bundle, tmp_path / "rows.zip", {"rows/reviews.json": padding})
    assert counts["reviews"] == 0
    with within_budget():
        refused(run, desk, crafted, "rows/reviews.json is")
