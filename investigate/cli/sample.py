"""``investigate sample``: draw the stores to test, reproducibly."""

from __future__ import annotations

import click

from ..ids import short
from ..cases.cases import get_case
from ..cases.samples import STRATA_COLUMNS, draw_sample
from .util import echo, echo_json, pass_workspace


@click.command()
@click.argument("case_ref", metavar="CASE")
@click.option("--n", type=int, help="Sample size. Without it, the size follows from the margin of error.")
@click.option("--margin", type=float, default=0.05, show_default=True, help="Margin of error (0.05 = ±5 points).")
@click.option("--confidence", type=float, default=0.95, show_default=True)
@click.option("--expected-rate", type=float, default=0.2, show_default=True, help="Violation rate expected.")
@click.option("--strata", type=click.Choice(STRATA_COLUMNS), help="Stratify by this store column.")
@click.option("--seed", type=int, help="Random seed (default: a new one, recorded).")
@click.option("--replace", is_flag=True, help="Replace the case's recorded sample (needs --reason).")
@click.option("--reason", help="Why the design changed; printed in the report's method.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_workspace
def sample(ws, case_ref, n, margin, confidence, expected_rate, strata, seed, replace, reason, as_json):
    """Draw a random or stratified sample of CASE's stores.

    The draw is recorded (frame size, method, strata, seed, date) so that it can be
    reproduced exactly.

    A case has one design: a second draw is refused unless --replace --reason "…" says why;
    the report's method then names the replacement."""
    result = draw_sample(ws, get_case(ws, case_ref), n=n, margin=margin, confidence=confidence,
                         expected_rate=expected_rate, strata=strata, seed=seed, replace=replace, reason=reason)
    if as_json:
        echo_json(result)
        return
    s = result["sample"]
    echo(f"Drew {s['n']} of {s['frame_size']} stores ({s['method']}"
               f"{', strata ' + s['strata_column'] if s['strata_column'] else ''}, seed {s['seed']}).")
    for store in result["stores"]:
        echo(f"  {short(store['id'])}  {store['name']}" + (f"  [{store['stratum']}]" if store["stratum"] else ""))
