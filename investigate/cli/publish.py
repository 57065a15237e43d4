"""``investigate publish``: the sanitised public database and its Datasette configuration."""

from __future__ import annotations

from pathlib import Path

import click

from ..publish.public import build_public
from ..publish.server import public_datasette, run
from .util import echo, echo_json, echo_queued_stamp, echo_witnesses, json_option, pass_workspace, progress


@click.command()
@click.option("--case", "slugs", multiple=True, help="Publish this case (repeatable). Default: every case "
                                                     "whose status is published.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Folder to write (default: public/).")
@click.option("--override", help="Publish although the pre-publication checklist is open; the reason is recorded.")
@click.option("--parquet", is_flag=True, help="Also write each public table as Parquet (parquet/) with a "
                                             "manifest.json of files, SHA-256s and the checkpoint.")
@click.option("--serve", "serve_after", is_flag=True, help="Serve the public copy locally afterwards.")
@click.option("--port", type=click.IntRange(1, 65535), default=8002, show_default=True)
@json_option
@pass_workspace
def publish(ws, slugs, out_dir, override, parquet, serve_after, port, as_json):
    """Build public/public.db with the published cases' public columns.

    Plus metadata.json and inspect-data.json for an immutable Datasette.

    \b
    Stores are named only after their reply window closed; visits at day precision; no
    tester, observer, note or evidence file name is ever copied. Hand it on with:
      datasette publish cloudrun public/public.db -m public/metadata.json --service NAME
      datasette package public/public.db -m public/metadata.json --tag NAME
    """
    out = Path(out_dir) if out_dir else ws.root / "public"
    with progress(None, "Publishing") as bar:
        result = build_public(ws, out, slugs=list(slugs) or None, override=override, progress=bar.update,
                              total=bar.start, parquet=parquet)
    if as_json:
        echo_json(result)
    else:
        for c in result["cases"]:
            echo(f"{c['slug']}: {c['visits']} visits, {c['stores']} stores ({c['named_stores']} named), "
                       f"version {result['versions'].get(c['slug'])}")
        echo(f"Wrote {result['database']} (sha256 {result['sha256'][:16]}…)")
        if "parquet" in result:
            echo(f"Wrote {len(result['parquet']['files'])} Parquet files and {result['parquet']['manifest']}")
    echo_queued_stamp(result["checkpoint"].get("timestamp"))
    echo_witnesses(result["checkpoint"].get("witnesses"))
    if serve_after:
        echo(f"Serving the public copy at http://127.0.0.1:{port}/ (Ctrl-C to stop)", err=True)
        run(public_datasette(out), "127.0.0.1", port)
