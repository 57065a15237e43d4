"""``investigate stats``: rates with confidence intervals, from investigate.numbers.stats."""

from __future__ import annotations

import csv
import io

import click

from ..numbers import stats as rates
from ..numbers.design import round_estimates
from ..cases.cases import get_case
from ..protocol.protocols import get_protocol
from ..policy import PUBLIC, WORKING, case_counts, case_rates
from .util import echo, echo_json, echo_result, pass_workspace, pct

BY = [k for k in rates.GROUPINGS if k]


def _left_out(row: dict) -> str:
    """The visits of a group that its rate does not rest on, and those still provisional."""
    parts = [(row["inconclusive"], "inconclusive"), (row["not_completed"], "not completed"),
             (row["provisional"], "provisional (in the rate, not yet approved)")]
    return "; ".join(f"{n} {what}" for n, what in parts if n)


@click.command()
@click.argument("case_ref", metavar="CASE")
@click.option("--by", type=click.Choice(BY), help="Group the visits.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@click.option("--approved-only", is_flag=True, help="Only approved visits, as public figures count them.")
@click.option("--official", is_flag=True, help="Official inspections instead of our own visits.")
@pass_workspace
def stats(ws, case_ref, by, fmt, as_json, confidence, approved_only, official):
    """Visits, violations and the violation rate with its interval.

    Wilson score intervals, overall or per group (--by).

    Inconclusive visits and attempts that could not be made are counted apart, never as
    compliant. For a stratified sample the weighted (Synar-style) estimate follows; for
    customer-service protocols, the share of promises kept.
    """
    case = get_case(ws, case_ref)
    kind = "official" if official else "undercover"
    scope = PUBLIC if approved_only else WORKING
    rows = case_rates(ws, case, scope=scope, by=by, confidence=confidence, kind=kind)
    # The whole case by the one definition each (stores tested, completion…), as every surface prints it.
    counts = None if official else case_counts(ws, case, scope=scope, confidence=confidence)
    weighted = round_estimates(ws, case, confidence=confidence, approved_only=approved_only)
    promise_rows = rates.promise_rates(ws, case, confidence=confidence, approved_only=approved_only)
    provisional = sum(r["provisional"] for r in rows)
    orphan_days = None  # official LIVES visits that are violations on a day without an inspection
    if official:
        from ..formats.lives import counted_orphan_days

        orphan_days = counted_orphan_days(ws, case, approved_only=approved_only)
    fmt = "json" if as_json else fmt
    if fmt == "json":
        echo_json({"case": case["slug"], "by": by, "kind": kind, "approved_only": approved_only, "scope": scope,
                   "provisional": provisional, "orphan_days": orphan_days, "counts": counts, "groups": rows,
                   "weighted": weighted, "promises": promise_rows})
        return
    if fmt == "csv":
        out = io.StringIO()
        fields = ["group", "visits", "violations", "compliant", "inconclusive", "not_completed", "eligible", "rate",
                  "ci_low", "ci_high", "provisional"]
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        echo(out.getvalue(), nl=False)
        return
    if not rows:
        echo(f"No {kind} visits in {case['slug']} yet.")
    else:
        # What the rate rests on, then what stands beside it: an 80-column terminal holds six
        # columns with whole words (eligible counts stay in --json and --format csv).
        echo_result([{"group": r["group"], "visits": r["visits"], "violations": r["violations"], "rate": pct(r["rate"]),
                      f"{confidence:.0%} interval": f"{pct(r['ci_low'])} – {pct(r['ci_high'])}"
                      if r["ci_low"] is not None else "",
                      "not in the rate": _left_out(r)} for r in rows])
    if orphan_days:
        echo(f"\nOrphan days: {orphan_days} of these visits are violations on a day with no inspection of that "
             "business (LIVES, imported with --orphans keep); they are in the rate. Import with "
             "--orphans skip to leave them out.")
    if provisional:
        echo(f"\nProvisional: {provisional} of these visits are not approved yet (rejected and voided visits "
             "never count). --approved-only gives the figures as they would be published.")
    if weighted and weighted["headline"]:
        echo("\nWeighted estimate (stratified sample; one test per sampled store, each round apart):")
        for r in weighted["rounds"]:
            mark = "  ← headline" if r["round"] == weighted["headline"]["round"] else ""
            echo(f"  round {r['round']}: {pct(r['estimate'])} ({pct(r['ci_low'])} – {pct(r['ci_high'])}), "
                 f"{r['stores_tested']} stores{mark}" if r["estimate"] is not None else
                 f"  round {r['round']}: no sampled store with a result")
        echo_result([{"round": r["round"], "stratum": s["stratum"], "frame": s["frame"], "drawn": s["drawn"],
                      "tested": s["tested"], "sold": s["violations"], "inconclusive": s["inconclusive"],
                      "no completed test": ", ".join(f"{k} {n}" for k, n in sorted(s["nonresponse"].items()))}
                     for r in weighted["rounds"] for s in r["strata"]], title="Strata and non-response")
    if promise_rows:
        echo("")
        echo_result([{"promise": p["what"], "due": p["due"], "kept": p["kept"], "late": p["late"],
                      "broken": p["broken"], "overdue": p["overdue"], "kept rate": pct(p["kept_rate"])}
                     for p in promise_rows], title=f"Promises ({get_protocol(case['protocol'], ws.root).title})")

