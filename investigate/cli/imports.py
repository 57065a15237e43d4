"""``store import`` and ``visit import``: CSV in, all or nothing."""

from __future__ import annotations

import click

from ..cases.cases import get_case, require_case
from ..cases.imports import import_visits
from ..cases.store_imports import import_stores
from ..files import count_lines
from .util import echo_import_summary, json_option, pass_workspace, progress
from .types import KeyValueType, ValueMapType, table_options, value_maps_by_column

ENCODING_HELP = "Force the file's encoding (default: UTF-8, UTF-8 with BOM or cp1252, detected)."


@click.command("import")
@click.argument("path", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--map", "mapping", multiple=True, type=KeyValueType(),
              help='Our field = the file\'s column, e.g. --map name="Retailer Name" (repeatable).')
@click.option("--encoding", help=ENCODING_HELP)
@click.option("--case", "case_ref", help="Also put the stores into this case's frame.")
@click.option("--source", help="Where the list comes from (default: import:FILE).")
@click.option("--update", is_flag=True,
              help="Replace values the stores already hold with the file's (audited). Without it such rows are "
                   "refused, nothing written; blanks are filled either way.")
@table_options
@json_option
@pass_workspace
def store_import(ws, path, mapping, encoding, case_ref, source, update, ignore, ignore_unknown, fix_text, null_values,
                 as_json):
    """Import stores from FILE.csv, updating stores already known.

    A store is recognised by its licence number, else by its normalised name and address
    (postcode, district and coordinates when the address is blank, so a chain's outlets stay
    apart: rows more than 50 m apart are two stores). Merges are listed with their reason; a
    re-run of the same file updates nothing. Blanks of known stores are filled; a value they
    hold is replaced only with --update (else the import is refused with counts, nothing
    written). Fields: name (required), chain, licence_number, address, postcode, city, district, state,
    country, channel, contact, lat, lon, external_id, notes, and location: a cell holding
    "(lat, lon)" anywhere in it. Headings match whatever their case and spacing; comma,
    semicolon and tab files are told apart. Columns neither mapped nor known are listed in
    the summary. One transaction: the first bad row stops the import with its line and
    column, and nothing is written.

    \b
    Example:
        investigate store import registry.csv --map location="Location 1" --ignore-unknown
    """
    case = get_case(ws, case_ref) if case_ref else None
    with progress(count_lines(path), "Importing stores") as bar:
        s = import_stores(ws, path, mapping=dict(mapping), encoding=encoding, case=case, source=source,
                          ignore=ignore, ignore_unknown=ignore_unknown, fix_text=fix_text,
                          null_values=null_values, update=update, progress=bar.update)
    echo_import_summary(s, as_json, [
        f"{s['rows']} rows: {s['inserted']} new stores ({s['with_coordinates']} with coordinates), "
        f"{s['updated']} updated, {s['unchanged']} unchanged, {s['merged']} merged into a store "
        "earlier in the file.",
        *(f"  merged, {reason}: {n}" for reason, n in sorted(s["merge_reasons"].items(), key=lambda kv: -kv[1])),
        *(f"    line {m['line']} → store {m['store']}: {m['reason']}" for m in s["merges"][:5])])


@click.command("import")
@click.argument("path", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--case", "case_ref", help="The case the visits belong to (default: the only case).")
@click.option("--map", "mapping", multiple=True, type=KeyValueType(),
              help="A visit field or question key = the file's column (repeatable).")
@click.option("--encoding", help=ENCODING_HELP)
@click.option("--kind", type=click.Choice(["undercover", "official"]), default="undercover", show_default=True,
              help="official: an agency's own inspections; they never enter an undercover rate.")
@click.option("--date-format", help='How the file writes visit times, e.g. "%m/%d/%Y" (a date '
              "without a time is local midnight). Default: ISO 8601.")
@click.option("--map-value", "value_maps", multiple=True, type=ValueMapType(),
              help='COLUMN:VALUE=ANSWER: the file\'s word for an answer, e.g. '
                   '"Results:Pass w/ Conditions=pass_with_conditions" (repeatable).')
@click.option("--update", is_flag=True,
              help="Amend the visits this file corrects (same store, tester and minute, other answers): "
                   "audited, the file named as the reason. Without it such rows are refused, nothing written.")
@table_options
@json_option
@pass_workspace
def visit_import(ws, path, case_ref, mapping, encoding, kind, date_format, value_maps, update, ignore,
                 ignore_unknown, fix_text, null_values, as_json):
    """Import visits from FILE.csv under the case's protocol.

    Columns: store (id, id prefix, licence number or external id), tester (code), visited_at,
    optional attempt, round, observer, notes, external_ref, and one column per question of
    the protocol (see `investigate protocol show KEY`). Every row is validated and judged by
    the protocol's rules, exactly as `visit record` does. A column that is neither is refused
    (its answers would be lost) unless --ignore'd. Importing the same file again adds nothing:
    rows are recognised by external_ref, or by their mapped columns; a corrected row (same
    store, tester and minute, other answers) is refused unless --update. One transaction: the
    first bad row stops the import with its line and column, and nothing is written.

    \b
    Example (Chicago's food inspections, stores imported first by licence):
        investigate visit import chicago.csv --case chicago --kind official \\
            --map store="License #" --map visited_at="Inspection Date" --date-format %m/%d/%Y \\
            --map external_ref="Inspection ID" --map result=Results --map attempt=Results \\
            --map-value "Results:Pass w/ Conditions=pass_with_conditions" \\
            --map-value "Results:Out of Business=closed" --map-value "Results:Not Ready=other" \\
            --map-value "Results:No Entry=closed" \\
            --map-value "Results:Business Not Located=not_found" --ignore-unknown
    """
    case = require_case(ws, case_ref)
    with progress(count_lines(path), "Importing visits") as bar:
        s = import_visits(ws, case, path, mapping=dict(mapping), encoding=encoding, kind=kind,
                          date_format=date_format, value_map=value_maps_by_column(value_maps), ignore=ignore,
                          ignore_unknown=ignore_unknown, fix_text=fix_text,
                          null_values=null_values, update=update, progress=bar.update)
    if s.get("outside_frame"):
        s["warnings"].append(f"{s['outside_frame']} store(s) are not in the frame of case {case['slug']}")
    breaches = s.get("rotation_breaches") or []
    if breaches:
        s["warnings"].append(f"{len(breaches)} visit(s) break the case's rotation rules; first: "
                             + "; ".join(breaches[:3]))
    echo_import_summary(s, as_json, [
        f"Imported {s['visits']} {kind} visits with {s['findings']} findings and {s['promises']} promises "
        f"into {case['slug']} ({s['rows']} rows, {s['already_imported']} already imported"
        + (f", {s['amended']} amended" if s["amended"] else "") + ")."])
