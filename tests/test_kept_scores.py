"""Issue 30: a test's score is kept beside its visit where no clock and no promise can change it,
and a scorecard from the kept scores is the scorecard scored afresh."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from investigate.cases.visits import judge_answers
from investigate.errors import InvalidInput
from investigate.protocol.parse import protocol_from_text
from investigate.protocol.protocols import BUILTIN_DIR, all_protocols, get_protocol
from investigate.protocol.values import NA

# The built-ins, and an e-mail test whose scored reply time runs without a response clock: in the
# built-in one the two run together, so one could stand in for the other unseen.
_EMAIL = (BUILTIN_DIR / "email-webform.toml").read_text(encoding="utf-8")
assert 'response = { minutes = "first_reply_minutes", open_since = "sent_at" }\n' in _EMAIL
SCORED = [p for p in (get_protocol(k) for k in all_protocols(None)) if p.scored] + [protocol_from_text(
    _EMAIL.replace('response = { minutes = "first_reply_minutes", open_since = "sent_at" }\n', ""), source="test")]
BASE = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)
PROMISE_STATES = ("kept", "late", "broken", "overdue", "pending")
SOAK = int(os.environ.get("INVESTIGATE_SOAK_EXAMPLES", "0"))


@st.composite
def raw_answers(draw, protocol):
    """Answers as a reporter types them, each question answered or not: times in the order the
    questions come (a reply after the mail it answers), n/a where a question allows it."""
    answers, at = {}, BASE
    for q in protocol.questions:
        at += timedelta(minutes=draw(st.integers(0, 6000)))
        if not q.required and not draw(st.booleans()):
            continue
        if q.na and draw(st.integers(0, 5)) == 0:
            answers[q.key] = NA
            continue
        if q.type == "bool":
            answers[q.key] = draw(st.sampled_from(["yes", "no"]))
        elif q.type == "choice":
            answers[q.key] = draw(st.sampled_from(q.choices))
        elif q.type in ("rating", "int"):
            answers[q.key] = str(draw(st.integers(int(q.min if q.min is not None else 0),
                                                  int(q.max if q.max is not None else 50))))
        elif q.type == "duration":
            answers[q.key] = f"{draw(st.integers(0, 3000))} min"
        elif q.type == "datetime":
            answers[q.key] = at.strftime("%Y-%m-%d %H:%M")
        elif q.type == "money":
            answers[q.key] = f"{draw(st.integers(0, 20000)) / 100:.2f} EUR"
        else:
            answers[q.key] = draw(st.sampled_from(["ref 12", "Frau K."]))
    return answers


@settings(max_examples=max(300, SOAK), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), protocol=st.sampled_from(SCORED))
def test_a_kept_score_scores_as_the_test_scored_afresh_at_any_time_with_any_promises(data, protocol):
    try:
        text, _ = judge_answers(protocol, data.draw(raw_answers(protocol)), attempt="completed", visited_at=BASE,
                                tz=timezone.utc)
    except InvalidInput:
        assume(False)
    answers = json.loads(text)
    kept = protocol.kept_score(answers)
    running = protocol.clock_running(protocol.values_of(answers))
    assert (kept is None) == running
    if kept is None:
        return
    kept = json.loads(json.dumps(kept))  # as the workspace stores it
    for _ in range(3):
        now = BASE + timedelta(minutes=data.draw(st.integers(0, 60 * 24 * 400)))
        states = data.draw(st.lists(st.sampled_from(PROMISE_STATES), max_size=3))
        assert protocol.score_of_points(kept["points"], states) == protocol.score(answers, states, now=now)
        response = protocol.response_time(answers, now=now)
        assert (tuple(kept["response"]) if kept["response"] else None) == response
        assert kept["overcharge"] == protocol.overcharge_of(answers)
        assert kept["price"] == protocol.price_of(protocol.values_of(answers))


@pytest.mark.parametrize("protocol", [p for p in SCORED if p.key in ("email-webform", "billing-dispute") and p.response],
                         ids=lambda p: p.key)
def test_a_test_still_waiting_for_its_reply_is_never_kept(protocol):
    start = next(d.args[0] for d in protocol.derived if d.op == "minutes_between")
    required = {q.key: q.choices[0] if q.choices else "yes" for q in protocol.questions if q.required}
    text, _ = judge_answers(protocol, {**required, start: "2026-10-01 09:00"}, attempt="completed", visited_at=BASE,
                            tz=timezone.utc)
    answers = json.loads(text)
    assert protocol.kept_score(answers) is None
    week, month = (protocol.response_time(answers, now=BASE + timedelta(days=d)) for d in (7, 30))
    assert week[1] is False and month[0] > week[0]  # what it waited grows with the clock
