"""The weighted violation rate of a stratified sample, by the survey's design (Synar practice).

The sampling unit is the store, not the visit: a store tested three times is still one
sampled store. So, for each round separately:

- each sampled store contributes its *first completed test of the round* (in the counting
  scope: approved only for anything public) — a violation or compliant; an inconclusive first
  test leaves the store without a result, as Synar's forms count it;
- in stratum h, of N_h stores in the frame, m_h sampled stores have a result and y_h of them
  sold; each weighs N_h / m_h (the design weight N_h / n_h adjusted for non-response within the
  stratum, as Synar adjusts for eligibility and completion);
- the estimate is p = Σ_h N_h p_h / Σ_h N_h with p_h = y_h / m_h, over the strata with a result;
- its variance the stratified one with the finite-population correction over the sampled
  stores, Var(p) = Σ_h W_h² (1 − m_h/N_h) p_h (1 − p_h) / (m_h − 1), W_h = N_h / Σ N (Cochran
  1977, 5.7 — what Taylor linearisation gives for this design; ``tests/test_design.py`` holds it
  to samplics to 1e-9); a stratum with one result adds no variance term and is named;
- the interval is p ± z·√Var, clipped to [0, 1].

Non-response is reported per stratum as Synar's forms do: drawn, tested, inconclusive, and the
reason of each store without a completed test (closed, not found…, or not attempted).

The headline is the round with the most sampled stores tested (the earliest on a tie): the
sample's own round, not a retest of a few of its stores, and it names that round.
"""

from __future__ import annotations

import math
from collections import defaultdict

from .stats import visit_filter, z_for
from ..store.workspace import Workspace


def _latest_stratified_sample(ws: Workspace, case: dict) -> dict | None:
    if "samples" not in ws.db.table_names():
        return None
    rows = list(ws.db.query("select * from samples where case_id = ? order by drawn_at desc, rowid desc limit 1",
                            [case["id"]]))
    return rows[0] if rows and rows[0]["method"] == "stratified" else None


def estimate_proportion(strata: list[dict], confidence: float = 0.95) -> dict:
    """The stratified estimate from per-stratum counts: each item ``frame`` (N_h), ``tested``
    (m_h, sampled stores with a result) and ``violations`` (y_h). Plain numbers in and out, so
    that it can be checked against an independent implementation."""
    used = [s for s in strata if s["tested"]]
    if not used:
        return {"estimate": None, "se": None, "ci_low": None, "ci_high": None, "confidence": confidence}
    total = sum(s["frame"] for s in used)
    p = sum(s["frame"] * s["violations"] / s["tested"] for s in used) / total
    var = 0.0
    for s in used:
        m = s["tested"]
        if m > 1:
            p_h = s["violations"] / m
            w = s["frame"] / total
            var += w * w * max(0.0, 1 - m / s["frame"]) * p_h * (1 - p_h) / (m - 1)
    se = math.sqrt(var)
    half = z_for(confidence) * se
    return {"estimate": p, "se": se, "ci_low": max(0.0, p - half), "ci_high": min(1.0, p + half),
            "confidence": confidence}


def round_estimates(ws: Workspace, case: dict, *, confidence: float = 0.95,
                    approved_only: bool = False) -> dict | None:
    """Per round: the weighted estimate with its interval, its strata and their non-response;
    ``headline`` is the round the report leads with. None when the case has no stratified
    sample."""
    sample = _latest_stratified_sample(ws, case)
    if sample is None:
        return None
    drawn = {r["store_id"]: r for r in ws.db.query(
        "select store_id, stratum, stratum_frame, stratum_sample from sample_stores where sample_id = ?",
        [sample["id"]])}
    frame = {r["stratum"]: r["stratum_frame"] for r in drawn.values()}
    size = {r["stratum"]: r["stratum_sample"] for r in drawn.values()}
    cond, params = visit_filter(approved_only=approved_only)
    # Every attempt at a sampled store, in time order: the first completed one per round is the
    # store's result; the last attempt names why a store had none.
    attempts: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in ws.db.query(
            f"""select v.store_id, coalesce(v.round, 1) as rnd, coalesce(v.attempt, 'completed') as attempt,
                       v.outcome from visits v join sample_stores ss on ss.store_id = v.store_id and ss.sample_id = ?
                where v.case_id = ? and {cond} order by julianday(v.visited_at), v.rowid""",
            [sample["id"], case["id"], *params]):
        attempts[r["rnd"]][r["store_id"]].append((r["attempt"], r["outcome"]))
    rounds = []
    for rnd in sorted(attempts):
        per = {h: {"stratum": h, "frame": frame[h], "drawn": size[h], "tested": 0, "violations": 0,
                   "inconclusive": 0, "nonresponse": defaultdict(int)} for h in frame}
        for store_id, row in drawn.items():
            s = per[row["stratum"]]
            tries = attempts[rnd].get(store_id, [])
            first = next((outcome for attempt, outcome in tries if attempt == "completed"), None)
            if first in ("violation", "compliant"):
                s["tested"] += 1
                s["violations"] += first == "violation"
            elif first is not None:
                s["inconclusive"] += 1
            else:
                s["nonresponse"][tries[-1][0] if tries else "not_attempted"] += 1
        strata = [{**s, "nonresponse": dict(s["nonresponse"]),
                   "rate": s["violations"] / s["tested"] if s["tested"] else None,
                   "weight": s["frame"] / s["tested"] if s["tested"] else None}
                  for s in sorted(per.values(), key=lambda s: str(s["stratum"]))]
        rounds.append({"round": rnd, **estimate_proportion(strata, confidence),
                       "stores_tested": sum(s["tested"] for s in strata),
                       "strata": strata,
                       "strata_without_result": [s["stratum"] for s in strata if not s["tested"]],
                       "strata_with_one_result": [s["stratum"] for s in strata if s["tested"] == 1]})
    with_estimate = [r for r in rounds if r["estimate"] is not None]
    headline = max(with_estimate, key=lambda r: (r["stores_tested"], -r["round"])) if with_estimate else None
    return {"sample_id": sample["id"], "confidence": confidence, "rounds": rounds, "headline": headline}
