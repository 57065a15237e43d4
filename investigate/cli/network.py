"""``investigate network``: several newsrooms' publications as one."""

from __future__ import annotations

import click

from .util import echo, echo_json, echo_result, json_option


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
@json_option
def combine(folders, out_dir, keys, witness_keys, witnesses, as_json):
    """Combine newsrooms' published figures per chain and round.

    FOLDERS are folders written by 'publish --parquet'. Checks each folder's manifest first:
    its signed checkpoint, every file's SHA-256, and that every case judges visits by the same
    rules; refuses, naming the file, when one does not hold. Each store's result is weighted with the design weight its newsroom published.
    Needs no workspace."""
    from pathlib import Path

    from ..publish.combine import combine as combine_folders

    if witnesses > len(witness_keys):
        raise click.BadParameter(f"{witnesses} cosignatures need as many --witness-key", param_hint="--witnesses")
    result = combine_folders([Path(f) for f in folders], Path(out_dir), keys=list(keys) or None,
                             witness_keys=list(witness_keys), witnesses=witnesses)
    if as_json:
        return echo_json(result)
    rows = [{**r, "weighted_rate": f"{r['weighted_rate']:.1%}" if r["weighted_rate"] is not None else ""}
            for r in result["figures"]]
    echo_result(rows, columns=["chain", "round", "newsrooms", "stores_tested", "violations", "weighted_rate"])
    echo(f"Combined {len(result['sources'])} publications into {result['parquet']} and {result['manifest']}")
