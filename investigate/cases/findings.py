"""Findings: violations or observations tied to a visit, with statute and severity.

Most findings follow from a protocol's rules (``source = 'rule'``); an editor or reporter may
add one by hand (``source = 'manual'``) — an observation the protocol did not foresee. Its
title, statute and description are people's words printed in public, so they are checked for
private strings when written, as a correction is.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..policy.private import refuse_private
from ..store.workspace import Workspace
from ..vocabulary import SEVERITIES


def add_finding(ws: Workspace, visit: dict, *, title: str, severity: str = "medium",
                statute: str | None = None, code: str | None = None,
                description: str | None = None) -> dict:
    if not title or not title.strip():
        raise InvalidInput("a finding needs a title")
    if severity not in SEVERITIES:
        raise InvalidInput(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    case = ws.get("cases", visit["case_id"])
    for what, text in (("finding's title", title), ("statute", statute), ("finding's description", description)):
        refuse_private(ws, text, what=what, case=case)
    return ws.insert("findings", {
        "visit_id": visit["id"], "code": code, "title": title.strip(), "statute": statute,
        "severity": severity, "description": description, "source": "manual",
        "created_at": ws.now().isoformat(),
    })


def list_findings(ws: Workspace, *, case: dict | None = None, visit: dict | None = None,
                  severity: str | None = None) -> list[dict]:
    where, params = [], []
    if case:
        where.append("v.case_id = ?")
        params.append(case["id"])
    if visit:
        where.append("f.visit_id = ?")
        params.append(visit["id"])
    if severity:
        where.append("f.severity = ?")
        params.append(severity)
    sql = ("select f.*, v.visited_at, s.name as store_name, c.slug as case_slug from findings f "
           "join visits v on v.id = f.visit_id join stores s on s.id = v.store_id "
           "join cases c on c.id = v.case_id"
           + (" where " + " and ".join(where) if where else "") + " order by v.visited_at, f.code")
    return list(ws.db.query(sql, params))
