"""``investigate export``: a case out of the workspace, as CSV, JSON or the LIVES layout."""

from __future__ import annotations

from pathlib import Path

import click

from .plugins import FormatType
from .util import echo, echo_json, pass_workspace


@click.command("export")
@click.argument("case_ref", metavar="CASE")
@click.option("--format", "fmt", type=FormatType("exporter"), default="csv", show_default=True,
              help="csv/json: one file per table; lives: businesses.csv, inspections.csv, violations.csv, "
                   "feed_info.csv; and any format a plugin adds.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder to write into (made if missing; files of the same name are replaced).")
@click.option("--public", is_flag=True, help="Only what the publication policy lets out (see below).")
@click.option("--override", help="With --public: export although the checklist is open; the reason is a note "
              "for your records.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@pass_workspace
def export(ws, case_ref, fmt, out, public, override, as_json):
    """Export CASE (slug, id or id prefix) into a folder.

    WITHOUT --public every export is INTERNAL: it holds every store's name, every visit
    (rejected and unreviewed ones included), internal notes, observer names and tester ids.
    Never publish it.

    WITH --public the export passes the pre-publication checklist and holds only what the
    publication policy allows: approved visits, businesses named only after their right of
    reply, pseudonyms for the rest, no tester, observer or note.

    \b
    csv, json  One file per table. Internal: cases, stores, visits, findings, evidence,
               promises, replies. Public: the tables of the public database.
    lives      Yelp's LIVES layout. Internal: for other LIVES tools, and importing it back
               ('investigate import lives') gives the same stores, visits and findings.
               With --public: for an open-data portal. Attempts that could not be made are
               left out.

    Example:  investigate export tobacco-lex --format lives --public --out ./lives-out
    """
    from ..cases.cases import get_case
    from ..formats.export import export_case
    from ..formats.plugins import exporters

    case = get_case(ws, case_ref)
    if public and exporters(ws.root)[fmt].get("layout", "tables") == "tables":
        from ..publish.public import export_public

        result = export_public(ws, case, fmt, out, override=override)
    else:
        result = export_case(ws, case, fmt, Path(out), public=public, override=override)
    if as_json:
        echo_json(result)
        return
    echo(f"Exported case {result['case']} as {fmt} ({'public' if public else 'INTERNAL: do not publish'}) "
               f"into {result['out']}:")
    for name, n in result["files"].items():
        echo(f"  {name:<18} {n} row{'s' if n != 1 else ''}")
    if result.get("visits_left_out"):
        echo(f"  ({result['visits_left_out']} attempts that could not be made left out)")
