"""``investigate network``: several newsrooms' publications as one."""

from __future__ import annotations

import click

from .util import echo, echo_json, echo_result, echo_witnesses, json_option


@click.group()
def network():
    """Work across newsrooms: combine their published figures."""


@network.command("combine")
@click.argument("folders", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to write the combined figures to (Parquet and manifest.json).")
@click.option("--key", "keys", multiple=True, metavar="VERIFIER-KEY",
              help="Combine only publications signed by these logs' keys (repeatable).")
@click.option("--witness-key", "witness_keys", multiple=True, metavar="WITNESS-KEY",
              help="A witness whose cosignatures --witnesses counts (repeatable; 'witness key' prints one).")
@click.option("--witnesses", type=click.IntRange(0), default=0, show_default=True,
              help="Require N valid cosignatures of those witnesses on every publication's checkpoint.")
@click.option("--pdf", "pdf", type=click.Path(dir_okay=False),
              help="Also render the figures as a PDF, signed by this workspace's log (needs a workspace).")
@click.option("--lang", type=click.Choice(["en", "de", "da"]), default="en", show_default=True,
              help="Language of the PDF.")
@json_option
@click.pass_context
def combine(ctx, folders, out_dir, keys, witness_keys, witnesses, pdf, lang, as_json):
    """Combine newsrooms' published figures per chain and round.

    FOLDERS are folders written by 'publish --parquet'. Checks each folder's manifest first:
    its signed checkpoint, every file's SHA-256, and that every case judges visits by the same
    rules; refuses, naming the file, when one does not hold. Each store's result is weighted with the design weight its newsroom published.
    Needs no workspace, except for --pdf: the PDF is this newsroom's publication, and carries
    a checkpoint of its log like every PDF."""
    from pathlib import Path

    from ..publish.combine import combine as combine_folders

    if witnesses > len(witness_keys):
        raise click.BadParameter(f"{witnesses} cosignatures need as many --witness-key", param_hint="--witnesses")
    ws = ctx.obj.workspace if pdf else None  # found before anything is combined: a missing one stops it
    result = combine_folders([Path(f) for f in folders], Path(out_dir), keys=list(keys) or None,
                             witness_keys=list(witness_keys), witnesses=witnesses)
    if pdf:
        from ..reports.combined import build_combined_pdf

        result["pdf"] = build_combined_pdf(ws, result, Path(pdf), lang=lang)
    if as_json:
        return echo_json(result)
    rows = [{**r, "weighted_rate": f"{r['weighted_rate']:.1%}" if r["weighted_rate"] is not None else ""}
            for r in result["figures"]]
    echo_result(rows, columns=["chain", "round", "newsrooms", "stores_tested", "violations", "weighted_rate"])
    echo(f"Combined {len(result['sources'])} publications into {result['parquet']} and {result['manifest']}")
    if pdf:
        echo(f"Wrote {result['pdf']['pdf']}")
        echo_witnesses(result["pdf"]["checkpoint"].get("witnesses"))
