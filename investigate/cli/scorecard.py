"""``investigate scorecard``: how a service case's tests scored, per company and channel."""

from __future__ import annotations

import csv
import io

import click

from ..cases.cases import get_case
from ..protocol.values import DIMENSIONS
from ..policy import min_cell
from ..views.scorecard import parse_by, public_scorecard, scorecard as build_scorecard
from .util import echo, echo_json, echo_result, pass_workspace


def _num(value, digits=1):
    return "" if value is None else f"{value:.{digits}f}"


def _interval(d: dict, digits=1) -> str:
    if not d or d.get("mean", d.get("median", d.get("rate"))) is None:
        return ""
    centre = d.get("mean", d.get("median"))
    if d.get("ci_low") is None and d.get("ci_high") is None:
        return _num(centre, digits)
    return f"{_num(centre, digits)} [{_num(d.get('ci_low'), digits) or '?'}–{_num(d.get('ci_high'), digits) or '?'}]"


def flat_row(group: dict) -> dict:
    """One group as flat columns, for CSV."""
    row = dict(group["group"])
    row["tests"] = group["tests"]
    for d in DIMENSIONS:
        figure = group["dimensions"].get(d, {})
        for k in ("mean", "ci_low", "ci_high", "n"):
            row[f"{d}_{k}"] = figure.get(k)
    for k in ("mean", "ci_low", "ci_high", "n"):
        row[f"overall_{k}"] = group["overall"].get(k)
    for k in ("k", "n", "rate", "ci_low", "ci_high"):
        row[f"promises_kept_{k}"] = group["promises_kept"].get(k)
    for k in ("k", "n", "rate"):
        row[f"overcharged_{k}"] = group["overcharged"].get(k)
    for k in ("median", "ci_low", "ci_high", "n", "open"):
        row[f"response_minutes_{k}"] = group["response_minutes"].get(k)
    row["no_reply_within_days"] = group["no_reply_within"]["days"]
    row["no_reply_within_k"] = group["no_reply_within"]["k"]
    row["no_reply_within_n"] = group["no_reply_within"]["n"]
    return row


@click.command()
@click.argument("case_ref", metavar="CASE")
@click.option("--by", "by", default="company", show_default=True,
              help="company, channel, representative, escalation or some joined by commas, e.g. company,channel "
                   "(empty: the whole case).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@click.option("--public", is_flag=True,
              help="As public figures are: approved visits only, groups below the smallest cell merged.")
@click.option("--reply-days", type=click.FloatRange(0, min_open=True),
              help="Count replies later than this many days (default: [service] reply_days, else 2).")
@pass_workspace
def scorecard(ws, case_ref, by, fmt, as_json, confidence, public, reply_days):
    """Scores per company and/or channel, with intervals.

    Per group: tests, each dimension's mean score (percent of points
    possible) with its interval, the overall score, promises kept on time (Wilson; overdue
    counts as broken), overcharges, and the median time to reply by Kaplan–Meier (replies still
    open count as censored times)."""
    case = get_case(ws, case_ref)
    result = build_scorecard(ws, case, by=parse_by(by), approved_only=public, confidence=confidence,
                             threshold=min_cell(ws, case) if public else None, reply_days=reply_days)
    if public:
        result = public_scorecard(ws, case, result)
    fmt = "json" if as_json else fmt
    if fmt == "json":
        echo_json(result)
        return
    rows = [flat_row(g) for g in result["groups"]]
    if fmt == "csv":
        out = io.StringIO()
        if rows:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        echo(out.getvalue(), nl=False)
        return
    if result["withheld"]:
        echo(f"Withheld: fewer than {result['threshold']} tests in {case['slug']}.")
        return
    if not rows:
        echo(f"No completed tests in {case['slug']} yet.")
        return
    used = [d for d in DIMENSIONS if any(d in g["dimensions"] for g in result["groups"])]
    # Two tables, so that each fits an 80-column terminal with whole words: the scores, then
    # the promises and reply times behind them.
    scores, clocks = [], []
    for g in result["groups"]:
        scores.append({**g["group"], **{d: _interval(g["dimensions"].get(d, {}), 0) for d in used},
                       "overall": _interval(g["overall"], 0)})
        pk, rm = g["promises_kept"], g["response_minutes"]
        clocks.append({**g["group"], "tests": g["tests"], "promises kept": f"{pk['k']}/{pk['n']}" if pk["n"] else "",
                       # No median while half are still waiting: say so, not an empty cell before the count.
                       "reply minutes (median)": ((_interval(rm, 0) or ("not reached" if rm["open"] else ""))
                                                  + (f", {rm['open']} still open" if rm["open"] else ""))
                       if rm["n"] else ""})
    echo_result(scores, title=f"Scorecard {case['slug']}: scores out of 100 ({confidence:.0%} intervals)")
    echo("")
    echo_result(clocks, title="Tests, promises kept on time, time to reply")
    if result["merged"]:
        merged = ", ".join(" / ".join(map(str, g.values())) for g in result["merged"])
        echo(f"Merged into other groups (fewer than {result['threshold']} tests): {merged}")
