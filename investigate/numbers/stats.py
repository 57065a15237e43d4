"""Rates with confidence intervals: the one place where the project's numbers are computed.

The CLI's ``stats``, the Datasette canned queries and the PDF report all ask this module, so
the same visit set always gives the same figure. Definitions:

- A *violation rate* is violations / (violations + compliant) over completed undercover
  visits. Inconclusive visits and attempts that could not be made are counted apart and never
  as compliant (Synar practice).
- Intervals are Wilson score intervals (better than the normal approximation for small n and
  rates near 0 or 1; Brown, Cai & DasGupta 2001).
"""

from __future__ import annotations

import bisect
import math
from datetime import datetime, timedelta, timezone
from statistics import NormalDist

from ..clock import TICK
from .clock import promise_state
from ..store.workspace import Workspace
from ..vocabulary import VOIDED


def z_for(confidence: float = 0.95, *, two_sided: bool = True) -> float:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    tail = (1 - confidence) / 2 if two_sided else 1 - confidence
    return NormalDist().inv_cdf(1 - tail)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion; (None, None) when n is 0."""
    if n <= 0:
        return None, None
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} outside 0..{n}")
    z = z_for(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0 and n the bound is exactly 0 or 1; rounding would leave 2.8e-17.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def rate(violations: int, compliant: int, confidence: float = 0.95) -> dict:
    """A rate and its interval as a plain dict: what every consumer prints."""
    n = violations + compliant
    lo, hi = wilson_interval(violations, n, confidence)
    return {
        "eligible": n,
        "violations": violations,
        "compliant": compliant,
        "rate": violations / n if n else None,
        "ci_low": lo,
        "ci_high": hi,
        "confidence": confidence,
    }


#: Groupings ``case_rates`` knows, as SQL expressions over ``visits v`` joined to ``stores s``.
#: Hour and weekday are local time at the store: read from the ISO string, not converted to UTC.
GROUPINGS = {
    None: "'all'",
    "chain": "coalesce(s.chain, '(independent)')",
    "channel": "s.channel",
    "company": "coalesce((select c.name from companies c where c.id = s.company_id), s.chain, s.name)",
    "district": "coalesce(s.district, '(unknown)')",
    "city": "coalesce(s.city, '(unknown)')",
    "round": "coalesce(v.round, 1)",
    "tester_age": "coalesce(cast(v.tester_age as text), '(none)')",
    "id_carried": "case json_extract(v.answers, '$.id_carried') when 1 then 'yes' when 0 then 'no' else '(not asked)' end",
    "hour": "substr(v.visited_at, 12, 2)",
    "weekday": "strftime('%w', substr(v.visited_at, 1, 10))",
}
WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


#: Review states a visit may have and still be counted. A rejected visit is in none of them:
#: it never counts, in any figure, for anyone (editors' working figures included).
COUNTABLE_STATES = ("received", "has_issues", "approved")
#: Counted in the editors' working figures, but provisional until an editor approves them.
PROVISIONAL_STATES = ("received", "has_issues")


#: Review states that never count, in any figure, for anyone: rejected by an editor, or
#: voided as recorded by mistake.
UNCOUNTED_STATES = ("rejected", VOIDED)


def counted_state_sql(alias: str = "v") -> str:
    """The SQL condition that ``alias``'s review state may count (NULL, from before review
    states, is 'received'): the one spelling of "not rejected, not voided"."""
    return f"coalesce({alias}.review_state, 'received') not in ({', '.join(repr(s) for s in UNCOUNTED_STATES)})"


def visit_filter(*, kind: str | None = "undercover", approved_only: bool = False) -> tuple[str, list]:
    """The SQL condition over ``visits v`` for a set of visits that may be counted.

    Which set an output uses (approved only for anything public, every countable visit for
    the editors' working figures) is the publication policy's decision
    (``investigate.policy.counting``); this function only spells it in SQL, and leaves
    rejected and voided visits out whatever it is asked."""
    where, params = [], []
    if kind:
        where.append("v.kind = ?")
        params.append(kind)
    if approved_only:
        where.append("v.review_state = 'approved'")
    else:
        where.append(counted_state_sql("v"))
    return " and ".join(where), params


#: Groupings by a column of the store, and by a column the visit tallies hold themselves.
STORE_GROUPINGS = {"chain", "district", "city", "channel", "company"}
TALLIED_GROUPINGS = {None, "round"}


def case_rates(ws: Workspace, case: dict, *, by: str | None = None, confidence: float = 0.95,
               kind: str | None = "undercover", approved_only: bool = False, now: datetime | None = None) -> list[dict]:
    """Per group: visits, violations, compliant, inconclusive, not completed, the rate and its
    interval. ``by=None`` gives one row for the whole case.

    The promise clock: a visit whose promise is past due and not marked counts as a violation
    from that moment (as it would once marked broken), without anyone writing it.

    The whole case, a round and groupings by a store column are counted from the visit tallies
    (a store column per store first, joining the stores afterwards): a million visits of twenty
    thousand stores make twenty thousand lookups, not a million."""
    if by not in GROUPINGS:
        raise ValueError(f"cannot group by {by!r} (known: {', '.join(k for k in GROUPINGS if k)})")
    cond, params = visit_filter(kind=kind, approved_only=approved_only)
    counts = """count(*) as visits,
          sum(v.outcome = 'violation') as violations,
          sum(v.outcome = 'compliant') as compliant,
          sum(v.outcome = 'inconclusive') as inconclusive,
          sum(v.outcome = 'not_completed') as not_completed,
          sum(coalesce(v.review_state, 'received') != 'approved') as provisional"""
    if by in STORE_GROUPINGS or by in TALLIED_GROUPINGS:
        # From the visit tallies (kept by triggers on visits: one row per case, kind, store,
        # outcome, review state, round and attempt): the same counts as grouping the visits, read
        # from a few rows per store instead of every visit (issue 30: the editors' desk per case).
        tallied = """sum(v.visits) as visits,
          sum(case when v.outcome = 'violation' then v.visits else 0 end) as violations,
          sum(case when v.outcome = 'compliant' then v.visits else 0 end) as compliant,
          sum(case when v.outcome = 'inconclusive' then v.visits else 0 end) as inconclusive,
          sum(case when v.outcome = 'not_completed' then v.visits else 0 end) as not_completed,
          sum(case when v.review_state != 'approved' then v.visits else 0 end) as provisional"""
        # The whole case (by=None) or a round needs no store: one sum over its case tallies
        # (grouped, so that a case without visits gives no row, as a grouping does). A store
        # column counts per store first and joins the stores afterwards.
        sql = (f"select {GROUPINGS[by]} as grp, {tallied} from case_tallies v where v.case_id = ? and {cond} "
               "group by grp order by grp") if by in TALLIED_GROUPINGS else f"""
            with per_store as (
              select v.store_id, {tallied} from visit_tallies v
              where v.case_id = ? and {cond} group by v.store_id
            )
            select {GROUPINGS[by]} as grp, sum(p.visits) as visits, sum(p.violations) as violations,
              sum(p.compliant) as compliant, sum(p.inconclusive) as inconclusive,
              sum(p.not_completed) as not_completed, sum(p.provisional) as provisional
            from per_store p join stores s on s.id = p.store_id
            group by grp order by grp
        """
    else:
        sql = f"""
            select {GROUPINGS[by]} as grp, {counts}
            from visits v where v.case_id = ? and {cond}
            group by grp order by grp
        """
    overdue = _overdue_outcomes(ws, case, by, cond, params, now or ws.now())
    out = []
    for row in ws.db.query(sql, [case["id"], *params]):
        row = dict(row)
        for outcome, n in overdue.get(row["grp"], {}).items():
            row[outcome] = (row[outcome] or 0) - n
            row["violations"] = (row["violations"] or 0) + n
        r = rate(row["violations"] or 0, row["compliant"] or 0, confidence)
        group = row["grp"]
        if by == "weekday" and group is not None:
            group = f"{int(group)} {WEEKDAYS[int(group)]}"
        out.append({
            "group": group,
            "visits": row["visits"],
            # Completed tests (every outcome but not_completed): what a small cell is counted in.
            "completed": row["visits"] - (row["not_completed"] or 0),
            "inconclusive": row["inconclusive"] or 0,
            "not_completed": row["not_completed"] or 0,
            # Visits in this figure that no editor has approved yet: a working figure, not a
            # public one, as long as this is above 0.
            "provisional": row["provisional"] or 0,
            **r,
        })
    return out


def _overdue_outcomes(ws: Workspace, case: dict, by: str | None, cond: str, params: list, now: datetime) -> dict:
    """Per group, how many compliant or inconclusive visits have an overdue, unmarked promise:
    the promise clock moves them to the violations. Few rows, so counted apart from the index."""
    if not ws.db.execute("select 1 from promises p join visits v on v.id = p.visit_id where v.case_id = ? "
                         "and p.kept is null limit 1", [case["id"]]).fetchone():
        return {}
    out: dict = {}
    # From the overdue promises (index on kept, due_at) to their visits, each visit once.
    for row in ws.db.query(
            f"""select {GROUPINGS[by]} as grp, v.outcome, count(*) as n
                from visits v {"" if by is None else "join stores s on s.id = v.store_id"}
                where v.id in (select p.visit_id from promises p where p.kept is null
                               and julianday(p.due_at) < julianday(?))
                  and v.case_id = ? and {cond} and v.outcome in ('compliant', 'inconclusive')
                group by grp, v.outcome""", [now.isoformat(), case["id"], *params]):
        out.setdefault(row["grp"], {})[row["outcome"]] = row["n"]
    return out


def promise_rates(ws: Workspace, case: dict, *, confidence: float = 0.95, now=None,
                  approved_only: bool = False) -> list[dict]:
    """Per kind of promise (Callback, Refund…): how many were kept among those already due.
    A promise still open after its due time counts as not kept; one not yet due is left out."""
    now = now or ws.now()
    cond, params = visit_filter(kind=None, approved_only=approved_only)
    rows = list(ws.db.query(
        # CROSS JOIN: from the promises (fewer than the visits; none in a tobacco case) to their
        # visits, not every visit of the case probing for promises (0.6 s at a million visits).
        "select p.what, p.kept, p.kept_at, p.due_at from promises p cross join visits v on v.id = p.visit_id "
        f"where v.case_id = ? and {cond}", [case["id"], *params]))
    groups: dict[str, dict] = {}
    for r in rows:
        g = groups.setdefault(r["what"], {"what": r["what"], "promises": 0, "kept": 0, "broken": 0, "overdue": 0,
                                          "not_yet_due": 0, "late": 0})
        g["promises"] += 1
        state = promise_state(r, now)
        g["not_yet_due" if state == "pending" else state] += 1
    out = []
    for g in groups.values():
        due = g["kept"] + g["broken"] + g["overdue"] + g["late"]
        lo, hi = wilson_interval(g["kept"], due, confidence)
        out.append({**g, "due": due, "kept_rate": g["kept"] / due if due else None, "ci_low": lo, "ci_high": hi})
    return sorted(out, key=lambda g: g["what"])


#: Below this many tests a group's mean score is printed without an interval: four bounded
#: scores say too little about their spread for any interval to be honest.
MIN_SCORE_N = 5
#: Resamples of the bootstrap, and its fixed seed: the same scores always give the same interval
#: (a report rendered twice is the same version).
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 25
BOOTSTRAP_CELLS = 1_000_000
BOOTSTRAP_MAX_N = 2_000


def mean_interval(values: list[float], confidence: float = 0.95, *, min_n: int = MIN_SCORE_N) -> dict:
    """Mean of visit scores with a bootstrap percentile interval.

    Scores are percentages of points possible, one per visit, bounded by 0 and 100 and often
    piled up at either end: a Student-t interval on five of them runs past the scale and had to
    be clipped ("55 [21–89]" on four tests). The percentile bootstrap (scipy.stats.bootstrap,
    ``BOOTSTRAP_RESAMPLES`` resamples, a fixed seed) needs no normal shape and stays within the
    scores seen. Fewer than ``min_n`` scores get a mean and no interval; none get neither.

    Above ``BOOTSTRAP_MAX_N`` scores the interval is the normal one (mean ± z · s / √n, within the
    scores seen): there the bootstrap's means are as normal as a histogram shows (the two agree
    to a tenth of a point, ``test_scoring``), and drawing 9,999 resamples of each company's
    8,000 scores took a 100,000-visit scorecard half a minute."""
    return mean_intervals([values], confidence, min_n=min_n)[0]


def mean_intervals(samples: list[list[float]], confidence: float = 0.95, *, min_n: int = MIN_SCORE_N) -> list[dict]:
    """``mean_interval`` of each of several samples (a group's dimensions and its overall score),
    the same figures to the last digit.

    Samples of one size are bootstrapped in one call (``paired``): each resample then draws its
    positions once for all of them, as each one alone draws the same positions from the same
    seed. Drawing positions was over a third of a scorecard's bootstrap (a 10,000-test scorecard
    by company and channel spent three of its four seconds bootstrapping, then two)."""
    import numpy as np
    from scipy.stats import bootstrap

    out: list[dict] = []
    sizes: dict[int, list[int]] = {}  # n → the samples of that size the bootstrap must answer
    for k, values in enumerate(samples):
        figure = _interval_without_bootstrap(values, confidence, min_n)
        out.append(figure)
        if figure is None:
            sizes.setdefault(len(values), []).append(k)
    for n, ks in sizes.items():
        # Sorted: the resamples draw positions, so the same scores in another order (Datasette's SQL
        # aggregate, the scorecard) would otherwise give another interval.
        # In batches of at most BOOTSTRAP_CELLS drawn scores: all resamples at once are an array of
        # 9,999 × n (8,000 scores of one company: 640 MB a copy, a scorecard of 100,000 visits
        # peaked at 4.2 GB). The same generator drawn in batches gives the same interval.
        data = tuple(np.sort(np.asarray(samples[k], dtype=float)) for k in ks)
        # A sample alone is drawn from directly: paired, its positions would be drawn and then
        # looked up, a second gather of 9,999 × n values.
        result = bootstrap(data, _means if len(ks) > 1 else np.mean, paired=len(ks) > 1,
                           confidence_level=confidence, n_resamples=BOOTSTRAP_RESAMPLES, method="percentile",
                           rng=np.random.default_rng(BOOTSTRAP_SEED), batch=max(1, BOOTSTRAP_CELLS // (n * len(ks))))
        lows, highs = np.atleast_1d(result.confidence_interval.low), np.atleast_1d(result.confidence_interval.high)
        for k, low, high in zip(ks, lows, highs):
            out[k] = {"mean": sum(samples[k]) / n, "ci_low": float(low), "ci_high": float(high), "n": n}
    return out


def _means(*samples, axis: int):
    """The bootstrap's statistic for ``mean_intervals``: each sample's mean, along ``axis``."""
    import numpy as np

    return np.stack([np.mean(sample, axis=axis) for sample in samples])


def _interval_without_bootstrap(values: list[float], confidence: float, min_n: int) -> dict | None:
    """``mean_interval`` where it needs no bootstrap (no scores, too few, all alike, or more than
    ``BOOTSTRAP_MAX_N``); None where it does."""
    n = len(values)
    if n == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    mean = sum(values) / n
    if n < min_n:
        return {"mean": mean, "ci_low": None, "ci_high": None, "n": n}
    if min(values) == max(values):  # every resample has the same mean
        return {"mean": mean, "ci_low": float(values[0]), "ci_high": float(values[0]), "n": n}
    if n > BOOTSTRAP_MAX_N:
        import numpy as np
        from scipy.stats import norm

        sd = float(np.std(np.asarray(values, dtype=float), ddof=1))
        low, high = norm.interval(confidence, loc=mean, scale=sd / n ** 0.5)
        return {"mean": mean, "ci_low": max(float(low), float(min(values))),
                "ci_high": min(float(high), float(max(values))), "n": n}
    return None


def km_curve(times: list[tuple[float, bool]]) -> dict:
    """The Kaplan–Meier curve of ``times`` ((minutes, observed) pairs, as ``km_median``) for a
    chart: ``steps``, (minutes, share still waiting) from (0, 1) at each response; ``censored``,
    (minutes, share still waiting then) for each contact still open, where a chart marks it.
    The estimate is scipy's (``ecdf`` over ``CensoredData``), never redrawn by hand."""
    from scipy.stats import CensoredData, ecdf

    observed = [m for m, seen in times if seen]
    censored = [m for m, seen in times if not seen]
    if not observed:  # no response yet: everyone is still waiting
        return {"steps": [(0.0, 1.0)], "censored": [(float(m), 1.0) for m in sorted(censored)]}
    sf = ecdf(CensoredData(uncensored=observed, right=censored)).sf
    # (The set of responses built once, and the open contacts' shares asked in one call: built
    # for each step, and asked one at a time, 10,000 distinct times took 3.4 s.)
    responded = set(observed)
    steps = [(0.0, 1.0)] + [(float(x), float(s)) for x, s in zip(sf.quantiles, sf.probabilities) if x in responded]
    still_open = sorted(censored)
    return {"steps": steps, "censored": [(float(m), float(s)) for m, s in zip(still_open, sf.evaluate(still_open))]}


def km_turns(fixed: list[float], running: list[datetime], now: datetime) -> list[datetime]:
    """The moments around ``now`` at which the Kaplan–Meier figures of a set of times may change
    with the clock alone. A contact still open (its clock started at one of ``running``) has
    waited longer every minute (``Protocol.response_time``); the estimate reads such a time only
    against the others (who is still at risk at each reply, which times are distinct), so it can
    change only as that wait passes one of the ``fixed`` times (replies, and contacts closed
    unanswered): two open contacts never pass each other. For each running clock, the passings
    just before and just after ``now``, each as a window of a microsecond either side of the
    instant the two times are equal. ``span_around(km_turns(…), now)`` is a span in which
    ``km_median`` of those times gives the same figures (and ``km_curve`` the same steps). A
    start without an offset is UTC, as the library's clock reads it."""
    fixed = sorted(set(fixed))
    moments: list[datetime] = []
    if not fixed:
        return moments
    for start in running:
        start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
        waited = max(0.0, (now - start).total_seconds() / 60)
        j = bisect.bisect_left(fixed, waited)
        for t in fixed[max(0, j - 2):j + 2]:
            passing = start + timedelta(minutes=t)
            moments += [passing - TICK, passing + TICK]
    return moments


def km_median(times: list[tuple[float, bool]], confidence: float = 0.95) -> dict:
    """Median time to a reply by Kaplan–Meier, with replies still open as right-censored times.

    ``times`` are (minutes, observed) pairs; observed False means no reply yet after that long.
    The estimate is scipy.stats.ecdf over CensoredData; the median is the first time the
    survival curve reaches 0.5 or below, and its interval the times where the curve's pointwise
    confidence band (log-log, as survival packages default to) reaches 0.5 — None where it
    never does within the data (then more time is needed to say). ``open`` counts the censored."""
    from scipy.stats import CensoredData, ecdf

    n = len(times)
    observed = [m for m, seen in times if seen]
    censored = [m for m, seen in times if not seen]
    out = {"median": None, "ci_low": None, "ci_high": None, "n": n, "open": len(censored)}
    if not observed:
        return out
    result = ecdf(CensoredData(uncensored=observed, right=censored))
    sf = result.sf
    q = sf.quantiles

    def first_at_or_below(values) -> float | None:
        for x, s in zip(q, values):
            if s <= 0.5 + 1e-12:
                return float(x)
        return None

    out["median"] = first_at_or_below(sf.probabilities)
    if len(q) > 1 or out["median"] is not None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # log-log is undefined where S is 0 or 1
            band = sf.confidence_interval(confidence_level=confidence, method="log-log")
        low_curve = band.low.evaluate(q)  # at every step at once: one call a step was 0.2 s at 10,000
        high_curve = band.high.evaluate(q)
        # The lower band reaches 0.5 first: it bounds the median from below.
        out["ci_low"] = first_at_or_below(low_curve)
        out["ci_high"] = first_at_or_below(high_curve)
    return out


def no_reply_within(times: list[tuple[float, bool]], minutes: float) -> dict:
    """How many waited longer than ``minutes`` for a reply (answered later, or still open
    and already past it); open ones not yet that old cannot be judged and are left out."""
    judged = [(m, seen) for m, seen in times if seen or m > minutes]
    late = sum(1 for m, _ in judged if m > minutes)
    lo, hi = wilson_interval(late, len(judged))
    return {"k": late, "n": len(judged), "rate": late / len(judged) if judged else None, "ci_low": lo, "ci_high": hi,
            "minutes": minutes}
