"""The editors' case page keeps its checklist and rates between loads — never past a write, a
hand edit of the settings, a reply deadline or a promise's due time (``policy.steady``)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from investigate.cases import cases, replies, stores, visits
from investigate.numbers.clock import promise_state, promise_turns_at
from investigate.policy import WORKING, case_rates, gate
from investigate.policy.coverage import window_closed, window_closes_at
from investigate.policy.steady import holds_at, steady_span
from investigate.publish.server import PASSWORD_ENV, editors_datasette

BASE = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
MOMENTS = st.integers(-10**7, 10**7).map(lambda us: BASE + timedelta(microseconds=us))


@given(due=MOMENTS, t=MOMENTS)
def test_an_unmarked_promise_turns_overdue_at_its_turning_point_and_not_before(due, t):
    promise = {"due_at": due.isoformat(), "kept": None}
    assert promise_state(promise, t) == ("overdue" if t >= promise_turns_at(promise) else "pending")


@given(deadline=MOMENTS, t=MOMENTS, answered=st.booleans())
def test_a_reply_window_closes_at_its_turning_point_and_not_before(deadline, t, answered):
    row = {"deadline": deadline.isoformat(), "answered_at": BASE.isoformat() if answered else None}
    moment = window_closes_at(row)
    assert window_closed(row, t) == (moment is None or t >= moment)


def page(ds, path):
    """The page's HTML, its forms' one-time CSRF tokens and Datasette's query timing blanked."""
    async def go():
        await ds.invoke_startup()
        return (await ds.client.get(path)).text

    html = re.sub(r'name="csrftoken" value="[^"]*"', 'name="csrftoken" value=""', asyncio.run(go()))
    return re.sub(r"took [0-9.]+ms", "took …", html)


@pytest.fixture
def counted(monkeypatch):
    """How many times the case page computed its checklist."""
    calls = []
    real = gate.checklist
    monkeypatch.setattr(gate, "checklist", lambda ws, case, **kw: calls.append(case["id"]) or real(ws, case, **kw))
    return calls


@pytest.fixture
def desk(workspace, tobacco_case, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    return {"ds": editors_datasette(workspace), **tobacco_case}


def replies_detail(workspace, case):
    return next(i for i in gate.checklist(workspace, case) if i["key"] == "replies")["detail"]


def test_the_span_ends_at_the_next_deadline_and_starts_at_the_last(workspace, tobacco_case):
    case, shops, now = tobacco_case["case"], tobacco_case["stores"], workspace.now()
    assert steady_span(workspace, case, now) == (None, None)
    for shop, days in ((shops[0], -2), (shops[1], 3), (shops[2], 5)):
        replies.request_reply(workspace, case, shop, requested_at=(now - timedelta(days=4)).isoformat(),
                              deadline=(now + timedelta(days=days)).isoformat(), short_deadline_reason="test")
    since, until = steady_span(workspace, case, now)
    assert (since, until) == (now - timedelta(days=2), now + timedelta(days=3))
    assert holds_at((since, until), until - timedelta(microseconds=1)) and not holds_at((since, until), until)
    assert not holds_at((since, until), since - timedelta(microseconds=1))


def test_the_case_page_computes_its_figures_once_while_nothing_changes(desk, counted):
    path = f"/investigate/cases/{desk['case']['id']}"
    first = page(desk["ds"], path)
    assert page(desk["ds"], path) == first
    assert counted == [desk["case"]["id"]]


def test_the_case_page_shows_a_write_at_once(desk, workspace, counted):
    case, path = desk["case"], f"/investigate/cases/{desk['case']['id']}"
    assert "4 visit(s) await review" in page(desk["ds"], path)
    workspace.update("visits", desk["visits"][0]["id"], {"review_state": "approved"}, reason="test", action="review")
    html = page(desk["ds"], path)
    assert "3 visit(s) await review" in html and "4 visit(s) await review" not in html
    assert len(counted) == 2
    # The page's own counts (from the case tallies) are the visits' counts.
    for state, n in workspace.db.execute("select coalesce(review_state, 'received'), count(*) from visits "
                                         "where case_id = ? group by 1", [case["id"]]):
        assert f"<li>{state}: {n}</li>" in html
    for outcome, n in workspace.db.execute("select outcome, count(*) from visits where case_id = ? "
                                           "and kind = 'undercover' group by 1", [case["id"]]):
        assert f"<li>{outcome}: {n}</li>" in html


def test_the_case_page_sees_a_reply_window_close_without_any_write(desk, workspace, clock, counted):
    case, path = desk["case"], f"/investigate/cases/{desk['case']['id']}"
    now = workspace.now()
    replies.request_reply(workspace, case, desk["stores"][0], deadline=(now + timedelta(hours=2)).isoformat(),
                          short_deadline_reason="test")
    before = replies_detail(workspace, case)
    assert "still open" in before and before in page(desk["ds"], path)
    clock.move_to(now + timedelta(hours=2))
    after = replies_detail(workspace, case)
    assert after != before and "still open" not in after
    assert after in page(desk["ds"], path)
    assert len(counted) == 4  # two pages, each against the checklist read here


def test_the_case_page_counts_a_promise_overdue_once_it_is_due_without_any_write(workspace, clock, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    case = cases.create_case(workspace, slug="cb", title="Callbacks", protocol="callback-promise")
    line = stores.add_store(workspace, name="Hotline", channel="phone")
    made = visits.record_visit(workspace, case=case, store=line, tester=None,
                               answers={"reached_agent": True, "callback_promised": True, "promised_within_hours": 24},
                               visited_at=workspace.now() - timedelta(hours=23))
    due = datetime.fromisoformat(made["promises"][0]["due_at"])
    ds, path = editors_datasette(workspace), f"/investigate/cases/{case['id']}"

    def overall_row():
        r = case_rates(workspace, case, scope=WORKING)[0]
        return f"<td>all</td><td>{r['visits']}</td><td>{r['eligible']}</td><td>{r['violations']}</td>"

    pending = overall_row()
    assert pending.endswith("<td>0</td>") and pending in page(ds, path)
    clock.move_to(due + timedelta(seconds=1))
    overdue = overall_row()
    assert overdue.endswith("<td>1</td>") and overdue in page(ds, path)


def test_the_case_page_follows_a_hand_edit_of_the_settings(desk, workspace):
    path = f"/investigate/cases/{desk['case']['id']}"
    assert "groups under 5 completed tests" in page(desk["ds"], path)
    config = workspace.config_path.read_text()
    workspace.config_path.write_text(config + "\n[publish]\nmin_cell = 7\n" if "[publish]" not in config
                                     else config.replace("[publish]", "[publish]\nmin_cell = 7", 1))
    assert "groups under 7 completed tests" in page(desk["ds"], path)


def test_the_case_page_sees_a_merge_conflict_recorded_and_settled(desk, workspace):
    """Merge conflicts are recorded and settled beside the audit log: the kept figures follow them."""
    from types import SimpleNamespace

    from investigate.desk.conflicts import resolve_conflict
    from investigate.desk.merge import record_conflict

    visit, path = desk["visits"][0], f"/investigate/cases/{desk['case']['id']}"
    assert "no open merge conflict" in page(desk["ds"], path)
    theirs = {**visit, "notes": "their version"}
    record_conflict(workspace, SimpleNamespace(origin="other-workspace"), "visits", theirs,
                    ours_hash=workspace.row_hash("visits", visit))
    assert "1 record(s) of the case amended differently by two reporters" in page(desk["ds"], path)
    resolve_conflict(workspace, visit["id"][:8], keep="ours")
    assert "no open merge conflict" in page(desk["ds"], path)
