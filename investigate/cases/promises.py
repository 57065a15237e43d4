"""Promises: what a business promised during a test (a callback in 48 h, a refund in 14 days),
when it is due, and whether it was kept. A broken promise becomes a finding when the protocol
says so (``promise_broken``), and the visit's outcome becomes a violation."""

from __future__ import annotations

from datetime import datetime

from ..errors import InvalidInput, NotFound
from ..ids import short
from ..numbers.clock import promise_state
from ..store.lookup import resolve
from ..store.workspace import Workspace
from ..protocol.versions import protocol_of_visit
from . import stories
from .visits import finding_rows


def clock_findings(ws: Workspace, case: dict, *, now: datetime | None = None) -> list[dict]:
    """The findings the clock makes: each overdue promise gives its protocol's
    ``promise_broken`` finding, as if marked broken, from the moment it fell due. They are
    derived at read time (never written), so they vanish the moment the promise is marked kept
    — and a late keep then writes its own finding (``keep_promise``)."""
    now = now or ws.now()
    out = []
    for p in ws.db.query(
            "select p.*, v.protocol, v.protocol_hash, v.store_id, v.visited_at from promises p join visits v on v.id = p.visit_id "
            "where v.case_id = ? and p.kept is null order by p.due_at", [case["id"]]):
        if promise_state(p, now) != "overdue":
            continue
        protocol = protocol_of_visit(ws, p)
        spec = protocol.promise_broken or {"code": "PROMISE_OVERDUE", "title": f"{p['what']} overdue",
                                           "severity": "medium"}
        out.append({"visit_id": p["visit_id"], "store_id": p["store_id"], "visited_at": p["visited_at"],
                    "code": spec.get("code"), "title": spec["title"], "severity": spec.get("severity", "medium"),
                    "statute": (spec.get("statute") or "").replace("{legal_basis}", case.get("legal_basis") or "") or None,
                    "source": "clock", "due_at": p["due_at"], "what": p["what"]})
    return out


def _promise_filter(ws: Workspace, case: dict | None, overdue: bool, now: datetime,
                    due_before: datetime | None) -> tuple[str, list]:
    where, params = [], []
    if case:
        where.append("v.case_id = ?")
        params.append(case["id"])
    if overdue:
        where.append("p.kept is null and julianday(p.due_at) < julianday(?)")
        params.append(now.isoformat())
    if due_before is not None:
        # Open, and falling due between now and then (the desk's "due this week").
        where.append("p.kept is null and julianday(p.due_at) >= julianday(?) and julianday(p.due_at) < julianday(?)")
        params += [now.isoformat(), due_before.isoformat()]
    return (" where " + " and ".join(where) if where else ""), params


def list_promises(ws: Workspace, *, case: dict | None = None, overdue: bool = False,
                  now: datetime | None = None, due_before: datetime | None = None,
                  limit: int | None = None, offset: int = 0) -> list[dict]:
    """Promises with their store, by due time; ``overdue``: due, and neither kept nor marked
    broken; ``due_before``: open and due from now until then. ``limit``/``offset`` page them."""
    now = now or ws.now()
    where, params = _promise_filter(ws, case, overdue, now, due_before)
    page = f" limit {int(limit)} offset {int(offset)}" if limit is not None else ""
    rows = list(ws.db.query(
        "select p.*, v.case_id, c.slug as case_slug, s.name as store_name from promises p "
        "join visits v on v.id = p.visit_id join stores s on s.id = v.store_id "
        "join cases c on c.id = v.case_id" + where + " order by p.due_at, p.rowid" + page, params))
    for row in rows:
        row["state"] = promise_state(row, now)
        row["overdue"] = row["state"] == "overdue"
    return rows


def count_promises(ws: Workspace, *, case: dict | None = None, overdue: bool = False,
                   now: datetime | None = None, due_before: datetime | None = None) -> int:
    """How many ``list_promises`` would list, without reading them."""
    where, params = _promise_filter(ws, case, overdue, now or ws.now(), due_before)
    # Only a case's promises need their visits (a promise always has one: visit_id is not null).
    joined = " join visits v on v.id = p.visit_id" if case else ""
    return ws.db.execute("select count(*) from promises p" + joined + where, params).fetchone()[0]


def get_promise(ws: Workspace, ref: str) -> dict:
    """A promise by id or id prefix, as ``promise list`` shows them: a test's promise, else a
    promise made to a story's person (its event, with ``kind`` "story")."""
    try:
        return resolve(ws, "promises", ref)
    except NotFound:
        try:
            return {**resolve(ws, "story_events", ref, where="promise is not null"), "kind": "story"}
        except NotFound:
            raise NotFound(f"no promise matches {ref!r} (see investigate promise list)") from None


def settle_promise(ws: Workspace, promise: dict, *, kept: bool = True, at: str | None = None,
                   note: str | None = None) -> dict:
    """``promise keep``: mark either kind of promise kept or broken, each by its own rule."""
    if promise.get("kind") == "story":
        row = stories.keep_promise(ws, promise, kept=kept, at=at, note=note)
        return {**row, "what": row["promise"], "kind": "story"}
    return keep_promise(ws, promise, kept=kept, at=at, note=note)


def keep_promise(ws: Workspace, promise: dict, *, kept: bool = True, at: str | None = None,
                 note: str | None = None) -> dict:
    """Mark a promise kept (with when) or broken. Broken: the protocol's finding is added."""
    if promise["kept"] is not None:
        raise InvalidInput(f"promise {short(promise['id'])} is already marked "
                           f"{'kept' if promise['kept'] else 'broken'}")
    when = ws.parse_time(at, what="time kept")
    visit = ws.get("visits", promise["visit_id"])
    with ws.transaction():
        updated = ws.update("promises", promise["id"],
                            {"kept": kept, "kept_at": when.isoformat() if kept else None, "note": note},
                            action="keep" if kept else "break")
        if not kept or when > datetime.fromisoformat(promise["due_at"]):
            protocol = protocol_of_visit(ws, visit)
            if protocol.promise_broken:
                case = ws.get("cases", visit["case_id"])
                for f in finding_rows([protocol.promise_broken], visit_id=visit["id"], case=case,
                                      created_at=ws.now().isoformat()):
                    ws.insert("findings", f, note=f"promise {promise['what']} not kept in time")
                ws.update("visits", visit["id"], {"outcome": "violation"},
                          reason=f"promise {promise['what']} not kept in time", action="promise_broken")
    return updated
