"""``store import`` and ``visit import``: CSV in, all or nothing."""

from __future__ import annotations

import click

from ..cases.cases import get_case, require_case
from ..cases.imports import import_stores, import_visits
from ..files import count_lines
from .util import KeyValueType, echo_json, json_option, pass_workspace, progress

ENCODING_HELP = "Force the file's encoding (default: UTF-8, UTF-8 with BOM or cp1252, detected)."


@click.command("import")
@click.argument("path", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--map", "mapping", multiple=True, type=KeyValueType(),
              help='Our field = the file\'s column, e.g. --map name="Retailer Name" (repeatable).')
@click.option("--encoding", help=ENCODING_HELP)
@click.option("--case", "case_ref", help="Also put the stores into this case's frame.")
@click.option("--source", help="Where the list comes from (default: import:FILE).")
@json_option
@pass_workspace
def store_import(ws, path, mapping, encoding, case_ref, source, as_json):
    """Import stores from FILE.csv, updating stores already known.

    A store is recognised by its licence number, else by its normalised name and address.
    Fields: name (required), chain, licence_number, address, postcode, city, district, state,
    country, channel, contact, lat, lon, external_id, notes. One transaction: the first bad
    row stops the import with its line and column, and nothing is written.
    """
    case = get_case(ws, case_ref) if case_ref else None
    with progress(count_lines(path), "Importing stores") as bar:
        counts = import_stores(ws, path, mapping=dict(mapping), encoding=encoding, case=case,
                               source=source, progress=bar.update)
    if as_json:
        echo_json(counts)
    else:
        click.echo(f"{counts['rows']} rows: {counts['inserted']} new stores, {counts['updated']} updated, "
                   f"{counts['unchanged']} unchanged.")


@click.command("import")
@click.argument("path", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--case", "case_ref", help="The case the visits belong to (default: the only case).")
@click.option("--map", "mapping", multiple=True, type=KeyValueType(),
              help="A visit field or question key = the file's column (repeatable).")
@click.option("--encoding", help=ENCODING_HELP)
@json_option
@pass_workspace
def visit_import(ws, path, case_ref, mapping, encoding, as_json):
    """Import visits from FILE.csv under the case's protocol.

    Columns: store (id, id prefix, licence number or external id), tester (code), visited_at,
    optional attempt, round, observer, notes, external_ref, and one column per question of
    the protocol (see `investigate protocol show KEY`). Every row is validated and judged by
    the protocol's rules, exactly as `visit record` does. One transaction: the first bad row
    stops the import with its line and column, and nothing is written.
    """
    case = require_case(ws, case_ref)
    with progress(count_lines(path), "Importing visits") as bar:
        counts = import_visits(ws, case, path, mapping=dict(mapping), encoding=encoding, progress=bar.update)
    if counts.get("outside_frame"):
        click.echo(f"Warning: {counts['outside_frame']} store(s) are not in the frame of case {case['slug']}",
                   err=True)
    if as_json:
        echo_json(counts)
    else:
        click.echo(f"Imported {counts['visits']} visits with {counts['findings']} findings and "
                   f"{counts['promises']} promises into {case['slug']}.")
