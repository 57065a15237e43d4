"""``investigate bundle`` and ``investigate merge``: reporters' work travels and joins."""

from __future__ import annotations

from pathlib import Path

import click

from ..ids import short
from ..cases.cases import get_case
from ..desk.bundles import write_bundle
from ..desk.merge import merge as merge_source
from .util import echo, echo_json, echo_queued_stamp, json_option, pass_workspace, progress


@click.command()
@click.argument("case_refs", metavar="CASE...", nargs=-1, required=True)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="FILE.zip to write.")
@click.option("--with-sources", is_flag=True, help="Also carry the cases' tips and their sources' contacts.")
@json_option
@pass_workspace
def bundle(ws, case_refs, out_path, with_sources, as_json):
    """Pack CASE, its evidence and the audit chain into one zip.

    Visits, findings, promises, replies and evidence files, with a manifest of SHA-256 sums,
    to carry by USB stick or mail.

    A bundle is internal (it holds tester codes and notes): hand it only to your newsroom.
    Tips and their sources' contacts stay home unless --with-sources."""
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


@click.command()
@click.argument("source", metavar="FILE.zip|WORKSPACE", type=click.Path(exists=True))
@json_option
@pass_workspace
def merge(ws, source, as_json):
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
        echo(f"Conflict: {c['table_name']} {c['row_id']} differs here; kept ours (see merge_conflicts).",
                   err=True)
