"""Issue 17: rotation rules — a store visited twice in a round, a tester back too soon."""

import json
from datetime import timedelta

import pytest

from investigate.cases import rotation, visits
from investigate.errors import InvalidInput

from conftest import snapshot


def _visit(ws, tc, store, when, **kw):
    return visits.record_visit(ws, case=tc["case"], store=store, tester=tc["tester"], visited_at=when,
                               observer="O", answers={"product": "cigarettes", "sale": False,
                                                      "id_check": "scanned", "id_carried": True}, **kw)


def test_a_rotation_breach_is_warned_and_listed_by_fieldwork(workspace, tobacco_case, run):
    ws, tc = workspace, tobacco_case
    assert run("case", "rotation", "tobacco-nk", "--max-visits-per-store-per-round", 1,
               "--tester-lockout-days", 30).exit_code == 0
    # Späti Eins was visited ten days ago in round 1 by T-07: again in round 1 breaks both rules.
    again = _visit(ws, tc, tc["stores"][0], ws.now() - timedelta(days=2))
    assert any("already has 1 visit in round 1 (at most 1)" in w for w in again["warnings"])
    assert any("tester T-07 visited Späti Eins" in w and "lockout 30 days" in w for w in again["warnings"])
    # Round 2, same tester, still too soon: only the lockout.
    later = _visit(ws, tc, tc["stores"][0], ws.now() - timedelta(days=1), round=2)
    assert [w for w in later["warnings"] if w.startswith("rotation")] == [
        w for w in later["warnings"] if "lockout" in w]
    listed = run("fieldwork", "tobacco-nk")
    assert "Rotation breaches" in listed.stdout and "already has 1 visit in round 1" in listed.stdout
    data = json.loads(run("fieldwork", "tobacco-nk", "--json").stdout)
    assert len(data["rotation_breaches"]) == 3
    assert {b["visit_id"] for b in data["rotation_breaches"]} == {again["visit"]["id"], later["visit"]["id"]}


def test_strict_rotation_refuses_the_visit_and_the_import_row(workspace, tobacco_case, run, tmp_path):
    ws, tc = workspace, tobacco_case
    rotation.set_case_rotation(ws, tc["case"], max_visits_per_store_per_round=1, strict=True)
    case = ws.get("cases", tc["case"]["id"])
    before = snapshot(ws)
    with pytest.raises(InvalidInput, match="rotation: store Späti Eins already has 1 visit in round 1"):
        _visit(ws, {**tc, "case": case}, tc["stores"][0], ws.now() - timedelta(days=1))
    f = tmp_path / "v.csv"
    f.write_text("store,tester,visited_at,observer,product,sale,id_check,id_carried\n"
                 f"L-2,T-07,{(ws.now() - timedelta(days=1)).strftime('%Y-%m-%d %H:%M')},O,cigarettes,no,scanned,yes\n",
                 encoding="utf-8")
    result = run("visit", "import", f, "--case", "tobacco-nk")
    assert result.exit_code != 0 and f"{f}:2" in result.output and "rotation: store Späti Zwei" in result.output
    assert snapshot(ws) == before


def test_a_protocol_may_declare_rotation_without_a_new_version(workspace):
    from investigate.protocol.parse import protocol_from_text
    from investigate.protocol.protocols import BUILTIN_DIR

    text = (BUILTIN_DIR / "tobacco-minors.toml").read_text(encoding="utf-8")
    with_rotation = text + "\n[rotation]\ntester_lockout_days = 14\n"
    assert protocol_from_text(with_rotation).extra["rotation"] == {"tester_lockout_days": 14}
    assert protocol_from_text(with_rotation).content_hash == protocol_from_text(text).content_hash
    from investigate.errors import ProtocolError

    with pytest.raises(ProtocolError, match="rotation: .*tester_lockout_days: expected a whole number"):
        protocol_from_text(text + "\n[rotation]\ntester_lockout_days = \"two weeks\"\n")
