"""Bundles and merges: reporters' workspaces join without losing or overwriting anything."""

from __future__ import annotations

import itertools
import json
import zipfile
from datetime import timedelta

import pytest

from click.testing import CliRunner

from investigate.cases import cases, evidence, stores, testers, visits
from investigate.cli import cli
from investigate.desk.bundles import TABLES, write_bundle
from investigate.desk.merge import merge
from investigate.proof.verify import verify
from investigate.store.workspace import Workspace, init_workspace

from conftest import snapshot

SOLD = {"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True}
NOT_SOLD = {"product": "cigarettes", "sale": False, "id_check": "scanned", "id_carried": True}


def domain_rows(ws: Workspace) -> dict:
    """Every domain table's rows by id; audit logs differ by merge order, domain rows must not."""
    return {t: sorted(ws.db.query(f"select * from [{t}]"), key=lambda r: r["id"]) for t in TABLES}


@pytest.fixture
def team(tmp_path):
    """A coordinator's case, shared by bundle with three reporters who each record visits."""
    coord = init_workspace(tmp_path / "coordinator", timezone_name="Europe/Berlin")
    case = cases.create_case(coord, slug="team", title="Team case", protocol="tobacco-minors", legal_basis="JuSchG § 10")
    shops = [stores.add_store(coord, name=f"Shop {i}", district="Mitte", lat=52.5 + i / 1000, lon=13.4) for i in range(6)]
    stores.add_to_frame(coord, case, shops)
    for code in ("T-1", "T-2", "T-3"):
        testers.add_tester(coord, code=code, birth_month="2010-03", consent=True)
    start = tmp_path / "start.zip"
    write_bundle(coord, [case], start)
    reporters = []
    for n in range(3):
        ws = init_workspace(tmp_path / f"reporter{n}", timezone_name="Europe/Berlin")
        merge(ws, start)
        tester = testers.get_tester(ws, f"T-{n + 1}")
        mine = cases.get_case(ws, "team")
        for k in range(2):
            shop = stores.get_store(ws, shops[n * 2 + k]["id"])
            v = visits.record_visit(ws, case=mine, store=shop, tester=tester, answers=SOLD if k == 0 else NOT_SOLD,
                                    visited_at=ws.now() - timedelta(days=5, hours=n * 3 + k))
            if k == 0:
                photo = tmp_path / f"r{n}.jpg"
                photo.write_bytes(f"receipt {n}".encode())
                evidence.add_evidence(ws, v["visit"], [photo])
        reporters.append(ws)
    yield {"coordinator": coord, "reporters": reporters, "start": start, "tmp": tmp_path}
    for ws in [coord, *reporters]:
        ws.close()


def test_three_reporters_merged_in_every_order_give_the_same_database(team):
    results = []
    for i, order in enumerate(itertools.permutations(range(3))):
        target = init_workspace(team["tmp"] / f"target{i}", timezone_name="Europe/Berlin")
        for n in order:
            merge(target, team["reporters"][n].root)
            assert verify(target).ok, verify(target).problems[:2]
        results.append(domain_rows(target))
        target.close()
    assert all(r == results[0] for r in results[1:])
    assert len(results[0]["visits"]) == 6 and len(results[0]["evidence"]) == 3


def test_merging_a_bundle_copies_evidence_by_hash_and_keeps_the_other_chain_verifiable(team, tmp_path):
    reporter = team["reporters"][0]
    out = tmp_path / "r0.zip"
    write_bundle(reporter, [cases.get_case(reporter, "team")], out)
    coord = team["coordinator"]
    result = merge(coord, out)
    assert result["merged"]["visits"] == 2 and result["merged"]["evidence"] == 1
    sha = coord.db.execute("select sha256 from evidence").fetchone()[0]
    assert coord.evidence_path(sha).read_bytes() == b"receipt 0"
    assert coord.db.execute("select count(*) from foreign_audit").fetchone()[0] > 0
    assert verify(coord).ok
    # Tampering with the kept foreign chain is found by verify.
    coord.db.execute("update foreign_audit set actor = 'someone else' where seq = 1")
    report = verify(coord)
    assert not report.ok and "foreign_audit" in report.problems[0].where


def test_merging_twice_changes_nothing(team, tmp_path):
    coord = team["coordinator"]
    merge(coord, team["reporters"][1].root)
    before = snapshot(coord)
    again = merge(coord, team["reporters"][1].root)
    assert sum(again["merged"].values()) == 0 and again["conflicts"] == []
    assert snapshot(coord) == before


def test_a_merges_bar_moves_while_the_bundle_is_read_and_ends_at_its_total(team, tmp_path):
    reporter, coord = team["reporters"][0], team["coordinator"]
    bundle = tmp_path / "r0.zip"
    write_bundle(reporter, [cases.get_case(reporter, "team")], bundle)
    with zipfile.ZipFile(bundle) as zf:
        rows = sum(json.loads(zf.read("manifest.json"))["counts"].values())
    for source, announced in ((bundle, 2 * rows), (reporter.root, None)):
        events = []
        merged = merge(coord, source, progress=lambda n: events.append(("step", n)),
                       total=lambda n: events.append(("total", n)))
        totals = [n for kind, n in events if kind == "total"]
        steps = sum(n for kind, n in events if kind == "step")
        # One total, said before any step; every row read (a bundle's), then every row merged.
        assert len(totals) == 1 and events[0][0] == "total" and steps == totals[0], events
        assert announced is None or totals[0] == announced
    assert merged["merged"]["visits"] == 0  # the folder after its bundle: nothing new, the bar still ends


def test_the_same_id_with_different_content_is_a_conflict_and_is_not_overwritten(team, run):
    coord = team["coordinator"]
    shop_id = coord.db.execute("select id from stores order by id limit 1").fetchone()[0]
    coord.update("stores", shop_id, {"address": "Coordinator's address"}, reason="checked on site")
    reporter = team["reporters"][2]
    reporter.update("stores", shop_id, {"address": "Reporter's address"}, reason="checked on site")
    result = merge(coord, reporter.root)
    assert {"table_name": "stores", "row_id": shop_id} in result["conflicts"]
    assert stores.get_store(coord, shop_id)["address"] == "Coordinator's address"
    assert coord.db.execute("select count(*) from merge_conflicts").fetchone()[0] == 1
    assert verify(coord).ok


def test_merge_cli_reports_json(team, tmp_path):
    from click.testing import CliRunner

    from investigate.cli import cli

    out = tmp_path / "b.zip"
    runner = CliRunner()
    made = runner.invoke(cli, ["-w", str(team["reporters"][0].root), "bundle", "team", "--out", str(out), "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["counts"]["visits"] == 2
    result = runner.invoke(cli, ["-w", str(team["coordinator"].root), "merge", str(out), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["merged"]["visits"] == 2


def rewrite(src, dst, *, change=None, add=None, manifest_change=None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        manifest = json.loads(zin.read("manifest.json"))
        if manifest_change:
            manifest_change(manifest)
        for name in zin.namelist():
            if name == "manifest.json":
                continue
            data = zin.read(name)
            if change and name in change:
                data = change[name](data)
            zout.writestr(name, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
        zout.writestr("manifest.json", json.dumps(manifest))


@pytest.fixture
def good_bundle(team, tmp_path):
    out = tmp_path / "good.zip"
    write_bundle(team["reporters"][0], [cases.get_case(team["reporters"][0], "team")], out)
    return out


BAD = {
    "corrupt": lambda good, bad: bad.write_bytes(b"PK\x03\x04 this is not a zip"),
    "truncated": lambda good, bad: bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2]),
    "sums_differ": lambda good, bad: rewrite(good, bad, change={"rows/visits.json": lambda d: d.replace(b"violation", b"compliant")}),
    "newer_schema": lambda good, bad: rewrite(good, bad, manifest_change=lambda m: m["migrations"].append("i99_future")),
    "climbs_out": lambda good, bad: rewrite(good, bad, add={"../evil.txt": b"x"}),
    "unlisted_member": lambda good, bad: rewrite(good, bad, add={"extra.txt": b"x"}),
}
EXPECTED = {"corrupt": "not a readable zip", "truncated": "not a readable zip", "sums_differ": "does not match its SHA-256",
            "newer_schema": "newer schema", "climbs_out": "outside the workspace", "unlisted_member": "not in the manifest"}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_bundles_are_refused_and_nothing_is_merged(team, good_bundle, tmp_path, kind):
    from click.testing import CliRunner

    from investigate.cli import cli

    bad = tmp_path / f"{kind}.zip"
    BAD[kind](good_bundle, bad)
    coord = team["coordinator"]
    before = snapshot(coord)
    evidence_before = sorted(p.name for p in coord.evidence_dir.rglob("*"))
    result = CliRunner().invoke(cli, ["-w", str(coord.root), "merge", str(bad)])
    assert result.exit_code != 0 and EXPECTED[kind] in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(coord) == before
    assert sorted(p.name for p in coord.evidence_dir.rglob("*")) == evidence_before


def test_a_merged_visit_keeps_the_protocol_version_that_judged_it(team):
    from investigate.protocol.versions import protocol_of_visit

    coord, reporter = team["coordinator"], team["reporters"][0]
    merge(coord, reporter.root)
    visit = coord.db.execute("select * from visits where protocol_hash is not null limit 1").fetchone()
    assert visit is not None
    v = coord.get("visits", visit[0])
    kept = coord.get("protocol_versions", v["protocol_hash"])
    assert kept["key"] == "tobacco-minors" and kept["version"] == v["protocol_version"]
    assert protocol_of_visit(coord, v).content_hash == v["protocol_hash"]


def test_the_same_protocol_version_kept_by_two_reporters_merges_without_a_conflict(team):
    coord = team["coordinator"]
    for reporter in team["reporters"][:2]:
        result = merge(coord, reporter.root)
        assert result["conflicts"] == []
    assert coord.db["protocol_versions"].count == 1


def _files(root) -> dict:
    """Every file of a workspace folder with its bytes: what a read must leave as it was."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def test_a_workspace_merged_from_is_only_read_no_migration_no_key_no_write(team):
    # An older workspace: it has no signing key yet, and no [log] section in its configuration.
    # Opened as it used to be, the merge would have made both, in someone else's folder.
    source = team["reporters"][0]
    root = source.root
    source.close()
    (root / "keys" / "log.key").unlink()
    config = root / "investigate.toml"
    config.write_text(config.read_text(encoding="utf-8").split("\n[log]")[0] + "\n", encoding="utf-8")
    before = _files(root)
    result = merge(team["coordinator"], root)
    assert result["merged"]["visits"] == 2
    assert _files(root) == before
    assert not (root / "keys" / "log.key").exists()


def test_a_workspace_altered_to_hold_what_no_bundle_can_is_one_line_and_merges_nothing(team, run):
    # A visit's notes made a blob with the sqlite3 shell: read into the spool, it is no JSON.
    source, coord = team["reporters"][0], team["coordinator"]
    source.db.execute("update visits set notes = x'00ff' where rowid = (select min(rowid) from visits)")
    source.db.conn.commit()
    before = snapshot(coord)
    result = CliRunner().invoke(cli, ["-w", str(coord.root), "merge", str(source.root)])
    assert result.exit_code != 0 and result.output.startswith("Error:"), result.output
    assert len(result.output.strip().splitlines()) == 1 and "malformed" in result.output, result.output
    assert snapshot(coord) == before and not list(coord.root.glob(".incoming-*"))


def test_a_workspace_opened_read_only_refuses_a_write_and_runs_no_migration(team):
    root = team["reporters"][1].root
    team["reporters"][1].close()
    before = _files(root)
    with Workspace(root, read_only=True) as ws:
        assert ws.read_only
        with pytest.raises(Exception, match="readonly"):
            cases.create_case(ws, slug="nope", title="Nope", protocol="tobacco-minors", legal_basis="-")
    assert _files(root) == before


# -- conflicting amendments (issue 24) --------------------------------------------------------

def amended_apart(team):
    """The coordinator and reporter 0 amend the same not-sold visit differently: the
    coordinator corrects the ID check (still compliant), the reporter the sale (a violation,
    with a new finding). Returns (coordinator, reporter, visit id)."""
    coord, reporter = team["coordinator"], team["reporters"][0]
    merge(coord, reporter.root)
    visit_id = reporter.db.execute("select id from visits where outcome = 'compliant' limit 1").fetchone()[0]
    visits.amend_visit(coord, coord.get("visits", visit_id), reason="ID was glanced at", answers={"id_check": "glance"})
    visits.amend_visit(reporter, reporter.get("visits", visit_id), reason="it was sold", answers={"sale": True})
    return coord, reporter, visit_id


def test_a_conflicting_amendment_attaches_nothing_of_the_other_version_to_ours(team):
    coord, reporter, visit_id = amended_apart(team)
    result = merge(coord, reporter.root)
    assert {"table_name": "visits", "row_id": visit_id} in result["conflicts"]
    theirs = reporter.db.execute("select count(*) from findings where visit_id = ?", [visit_id]).fetchone()[0]
    assert theirs >= 1 and result["held_back"] == {"findings": theirs}
    ours = coord.get("visits", visit_id)
    assert ours["outcome"] == "compliant" and json.loads(ours["answers"])["id_check"] == "glance"
    assert coord.db.execute("select count(*) from findings where visit_id = ?", [visit_id]).fetchone()[0] == 0
    assert verify(coord).ok


def test_the_checklist_lists_the_conflict_until_an_editor_keeps_theirs(team, tmp_path):
    from click.testing import CliRunner

    from investigate.cli import cli
    from investigate.policy import gate

    coord, reporter, visit_id = amended_apart(team)
    merge(coord, reporter.root)
    case = cases.get_case(coord, "team")
    item = next(i for i in gate.checklist(coord, case) if i["key"] == "merge_conflicts")
    assert not item["ok"] and "1 record(s)" in item["detail"] and "merge resolve" in item["detail"]
    invoke = lambda *a: CliRunner().invoke(cli, ["-w", str(coord.root), *a], catch_exceptions=False)  # noqa: E731
    listed = json.loads(invoke("merge", "conflicts", "--json").output)
    held = reporter.db.execute("select count(*) from findings where visit_id = ?", [visit_id]).fetchone()[0]
    assert [(c["table_name"], c["row_id"], c["held"]) for c in listed] == [("visits", visit_id, held)]
    done = invoke("merge", "resolve", visit_id[-12:], "--keep", "theirs")
    assert done.exit_code == 0, done.output
    theirs = coord.get("visits", visit_id)
    assert theirs["outcome"] == "violation" and json.loads(theirs["answers"])["sale"] is True
    codes = "select code from findings where visit_id = ? order by code"
    assert coord.db.execute(codes, [visit_id]).fetchall() == reporter.db.execute(codes, [visit_id]).fetchall()
    assert next(i for i in gate.checklist(coord, case) if i["key"] == "merge_conflicts")["ok"]
    assert invoke("merge", "conflicts", "--json").output.strip() == "[]"
    assert verify(coord).ok
    # Merging the same reporter again opens nothing new.
    merge(coord, reporter.root)
    assert next(i for i in gate.checklist(coord, case) if i["key"] == "merge_conflicts")["ok"]


def test_keeping_ours_sets_their_version_aside_and_closes_the_conflict(team):
    from investigate.desk.conflicts import open_conflicts, resolve_conflict

    coord, reporter, visit_id = amended_apart(team)
    merge(coord, reporter.root)
    before = coord.get("visits", visit_id)
    done = resolve_conflict(coord, visit_id[:13], keep="ours")
    held = reporter.db.execute("select count(*) from findings where visit_id = ?", [visit_id]).fetchone()[0]
    assert done["kept"] == "ours" and done["held"] == held
    assert coord.get("visits", visit_id) == before
    assert coord.db.execute("select count(*) from findings where visit_id = ?", [visit_id]).fetchone()[0] == 0
    assert open_conflicts(coord) == []
    assert coord.db.execute("select count(*) from merge_conflicts where resolution = 'ours'").fetchone()[0] == 1 + held
