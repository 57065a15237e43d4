"""Near-duplicate photos: a photo resized or recompressed for another visit is "possibly
reused", naming that visit, wherever evidence is flagged; fingerprints export nothing else."""

from __future__ import annotations

import asyncio
import csv
import json

from photos import resaved, save, shot, street

from investigate.cases import cases, evidence, stores, visits
from investigate.cases.fingerprints import write_fingerprints
from investigate.cases.review import review_queue
from investigate.store.workspace import init_workspace
from investigate.ids import short
from investigate.publish.server import editors_datasette


def _photos(tmp_path, seed=1):
    """An original shop-front photo and the same one recompressed at 60 % and halved."""
    original = shot(street(seed))
    return (save(original, tmp_path / f"IMG_{seed}.jpg"),
            save(resaved(original, quality=60, scale=0.5), tmp_path / f"IMG_{seed}_small.jpg", quality=60))


def _add(run, visit, path):
    result = run("evidence", "add", visit["id"], path)
    assert result.exit_code == 0, result.output
    return result


def test_a_photo_recompressed_and_halved_for_another_visit_is_flagged_naming_that_visit(
        workspace, tobacco_case, run, tmp_path):
    first, second = tobacco_case["visits"][:2]
    original, small = _photos(tmp_path)
    assert "possibly reused" not in _add(run, first, original).stderr
    added = _add(run, second, small)
    flag = f"possibly reused: looks like the photo of visit {short(first['id'])}"
    assert flag in added.stderr
    # review queue and the editors' visit page ask the same facts
    queued = {r["id"]: r["flags"] for r in review_queue(workspace, states=("received",))}
    assert any(flag in f for f in queued[second["id"]])
    assert any(f"visit {short(second['id'])}" in f and "possibly reused" in f for f in queued[first["id"]])
    ds = editors_datasette(workspace)

    async def page():
        await ds.invoke_startup()
        return await ds.client.get(f"/investigate/visits/{second['id']}")

    assert flag in asyncio.run(page()).text


def test_a_different_photo_of_the_same_shop_front_is_not_flagged(workspace, tobacco_case, run, tmp_path):
    first, second = tobacco_case["visits"][:2]
    scene = street(7)
    one = save(shot(scene), tmp_path / "front_1.jpg")
    other = save(shot(scene, dx=160, dy=40, zoom=1.1, light=0.85), tmp_path / "front_2.jpg")
    _add(run, first, one)
    assert "possibly reused" not in _add(run, second, other).stderr


def test_a_near_photo_on_the_same_visit_is_not_reuse(workspace, tobacco_case, run, tmp_path):
    visit = tobacco_case["visits"][0]
    original, small = _photos(tmp_path, seed=3)
    _add(run, visit, original)
    assert "possibly reused" not in _add(run, visit, small).stderr


def test_fingerprints_export_holds_only_hashes_and_capture_days(workspace, tobacco_case, run, tmp_path):
    first, second, third = tobacco_case["visits"][:3]
    original, small = _photos(tmp_path)
    _add(run, first, original)
    _add(run, second, small)
    _add(run, third, _photos(tmp_path, seed=2)[0])
    out = tmp_path / "fingerprints.csv"
    result = run("evidence", "fingerprints", "--out", out, "--json")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["algorithm", "phash", "captured_on"]
    stored = {r["phash"] for r in workspace.db.query("select phash from evidence")}
    # each (fingerprint, day) once: the halved copy of a photo with no EXIF day adds no row
    assert json.loads(result.output)["fingerprints"] == len(rows) == len(stored) >= 2
    assert {r["phash"] for r in rows} == stored and all(len(h) == 16 for h in stored)
    text = out.read_text(encoding="utf-8")
    for private in ("T-07", "Olsen", "IMG_1", "Späti", first["id"], *(r["sha256"] for r in
                                                                     workspace.db.query("select sha256 from evidence"))):
        assert private not in text


def test_fingerprints_of_a_case_leave_out_other_cases(workspace, tobacco_case, run, tmp_path):
    original, _ = _photos(tmp_path)
    _add(run, tobacco_case["visits"][0], original)
    assert run("case", "new", "other", "--title", "Other", "--protocol", "tobacco-minors").exit_code == 0
    out = tmp_path / "other.csv"
    assert json.loads(run("evidence", "fingerprints", "--case", "other", "--out", out, "--json").output) == {
        "file": str(out), "fingerprints": 0}


def test_another_newsrooms_fingerprints_find_our_photo_they_were_sent_resized(
        workspace, tobacco_case, run, tmp_path, tmp_path_factory):
    """Newsroom B publishes fingerprints; newsroom A finds the photo of its own visit in them."""
    original, small = _photos(tmp_path)
    visit = tobacco_case["visits"][0]
    _add(run, visit, original)
    other = init_workspace(tmp_path_factory.mktemp("b") / "ws", timezone_name="Europe/Copenhagen")
    try:
        case = cases.create_case(other, slug="b", title="B", protocol="phone-hotline")
        shop = stores.add_store(other, name="Hotline", channel="phone")
        recorded = visits.record_visit(other, case=case, store=shop, tester=None, visited_at=other.now(),
                                       answers={}, attempt="closed")["visit"]
        evidence.add_evidence(other, recorded, [small, _photos(tmp_path, seed=5)[0]])
        theirs = tmp_path / "b-fingerprints.csv"
        write_fingerprints(other, theirs)
    finally:
        other.close()
    found = json.loads(run("evidence", "compare", theirs, "--json").output)
    assert [(m["visit_id"], m["distance"] <= 2) for m in found] == [(visit["id"], True)]
    assert short(visit["id"]) in run("evidence", "compare", theirs).output  # the table, as a reporter reads it


def test_a_file_that_is_not_fingerprints_is_refused_naming_the_line(workspace, run, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("algorithm,phash,captured_on\nimagehash.phash/64,ffffffffffffffff,\nimagehash.phash/64,xyz,\n",
                   encoding="utf-8")
    result = run("evidence", "compare", bad)
    assert result.exit_code != 0
    assert result.stderr.strip() == f"Error: {bad}:3: column 'phash': 'xyz' is not a fingerprint (16 hex digits)"
