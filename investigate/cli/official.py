"""``investigate import``: official records and phone-form exports in, as stores and visits.

Each import is one transaction: a bad cell stops it with file, line and column, and nothing
is written. Importing the same file twice adds nothing.
"""

from __future__ import annotations

import click

from . import LazyGroup
from .util import echo_import_summary, json_option, pass_workspace, progress
from .types import KeyValueType, table_options

ENCODING_HELP = "Force the file encoding (default: UTF-8 if the file is valid UTF-8, else the source's own)."


class ImportGroup(LazyGroup):
    """``import``: the commands below, and ``import NAME FILE`` for every other importer of
    records the registry holds (a plugin's)."""

    def extra_commands(self, ctx):
        from ..formats.plugins import importers
        from .plugins import import_command, workspace_root

        return {name: import_command(name, importer)
                for name, importer in importers(workspace_root(ctx), kind="records").items()
                if name not in self.commands}


@click.group("import", cls=ImportGroup)
def import_():
    """Import official inspections (LIVES, FDA) and Kobo/ODK exports.

    \b
    Official records become visits of kind 'official': they sit beside your own tests in a
    store's history and never enter an undercover violation rate unless asked for.
    """


@import_.command("lives")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--case", "case_ref", help="Put the visits into this case (default: the feed's own "
              "case 'lives-<municipality>', made on first import).")
@click.option("--encoding", help=ENCODING_HELP)
@click.option("--orphans", type=click.Choice(["keep", "skip"]), default="keep", show_default=True,
              help="Violations dated on a day with no inspection of that business: keep them as visits "
                   "without a score, or skip them. Counted in the summary either way.")
@table_options
@json_option
@pass_workspace
def lives(ws, folder, case_ref, encoding, orphans, ignore, ignore_unknown, fix_text, null_values, as_json):
    """Import a LIVES folder of official restaurant inspections.

    The folder holds businesses.csv, inspections.csv, violations.csv and feed_info.csv.

    Businesses become stores (matched again by their business_id), inspections become official
    visits and violations their findings. LIVES has no inspection id: all inspections of one
    business on one day are ONE visit, scored with the day's lowest score (every score is kept
    in the 'scores' answer) and carrying the day's violations once. Dates have no time: visits
    are placed at local midnight.

    \b
    Example:
        investigate import lives ./lexington-lives
    """
    from ..formats import lives as lives_mod

    feed = lives_mod.read_feed(folder, encoding=encoding, ignore=ignore, ignore_unknown=ignore_unknown,
                               fix_text=fix_text, null_values=null_values)
    with progress(feed.total, "Importing LIVES") as bar:
        summary = lives_mod.import_lives(ws, feed, case_ref=case_ref, orphans=orphans, on_batch=bar.update)
    echo_import_summary(summary, as_json, [
        f"LIVES feed of {summary['municipality']} → case {summary['case']}"
        + (" (new)" if summary["case_created"] else ""),
        f"  stores:   {summary['stores_added']} added, {summary['stores_updated']} updated, "
        f"{summary['stores_unchanged']} unchanged",
        f"  visits:   {summary['visits_added']} added, {summary['visits_already_imported']} already imported "
        f"({summary['inspection_rows']} inspection rows; {summary['same_day_duplicates']} business-days "
        "with several inspections merged)",
        f"  findings: {summary['findings_added']} added",
        f"  orphans:  {summary['orphan_violations']} violations on {summary['orphan_days']} business-days "
        f"with no inspection ({'kept as visits without a score' if orphans == 'keep' else 'skipped'})",
    ])


@import_.command("fda")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--case", "case_ref", help="Put the visits into this case (default: 'fda-compliance-checks', "
              "made on first import).")
@click.option("--encoding", help=ENCODING_HELP + " The FDA says ISO-8859-1; read as cp1252 when that decodes.")
@table_options
@json_option
@pass_workspace
def fda(ws, file, case_ref, encoding, ignore, ignore_unknown, fix_text, null_values, as_json):
    """Import the FDA's tobacco retail compliance-check export (CSV).

    Columns: Retailer Name, Street Address, City, State, Zip, Inspection Date and Decision Date
    (MM/DD/YYYY), Decision Type or Inspection Result, Minor Involved, Sale to Minor, Product
    Type. The search export's title lines above the header are skipped. Where the export writes
    "See Complaint" or "Not yet available" instead of an inspection date (more such words with
    --null-value), the visit is dated by its decision date and marked so. One inspection (one
    row per product) is one visit. Rows find their store by normalised name and address
    ("Smart-Shop" = "smartshop"); warning letters, money penalties, no-sale orders and sales
    to minors become findings.

    \b
    Example:
        investigate import fda compliance_checks.csv --case tobacco-lex
    """
    from ..files import count_lines
    from ..formats.plugins import importers

    with progress(count_lines(file), "Importing FDA checks") as bar:
        summary = importers(ws.root)["fda"]["run"](ws, file, case_ref=case_ref, encoding=encoding, ignore=ignore,
                                                   ignore_unknown=ignore_unknown, fix_text=fix_text,
                                                   null_values=null_values, on_batch=bar.update)
    echo_import_summary(summary, as_json, [
        f"FDA compliance checks → case {summary['case']}" + (" (new)" if summary["case_created"] else ""),
        f"  rows:     {summary['rows']} ({summary['rows_merged']} merged into the visit of their inspection)",
        f"  stores:   {summary['stores_added']} added, {summary['stores_matched']} matched to stores you had",
        f"  visits:   {summary['visits_added']} added, {summary['visits_already_imported']} already imported"
        + (f"; {summary['visits_dated_by_decision']} dated by their decision date (no inspection date in "
           "the export)" if summary["visits_dated_by_decision"] else ""),
        f"  findings: {summary['findings_added']} added",
    ])


@import_.command("kobo")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--case", "case_ref", required=True, help="The case whose protocol the form follows.")
@click.option("--map", "mapping", multiple=True, type=KeyValueType(),
              help="FIELD=QUESTION: the form field that answers a protocol question (or store, tester, "
                   "observer, attempt, round, notes, visited_at). FIELD= (empty) ignores a field. Repeatable.")
@click.option("--encoding", help=ENCODING_HELP)
@click.option("--media", type=click.Path(file_okay=False, exists=True),
              help="The export's media folder: each submission's photo (visit_photo) becomes its visit's evidence.")
@table_options
@json_option
@pass_workspace
def kobo(ws, file, case_ref, mapping, encoding, media, ignore, ignore_unknown, fix_text, null_values, as_json):
    """Import a KoboToolbox or ODK Central CSV export of CASE's form.

    The form follows the case's protocol.

    Form fields answer the protocol questions of the same name; group prefixes
    ("group_visit/sale", "group_visit-sale") are ignored. Also expected: a 'store' field (store id,
    prefix or licence number) and, for protocols with testers, a 'tester' field (tester code).
    Kobo's and ODK's own columns are understood: 'start' is the visit time, '_uuid' (or
    meta/instanceID) identifies the submission so that importing again adds nothing; the rest
    (_id, _index, _submission_time, end, deviceid…) are ignored. An unknown field is an error
    that names it, and nothing is imported.

    An export of a form made by `protocol xlsform` needs no --map: its form_version field
    names the rules it was made with, and a submission from another version stops the import.

    \b
    Example:
        investigate import kobo tobacco_form.csv --case tobacco-lex \\
            --map shop=store --map sold=sale --map weather=
        investigate import kobo submissions.csv --case tobacco-lex --media media/
    """
    from ..files import count_lines
    from ..formats.plugins import importers

    fields = {k: v for k, v in mapping}
    with progress(count_lines(file), "Importing form submissions") as bar:
        summary = importers(ws.root)["kobo"]["run"](ws, file, case_ref=case_ref, mapping=fields, encoding=encoding,
                                                    ignore=ignore, ignore_unknown=ignore_unknown, fix_text=fix_text,
                                                    null_values=null_values, on_batch=bar.update, media=media)
    echo_import_summary(summary, as_json, [
        f"{summary['rows']} submissions → case {summary['case']} ({summary['protocol']})",
        f"  visits:   {summary['visits_added']} added, {summary['visits_already_imported']} already imported",
        f"  outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["outcomes"].items())) if summary["outcomes"]
        else "  outcomes: none",
        f"  findings: {summary['findings_added']} added, promises: {summary['promises_added']} added",
    ] + ([f"  form:     version {summary['form_version']}; {summary['evidence_added']} photos attached"]
         if summary.get("form_version") else []))
