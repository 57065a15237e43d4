"""``investigate finding``: violations and observations."""

from __future__ import annotations

import click

from ..ids import short
from ..cases.cases import get_case
from ..cases.findings import add_finding, list_findings
from ..vocabulary import SEVERITIES
from ..cases.visits import get_visit
from .util import echo, echo_json, echo_result, json_option, pass_workspace, short_ids


@click.group()
def finding():
    """Findings: most follow from a protocol's rules; add others by hand."""


@finding.command("add")
@click.argument("visit_ref", metavar="VISIT")
@click.option("--title", required=True)
@click.option("--severity", type=click.Choice(SEVERITIES), default="medium", show_default=True)
@click.option("--statute")
@click.option("--code")
@click.option("--description")
@json_option
@pass_workspace
def finding_add(ws, visit_ref, as_json, **fields):
    """Add a finding to VISIT by hand."""
    row = add_finding(ws, get_visit(ws, visit_ref), **fields)
    if as_json:
        echo_json(row)
    else:
        echo(f"Added finding {short(row['id'])}: {row['title']}")


@finding.command("list")
@click.option("--case", "case_ref")
@click.option("--visit", "visit_ref")
@click.option("--severity", type=click.Choice(SEVERITIES))
@json_option
@pass_workspace
def finding_list(ws, case_ref, visit_ref, severity, as_json):
    """List findings."""
    rows = list_findings(ws, case=get_case(ws, case_ref) if case_ref else None,
                         visit=get_visit(ws, visit_ref) if visit_ref else None, severity=severity)
    if as_json:
        echo_json(rows)
    else:
        echo_result(short_ids(rows, "id", "visit_id"), columns=["id", "visit_id", "visited_at", "store_name",
                    "code", "title", "severity", "statute"], empty="No findings.", optional=["visit_id", "code"])
