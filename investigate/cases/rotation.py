"""Rotation rules: how often a store is tested in a round, how soon a tester may return.

Mystery-shopping practice limits both: a second visit to the same store in the same round
double-counts it, and a tester who returns too soon is recognised. A protocol declares

    [rotation]
    max_visits_per_store_per_round = 1
    tester_lockout_days = 30
    strict = false

and a case may set its own (``set_case_rotation``), which wins key by key. A breach is a
warning for ``visit record`` and ``visit import``, a refusal with ``strict = true``, and
``fieldwork`` lists every breach of the case. Only visits of the same case count: a tester
testing the same shop for two different stories is not the rule's concern. Attempts that could
not be made (store closed) count too: the clerk may still have seen the tester.

The rules' shape is checked where a protocol is parsed (``protocol.rotation.check_rules``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from ..ids import short
from ..store.workspace import Workspace
from ..protocol.protocols import get_protocol
from ..protocol.rotation import check_rules


def rotation_rules(ws: Workspace, case: dict, protocol=None) -> dict:
    """The case's rules: its protocol's ``[rotation]``, overridden key by key by the case's own."""
    protocol = protocol or get_protocol(case["protocol"], ws.root)
    rules = dict(protocol.extra.get("rotation") or {})
    # Read from the database: a case dict held since before the rules were set is stale.
    stored = ws.db.execute("select rotation from cases where id = ?", [case["id"]]).fetchone()
    rules.update({k: v for k, v in json.loads((stored and stored[0]) or "{}").items() if v is not None})
    return rules


def set_case_rotation(ws: Workspace, case: dict, **rules) -> dict:
    """Set the case's own rotation rules (None leaves a key as it is)."""
    current = json.loads(case.get("rotation") or "{}")
    current.update({k: v for k, v in check_rules({k: v for k, v in rules.items() if v is not None}).items()})
    return ws.update("cases", case["id"], {"rotation": json.dumps(current, sort_keys=True)},
                     reason="rotation rules")


class RotationCheck:
    """Breaches of one case's rules, visit by visit: ``check`` a new visit against those seen
    so far, then ``add`` it. Loaded with the case's stored visits unless ``empty``."""

    def __init__(self, ws: Workspace, case: dict, *, rules: dict | None = None, empty: bool = False):
        self.rules = rules if rules is not None else rotation_rules(ws, case)
        self.per_round: dict[tuple, int] = {}
        self.last_visit: dict[tuple, datetime] = {}
        self.names: dict[str, str] = {}
        self.ws = ws
        if not empty and self.rules:
            for v in ws.db.query("select store_id, tester_id, round, visited_at from visits "
                                 "where case_id = ? and kind = 'undercover'", [case["id"]]):
                self.add(v)

    @property
    def strict(self) -> bool:
        return bool(self.rules.get("strict"))

    def _store_name(self, store_id: str) -> str:
        if store_id not in self.names:
            row = self.ws.db.execute("select name from stores where id = ?", [store_id]).fetchone()
            self.names[store_id] = row[0] if row else short(store_id)
        return self.names[store_id]

    def check(self, visit: dict) -> list[str]:
        """Why this visit breaks the rules (empty when it does not)."""
        out = []
        most = self.rules.get("max_visits_per_store_per_round")
        key = (visit["store_id"], int(visit.get("round") or 1))
        if most and self.per_round.get(key, 0) >= most:
            out.append(f"store {self._store_name(visit['store_id'])} already has {self.per_round[key]} visit"
                       f"{'s' if self.per_round[key] > 1 else ''} in round {key[1]} (at most {most})")
        days = self.rules.get("tester_lockout_days")
        if days and visit.get("tester_id"):
            last = self.last_visit.get((visit["tester_id"], visit["store_id"]))
            when = datetime.fromisoformat(visit["visited_at"])
            if last is not None and abs(when - last) < timedelta(days=days):
                code = self.ws.db.execute("select code from testers where id = ?", [visit["tester_id"]]).fetchone()
                out.append(f"tester {code[0] if code else short(visit['tester_id'])} visited "
                           f"{self._store_name(visit['store_id'])} on {last.date().isoformat()}, "
                           f"{abs(when - last).days} days before (lockout {days} days)")
        return out

    def add(self, visit: dict) -> None:
        key = (visit["store_id"], int(visit.get("round") or 1))
        self.per_round[key] = self.per_round.get(key, 0) + 1
        if visit.get("tester_id"):
            when = datetime.fromisoformat(visit["visited_at"])
            pair = (visit["tester_id"], visit["store_id"])
            # The nearest earlier visit is what a lockout measures from; keep the latest.
            if pair not in self.last_visit or when > self.last_visit[pair]:
                self.last_visit[pair] = when


def breaches(ws: Workspace, case: dict) -> list[dict]:
    """Every visit of the case that broke its rotation rules when it was made, in time order."""
    check = RotationCheck(ws, case, empty=True)
    if not check.rules:
        return []
    out = []
    for v in ws.db.query("select v.id, v.store_id, v.tester_id, v.round, v.visited_at, s.name as store_name "
                         "from visits v join stores s on s.id = v.store_id "
                         "where v.case_id = ? and v.kind = 'undercover' order by v.visited_at, v.id", [case["id"]]):
        for why in check.check(v):
            out.append({"visit_id": v["id"], "visited_at": v["visited_at"], "store_name": v["store_name"],
                        "breach": why})
        check.add(v)
    return out
