"""Fieldwork figures beyond a single rate: completion, rounds, "sold at least once".

- Completion rate (Synar wants ≥ 90 %): attempts completed / attempts made, where a store of
  the case's drawn sample (or frame) that was never attempted counts as not completed. An
  attempt that could not be made (closed, minors not admitted…) lowers completion; it is
  never a compliant visit.
- Rounds: one round understates how many stores would sell (JAMA 2018: ~18 % per round, most
  sold at least once over six). So a case reports the rate per round (``stats.case_rates`` by
  round, the one definition), the share of stores that sold at least once across rounds, and
  which stores changed between rounds.

Rates come from ``investigate.numbers.stats.rate`` so intervals are computed one way everywhere.
"""

from __future__ import annotations

import json
from collections import defaultdict

from .stats import case_rates, rate, visit_filter, wilson_interval
from ..store.workspace import Workspace


def _targets_sql(ws: Workspace, case: dict) -> tuple[str, list]:
    """SQL for (store_id, stratum) of the stores the case set out to test: the drawn sample when
    one was recorded, else the frame; no rows when the case has neither."""
    frame = "select store_id, stratum from case_stores where case_id = ?"
    if not {"samples", "sample_stores"} <= set(ws.db.table_names()):
        return frame, [case["id"]]
    stratum = "stratum" if "stratum" in {c.name for c in ws.db["sample_stores"].columns} else "null"
    latest = "(select id from samples where case_id = ? order by rowid desc limit 1)"
    return (f"select store_id, {stratum} as stratum from sample_stores where sample_id = {latest} "
            f"union all {frame} and not exists (select 1 from sample_stores where sample_id = {latest})",
            [case["id"], case["id"], case["id"]])


def standings(ws: Workspace, case: dict, *, round: int | None = None,
              approved_only: bool = False) -> list[tuple]:
    """Where the case's stores stand, counted: (stratum, standing, stores, sold, judged) rows.

    A store's *standing* is ``completed`` when it holds at least one completed test (in the
    round, when one is asked), else the reason of its last attempt (closed, not found…), or
    ``not_attempted`` for a target store never visited; its *stratum* is its stratum among the
    targets (None for a store visited beyond them). *Sold* and *judged* count the stores with a
    violation, and with a violation or a compliant test. Which visits are attempts is the
    counting rule's (``visit_filter``): rejected visits are none.

    One pass over the case's visit tallies (a few rows per store), the targets and the counting
    all in SQL: completion and "sold at least once" are read from the same rows, and Python gets
    a row per stratum and standing, not one per store (two passes and a dictionary per store
    were 85–94 ms of every ``case show`` at a million visits of 20,000 stores; this is 65). ``fieldwork`` asks twice (completion, and "sold at least once" for the rounds): the
    counts are kept while the audit log does not move (``Workspace.while_unchanged``)."""
    return ws.while_unchanged(("standings", case["id"], round, approved_only),
                              lambda: _count_standings(ws, case, round=round, approved_only=approved_only))


def _count_standings(ws: Workspace, case: dict, *, round: int | None, approved_only: bool) -> list[tuple]:
    cond, params = visit_filter(approved_only=approved_only)
    where, args = f"v.case_id = ? and {cond}", [case["id"], *params]
    if round is not None:
        where += " and coalesce(v.round, 1) = ?"  # the first round, as the tallies count it
        args.append(round)
    targets, targets_args = _targets_sql(ws, case)
    # A store never completed is listed under its last attempt's reason, read from its own visits
    # (a bare column beside the one max() comes from the row holding the max).
    return ws.db.execute(f"""
        with per_store as materialized (
          select v.store_id, sum(case when v.attempt = 'completed' then v.visits else 0 end) as done,
            max(v.outcome = 'violation') as sold, max(v.outcome in ('violation', 'compliant')) as judged
          from visit_tallies v where {where} group by v.store_id
        ), last as (
          select v.store_id, v.attempt, max(v.visited_at) from visits v where {where}
            and v.store_id in (select store_id from per_store where done = 0) group by v.store_id
        ), targets as materialized ({targets}),
        standing as (
          select t.stratum, case when p.done > 0 then 'completed' when l.store_id is null then 'not_attempted'
                                 else coalesce(l.attempt, 'completed') end as standing, p.sold, p.judged
          from per_store p left join targets t on t.store_id = p.store_id left join last l on l.store_id = p.store_id
          union all
          select t.stratum, 'not_attempted', 0, 0 from targets t
          where t.store_id not in (select store_id from per_store)
        )
        select stratum, standing, count(*), sum(sold), sum(judged) from standing group by stratum, standing""",
        [*args, *args, *targets_args]).fetchall()


def completion(ws: Workspace, case: dict, *, round: int | None = None,
               approved_only: bool = False, counted: list[tuple] | None = None) -> list[dict]:
    """Completion per stratum plus an overall row (``stratum`` None = all).

    A target store is *completed* when it holds at least one completed test (in the round,
    when one is asked): the same stores the report calls "stores tested", so completion is
    stores tested / target stores everywhere. A store never completed is listed under the
    reason of its last attempt (closed, not found…), or ``not_attempted`` (``standings``, or
    ``counted`` when the caller has them already)."""
    if counted is None:
        counted = standings(ws, case, round=round, approved_only=approved_only)
    groups: dict[str | None, dict] = defaultdict(lambda: {"targets": 0, "attempted": 0, "completed": 0,
                                                          "reasons": defaultdict(int)})
    for stratum, attempt, n, _sold, _judged in counted:
        for key in {None, stratum}:
            g = groups[key]
            g["targets"] += n
            if attempt != "not_attempted":
                g["attempted"] += n
            if attempt == "completed":
                g["completed"] += n
            else:
                g["reasons"][attempt] += n
    out = []
    for key in sorted(groups, key=lambda k: (k is not None, k or "")):
        g = groups[key]
        lo, hi = wilson_interval(g["completed"], g["targets"])
        out.append({"stratum": key, "targets": g["targets"], "attempted": g["attempted"],
                    "completed": g["completed"],
                    "completion_rate": g["completed"] / g["targets"] if g["targets"] else None,
                    "ci_low": lo, "ci_high": hi, "reasons": dict(g["reasons"])})
    return out


def rounds_summary(ws: Workspace, case: dict, *, approved_only: bool = False) -> dict:
    """Rate per round, "sold at least once" across rounds, and stores that changed."""
    cond, params = visit_filter(approved_only=approved_only)
    # A store sold in a round if any visit of it in that round was a violation: from the visit
    # tallies (which count by round). Only a store judged in more than one round can have
    # changed, so SQL hands Python those alone, each as its "round:sold" pairs, not a row per
    # store and round (twenty thousand stores of one round: none).
    changes = []
    for store_id, pairs in ws.db.execute(
            f"""select store_id, group_concat(round || ':' || sold) from (
                  select v.store_id, v.round, max(v.outcome = 'violation') as sold from visit_tallies v
                  where v.case_id = ? and {cond} and v.outcome in ('violation', 'compliant')
                  group by v.store_id, v.round)
                group by store_id having count(*) > 1""", [case["id"], *params]):
        seen = sorted((int(r), "violation" if sold == "1" else "compliant")
                      for r, sold in (pair.split(":") for pair in pairs.split(",")))
        for (r1, a), (r2, b) in zip(seen, seen[1:]):
            if a != b:
                changes.append({"store_id": store_id, "from_round": r1, "to_round": r2, "from": a, "to": b})
    # A round's rate is the case's rate of that round, as `stats --by round`, the report and the
    # public database give it (the promise clock included): one definition of a rate per round.
    by_round = [{"round": int(r["group"]), **{k: r[k] for k in ("eligible", "violations", "compliant", "rate",
                                                                 "ci_low", "ci_high", "confidence")}}
                for r in case_rates(ws, case, by="round", approved_only=approved_only) if r["eligible"]]
    names = dict(ws.db.execute("select id, name from stores where id in (select value from json_each(?))",
                               [json.dumps([c["store_id"] for c in changes])])) if changes else {}
    for change in changes:
        change["store_name"] = names.get(change["store_id"])
    once = sold_at_least_once(ws, case, approved_only=approved_only)
    return {"rounds": by_round, "sold_at_least_once": once,
            "stores_tested": once["eligible"], "changes": sorted(
                changes, key=lambda c: (c["from_round"], c["store_name"] or ""))}


def sold_at_least_once(ws: Workspace, case: dict, *, approved_only: bool = False,
                       counted: list[tuple] | None = None) -> dict:
    """Stores with a violation in any round among the stores with a violation or a compliant
    test, as a rate: from ``standings`` (or ``counted``, when the caller has them already)."""
    if counted is None:
        counted = standings(ws, case, approved_only=approved_only)
    sold = sum(row[3] or 0 for row in counted)
    return rate(sold, sum(row[4] or 0 for row in counted) - sold)
