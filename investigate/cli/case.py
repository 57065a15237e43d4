"""``investigate case``: investigations."""

from __future__ import annotations

import click

from ..cases import cases
from ..cases.cases import LANGUAGES, STATUSES
from .util import echo_json, echo_result, json_option, pass_workspace, short_ids


@click.group()
def case():
    """Cases: one investigation each, under one protocol."""


@case.command("new")
@click.argument("slug")
@click.option("--title", required=True, help='E.g. "Tobacco sales to minors, Neukölln, Nov 2026".')
@click.option("--protocol", required=True, help="Protocol key (see: investigate protocol list).")
@click.option("--jurisdiction", default="", help="Where the law applies, e.g. Berlin, DE.")
@click.option("--legal-basis", default="", help="The statute the test checks, e.g. JuSchG § 10.")
@click.option("--language", type=click.Choice(LANGUAGES), help="Report language (default: workspace's).")
@click.option("--reply-days", type=click.IntRange(1, 365), default=14, show_default=True,
              help="Days a business gets to answer before it may be named.")
@click.option("--description", default="")
@json_option
@pass_workspace
def case_new(ws, slug, title, protocol, jurisdiction, legal_basis, language, reply_days, description, as_json):
    """Open a new case SLUG (lowercase, dashes)."""
    row = cases.create_case(ws, slug=slug, title=title, protocol=protocol, jurisdiction=jurisdiction,
                            legal_basis=legal_basis, language=language, reply_days=reply_days,
                            description=description)
    if as_json:
        echo_json(row)
    else:
        click.echo(f"Created case {row['slug']} ({row['id'][:8]}), status planning.")


@case.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@json_option
@pass_workspace
def case_list(ws, status, as_json):
    """List cases with their visit and violation counts."""
    rows = cases.list_cases(ws, status=status)
    if as_json:
        echo_json(rows)
    else:
        echo_result(short_ids(rows), columns=["id", "slug", "title", "protocol", "status", "visits",
                                              "violations", "stores"], empty="No cases yet.")


@case.command("show")
@click.argument("case_ref", metavar="CASE")
@json_option
@pass_workspace
def case_show(ws, case_ref, as_json):
    """Show a case and its counts."""
    summary = cases.case_summary(ws, cases.get_case(ws, case_ref))
    if as_json:
        echo_json(summary)
        return
    c = summary["case"]
    click.echo(f"{c['title']}\n  slug {c['slug']}  id {c['id']}\n  protocol {c['protocol']}  status {c['status']}"
               f"  language {c['language']}  reply window {c['reply_days']} days")
    if c["jurisdiction"] or c["legal_basis"]:
        click.echo(f"  jurisdiction {c['jurisdiction']}  legal basis {c['legal_basis']}")
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(summary["outcomes"].items())) or "none"
    click.echo(f"  visits {summary['visits']} ({outcomes}); stores visited {summary['stores_visited']}"
               f" of a frame of {summary['frame_size']}")
    click.echo(f"  findings {summary['findings']}  evidence {summary['evidence']}  open promises "
               f"{summary['promises_open']}  reply requests {summary['replies']}")
    if summary["first_visit"]:
        click.echo(f"  period {summary['first_visit'][:10]} – {summary['last_visit'][:10]}")


@case.command("status")
@click.argument("case_ref", metavar="CASE")
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--reason", help="Needed to move a case back.")
@json_option
@pass_workspace
def case_status(ws, case_ref, status, reason, as_json):
    """Set a case's status: planning → fieldwork → review → published."""
    row = cases.set_status(ws, cases.get_case(ws, case_ref), status, reason=reason)
    if as_json:
        echo_json(row)
    else:
        click.echo(f"Case {row['slug']} is now {row['status']}.")
