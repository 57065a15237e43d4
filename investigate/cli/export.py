"""``investigate export``: a case out of the workspace, as CSV, JSON or the LIVES layout."""

from __future__ import annotations

import click

from .util import echo_json, pass_workspace


@click.command("export")
@click.argument("case_ref", metavar="CASE")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "lives"]), default="csv", show_default=True,
              help="csv/json: one file per table; lives: businesses.csv, inspections.csv, violations.csv, "
                   "feed_info.csv.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder to write into (made if missing; files of the same name are replaced).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@pass_workspace
def export(ws, case_ref, fmt, out, as_json):
    """Export CASE (slug, id or id prefix) into a folder.

    \b
    csv, json  One file per table: cases, stores, visits, findings, evidence, promises,
               replies. This is an INTERNAL export: it holds every column, internal notes,
               observer names and tester ids included. Never publish it — 'investigate
               publish' builds the sanitised public copy. Evidence files are not copied.
    lives      Yelp's LIVES layout, for open-data portals and for other LIVES tools.
               Importing it back ('investigate import lives') gives the same stores, visits
               and findings. Attempts that could not be made are left out.

    Example:  investigate export tobacco-lex --format lives --out ./lives-out
    """
    from ..cases.cases import get_case
    from ..interop.export import export_case

    case = get_case(ws, case_ref)
    result = export_case(ws, case, fmt, out)
    if as_json:
        echo_json(result)
        return
    click.echo(f"Exported case {result['case']} as {fmt} into {result['out']}:")
    for name, n in result["files"].items():
        click.echo(f"  {name:<18} {n} row{'s' if n != 1 else ''}")
    if result.get("visits_left_out"):
        click.echo(f"  ({result['visits_left_out']} attempts that could not be made left out)")
