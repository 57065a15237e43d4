"""Scored protocols (issue 13): points, weights, N/A, fatal answers, new answer types and
derived values, checked against values computed by hand."""

from __future__ import annotations

import json
import math
import os
import tomllib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from investigate.numbers import stats
from investigate.protocol.parse import parse_protocol
from investigate.protocol.values import NA
from investigate.errors import InvalidInput, ProtocolError

SCORED = """
key = "scored-test"
title = "A scored test"
channel = "phone"

[[questions]]
key = "greeting"
type = "choice"
prompt = "Greeting"
choices = ["warm", "neutral", "curt"]
section = "courtesy"
points = { warm = 2, neutral = 1, curt = 0 }

[[questions]]
key = "asked_to_wait_politely"
type = "bool"
prompt = "Asked politely to wait?"
section = "courtesy"
weight = 2
na = true
points = { yes = 1, no = 0 }

[[questions]]
key = "friendliness"
type = "rating"
prompt = "Friendliness, 1 to 5"
min = 1
max = 5
section = "respect"

[[questions]]
key = "wrong_rights"
type = "bool"
prompt = "Did the agent misstate the customer's legal rights?"
section = "honesty"
points = { yes = 0, no = 1 }
fatal = { when = true, finding = { code = "FALSE_RIGHTS", title = "False statement about legal rights" } }

[[questions]]
key = "bill_admitted"
type = "bool"
prompt = "Was the wrong bill admitted?"
section = "honesty"
weight = 3
points = { yes = 1, no = 0 }

[[questions]]
key = "wait"
type = "duration"
prompt = "Time to reach a person"
section = "courtesy"
points = [ { max = 1, points = 2 }, { max = 5, points = 1 }, { points = 0 } ]

[[questions]]
key = "asked_at"
type = "datetime"
prompt = "Asked at"
required = false

[[questions]]
key = "answered_at"
type = "datetime"
prompt = "Answered at"
required = false

[[questions]]
key = "quoted"
type = "money"
prompt = "Price quoted"
required = false

[[questions]]
key = "charged"
type = "money"
prompt = "Price charged"
required = false

[[derived]]
key = "response_minutes"
minutes_between = ["asked_at", "answered_at"]

[[derived]]
key = "overcharge"
difference = ["charged", "quoted"]

[response]
minutes = "response_minutes"
open_since = "asked_at"

[promise_score]
section = "commitment"
points = { kept = 2, late = 1, broken = 0 }

[[rules]]
when = { overcharge = { gt = 0 } }
outcome = "violation"
finding = { code = "OVERCHARGED", title = "Charged more than quoted" }
"""


@pytest.fixture
def proto():
    return parse_protocol(tomllib.loads(SCORED), source="scored.toml")


def answers(proto, **raw):
    base = {"greeting": "warm", "asked_to_wait_politely": "yes", "friendliness": "4", "wrong_rights": "no",
            "bill_admitted": "yes", "wait": "45s"}
    base.update(raw)
    parsed = proto.validate_answers(base, tz=timezone.utc)
    return {**parsed, **proto.derive(parsed)}


def test_section_and_overall_scores_are_percent_of_points_possible(proto):
    a = answers(proto, greeting="neutral", asked_to_wait_politely="no", friendliness="4", wait="3 min")
    s = proto.score(a)
    # courtesy: greeting 1/2, wait-politely 0/(1×2), wait 3 min → band ≤5 → 1/2  ⇒ 2/6
    assert s["sections"]["courtesy"]["earned"] == 2 and s["sections"]["courtesy"]["possible"] == 6
    assert s["sections"]["courtesy"]["percent"] == pytest.approx(100 * 2 / 6)
    # respect: rating 4 on 1..5 scores 3 of 4
    assert s["sections"]["respect"]["percent"] == 75
    # honesty: rights 1/1 and bill admitted 3/3
    assert s["sections"]["honesty"]["percent"] == 100
    # overall: (2 + 3 + 4) / (6 + 4 + 4)
    assert s["overall"]["percent"] == pytest.approx(100 * 9 / 14)
    assert "commitment" not in s["sections"] or s["sections"]["commitment"]["percent"] is None


def test_na_leaves_the_denominator(proto):
    a = answers(proto, asked_to_wait_politely="n/a")
    assert a["asked_to_wait_politely"] == NA
    s = proto.score(a)
    # greeting 2/2 + wait 45 s → 2/2; the n/a question is gone from both sides
    assert s["sections"]["courtesy"]["possible"] == 4
    assert s["sections"]["courtesy"]["percent"] == 100


def test_a_fatal_answer_zeroes_its_section_and_makes_a_finding(proto):
    a = answers(proto, wrong_rights="yes")
    s = proto.score(a)
    assert s["sections"]["honesty"]["percent"] == 0
    assert s["sections"]["honesty"]["possible"] == 4
    assert s["fatal"] == ["honesty"]
    # the other sections are untouched
    assert s["sections"]["respect"]["percent"] == 75
    judged = proto.evaluate(a, visited_at=datetime(2026, 11, 1, tzinfo=timezone.utc))
    assert judged["outcome"] == "violation"
    assert [f["code"] for f in judged["findings"]] == ["FALSE_RIGHTS"]


def test_promises_score_commitment_and_overdue_counts_as_broken(proto):
    a = answers(proto)
    s = proto.score(a, ["kept", "late", "overdue", "pending"])
    # kept 2 + late 1 + overdue 0 of 3 × 2; pending is not yet due and not counted
    assert s["sections"]["commitment"]["earned"] == 3
    assert s["sections"]["commitment"]["possible"] == 6


def test_derived_values_response_time_and_overcharge(proto):
    a = answers(proto, asked_at="2026-11-02 09:00", answered_at="2026-11-03 10:30",
                quoted="39.90 EUR", charged="EUR 59,90")
    assert a["response_minutes"] == 25 * 60 + 30
    assert a["overcharge"] == {"amount": "20.00", "currency": "EUR"}
    judged = proto.evaluate(a, visited_at=datetime(2026, 11, 3, tzinfo=timezone.utc))
    assert judged["outcome"] == "violation"
    assert "OVERCHARGED" in [f["code"] for f in judged["findings"]]
    fair = answers(proto, quoted="39.90 EUR", charged="39.90 EUR")
    assert proto.evaluate(fair, visited_at=datetime(2026, 11, 3, tzinfo=timezone.utc))["outcome"] != "violation"


def test_an_open_question_is_a_censored_response_time(proto):
    a = answers(proto, asked_at="2026-11-02 09:00")
    now = datetime(2026, 11, 4, 9, 0, tzinfo=timezone.utc)
    assert proto.response_time(a, now=now) == (2 * 24 * 60, False)
    done = answers(proto, asked_at="2026-11-02 09:00", answered_at="2026-11-02 09:40")
    assert proto.response_time(done, now=now) == (40, True)


@pytest.mark.parametrize("raw, message", [
    ({"quoted": "39.90"}, "quoted: '39.90' has no currency"),
    ({"quoted": "39.90 XYZ"}, "not an ISO 4217 currency code"),
    ({"asked_at": "2026-11-02 10:00", "answered_at": "2026-11-02 09:00"}, "answered_at: 2026-11-02T09:00:00+00:00 is before asked_at"),
    ({"friendliness": "6"}, "friendliness: 6 is not on the scale 1–5"),
    ({"wait": "soon"}, "wait: 'soon' is not a duration"),
])
def test_bad_answers_are_one_line_errors_naming_the_answer(proto, raw, message):
    with pytest.raises(InvalidInput) as err:
        answers(proto, **raw)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("old, new, where", [
    ("points = { warm = 2, neutral = 1, curt = 0 }", "points = { warm = 2, neutral = 1 }",
     "questions[0].points: no points for 'curt'"),
    ("points = { warm = 2, neutral = 1, curt = 0 }", "points = { warm = 2, neutral = 1, curt = 0, rude = 0 }",
     "questions[0].points: 'rude' is not one of the choices"),
    ("weight = 2", "weight = -1", "questions[1].weight: -1 is below zero"),
    ('minutes_between = ["asked_at", "answered_at"]', 'minutes_between = ["asked_at", "replied_at"]',
     "derived[0].minutes_between: 'replied_at' is no question"),
    ('section = "respect"', 'section = "charm"', "questions[2].section: 'charm' is not one of"),
    ("points = { yes = 0, no = 1 }", "points = { yes = 0 }", "questions[3].points: expected points for yes and no"),
])
def test_a_bad_scored_protocol_names_the_file_and_the_key(old, new, where):
    assert old in SCORED
    with pytest.raises(ProtocolError) as err:
        parse_protocol(tomllib.loads(SCORED.replace(old, new, 1)), source="scored.toml")
    assert str(err.value).startswith("scored.toml: ")
    assert where in str(err.value)


def test_a_mean_score_below_the_minimum_n_has_no_interval():
    # Four bounded scores say too little about their spread ("55 [21–89]" was printed on four).
    r = stats.mean_interval([60, 80, 100, 40])
    assert (r["mean"], r["n"], r["ci_low"], r["ci_high"]) == (70, 4, None, None)


def test_the_score_interval_is_the_bootstrap_percentile_one_and_stays_on_the_scale():
    # 0, 0, 0, 0, 100: a resample's mean is 20·k with k ~ Binomial(5, 1/5). P(k = 0) = 0.328 is
    # above 2.5 %, so the lower bound is 0; P(k ≤ 2) = 0.942 < 97.5 % < P(k ≤ 3) = 0.993, so the
    # upper bound is 60. The t interval was 20 ± 2.776 · 44.7 / √5 = −35.5 … 75.5, clipped to 0.
    r = stats.mean_interval([0, 0, 0, 0, 100])
    assert (r["mean"], r["ci_low"], r["ci_high"]) == (20, 0, 60)
    r = stats.mean_interval([70, 75, 80, 85, 90])
    assert 70 <= r["ci_low"] < 80 < r["ci_high"] <= 90
    assert stats.mean_interval([90, 70, 85, 75, 80]) == r  # the same scores in any order, the same interval
    assert stats.mean_interval([50] * 6) == {"mean": 50, "ci_low": 50, "ci_high": 50, "n": 6}


def test_a_big_groups_score_interval_is_drawn_in_batches_with_the_same_result(monkeypatch):
    """Issue 30: all 9,999 resamples of 8,000 scores at once were 640 MB an array (a 100k-visit
    scorecard peaked at 4.2 GB). Drawn in batches the interval is the same, to the last bit."""
    import random

    rnd = random.Random(3)
    scores = [rnd.choice([0, 25, 50, 75, 100]) for _ in range(2_000)]
    whole = stats.mean_interval(scores)  # 2,000 × 9,999 cells: in 20 batches
    monkeypatch.setattr(stats, "BOOTSTRAP_CELLS", 10**9)  # one batch, as before
    assert stats.mean_interval(scores) == whole and whole["ci_low"] < whole["mean"] < whole["ci_high"]


def test_a_groups_scores_bootstrapped_together_get_each_the_interval_it_gets_alone():
    """Issue 30: a group's dimensions and overall score of one size are bootstrapped in one paired
    call, which draws each resample's positions once for all of them. Each figure must be the
    one scipy's bootstrap gives that sample alone, to the last bit, whatever the samples beside it
    (other sizes, too few, all alike, more than ``BOOTSTRAP_MAX_N``)."""
    import random

    import numpy as np
    from scipy.stats import bootstrap

    rnd = random.Random(5)
    scale = [0, 25, 50, 75, 100, 100 / 3]
    samples = [[rnd.choice(scale) for _ in range(n)] for n in (300, 7, 300, 40, 300, 7, 2_500)]
    samples += [[], [60, 80], [50] * 9]
    figures = stats.mean_intervals(samples)
    assert figures == [stats.mean_interval(values) for values in samples]
    for values, figure in zip(samples, figures):
        if len(values) < stats.MIN_SCORE_N or len(set(values)) == 1 or len(values) > stats.BOOTSTRAP_MAX_N:
            continue
        alone = bootstrap((np.sort(np.asarray(values, dtype=float)),), np.mean, method="percentile",
                          n_resamples=stats.BOOTSTRAP_RESAMPLES, rng=np.random.default_rng(stats.BOOTSTRAP_SEED))
        assert (figure["ci_low"], figure["ci_high"]) == (alone.confidence_interval.low, alone.confidence_interval.high)
        assert figure["mean"] == sum(values) / len(values) and figure["n"] == len(values)
    # the three samples of 300 differ, and so do their intervals: none was given another's
    assert len({(f["ci_low"], f["ci_high"]) for f, v in zip(figures, samples) if len(v) == 300}) == 3


@pytest.mark.parametrize("shape", ["piled at both ends", "spread"])
def test_above_two_thousand_scores_the_normal_interval_is_the_bootstraps(monkeypatch, shape):
    """Issue 30: a big group's interval is the normal one; there it is the bootstrap's to a tenth
    of a point (both computed on the same 2,001 scores), and it stays within the scores seen."""
    import random

    rnd = random.Random(7)
    scores = [rnd.choice([0, 0, 0, 100, 100] if shape.startswith("piled") else [20, 40, 55, 70, 90])
              for _ in range(2_001)]
    normal = stats.mean_interval(scores)
    monkeypatch.setattr(stats, "BOOTSTRAP_MAX_N", 10**9)
    booted = stats.mean_interval(scores)
    assert normal != booted  # two methods, not one asked twice
    assert abs(normal["ci_low"] - booted["ci_low"]) < 0.1 and abs(normal["ci_high"] - booted["ci_high"]) < 0.1
    assert min(scores) <= normal["ci_low"] < normal["mean"] < normal["ci_high"] <= max(scores)


def test_kaplan_meier_median_counts_open_replies_as_censored():
    # 10 ✓, 20 open, 30 ✓, 40 ✓, 50 ✓. By hand: S(10) = 4/5 = 0.8; 20 leaves the risk set;
    # S(30) = 0.8 × 2/3 = 0.533; S(40) = 0.533 × 1/2 = 0.267 ≤ 0.5 → median 40.
    r = stats.km_median([(10, True), (20, False), (30, True), (40, True), (50, True)])
    assert r["median"] == 40 and r["n"] == 5 and r["open"] == 1
    # Dropping the open reply would give a median of 30 + ... = 35 or 40 by another rule: the
    # open one must count; with it as a reply at 20 the median would be 30.
    assert stats.km_median([(10, True), (20, True), (30, True), (40, True), (50, True)])["median"] == 30


def test_kaplan_meier_curve_steps_down_at_each_response_and_marks_open_replies_where_they_were_seen():
    # The same five contacts, by hand: 1.0 → S(10) = 0.8 → S(30) = 0.533 → S(40) = 0.267 → S(50) = 0;
    # the open one is marked at 20 on the level it was last seen at, 0.8.
    curve = stats.km_curve([(10, True), (20, False), (30, True), (40, True), (50, True)])
    flat = lambda pairs: [v for pair in pairs for v in pair]  # noqa: E731
    assert flat(curve["steps"]) == pytest.approx(flat([(0, 1), (10, 0.8), (30, 0.8 * 2 / 3), (40, 0.8 / 3), (50, 0)]))
    assert flat(curve["censored"]) == pytest.approx([20, 0.8])
    # Nobody answered yet: the curve stays at everyone waiting, every contact marked.
    assert stats.km_curve([(5, False), (9, False)]) == {"steps": [(0, 1)], "censored": [(5, 1), (9, 1)]}


def test_a_response_chart_marks_open_replies_on_the_curve_and_counts_those_beyond_its_axis():
    from investigate.views.charts import response_panel

    # Four answers within five minutes, one contact open after four minutes, two after a week.
    times = [(1, True), (2, True), (3, True), (4, False), (5, True), (10080, False), (10081, False)]
    svg = response_panel("Phone", stats.km_curve(times), median=3, pct=lambda v, n: f"{v:.0%}", num=str,
                         unit_names={"minute": "minutes", "hour": "hours", "day": "days"},
                         median_label="median 3 min", open_label="%(n)s without a response")
    assert svg.count('stroke="#c0392b"') == 1  # the tick of the one open within the axis
    assert "2 without a response" in svg and "median 3 min" in svg
    assert ">minutes<" in svg  # a week of silence does not stretch five minutes of answers into days


def test_a_response_chart_draws_a_point_or_an_open_contacts_tick_once_where_many_fall_together():
    """Issue 30: 25,000 calls drew 2,500 open contacts' ticks on 316 places and repeated half the
    curve's points, each overdrawn (a 245 kB chart, its ticks' edges darkened by the overdraw)."""
    import re

    from investigate.views.charts import response_panel

    # 300 answers at 15 seconds (each its own time, under a millisecond apart), 100 calls open after
    # 30 seconds, 40 after a minute, one after a week (past the axis).
    times = ([(0.25 + i / 100_000, True) for i in range(300)] + [(0.5, False)] * 100 + [(1.0, False)] * 40
             + [(2.0 + i / 10, True) for i in range(20)] + [(10080, False)])
    svg = response_panel("Phone", stats.km_curve(times), median=0.3, pct=lambda v, n: f"{v:.0%}", num=str,
                         unit_names={"minute": "minutes", "hour": "hours", "day": "days"},
                         median_label="median", open_label="%(n)s without a response")
    ticks = re.findall(r'<line [^>]*stroke="#c0392b"[^>]*/>', svg)
    assert len(ticks) == len(set(ticks)) == 2  # at 30 seconds and at a minute, once each
    assert "1 without a response" in svg
    points = re.search(r'<polyline points="([^"]*)" fill="none" stroke="#2e6f9e"', svg).group(1).split()
    assert all(a != b for a, b in zip(points, points[1:]))
    assert len(points) > 20  # the steps are all there: 20 answers later, each a step of its own


def test_kaplan_meier_interval_matches_greenwood_log_log_by_hand():
    times = [(m, True) for m in range(10, 101, 10)]
    r = stats.km_median(times)
    assert r["median"] == 50

    def band(k):  # S after k events of 10, log-log band with Greenwood's variance
        s = (10 - k) / 10
        g = sum(1 / ((10 - j) * (9 - j)) for j in range(k))
        se = math.sqrt(g) / abs(math.log(s))
        z = 1.959963984540054
        return s ** math.exp(z * se), s ** math.exp(-z * se)

    low_at = next(10 * k for k in range(1, 10) if band(k)[0] <= 0.5)
    high_at = next(10 * k for k in range(1, 10) if band(k)[1] <= 0.5)
    assert (r["ci_low"], r["ci_high"]) == (low_at, high_at) == (10, 80)


def test_no_reply_within_n_days_counts_late_and_judgeable_open_ones():
    day = 1440
    times = [(0.5 * day, True), (3 * day, True), (8 * day, False), (1 * day, False)]
    r = stats.no_reply_within(times, 2 * day)
    # late: the 3-day reply and the 8-day open one; the 1-day open one cannot be judged yet
    assert (r["k"], r["n"]) == (2, 3)


def test_a_reply_still_missing_scores_its_last_band_once_no_better_band_is_possible():
    proto = parse_protocol(tomllib.loads('''
key = "mail"
title = "Mail"
[[questions]]
key = "sent_at"
type = "datetime"
prompt = "Sent"
[[questions]]
key = "replied_at"
type = "datetime"
prompt = "Replied"
required = false
[[derived]]
key = "reply_minutes"
minutes_between = ["sent_at", "replied_at"]
section = "commitment"
points = [ { max = 1440, points = 2 }, { max = 4320, points = 1 }, { points = 0 } ]
'''), source="mail.toml")
    a = proto.validate_answers({"sent_at": "2026-11-02 09:00"}, tz=timezone.utc)
    sent = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    # two days without a reply: "within a day" is gone, "within three days" still possible → not scored yet
    assert proto.score(a, now=sent + timedelta(days=2))["sections"]["commitment"]["percent"] is None
    # four days: only the last band is left, so it scores 0 of 2
    four = proto.score(a, now=sent + timedelta(days=4))["sections"]["commitment"]
    assert (four["earned"], four["possible"]) == (0, 2)
    # without a clock (now=None) nothing is assumed
    assert proto.score(a)["sections"]["commitment"]["percent"] is None


# ``Protocol.score`` against its plain definition, over random answers of every scored protocol.

def plain_earned(q, value):
    """A scored answer's points before weighting, as the module docstring defines them."""
    from investigate.protocol.values import is_na, money_amount

    if value is None or is_na(value):
        return None
    if isinstance(value, dict) and "amount" in value:
        value = float(money_amount(value))
    if q.type == "rating" and q.points is None:
        return float(value - q.min)
    if q.type == "bool":
        return float(q.points["yes" if value else "no"])
    if q.type == "choice":
        return float(q.points[value])
    if isinstance(q.points, list):
        return next((float(b["points"]) for b in q.points if "max" not in b or value <= b["max"]), None)
    return None


def plain_derive(p, answers):
    """The derived values, as the protocol declares them: each over the answers and the ones
    before it, a value that cannot be computed left out."""
    out = {}
    for d in p.derived:
        value = d.compute({**answers, **out})
        if value is not None:
            out[d.key] = value
    return out


def plain_score(p, answers, promise_states, now):
    """The score as the module docstring defines it, spelt plainly: each scored item's points
    (a running clock's outgrown band at ``now``) weighted into its section, a fatal answer zeroing
    its section, the promises in the promise section, percents of the points possible."""
    from investigate.protocol.values import condition_holds, is_na
    from investigate.vocabulary import SCORED_PROMISE_STATES

    values = {**answers, **plain_derive(p, answers)}
    sections = {s: {"earned": 0.0, "possible": 0.0, "fatal": False, "items": 0} for s in p.sections}
    for q in p.scored_items:
        value = values.get(q.key)
        got = plain_earned(q, value)
        if got is None and value is None and q.derived:
            got = p._outgrown(q, values, now)
        sec = sections[q.section]
        if q.fatal and value is not None and not is_na(value) and condition_holds(value, q.fatal["when"]):
            sec["fatal"] = True
        if got is None or q.weight == 0:
            continue
        sec["earned"] += got * q.weight
        sec["possible"] += q.possible * q.weight
        sec["items"] += 1
    if p.promise_score:
        spec, sec = p.promise_score, sections[p.promise_score["section"]]
        for state in promise_states:
            if state in SCORED_PROMISE_STATES:
                sec["earned"] += spec["points"]["broken" if state == "overdue" else state] * spec.get("weight", 1.0)
                sec["possible"] += max(spec["points"].values()) * spec.get("weight", 1.0)
                sec["items"] += 1
    for sec in sections.values():
        sec["earned"] = 0.0 if sec["fatal"] else sec["earned"]
        sec["percent"] = 100 * sec["earned"] / sec["possible"] if sec["possible"] else None
    earned, possible = sum(s["earned"] for s in sections.values()), sum(s["possible"] for s in sections.values())
    return {"sections": sections, "overall": {"earned": earned, "possible": possible,
                                              "percent": 100 * earned / possible if possible else None},
            "fatal": [n for n, sec in sections.items() if sec["fatal"]]}


def scored_protocols():
    from investigate.protocol.protocols import all_protocols, get_protocol

    # Its own: the test protocol, and one with other weights whose overcharge (money) scores in bands.
    banded = (SCORED.replace("weight = 3", "weight = 0").replace("weight = 2\n", "weight = 2.5\n")
              .replace('difference = ["charged", "quoted"]\n',
                       'difference = ["charged", "quoted"]\nsection = "honesty"\n'
                       'points = [ { max = 0, points = 2 }, { max = 10.5, points = 1 }, { points = 0 } ]\n'))
    assert banded.count("max = 10.5") == 1
    own = [parse_protocol(tomllib.loads(text), source="scored.toml") for text in (SCORED, banded)]
    return [p for p in (get_protocol(k) for k in all_protocols(None)) if p.scored] + own


@st.composite
def typed_answers(draw, p):
    """Answers as a reporter types them, parsed and derived as a visit stores them: any question
    answered or not (n/a where allowed), times in the order the questions come."""
    raw, at = {}, datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)
    for q in p.questions:
        at += timedelta(minutes=draw(st.integers(0, 4000)))
        if not q.required and not draw(st.booleans()):
            continue
        if q.na and draw(st.integers(0, 4)) == 0:
            raw[q.key] = NA
        elif q.type == "bool":
            raw[q.key] = draw(st.sampled_from(["yes", "no"]))
        elif q.type == "choice":
            raw[q.key] = draw(st.sampled_from(q.choices))
        elif q.type in ("rating", "int"):
            raw[q.key] = str(draw(st.integers(int(q.min if q.min is not None else 0), int(q.max if q.max is not None else 40))))
        elif q.type == "duration":
            raw[q.key] = f"{draw(st.integers(0, 3000))} min"
        elif q.type == "datetime":
            raw[q.key] = at.strftime("%Y-%m-%d %H:%M")
        elif q.type == "money":
            raw[q.key] = f"{draw(st.integers(0, 9000)) / 100:.2f} EUR"
        else:
            raw[q.key] = "ref 12"
    try:
        parsed = p.validate_answers(raw, tz=timezone.utc)
        # stored with their derived values, or (a visit of another tool's making) without
        return {**parsed, **p.derive(parsed)} if draw(st.booleans()) else parsed
    except InvalidInput:
        assume(False)


@settings(max_examples=max(300, int(os.environ.get("INVESTIGATE_SOAK_EXAMPLES", "0"))), deadline=None)
@given(data=st.data(), p=st.sampled_from(scored_protocols()))
def test_a_score_is_its_plain_definition_at_any_time_with_any_promises(data, p):
    answers = data.draw(typed_answers(p))
    states = data.draw(st.lists(st.sampled_from(["kept", "late", "broken", "overdue", "pending"]), max_size=3))
    now = datetime(2026, 10, 1, tzinfo=timezone.utc) + timedelta(minutes=data.draw(st.integers(0, 600_000)))
    before = dict(answers)
    assert p.derive(answers) == plain_derive(p, before) and answers == before
    assert p.values_of(answers) == {**before, **plain_derive(p, before)} and answers == before  # and left unchanged
    for q in p.scored_items:
        assert q.earned(answers.get(q.key)) == plain_earned(q, answers.get(q.key))
    assert p.score(answers, states, now=now) == plain_score(p, answers, states, now)
    # the key order, which a JSON output prints
    assert json.dumps(p.score(answers, states, now=now)) == json.dumps(plain_score(p, answers, states, now))


@settings(max_examples=max(300, int(os.environ.get("INVESTIGATE_SOAK_EXAMPLES", "0"))), deadline=None)
@given(data=st.data(), p=st.sampled_from([p for p in scored_protocols() if p.clock_items]))
def test_a_score_moves_on_its_own_only_at_the_moments_the_protocol_names(data, p):
    """Issue 30: a reader that keeps scores (the editors' canned scorecard) keeps them until the
    next of ``score_turns_at``. Between two moments of it a score is the same at any time; at
    each, it changes (a running reply clock scores its last band from that instant on)."""
    from investigate.clock import TICK

    answers = data.draw(typed_answers(p))
    if data.draw(st.booleans()):  # times without an offset (another tool's export): read as UTC
        answers = {k: v.removesuffix("+00:00") if isinstance(v, str) else v for k, v in answers.items()}
    values = p.values_of(answers)
    moments = sorted(p.score_turns_at(values))
    running = [key for key, (q, spec) in p.clock_items.items()
               if values.get(spec.args[0]) and values.get(spec.args[1]) is None and values.get(key) is None]
    assert len(moments) == len(running)
    for m in moments:
        m = m.astimezone(timezone.utc)  # as the library's clock reads now
        assert p.score(answers, now=m - TICK) != p.score(answers, now=m)
    start = datetime(2026, 9, 1, tzinfo=timezone.utc) + timedelta(seconds=data.draw(st.integers(0, 40_000_000)))
    later = start + timedelta(seconds=data.draw(st.integers(0, 20_000_000)))
    if not any(start < m <= later for m in moments):
        assert p.score(answers, now=start) == p.score(answers, now=later)
