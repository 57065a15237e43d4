"""The weighted (Synar-style) estimate by the survey's design, held to samplics, an
independent implementation of design-based estimation (Taylor linearisation with strata and a
finite-population correction), and to the design's unit: the store, one test per round."""

from __future__ import annotations

import random
import warnings
from datetime import timedelta

import numpy as np
import pytest

from investigate.cases import review, samples, stores, testers, visits
from investigate.numbers.design import estimate_proportion, round_estimates

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # samplics warns that it is archived; its estimator is what we compare with
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam


def samplics_estimate(strata: list[dict]) -> tuple[float, float]:
    """Mean and standard error of the store-level 0/1 results by samplics: weight N_h / m_h,
    fpc 1 − m_h / N_h, every store its own primary unit."""
    # samplics divides by the estimate (its coefficient of variation): with no violation at all,
    # ask it for the compliant share 1 − p, which has the same standard error.
    flip = not any(s["violations"] for s in strata)
    y, stratum, weight, fpc = [], [], [], {}
    for s in strata:
        m = s["tested"]
        y += [float(not flip)] * s["violations"] + [float(flip)] * (m - s["violations"])
        stratum += [s["stratum"]] * m
        weight += [s["frame"] / m] * m
        fpc[s["stratum"]] = 1 - m / s["frame"]
    est = TaylorEstimator(PopParam.mean)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.estimate(y=np.array(y), samp_weight=np.array(weight), stratum=np.array(stratum),
                     psu=np.arange(len(y)), fpc=fpc)
    point = float(est.point_est)
    return (1 - point if flip else point), float(est.stderror)


def random_design(rng: random.Random) -> list[dict]:
    strata = []
    for h in range(rng.randint(1, 6)):
        frame = rng.randint(2, 300)
        tested = rng.randint(2, frame)
        strata.append({"stratum": f"S{h}", "frame": frame, "tested": tested,
                       "violations": rng.randint(0, tested)})
    return strata


def test_the_weighted_estimate_equals_samplics_on_200_random_designs():
    rng = random.Random(25)
    for _ in range(200):
        strata = random_design(rng)
        ours = estimate_proportion(strata)
        point, se = samplics_estimate(strata)
        assert ours["estimate"] == pytest.approx(point, abs=1e-9), strata
        assert ours["se"] == pytest.approx(se, abs=1e-9), strata


@pytest.fixture
def sampled(workspace, frame_case):
    """The frame's stratified sample of ten (conftest: 12 North, 8 South), one tester."""
    drawn = samples.draw_sample(workspace, frame_case, n=10, strata="district", seed=1)["stores"]
    tester = testers.add_tester(workspace, code="T-1", birth_month="2010-03", consent=True)
    return {"case": frame_case, "drawn": drawn, "tester": tester}


def record(ws, sampled, store, *, sold, minutes, round=1, attempt="completed"):
    answers = {"product": "cigarettes", "sale": sold, "id_check": "none", "id_carried": True}
    return visits.record_visit(ws, case=sampled["case"], store=stores.get_store(ws, store["id"]),
                               tester=sampled["tester"], answers=answers if attempt == "completed" else {},
                               attempt=attempt, round=round,
                               visited_at=ws.now() - timedelta(days=5) + timedelta(minutes=minutes))["visit"]


def test_a_store_tested_twice_in_a_round_counts_once_by_its_first_test_and_rounds_stay_apart(workspace, sampled):
    north = [s for s in sampled["drawn"] if s["stratum"] == "North"]
    south = [s for s in sampled["drawn"] if s["stratum"] == "South"]
    expected_round1 = {"North": [], "South": []}
    for i, s in enumerate(north):
        sold = i < 2
        record(workspace, sampled, s, sold=sold, minutes=i)
        expected_round1["North"].append(sold)
        # A second test the same round (sold every time) must not count: the first one is the result.
        record(workspace, sampled, s, sold=True, minutes=100 + i)
    closed = south[0]
    record(workspace, sampled, closed, sold=False, minutes=200, attempt="closed")
    for i, s in enumerate(south[1:]):
        record(workspace, sampled, s, sold=i == 0, minutes=300 + i)
        expected_round1["South"].append(i == 0)
    # A later round: only two stores retested, both sold; it is its own estimate.
    record(workspace, sampled, north[0], sold=True, minutes=400, round=2)
    record(workspace, sampled, north[1], sold=True, minutes=401, round=2)
    rejected = record(workspace, sampled, south[1], sold=True, minutes=402, round=2)
    review.review_visit(workspace, rejected, "reject", comment="the tester's ID was shown")

    est = round_estimates(workspace, sampled["case"])
    by_round = {r["round"]: r for r in est["rounds"]}
    frame = {"North": 12, "South": 8}
    strata = [{"stratum": h, "frame": frame[h], "tested": len(v), "violations": sum(v)}
              for h, v in expected_round1.items()]
    point, se = samplics_estimate(strata)
    assert by_round[1]["estimate"] == pytest.approx(point, abs=1e-9)
    assert by_round[1]["se"] == pytest.approx(se, abs=1e-9)
    assert by_round[1]["stores_tested"] == 9
    south1 = next(s for s in by_round[1]["strata"] if s["stratum"] == "South")
    assert (south1["drawn"], south1["tested"], south1["nonresponse"]) == (4, 3, {"closed": 1})
    # Round 2: two North stores, both sold; South's only test was rejected, so it has no result.
    assert by_round[2]["stores_tested"] == 2 and by_round[2]["estimate"] == pytest.approx(1.0)
    assert by_round[2]["strata_without_result"] == ["South"]
    # The headline is the sample's own round, and says which it is.
    assert est["headline"]["round"] == 1


def test_a_case_without_a_stratified_sample_has_no_weighted_estimate(workspace, tobacco_case):
    assert round_estimates(workspace, tobacco_case["case"]) is None
