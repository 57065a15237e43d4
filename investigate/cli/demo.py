"""``investigate demo``: a realistic workspace to try everything on."""

from __future__ import annotations

import click

from ..demo.build import build_demo
from .util import echo, echo_json, json_option

#: What to try next, printed after the demo is built. Features add their lines here.
NEXT_STEPS = [
    "investigate case list",
    "investigate case show tobacco-neukoelln-2026",
    "investigate visit list --case tobacco-neukoelln-2026",
    "investigate promise list --overdue",
    "investigate reply list --open",
    "investigate review queue",
    "investigate checklist tobacco-neukoelln-2026",
    "investigate fieldwork tobacco-neukoelln-2026",
    "investigate verify",
    "investigate report tobacco-neukoelln-2026 --edition internal --lang en",
    "investigate reply letter tobacco-neukoelln-2026 BE-21000",
    "investigate serve            # Datasette for editors on http://127.0.0.1:8001/",
]


def demo_pdf(root: str) -> str:
    """The demo case's report. Internal edition: the demo leaves its pre-publication checklist
    open on purpose (a reply window still running, two visits awaiting review)."""
    from ..cases.cases import get_case
    from ..reports.build import build_report
    from ..store.workspace import Workspace

    with Workspace(root) as ws:
        return build_report(ws, get_case(ws, "tobacco-neukoelln-2026"), edition="internal")["pdf"]


@click.command()
@click.argument("directory", default="demo-workspace", type=click.Path(file_okay=False))
@click.option("--seed", type=int, default=2026, show_default=True, help="Same seed, same demo.")
@click.option("--force", is_flag=True, help="Replace an existing demo workspace in DIRECTORY.")
@json_option
def demo(directory, seed, force, as_json):
    """Build a realistic demo workspace in DIRECTORY (demo-workspace).

    Two cases in Berlin, autumn 2026: tobacco sales to minors in ~40 shops (two testers,
    receipt photos with EXIF, reviews, replies) and promised callbacks of three hotlines.
    """
    summary = build_demo(directory, seed=seed, force=force)
    summary["pdf"] = demo_pdf(summary["workspace"])
    summary["next"] = [f"cd {summary['workspace']}"] + NEXT_STEPS
    if as_json:
        echo_json(summary)
        return
    echo(f"Demo workspace: {summary['workspace']}")
    echo(f"  {summary['stores']} stores, {summary['testers']} testers, {summary['visits']} visits, "
               f"{summary['photos']} receipt photos, {summary['replies']} reply requests")
    echo(f"  report (internal edition, its checklist is still open): {summary['pdf']}")
    echo("\nTry next:")
    for line in summary["next"]:
        echo(f"  {line}")
