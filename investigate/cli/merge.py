"""``investigate bundle`` and ``investigate merge``: reporters' work travels and joins."""

from __future__ import annotations

from pathlib import Path

import click

from ..ids import short
from ..cases.cases import get_case
from ..desk.bundles import write_bundle
from ..desk.merge import merge as merge_source
from .groups import DefaultCommandGroup
from .util import echo, echo_json, echo_queued_stamp, echo_result, json_option, pass_workspace, progress


@click.command()
@click.argument("case_refs", metavar="CASE...", nargs=-1, required=True)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="FILE.zip to write.")
@click.option("--with-sources", is_flag=True,
              help="Also carry the cases' tips, their sources' contacts and the stories' documents.")
@json_option
@pass_workspace
def bundle(ws, case_refs, out_path, with_sources, as_json):
    """Pack CASE, its evidence and its rows' audit entries into one zip.

    Visits, findings, promises, replies and evidence files, with a manifest of SHA-256 sums,
    to carry by USB stick or mail.

    A bundle is internal (it holds tester codes and notes): hand it only to your newsroom.
    Tips, their sources' contacts and a story's documents stay home unless --with-sources."""
    cases = [get_case(ws, ref) for ref in case_refs]
    if with_sources:
        echo("Warning: this bundle carries tips and the contacts of their sources. "
                   "Hand it only to someone who may know them.", err=True)
    with progress(None, "Bundling") as bar:
        manifest = write_bundle(ws, cases, out_path, progress=bar.update, total=bar.start,
                                with_sources=with_sources)
    if as_json:
        echo_json({"bundle": str(Path(out_path).resolve()), **manifest})
    else:
        counts = manifest["counts"]
        echo(f"Wrote {out_path}: {counts['visits']} visits, {counts['findings']} findings, "
                   f"{counts['evidence']} evidence items, {counts['stores']} stores"
                   + (f", {counts['tips']} tips with {counts['tip_sources']} sources' contacts." if with_sources
                      else "; no tips or sources."))
    echo_queued_stamp(manifest.get("timestamp"))


class MergeGroup(DefaultCommandGroup):
    default_command = "in"
    usage_text = "FILE.zip|WORKSPACE | conflicts | resolve ROW --keep ours|theirs"


@click.group(cls=MergeGroup)
def merge():
    """Merge a bundle or workspace; list and settle conflicts.

    `merge FILE.zip|WORKSPACE` adds what is new, by id. The same id with other content is a
    conflict, listed and never overwritten; the other side's findings and promises of a visit
    in conflict are held back, not attached to ours. `merge conflicts` lists the open ones;
    `merge resolve ROW --keep ours|theirs` settles one. The case's checklist stays open until
    then."""


@merge.command("in", hidden=True)
@click.argument("source", metavar="FILE.zip|WORKSPACE", type=click.Path(exists=True))
@json_option
@pass_workspace
def merge_in(ws, source, as_json):
    """Add what is new from a bundle or another workspace, by id. The same id with other
    content is listed as a conflict and never overwritten; merging twice changes nothing."""
    with progress(None, "Merging") as bar:
        result = merge_source(ws, source, progress=bar.update, total=bar.start)
    if as_json:
        echo_json(result)
        return
    merged = {t: n for t, n in result["merged"].items() if n}
    echo("Merged " + (", ".join(f"{n} {t}" for t, n in merged.items()) or "nothing new")
               + f" from workspace {short(result['origin'])}.")
    for c in result["conflicts"]:
        echo(f"Conflict: {c['table_name']} {c['row_id']} differs here; kept ours until an editor picks one "
             f"(investigate merge resolve {short(c['row_id'])} --keep ours|theirs).", err=True)
    for table, n in result["held_back"].items():
        echo(f"Held back: {n} of their {table} of visits in conflict, not attached to ours meanwhile.", err=True)


@merge.command("conflicts")
@json_option
@pass_workspace
def merge_conflicts(ws, as_json):
    """List the merge conflicts no editor has settled yet."""
    from ..desk.conflicts import open_conflicts

    rows = open_conflicts(ws)
    if as_json:
        echo_json(rows)
        return
    echo_result([{"conflict": r["id"], "table": r["table_name"], "row": short(r["row_id"]),
                  "from workspace": short(r["origin"]), "held back": r["held"], "found": r["detected_at"][:16]}
                 for r in rows], empty="No open merge conflict.")


@merge.command("resolve")
@click.argument("ref", metavar="ROW")
@click.option("--keep", type=click.Choice(["ours", "theirs"]), required=True,
              help="ours: our version stays, theirs is set aside; theirs: their version is written (audited).")
@json_option
@pass_workspace
def merge_resolve(ws, ref, keep, as_json):
    """Settle the open conflict on ROW: keep ours or theirs.

    ROW is the row's id or its start, or the conflict's number (merge conflicts)."""
    from ..desk.conflicts import resolve_conflict

    done = resolve_conflict(ws, ref, keep=keep)
    echo_json(done) if as_json else echo(
        f"Conflict {done['conflict']} on {done['table_name']} {short(done['row_id'])}: kept {keep}"
        + (f"; {done['held']} held-back row(s) of theirs {'added' if keep == 'theirs' else 'set aside'}"
           if done["held"] else "") + ".")
