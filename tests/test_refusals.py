"""Issue 31 (6): a refusal writes nothing. A refused or failed publish or bundle leaves no
checkpoint row, no checkpoint file, no folder and no temporary file behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from investigate.cases.review import review_visit
from investigate.desk import bundles
from investigate.publish import public

from conftest import snapshot


def state(ws) -> tuple[list[str], list[str], list[str]]:
    """The database's rows, the checkpoint copies beside it, and every file of the workspace.
    ``log_nodes`` and ``log_leaves`` are left out: the Merkle tree, derived from the log and
    stored as soon as anything reads its root, like an index."""
    folder = ws.root / "checkpoints"
    copies = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    files = sorted(str(p.relative_to(ws.root)) for p in ws.root.rglob("*")
                   if not p.name.startswith("investigate.db"))
    rows = [line for line in snapshot(ws) if not line.startswith(('INSERT INTO "log_nodes"', 'INSERT INTO "log_leaves"'))]
    return rows, copies, files


def test_a_publish_refused_by_the_checklist_leaves_no_folder_and_no_checkpoint(workspace, tobacco_case, run):
    before = state(workspace)
    result = run("publish", "--case", "tobacco-nk")
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1
    assert not (workspace.root / "public").exists()
    assert state(workspace) == before


def test_a_publish_that_fails_midway_leaves_no_folder_tmp_file_or_checkpoint(workspace, tobacco_case, tmp_path,
                                                                             monkeypatch):
    for v in tobacco_case["visits"]:
        review_visit(workspace, v, "approve")
    before = state(workspace)

    def broken(*args, **kwargs):  # the disk fills up while the cases are copied
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(public, "_build_case", broken)
    with pytest.raises(OSError):
        public.build_public(workspace, tmp_path / "out", slugs=["tobacco-nk"], override="test")
    assert not (tmp_path / "out").exists()
    assert state(workspace) == before


def test_a_bundle_into_a_missing_folder_is_one_line_and_records_no_checkpoint(workspace, tobacco_case, run,
                                                                              tmp_path):
    before = state(workspace)
    result = run("bundle", "tobacco-nk", "--out", tmp_path / "missing" / "b.zip")
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1 and "no such folder" in result.output
    assert "Traceback" not in result.output
    assert state(workspace) == before and not (tmp_path / "missing").exists()


def test_a_bundle_that_fails_midway_leaves_no_tmp_file_and_no_checkpoint(workspace, tobacco_case, tmp_path,
                                                                         monkeypatch):
    before = state(workspace)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bundles, "_write_json_array", broken)
    with pytest.raises(OSError):
        bundles.write_bundle(workspace, [tobacco_case["case"]], tmp_path / "b.zip")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws"]  # no b.zip, no .b.zip.PID.tmp
    assert state(workspace) == before


def test_a_bundle_that_succeeds_records_the_checkpoint_it_carries(workspace, tobacco_case, tmp_path):
    manifest = bundles.write_bundle(workspace, [tobacco_case["case"]], tmp_path / "b.zip")
    notes = [r[0] for r in workspace.db.execute("select note from log_checkpoints")]
    assert notes == [manifest["checkpoint"]]
    assert len(list((workspace.root / "checkpoints").iterdir())) == 1


def test_verify_on_a_workspace_whose_database_was_deleted_creates_none(workspace, tobacco_case, tmp_path):
    from click.testing import CliRunner

    from investigate.cli import cli

    root = workspace.root
    workspace.close()
    for path in root.glob("investigate.db*"):
        path.unlink()
    result = CliRunner().invoke(cli, ["-w", str(root), "verify"])
    assert result.exit_code == 3 and "database is missing" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not list(root.glob("investigate.db*"))


def wipe(workspace, *, drop: bool) -> None:
    """What someone covering their tracks does: every table dropped (the next open makes them
    again, empty) or emptied, and the checkpoints' copies beside the database deleted."""
    import shutil

    workspace.db.execute("pragma foreign_keys = off")
    for (table,) in workspace.db.execute("select name from sqlite_master where type = 'table' and name not like "
                                         "'sqlite_%' and name not in ('workspace_meta', '_sqlite_migrations')"
                                         ).fetchall() + ([("workspace_meta",), ("_sqlite_migrations",)] if drop else []):
        workspace.db.execute(f"{'drop table' if drop else 'delete from'} [{table}]")
    root = workspace.root
    workspace.close()
    shutil.rmtree(root / "checkpoints", ignore_errors=True)


def test_a_wipe_by_dropping_every_table_is_caught_by_the_key_it_left_behind(workspace, tobacco_case, run):
    from investigate.store.workspace import Workspace

    assert run("checkpoint").exit_code == 0
    assert run("verify").exit_code == 0  # no evidence, no sources: the key is what remains
    wipe(workspace, drop=True)
    Workspace(workspace.root).close()  # the migrations make empty tables again: a log of 0 entries
    result = run("verify")
    assert result.exit_code == 3, result.output
    assert "the signing key was made for investigate.log/" in result.output
    assert "the database was wiped or replaced" in result.output


def test_a_wipe_that_emptied_every_table_is_caught_by_the_sources_key(workspace, run):
    from investigate.cases import tips

    tips.add_tip(workspace, channel="phone", company="Kiosk am Eck", what_happened="Sold to my son",
                 contact="src@example.org", issue="sale to minors", consent_publish=False)
    assert run("verify").exit_code == 0
    wipe(workspace, drop=False)
    result = run("verify")
    assert result.exit_code == 3, result.output
    assert "keys/sources.key: a sources key, made when a source was first recorded, beside a log of no entries" \
        in result.output


def test_a_fresh_workspace_with_its_keys_verifies(tmp_path):
    from click.testing import CliRunner

    from investigate.cli import cli

    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path / "new")]).exit_code == 0
    result = runner.invoke(cli, ["-w", str(tmp_path / "new"), "verify"])
    assert result.exit_code == 0 and "OK: 0 audit entries" in result.output, result.output
    assert (tmp_path / "new" / "keys" / "log.key").exists()


def test_a_wipe_that_took_the_checkpoints_along_is_not_ok_while_evidence_remains(workspace, tobacco_case, run,
                                                                                 tmp_path):
    import shutil

    from investigate.cases import evidence
    from investigate.store.workspace import Workspace

    photo = tmp_path / "till.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not much of a photo")
    evidence.add_evidence(workspace, tobacco_case["visits"][0], [photo])
    run("checkpoint")
    root = workspace.root
    workspace.db.execute("pragma foreign_keys = off")
    for (table,) in workspace.db.execute("select name from sqlite_master where type = 'table' "
                                         "and name not like 'sqlite_%'").fetchall():
        workspace.db.execute(f"drop table [{table}]")
    workspace.close()
    shutil.rmtree(root / "checkpoints")
    Workspace(root).close()  # the migrations make empty tables again: a log of 0 entries
    result = run("verify")
    assert result.exit_code == 3 and "evidence file that no record holds" in result.output


def test_a_bundle_killed_midway_leaves_a_tmp_file_verify_names_and_the_next_command_removes(
        workspace, tobacco_case, tmp_path, run):
    import os
    import signal
    import subprocess
    import sys
    import time

    from investigate.cases import evidence

    photo = tmp_path / "till.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a photo of the till")
    evidence.add_evidence(workspace, tobacco_case["visits"][0], [photo])
    stored = workspace.evidence_path(workspace.db.execute("select sha256 from evidence").fetchone()[0])
    # The bundle is held in the middle of writing, as by a slow USB stick: its evidence file is a
    # FIFO nobody writes to, so it blocks with its temporary zip half-written until it is killed.
    stored.unlink()
    os.mkfifo(stored)
    out = tmp_path / "stick" / "b.zip"
    out.parent.mkdir()
    command = str(Path(sys.executable).parent / "investigate")
    child = subprocess.Popen([command, "-w", str(workspace.root), "bundle", "tobacco-nk", "--out", str(out)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmp = out.parent / f".b.zip.{child.pid}.tmp"
    deadline = time.monotonic() + 60
    while not tmp.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    stored.unlink()
    stored.write_bytes(photo.read_bytes())  # the evidence as it was
    assert tmp.exists() and not out.exists()

    reported = run("verify")
    assert reported.exit_code == 3, reported.output
    assert f"{tmp}: temporary file of an interrupted bundle (the next command removes it)" in reported.output
    assert tmp.exists()  # verify names it; it removes nothing
    listed = run("case", "list")
    assert listed.exit_code == 0, listed.output
    assert f"Removed {tmp}: left by a run that was killed." in listed.output
    assert not tmp.exists() and not (workspace.root / ".pending").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == []
    assert run("verify").exit_code == 0
